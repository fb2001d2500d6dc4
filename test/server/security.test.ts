/**
 * Gateway authentication, request limits, introspection switch and graceful shutdown.
 */
import { encodeId } from '../../src/graph/ids';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { operation, startStack, type Stack } from '../support/stack';

const KEY = 'rg-test-key-0123456789abcdef';

describe('API keys', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ server: { apiKeys: ['another-key-that-is-long-enough', KEY] } });
  });
  afterAll(() => stack.stop());

  test.each([
    ['no Authorization header', {}],
    ['a wrong key', { authorization: 'Bearer rg-test-key-0123456789abcdeX' }],
    ['a key prefix', { authorization: 'Bearer rg-test-key' }],
    ['the key without the Bearer scheme', { authorization: KEY }],
    ['Basic instead of Bearer', { authorization: `Basic ${Buffer.from(`x:${KEY}`).toString('base64')}` }],
  ])('%s → 401 UNAUTHENTICATED, and no vendor call', async (_name, headers) => {
    stack.testrail!.server.resetCounts();
    const res = await stack.gql(operation('Dashboard'), { first: 5 }, headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(res.body.data).toBeUndefined();
    expect(stack.testrail!.server.count()).toBe(0);
  });

  test('a configured key is let in; /healthz stays open', async () => {
    const res = await stack.gql('{ sources { id } }', {}, { authorization: `Bearer ${KEY}` });
    expect(res.status).toBe(200);
    expect(res.body.data.sources).toEqual([{ id: 'tr' }]);
    expect((await fetch(`${stack.gateway.origin}/healthz`)).status).toBe(200);
  });
});

describe('request limits', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ server: { introspection: false, limits: { maxDepth: 5, maxAliases: 3, maxBodyBytes: 4096 } } });
  });
  afterAll(() => stack.stop());

  test('depth over the limit is refused before anything runs, naming the limit', async () => {
    stack.testrail!.server.resetCounts();
    const res = await stack.gql('{ runs { nodes { project { runs { nodes { project { name } } } } } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/depth limit exceeded: this operation is 7 levels deep; the limit \(server\.limits\.maxDepth\) is 5/);
    expect(stack.testrail!.server.count()).toBe(0);
  });

  test('aliases over the limit are refused, naming the limit', async () => {
    const res = await stack.gql('{ a: sources { id } b: sources { id } c: sources { id } d: sources { id } }');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/Alias limit .* \(server\.limits\.maxAliases\) is 3/);
  });

  test('the contract operations stay within the default limits', async () => {
    const defaults = await startStack();
    try {
      const res = await defaults.gql(operation('HostRuns'), {});
      expect(res.status).toBe(200);
      const dash = await defaults.gql(operation('Dashboard'), { first: 3 });
      expect(dash.body.errors).toBeUndefined();
    } finally {
      await defaults.stop();
    }
  });

  test('a body over the configured size is 413 naming the limit', async () => {
    const res = await fetch(stack.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ sources { id } } # ${'x'.repeat(5000)}` }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].message).toMatch(/server\.limits\.maxBodyBytes = 4096/);
  });

  test('introspection can be switched off', async () => {
    const res = await stack.gql('{ __schema { queryType { name } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors[0].message).toMatch(/introspection/i);
  });
});

describe('graceful shutdown', () => {
  test('stop lets an in-flight mutation finish, then refuses new connections', async () => {
    const stack = await startStack();
    const sim = stack.testrail!;
    try {
      sim.server.injectFault({ route: 'POST close_run', delayMs: 400 });
      const runId = encodeId('Run', 'tr', [String(DEMO_IDS.runs.allUntested), '1']);
      const pending = stack.gql(operation('CloseRun'), { id: runId });
      await new Promise((r) => setTimeout(r, 100));
      await stack.gateway.stop(5_000);
      const res = await pending;
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.closeRun.isClosed).toBe(true);
      expect(sim.store.run(DEMO_IDS.runs.allUntested)!.is_completed).toBe(true);
      await expect(fetch(`${stack.gateway.origin}/healthz`)).rejects.toThrow();
    } finally {
      await sim.stop();
    }
  });
});
