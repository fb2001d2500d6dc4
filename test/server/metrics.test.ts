/**
 * Prometheus /metrics through real HTTP: what a scrape says after real traffic to the simulators —
 * vendor calls per source and status class, GraphQL results, the breaker, retries and Retry-After,
 * the rate budget, the run index — that label cardinality stays bounded whatever the clients send,
 * who may scrape, and that no credential reaches the text.
 */
import { encodeId } from '../../src/graph/ids';
import { startGateway } from '../../src/server/app';
import { DEFAULT_METRICS } from '../../src/server/config';
import { GatewayMetrics } from '../../src/server/metrics';
import { TestRailSimulator, TESTRAIL_DEMO_USER } from '../../src/simulators/testrail';
import { SOURCE_KINDS } from '../../src/sources/registry';
import { parsePrometheus, select, sum, type Scrape } from '../support/prometheus';
import { operation, startStack, watched, type Stack } from '../support/stack';

async function scrape(stack: Stack): Promise<Scrape> {
  const res = await stack.scrape();
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(res.text);
}

const calls = (s: Scrape, labels: Record<string, string>) => sum(s, 'rungraph_vendor_calls_total', labels);

describe('a query across three sources, one of them failing', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      qacomplete: {},
      enterpriseTester: {},
      // No retries, and a breaker that opens after 3 failures and stays open for the test.
      sourceConfig: { et: { policy: { maxRetries: 0, breakerFailures: 3, breakerCooldownMs: 600_000 } } },
    });
  });
  afterAll(() => stack.stop());

  test('moves the per-source call series, counts partial results, and shows the breaker open', async () => {
    const before = await scrape(stack);
    expect(sum(before, 'rungraph_vendor_breaker_state', { source: 'et', state: 'closed' })).toBe(1);
    expect(calls(before, { source: 'et' })).toBe(0);

    stack.enterpriseTester!.server.injectFault({ status: 503, times: 10_000, body: { Message: 'down' } });
    let answered = 0;
    // Until the breaker opens, and once more while it is open.
    for (let i = 0; i < 10 && sum(await scrape(stack), 'rungraph_vendor_breaker_state', { source: 'et', state: 'open' }) === 0; i++) {
      const res = await stack.gql(operation('Dashboard'), { first: 5 });
      expect(res.body.data.runs.edges.length).toBe(5);
      expect(res.body.errors.map((e: any) => e.extensions.source)).toContain('et');
      answered += 1;
    }
    const sentToEt = stack.enterpriseTester!.server.count();
    const whileOpen = await stack.gql(operation('Dashboard'), { first: 5 });
    expect(whileOpen.body.errors.map((e: any) => e.extensions.source)).toContain('et');
    answered += 1;
    expect(stack.enterpriseTester!.server.count()).toBe(sentToEt);

    const after = await scrape(stack);
    for (const source of ['tr', 'qac']) {
      expect(calls(after, { source, status_class: '2xx', error: 'none' })).toBeGreaterThan(0);
      expect(calls(after, { source, status_class: '5xx' })).toBe(0);
      expect(sum(after, 'rungraph_vendor_breaker_state', { source, state: 'closed' })).toBe(1);
    }
    // Every request the simulator received is one 5xx call; the request while open was never sent.
    expect(calls(after, { source: 'et', status_class: '5xx', error: 'UPSTREAM_UNAVAILABLE' })).toBe(sentToEt);
    expect(sentToEt).toBeGreaterThanOrEqual(3);
    expect(calls(after, { source: 'et', status_class: 'not_sent' })).toBeGreaterThanOrEqual(1);
    expect(sum(after, 'rungraph_vendor_breaker_state', { source: 'et', state: 'open' })).toBe(1);
    expect(sum(after, 'rungraph_vendor_breaker_state', { source: 'et', state: 'closed' })).toBe(0);
    // The duration histogram counts every call the counter does.
    for (const source of ['tr', 'qac', 'et']) expect(sum(after, 'rungraph_vendor_call_duration_seconds_count', { source })).toBe(calls(after, { source }));

    expect(sum(after, 'rungraph_graphql_requests_total', { operation: 'Dashboard', result: 'partial' })).toBe(answered);
    expect(sum(after, 'rungraph_graphql_requests_total', { operation: 'Dashboard', result: 'ok' })).toBe(0);
    expect(sum(after, 'rungraph_graphql_request_duration_seconds_count', { operation: 'Dashboard' })).toBe(answered);
    expect(after.types.get('rungraph_graphql_request_duration_seconds')).toBe('histogram');
    expect(after.types.get('rungraph_vendor_calls_total')).toBe('counter');
    expect(after.types.get('rungraph_vendor_breaker_state')).toBe('gauge');

    // Routes are templates: no vendor id (TestRail numbers, Enterprise Tester GUIDs) in any label.
    const routes = new Set(select(after, 'rungraph_vendor_calls_total').map((s) => s.labels.route));
    expect(routes.size).toBeGreaterThan(2);
    for (const route of routes) expect(route).not.toMatch(/\/\d+|[0-9a-f]{8}-[0-9a-f]{4}|\?/i);
    // prom-client's process metrics are there.
    expect(sum(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(after.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  test('a request that fails as a whole is an error of operation "other"', async () => {
    const before = sum(await scrape(stack), 'rungraph_graphql_requests_total', { operation: 'other', result: 'error' });
    const res = await stack.gql('query Broken { runs(first: 1) { nope } }');
    expect(res.body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const parse = await stack.gql('{ runs(first: 1');
    expect(parse.body.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    const after = await scrape(stack);
    // A name Apollo never resolved (the validation failure) does not take one of the capped names.
    expect(sum(after, 'rungraph_graphql_requests_total', { operation: 'other', result: 'error' })).toBe(before + 2);
    expect(select(after, 'rungraph_graphql_requests_total', { operation: 'Broken' })).toEqual([]);
  });

  test('no credential of the stack is in the scrape', async () => {
    const text = (await stack.scrape()).text;
    const secrets = watched.flatMap((w) => w.secrets);
    expect(secrets.length).toBeGreaterThan(3);
    for (const secret of secrets) expect(text.includes(secret)).toBe(false);
    for (const password of ['demo-testrail-key', stack.enterpriseTester!.server.origin, stack.testrail!.server.origin]) expect(text).not.toContain(password);
  });
});

describe('label cardinality', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ metrics: { operationNames: 100 } });
  });
  afterAll(() => stack.stop());

  // Odd i: a run of the seed (while there are); even i: an id TestRail does not have (404, a partial answer).
  const lookup = (i: number) =>
    stack.gql(`query Lookup${i}($id: ID!) { run(id: $id, consistency: LIVE) { id name } }`, { id: encodeId('Run', 'tr', [String(i % 2 ? i : 50_000 + i)]) });
  const rungraphSeries = (s: Scrape) =>
    s.samples
      .filter((x) => x.name.startsWith('rungraph_'))
      .map((x) => `${x.name}${JSON.stringify(x.labels)}`)
      .sort();

  test('1,000 distinct operation names and run ids leave the series count under a fixed bound', async () => {
    // Warm-up: past the cap, with run ids that exist and ids that do not (200 and 400 answers).
    for (let i = 1; i <= 150; i++) await lookup(i);
    const warm = await scrape(stack);
    for (let start = 151; start <= 1000; start += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => lookup(start + j)));
    }
    const after = await scrape(stack);
    expect(sum(after, 'rungraph_graphql_requests_total')).toBe(1000);
    const names = new Set(select(after, 'rungraph_graphql_requests_total').map((s) => s.labels.operation));
    expect(names.size).toBe(101);
    expect(names.has('other')).toBe(true);
    expect(names.has('Lookup1')).toBe(true);
    expect(names.has('Lookup100')).toBe(true);
    expect(names.has('Lookup101')).toBe(false);
    expect(sum(after, 'rungraph_graphql_requests_total', { operation: 'other' })).toBe(900);
    // 850 more names and run ids added no series at all, and the whole stays under the bound.
    expect(rungraphSeries(after)).toEqual(rungraphSeries(warm));
    expect(rungraphSeries(after).length).toBeLessThan(2_000);
    expect(after.samples.length).toBeLessThan(2_200);
    const routes = new Set(select(after, 'rungraph_vendor_calls_total').map((s) => s.labels.route));
    expect([...routes]).toEqual(['get_run/{run_id}']);
    expect(calls(after, { source: 'tr' })).toBe(1000);
  });
});

