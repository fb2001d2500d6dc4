import { startStack, type Stack } from '../support/stack';

describe('the gateway over HTTP', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  test('GET /healthz answers 200', async () => {
    const res = await fetch(`${stack.gateway.origin}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  test('GET /graphql runs a query for clients that send the preflight header, and refuses one without it', async () => {
    const url = `${stack.gateway.graphqlUrl}?query=${encodeURIComponent('{ sources { id kind } }')}`;
    const ok = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ data: { sources: [{ id: 'tr', kind: 'TESTRAIL' }] } });
    const csrf = await fetch(url);
    expect(csrf.status).toBe(400);
  });

  test('GET /graphql never runs a mutation', async () => {
    const url = `${stack.gateway.graphqlUrl}?query=${encodeURIComponent('mutation { closeRun(id: "x") { id } }')}`;
    const res = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(405);
    expect(stack.testrail!.server.count(/^POST /)).toBe(0);
  });

  test('unknown paths are 404 and point at /graphql; other methods are 405', async () => {
    const res = await fetch(`${stack.gateway.origin}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/\/graphql/);
    expect((await fetch(stack.gateway.graphqlUrl, { method: 'PUT' })).status).toBe(405);
  });

  test('a body that is not JSON is a 400, not a crash', async () => {
    const res = await fetch(stack.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(res.status).toBe(400);
  });

  test('a body over the limit is 413', async () => {
    const res = await fetch(stack.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ sources { id } } # ${'x'.repeat(1024 * 1024)}` }),
    });
    expect(res.status).toBe(413);
  });

  test('first over 100 or negative, and a cursor that does not decode, are BAD_USER_INPUT', async () => {
    for (const [vars, message] of [
      [{ first: 101 }, /first must be between 0 and 100/],
      [{ first: -1 }, /first must be between 0 and 100/],
      [{ first: 5, after: 'bm90IGEgY3Vyc29y' }, /not a cursor/],
    ] as const) {
      const res = await stack.gql('query($first: Int, $after: String) { runs(first: $first, after: $after) { nodes { id } } }', vars);
      expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors[0].message).toMatch(message);
    }
  });

  test('a DateTime without a zone is rejected at validation', async () => {
    const res = await stack.gql('query($f: RunFilter) { runs(filter: $f) { nodes { id } } }', { f: { createdAfter: '2026-11-01 10:00' } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors[0].message).toMatch(/ISO 8601/);
  });

  test('every upstream call is one JSON log line carrying the request id the response names', async () => {
    const before = stack.logs.length;
    stack.testrail!.server.resetCounts();
    const res = await stack.gql('{ runs(first: 3) { nodes { id project { name } } } }');
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const calls = stack.logs.slice(before).map((l) => JSON.parse(l)).filter((l) => l.msg === 'upstream call');
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.length).toBe(stack.testrail!.server.count());
    for (const line of calls) {
      expect(line).toMatchObject({ requestId, source: 'tr', method: 'GET', status: 200, retries: 0 });
      expect(line.route).toMatch(/^get_\w+/);
      expect(typeof line.durationMs).toBe('number');
    }
  });

  test('no stack trace ever reaches a client', async () => {
    const res = await stack.gql('{ run(id: "garbage") { id } node(id: "WyJSdW4iXQ") { id } }');
    expect(res.text).not.toMatch(/stacktrace|at .*\.ts:\d+/);
  });
});
