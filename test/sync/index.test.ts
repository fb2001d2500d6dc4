/**
 * The run index end to end (issue #9, decisions.md "Run index"), over real HTTP against the three
 * simulators: reads answered from the index cost no vendor call and equal live reads; writes go
 * through; a failing refresh keeps serving; a LIVE read with a source down says FAILED; a restart
 * serves the persisted index at once and refreshes instead of backfilling; an unreadable store is
 * rebuilt; `index.enabled: false` is today's live gateway.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeId } from '../../src/graph/ids';
import { startGateway } from '../../src/server/app';
import { DEFAULT_INDEX } from '../../src/server/config';
import { feedOf, identities } from '../../src/server/feeds';
import { createLogger } from '../../src/server/log';
import { SOURCE_KINDS } from '../../src/sources/registry';
import { DEMO_ASSIGNMENTS, DEMO_PROJECTS, EnterpriseTesterSimulator, ET_DEMO_USER } from '../../src/simulators/enterprise-tester';
import { QACOMPLETE_DEMO_PROJECTS } from '../../src/simulators/qacomplete';
import { TestRailSimulator, TESTRAIL_DEMO_USER } from '../../src/simulators/testrail';
import { startStack, type Stack } from '../support/stack';

const DASHBOARD = `query ($c: Consistency) {
  runs(first: 20, consistency: $c) {
    totalCount
    answeredBy { source { id } mode syncedAt errorCode }
    pageInfo { hasNextPage endCursor }
    nodes { id name status conclusion isClosed createdAt counts { total passed failed } project { name } host { name } }
  }
}`;

const vendorCalls = (stack: Stack) => stack.testrail!.server.count() + stack.qacomplete!.server.count() + stack.enterpriseTester!.server.count();
const resetCalls = (stack: Stack) => [stack.testrail!, stack.qacomplete!, stack.enterpriseTester!].forEach((s) => s.server.resetCounts());

describe('with the index on', () => {
  let stack: Stack;
  beforeAll(async () => {
    // A short breaker cooldown, so the source recovers within the test once its faults are cleared.
    stack = await startStack({ qacomplete: {}, enterpriseTester: {}, index: { refreshSeconds: 3600 }, sourceConfig: { qac: { policy: { breakerCooldownMs: 200 } } } });
  });
  afterAll(() => stack.stop());

  test('after the backfill every source is FRESH and a page of runs costs no vendor call', async () => {
    const sync = await stack.gql('{ sources { id sync { state indexedRuns syncedAt lagSeconds backfillProgress lastError } } }');
    for (const source of sync.body.data.sources) {
      expect(source.sync).toMatchObject({ state: 'FRESH', backfillProgress: null, lastError: null });
      expect(source.sync.indexedRuns).toBeGreaterThan(0);
      expect(source.sync.lagSeconds).toBeGreaterThanOrEqual(0);
    }
    resetCalls(stack);
    const res = await stack.gql(DASHBOARD);
    expect(res.body.errors).toBeUndefined();
    expect(vendorCalls(stack)).toBe(0);
    expect(res.body.data.runs.nodes).toHaveLength(20);
    expect(res.body.data.runs.answeredBy.map((a: any) => [a.source.id, a.mode])).toEqual([
      ['tr', 'INDEXED'],
      ['qac', 'INDEXED'],
      ['et', 'INDEXED'],
    ]);
    expect(res.body.data.runs.answeredBy.every((a: any) => a.syncedAt !== null)).toBe(true);
    expect(res.body.extensions.sync.map((s: any) => [s.source, s.state])).toEqual([
      ['tr', 'FRESH'],
      ['qac', 'FRESH'],
      ['et', 'FRESH'],
    ]);
  });

  test('INDEXED and LIVE answer the same data when nothing changed, page after page, and totalCount is exact', async () => {
    let after: string | null = null;
    let total = 0;
    let indexedCount: number | null = null;
    for (let page = 0; page < 500; page++) {
      const query = `query ($c: Consistency, $after: String) { runs(first: 7, after: $after, consistency: $c) { totalCount pageInfo { hasNextPage endCursor } nodes { id name status conclusion isClosed vendorStatus createdAt completedAt url counts { total passed failed blocked untested retest other } project { id name } host { id name } } } }`;
      const [indexed, live]: any[] = await Promise.all([stack.gql(query, { c: "INDEXED", after }), stack.gql(query, { c: "LIVE", after })]);
      expect(indexed.body.errors).toBeUndefined();
      expect(indexed.body.data.runs.nodes).toEqual(live.body.data.runs.nodes);
      expect(indexed.body.data.runs.pageInfo).toEqual(live.body.data.runs.pageInfo);
      expect(live.body.data.runs.totalCount).toBeNull();
      indexedCount = indexed.body.data.runs.totalCount;
      total += indexed.body.data.runs.nodes.length;
      if (!indexed.body.data.runs.pageInfo.hasNextPage) break;
      after = indexed.body.data.runs.pageInfo.endCursor;
    }
    expect(indexedCount).toBe(total);
  });

  test('filters give the same answer indexed and live', async () => {
    const query = `query ($c: Consistency, $f: RunFilter) { runs(first: 50, filter: $f, consistency: $c) { nodes { id } } }`;
    const projects = (await stack.gql('{ projects(first: 100) { nodes { id } } }')).body.data.projects.nodes.map((p: any) => p.id);
    const hosts = (await stack.gql('{ hosts(first: 100) { nodes { id } } }')).body.data.hosts.nodes.map((h: any) => h.id);
    const filters = [
      { statuses: ['QUEUED', 'IN_PROGRESS'] },
      { isClosed: true },
      { conclusions: ['FAILED', 'PASSED'] },
      { projectIds: projects.slice(0, 3) },
      { hostIds: hosts },
      { createdAfter: '2026-01-01T00:00:00Z', createdBefore: '2026-12-01T00:00:00Z' },
    ];
    for (const f of filters) {
      const [indexed, live] = await Promise.all([stack.gql(query, { c: 'INDEXED', f }), stack.gql(query, { c: 'LIVE', f })]);
      expect({ f, nodes: indexed.body.data.runs.nodes }).toEqual({ f, nodes: live.body.data.runs.nodes });
    }
  });

  test('a lookup answers from the index; an id the index lacks is read live once and then indexed', async () => {
    const first = (await stack.gql('{ runs(first: 1, filter: { sourceIds: ["qac"] }) { nodes { id name } } }')).body.data.runs.nodes[0];
    resetCalls(stack);
    const found = await stack.gql('query ($id: ID!) { run(id: $id) { id name } node(id: $id) { id } }', { id: first.id });
    expect(found.body.data.run).toEqual(first);
    expect(vendorCalls(stack)).toBe(0);
  });

  test('every mutation updates the index before it answers: the next INDEXED read shows it, with no refresh', async () => {
    const project = (await stack.gql('{ projects(first: 1, sourceIds: ["tr"]) { nodes { id } } }')).body.data.projects.nodes[0].id;
    const added = await stack.gql('mutation ($p: ID!) { addRun(input: { projectId: $p, name: "Through the index", testrail: { suiteId: "1", caseIds: ["1"] } }) { id } }', { p: project });
    const id = added.body.data.addRun.id;
    const read = async () => (await stack.gql('query ($id: ID!) { run(id: $id) { id name isClosed } runs(first: 100, filter: { sourceIds: ["tr"] }) { nodes { id } } }', { id })).body.data;
    resetCalls(stack);
    let data = await read();
    expect(data.run).toMatchObject({ name: 'Through the index', isClosed: false });
    expect(data.runs.nodes.map((n: any) => n.id)).toContain(id);
    expect(vendorCalls(stack)).toBe(0);

    await stack.gql('mutation ($id: ID!) { closeRun(id: $id) { id } }', { id });
    data = await read();
    expect(data.run.isClosed).toBe(true);

    const restarted = await stack.gql('mutation ($id: ID!) { restartRun(id: $id) { id } }', { id });
    data = await read();
    expect(data.runs.nodes.map((n: any) => n.id)).toContain(restarted.body.data.restartRun.id);

    await stack.gql('mutation ($id: ID!) { deleteRun(id: $id) { deleted } }', { id });
    resetCalls(stack);
    const list = await stack.gql('{ runs(first: 100, filter: { sourceIds: ["tr"] }) { nodes { id } } }');
    expect(list.body.data.runs.nodes.map((n: any) => n.id)).not.toContain(id);
    expect(vendorCalls(stack)).toBe(0);
  });

  test.each([
    ['qac', () => {
      const project = QACOMPLETE_DEMO_PROJECTS.checkoutWeb;
      const set = [...stack.qacomplete!.store.testSets.values()].find((t) => t.projectId === project)!;
      return { projectId: encodeId('Project', 'qac', [String(project)]), qacomplete: { testSetId: String(set.id) } };
    }],
    ['et', () => ({ projectId: encodeId('Project', 'et', [DEMO_PROJECTS.warehouse]), enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.warehouseNeverRun } })],
  ])('%s: add, close, restart and delete show in the next INDEXED read with no vendor call', async (sourceId, input) => {
    const read = async (id: string) => {
      resetCalls(stack);
      const data = (await stack.gql(`query ($id: ID!) { run(id: $id) { id isClosed } runs(first: 100, filter: { sourceIds: ["${sourceId}"] }) { nodes { id isClosed } } }`, { id })).body.data;
      expect(vendorCalls(stack)).toBe(0);
      return data;
    };
    const added = await stack.gql('mutation ($input: AddRunInput!) { addRun(input: $input) { id } }', { input: input() });
    expect(added.body.errors).toBeUndefined();
    const id = added.body.data.addRun.id;
    expect((await read(id)).runs.nodes).toContainEqual({ id, isClosed: false });
    await stack.gql('mutation ($id: ID!) { closeRun(id: $id) { id } }', { id });
    expect((await read(id)).run).toEqual({ id, isClosed: true });
    const restarted = (await stack.gql('mutation ($id: ID!) { restartRun(id: $id) { id } }', { id })).body.data.restartRun.id;
    expect((await read(restarted)).runs.nodes).toContainEqual({ id: restarted, isClosed: false });
    const deleted = await stack.gql('mutation ($id: ID!) { deleteRun(id: $id) { deleted } }', { id: restarted });
    expect(deleted.body.data.deleteRun.deleted).toBe(true);
    expect((await read(id)).runs.nodes.map((n: any) => n.id)).not.toContain(restarted);
  });

  test('a LIVE read with a source down answers FAILED for it, with the error\'s code, and the others\' rows', async () => {
    stack.qacomplete!.server.injectFault({ status: 503, times: 100 });
    try {
      const res = await stack.gql(DASHBOARD, { c: 'LIVE' });
      const qac = res.body.data.runs.answeredBy.find((a: any) => a.source.id === 'qac');
      expect(qac).toEqual({ source: { id: 'qac' }, mode: 'FAILED', syncedAt: null, errorCode: 'UPSTREAM_UNAVAILABLE' });
      expect(res.body.errors.filter((e: any) => e.path.length === 1).map((e: any) => e.extensions.source)).toEqual(['qac']);
      expect(res.body.data.runs.nodes.length).toBeGreaterThan(0);
      expect(res.body.data.runs.totalCount).toBeNull();
    } finally {
      stack.qacomplete!.server.clearFaults();
    }
  });

  test('a source that fails its refresh is FAILING and keeps serving its index, with no error', async () => {
    const sync = stack.gateway.syncs.get('qac')!;
    stack.qacomplete!.server.injectFault({ status: 503, times: 100 });
    try {
      await sync.cycleNow();
      const res = await stack.gql(`{ sources { id sync { state lastError } } ${DASHBOARD.slice(DASHBOARD.indexOf('runs('), DASHBOARD.lastIndexOf('}'))} }`.replace('consistency: $c', ''));
      expect(res.body.errors).toBeUndefined();
      const qac = res.body.data.sources.find((s: any) => s.id === 'qac');
      expect(qac.sync.state).toBe('FAILING');
      expect(qac.sync.lastError).toMatch(/^UPSTREAM_UNAVAILABLE: /);
      const answer = res.body.data.runs.answeredBy.find((a: any) => a.source.id === 'qac');
      expect(answer.mode).toBe('INDEXED');
      expect(answer.syncedAt).not.toBeNull();
      expect(res.body.extensions.sync.find((s: any) => s.source === 'qac').state).toBe('FAILING');
    } finally {
      stack.qacomplete!.server.clearFaults();
    }
    // The breaker opened on the failures; once its cooldown is over the next cycle recovers.
    for (let i = 0; i < 6 && sync.status().state !== 'FRESH'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      await sync.cycleNow();
    }
    expect(sync.status()).toMatchObject({ state: 'FRESH', lastError: null });
  });
});

describe('kept answers', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ index: { refreshSeconds: 3600 } });
  });
  afterAll(() => stack.stop());

  test('the same query is answered again without executing while the index is unchanged; a write makes the next answer new', async () => {
    const query = '{ runs(first: 5) { nodes { id name } } }';
    const post = () => fetch(stack.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    // Kept the second time it is computed (a one-off request holds no memory), served the third.
    const first = await post();
    expect(first.headers.get('x-rungraph-answer')).toBeNull();
    expect((await post()).headers.get('x-rungraph-answer')).toBeNull();
    const third = await post();
    expect(third.headers.get('x-rungraph-answer')).toBe('kept');
    expect(await third.json()).toEqual(await first.json());
    // Another caller gets an answer of its own.
    const other = await fetch(stack.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer someone-else-entirely' }, body: JSON.stringify({ query }) });
    expect(other.headers.get('x-rungraph-answer')).toBeNull();

    const project = (await stack.gql('{ projects(first: 1) { nodes { id } } }')).body.data.projects.nodes[0].id;
    await stack.gql('mutation ($p: ID!) { addRun(input: { projectId: $p, name: "Newest" }) { id } }', { p: project });
    const after = await post();
    expect(after.headers.get('x-rungraph-answer')).toBeNull();
    await post();
    expect((await post()).headers.get('x-rungraph-answer')).toBe('kept');
    expect(((await after.json()) as any).data.runs.nodes[0].name).toBe('Newest');
  });

  test('an answer that read a vendor live is never kept', async () => {
    const query = '{ runs(first: 2, consistency: LIVE) { nodes { id } } }';
    const post = () => fetch(stack.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    await post();
    stack.testrail!.server.resetCounts();
    const again = await post();
    expect(again.headers.get('x-rungraph-answer')).toBeNull();
    expect(stack.testrail!.server.count()).toBeGreaterThan(0);
  });
});

describe('with the index off', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ qacomplete: {}, enterpriseTester: {}, index: { enabled: false } });
  });
  afterAll(() => stack.stop());

  test('every source is OFF and every read is LIVE, as without an index', async () => {
    const res = await stack.gql(`{ sources { sync { state indexedRuns } } ${DASHBOARD.slice(DASHBOARD.indexOf('runs('), DASHBOARD.lastIndexOf('}'))} }`.replace('consistency: $c', ''));
    expect(res.body.data.sources.map((s: any) => s.sync)).toEqual([
      { state: 'OFF', indexedRuns: 0 },
      { state: 'OFF', indexedRuns: 0 },
      { state: 'OFF', indexedRuns: 0 },
    ]);
    expect(res.body.data.runs.answeredBy.map((a: any) => a.mode)).toEqual(['LIVE', 'LIVE', 'LIVE']);
    expect(res.body.data.runs.totalCount).toBeNull();
    expect(res.body.extensions).toBeUndefined();
  });
});

describe('restarts', () => {
  test('a restart with the same index.path serves from the index at once (STALE until its first cycle ends) and refreshes instead of backfilling', async () => {
    const sim = new EnterpriseTesterSimulator({ seed: 'demo' });
    const baseUrl = await sim.start();
    const path = mkdtempSync(join(tmpdir(), 'rungraph-restart-'));
    const config = { id: 'et', kind: 'enterprise-tester' as const, name: 'Enterprise Tester', baseUrl, auth: { username: ET_DEMO_USER.username, password: ET_DEMO_USER.password } };
    const log = createLogger({ level: 'error' });
    const start = async (refreshSeconds: number) =>
      startGateway({ sources: [SOURCE_KINDS['enterprise-tester']!.create(config, log)], log, port: 0, index: { ...DEFAULT_INDEX, path, refreshSeconds, feedOf, identityOf: identities([config]) } });
    const query = async (url: string) =>
      (await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ sources { sync { state } } runs(first: 50) { answeredBy { mode } nodes { id name } } }' }) })).json()) as any;
    try {
      sim.server.resetCounts();
      const first = await start(3600);
      await first.syncs.get('et')!.ready();
      const backfillCalls = sim.server.count();
      const before = await query(first.graphqlUrl);
      await first.stop();

      sim.server.resetCounts();
      const second = await start(3600);
      try {
        // Served from the persisted index before any vendor call: the sync's first cycle has not even been scheduled yet.
        const at = await query(second.graphqlUrl);
        expect(at.data.runs).toEqual(before.data.runs);
        expect(at.data.sources[0].sync.state).toBe('STALE');
        // Its first cycle starts by itself; wait for it (bounded), and count what it cost.
        for (let i = 0; i < 100 && second.syncs.get('et')!.status().state !== 'FRESH'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(second.syncs.get('et')!.status().state).toBe('FRESH');
        const refreshCalls = sim.server.count();
        expect(refreshCalls).toBeGreaterThan(0);
        expect(refreshCalls).toBeLessThan(backfillCalls);
        expect(Object.keys(sim.server.countsByRoute()).join(' ')).not.toMatch(/executionpackages/);
      } finally {
        await second.stop();
      }
    } finally {
      await sim.stop();
    }
  });

  test('/readyz is 503 naming the source while its first backfill runs, 200 once the index is usable; /healthz is 200 throughout', async () => {
    const sim = new TestRailSimulator({ seed: 'demo' });
    const baseUrl = await sim.start();
    sim.server.injectFault({ route: /get_projects/, delayMs: 800, times: 1 });
    const log = createLogger({ level: 'error' });
    const config = { id: 'tr', kind: 'testrail' as const, name: 'TestRail', baseUrl, auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password } };
    const gateway = await startGateway({
      sources: [SOURCE_KINDS.testrail!.create(config, log)],
      log,
      port: 0,
      index: { ...DEFAULT_INDEX, path: mkdtempSync(join(tmpdir(), 'rungraph-ready-')), refreshSeconds: 3600, feedOf, identityOf: identities([config]) },
    });
    try {
      const during = await fetch(`${gateway.origin}/readyz`);
      expect(during.status).toBe(503);
      expect(await during.json()).toEqual({ status: 'not ready', waiting: ['source tr: run index backfilling (BACKFILLING)'] });
      expect((await fetch(`${gateway.origin}/healthz`)).status).toBe(200);
      await gateway.syncs.get('tr')!.ready();
      const after = await fetch(`${gateway.origin}/readyz`);
      expect(after.status).toBe(200);
      expect(await after.json()).toEqual({ status: 'ready' });
    } finally {
      await gateway.stop(500);
      await sim.stop();
    }
  });

  test('a budget too small for one cycle: STALE, the old index served, and the sync never takes more than its share', async () => {
    const sim = new TestRailSimulator({ seed: 'demo' });
    const baseUrl = await sim.start();
    const path = mkdtempSync(join(tmpdir(), 'rungraph-budget-'));
    const log = createLogger({ level: 'error' });
    const config = (policy: Record<string, unknown>) => ({ id: 'tr', kind: 'testrail' as const, name: 'TestRail', baseUrl, auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password }, policy });
    const start = async (policy: Record<string, unknown>) =>
      startGateway({ sources: [SOURCE_KINDS.testrail!.create(config(policy), log)], log, port: 0, index: { ...DEFAULT_INDEX, path, refreshSeconds: 3600, feedOf, identityOf: identities([config(policy)]) } });
    try {
      const first = await start({});
      await first.syncs.get('tr')!.ready();
      await first.stop();
      // 60 requests/minute with a burst of 2; the sync's share (0.5) is 30/minute, a bucket of 1 refilled at 29 · 60/61 a minute (http/traffic.ts windowedBucket): a refresh cycle of the demo (14 calls) takes about 27 s.
      sim.server.resetCounts();
      const second = await start({ requestsPerMinute: 60, burst: 2, syncShare: 0.5 });
      try {
        const startedAt = Date.now();
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const seconds = (Date.now() - startedAt) / 1000;
        const syncCalls = sim.server.count();
        expect(syncCalls).toBeGreaterThan(0);
        expect(syncCalls).toBeLessThanOrEqual(1 + Math.ceil((30 * (seconds + 0.5)) / 60));
        const res = (await (await fetch(second.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ sources { sync { state } } runs(first: 5) { answeredBy { mode } nodes { id } } }' }) })).json()) as any;
        expect(res.data.sources[0].sync.state).toBe('STALE');
        expect(res.data.runs.answeredBy).toEqual([{ mode: 'INDEXED' }]);
        expect(res.data.runs.nodes).toHaveLength(5);
      } finally {
        await second.stop(500);
      }
    } finally {
      await sim.stop();
    }
  });

  test('a corrupt store is rebuilt with one warning, and the gateway serves', async () => {
    const path = mkdtempSync(join(tmpdir(), 'rungraph-corrupt-'));
    writeFileSync(join(path, 'index.jsonl'), '\u0000\u0001 not an index');
    const stack = await startStack({ index: { path } });
    try {
      const warnings = stack.logs.filter((l) => l.includes('cannot be used'));
      expect(warnings).toHaveLength(1);
      const res = await stack.gql('{ runs(first: 3) { answeredBy { mode } nodes { id } } }');
      expect(res.body.data.runs.answeredBy).toEqual([{ mode: 'INDEXED' }]);
      expect(res.body.data.runs.nodes).toHaveLength(3);
    } finally {
      await stack.stop();
    }
  });
});