describe('retries, Retry-After and the rate budget', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sourceConfig: { tr: { policy: { requestsPerMinute: 6_000, burst: 50 } } } });
  });
  afterAll(() => stack.stop());

  test('a 429 with Retry-After: 1 is counted, waited for and retried', async () => {
    const before = await scrape(stack);
    expect(sum(before, 'rungraph_vendor_rate_tokens', { source: 'tr' })).toBeGreaterThan(49);
    stack.testrail!.server.injectFault({ route: 'GET get_projects', status: 429, headers: { 'retry-after': '1' } });
    const res = await stack.gql('{ projects { nodes { id } } }');
    expect(res.body.errors).toBeUndefined();
    const after = await scrape(stack);
    expect(sum(after, 'rungraph_vendor_rate_limited_total', { source: 'tr' })).toBe(1);
    expect(sum(after, 'rungraph_vendor_retries_total', { source: 'tr', reason: '429' })).toBe(1);
    expect(sum(after, 'rungraph_vendor_retry_after_seconds_total', { source: 'tr' })).toBe(1);
    expect(calls(after, { source: 'tr', route: 'get_projects', status_class: '2xx' })).toBe(1);
    // The budget spent a token on each attempt (refilled at 100 a second, so "fewer than 50" is not stable; its presence is).
    expect(select(after, 'rungraph_vendor_rate_tokens', { source: 'tr' })).toHaveLength(1);
    expect(sum(after, 'rungraph_vendor_rate_waiting', { source: 'tr' })).toBe(0);
  });
});

describe('the run index', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ index: { refreshSeconds: 3600 } });
  });
  afterAll(() => stack.stop());

  test('state, runs, backfill, lag and cycles per source; a failed cycle is counted', async () => {
    const first = await scrape(stack);
    const runs = stack.testrail!.store.allProjects().reduce((n, p) => n + stack.testrail!.store.runsOf(p.id).length, 0);
    expect(sum(first, 'rungraph_index_runs', { source: 'tr' })).toBe(runs);
    expect(sum(first, 'rungraph_index_state', { source: 'tr', state: 'FRESH' })).toBe(1);
    expect(sum(first, 'rungraph_index_state', { source: 'tr' })).toBe(1);
    expect(sum(first, 'rungraph_index_backfill_progress', { source: 'tr' })).toBe(1);
    expect(sum(first, 'rungraph_index_lag_seconds', { source: 'tr' })).toBeGreaterThanOrEqual(0);
    expect(sum(first, 'rungraph_index_lag_seconds', { source: 'tr' })).toBeLessThan(60);
    expect(sum(first, 'rungraph_index_cycle_duration_seconds_count', { source: 'tr', kind: 'backfill', result: 'ok' })).toBe(1);
    const backfillCalls = sum(first, 'rungraph_index_cycle_calls_total', { source: 'tr' });
    expect(backfillCalls).toBeGreaterThan(0);
    expect(sum(first, 'rungraph_index_cycle_failures_total', { source: 'tr' })).toBe(0);

    stack.testrail!.server.injectFault({ status: 500, times: 10_000 });
    await stack.gateway.syncs.get('tr')!.cycleNow();
    stack.testrail!.server.clearFaults();
    const failed = await scrape(stack);
    expect(sum(failed, 'rungraph_index_cycle_failures_total', { source: 'tr' })).toBe(1);
    expect(sum(failed, 'rungraph_index_cycle_duration_seconds_count', { source: 'tr', kind: 'refresh', result: 'failed' })).toBe(1);
    expect(sum(failed, 'rungraph_index_state', { source: 'tr', state: 'FAILING' })).toBe(1);
    expect(sum(failed, 'rungraph_index_cycle_calls_total', { source: 'tr' })).toBeGreaterThan(backfillCalls);

    await stack.gateway.syncs.get('tr')!.cycleNow();
    const recovered = await scrape(stack);
    expect(sum(recovered, 'rungraph_index_state', { source: 'tr', state: 'FRESH' })).toBe(1);
    expect(sum(recovered, 'rungraph_index_cycle_duration_seconds_count', { source: 'tr', kind: 'refresh', result: 'ok' })).toBe(1);
  });

  test('an answer kept from the index is still counted under its operation', async () => {
    const query = operation('Dashboard');
    const before = sum(await scrape(stack), 'rungraph_graphql_requests_total', { operation: 'Dashboard', result: 'ok' });
    let kept = 0;
    for (let i = 0; i < 4; i++) {
      const res = await stack.gql(query, { first: 3 });
      if (res.headers.get('x-rungraph-answer') === 'kept') kept += 1;
    }
    expect(kept).toBeGreaterThan(0);
    expect(sum(await scrape(stack), 'rungraph_graphql_requests_total', { operation: 'Dashboard', result: 'ok' })).toBe(before + 4);
  });
});

describe('who may scrape', () => {
  const API_KEY = 'graphql-key-0123456789abcdef';
  const METRICS_KEY = 'metrics-key-0123456789abcdef';

  test('/metrics is open with server.apiKeys set, while GraphQL needs a key', async () => {
    const stack = await startStack({ server: { apiKeys: [API_KEY] } });
    try {
      expect((await stack.gql('{ sources { id } }')).status).toBe(401);
      const res = await stack.scrape();
      expect(res.status).toBe(200);
      expect(sum(parsePrometheus(res.text), 'rungraph_graphql_requests_total', { operation: 'other', result: 'error' })).toBe(1);
      expect(res.text).not.toContain(API_KEY);
    } finally {
      await stack.stop();
    }
  });

  test('with metrics.apiKey, a scrape needs that key (and only that key)', async () => {
    const stack = await startStack({ server: { apiKeys: [API_KEY] }, metrics: { apiKey: METRICS_KEY } });
    try {
      for (const headers of [{}, { authorization: `Bearer ${API_KEY}` }, { authorization: 'Bearer metrics-key' }] as Array<Record<string, string>>) {
        const res = await stack.scrape(headers);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(res.text).not.toContain('rungraph_');
      }
      const ok = await stack.scrape({ authorization: `Bearer ${METRICS_KEY}` });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('rungraph_vendor_breaker_state');
      expect(ok.text).not.toContain(METRICS_KEY);
    } finally {
      await stack.stop();
    }
  });

  test('metrics.port: a listener of its own; the gateway port has no /metrics', async () => {
    const stack = await startStack({ metrics: { port: 0, path: '/prometheus' } });
    try {
      const url = new URL(stack.gateway.metricsUrl!);
      expect(url.pathname).toBe('/prometheus');
      expect(url.origin).not.toBe(stack.gateway.origin);
      expect((await fetch(`${stack.gateway.origin}/prometheus`)).status).toBe(404);
      expect((await fetch(`${url.origin}/graphql`)).status).toBe(404);
      await stack.gql('query Sources { sources { id } }');
      const s = await scrape(stack);
      expect(sum(s, 'rungraph_graphql_requests_total', { operation: 'Sources', result: 'ok' })).toBe(1);
    } finally {
      await stack.stop();
    }
    // Stopped with the gateway.
    await expect(fetch(stack.gateway.metricsUrl!)).rejects.toThrow();
  });

  test('a gateway given metrics whose sources were made without the observer says so in its log', async () => {
    const sim = new TestRailSimulator({});
    const baseUrl = await sim.start();
    const warnings: Array<[Record<string, unknown>, string]> = [];
    const log = { info: () => undefined, error: () => undefined, warn: (fields: Record<string, unknown>, message: string) => void warnings.push([fields, message]) };
    const source = SOURCE_KINDS.testrail!.create({ id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl, auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password } }, log);
    const gateway = await startGateway({ sources: [source], log, port: 0, metrics: new GatewayMetrics(DEFAULT_METRICS) });
    try {
      expect(warnings).toEqual([[{ sources: ['tr'] }, expect.stringContaining('observer: metrics.vendor')]]);
    } finally {
      await gateway.stop();
      await sim.stop();
    }
  });

  test('metrics off: no /metrics', async () => {
    const stack = await startStack({ metrics: false });
    try {
      expect(stack.gateway.metricsUrl).toBeUndefined();
      expect((await fetch(`${stack.gateway.origin}/metrics`)).status).toBe(404);
    } finally {
      await stack.stop();
    }
  });
});
