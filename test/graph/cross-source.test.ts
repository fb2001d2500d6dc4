/**
 * One graph over three vendors: the merged run order and cursor, filters pushed down or not,
 * partial results when one vendor fails, and lookups of every type. Expected values come from the
 * three simulators' own state.
 */
import { operation, startStack, type Stack } from '../support/stack';

interface Expected {
  sourceId: string;
  nativeId: string;
  createdAt: number;
}

const NUMERIC = /^\d+$/;
/** The documented order (README "Order"), written out independently of the gateway's code. */
function byDocumentedOrder(a: Expected, b: Expected): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  if (a.sourceId !== b.sourceId) return a.sourceId < b.sourceId ? -1 : 1;
  if (NUMERIC.test(a.nativeId) && NUMERIC.test(b.nativeId)) return Number(a.nativeId) - Number(b.nativeId);
  return a.nativeId < b.nativeId ? -1 : a.nativeId > b.nativeId ? 1 : 0;
}

const seconds = (value: number | Date) => {
  const ms = value instanceof Date ? value.getTime() : value > 1e11 ? value : value * 1000;
  return Math.floor(ms / 1000);
};

function everyRun(stack: Stack): Expected[] {
  const tr = stack.testrail!.store;
  const qac = stack.qacomplete!.store;
  const et = stack.enterpriseTester!.store;
  return [
    ...tr.allProjects().flatMap((p) => tr.runsOf(p.id).map((r) => ({ sourceId: 'tr', nativeId: String(r.id), createdAt: r.created_on }))),
    ...qac.runs().map((r) => ({ sourceId: 'qac', nativeId: String(r.id), createdAt: seconds(r.dateCreated) })),
    ...[...et.runs.values()].map((r) => ({ sourceId: 'et', nativeId: r.Id, createdAt: seconds(r.CreatedAt) })),
  ].sort(byDocumentedOrder);
}

const RUNS = `query($first: Int, $after: String, $filter: RunFilter) {
  runs(first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id nativeId createdAt status conclusion isClosed source { id } project { id } host { id } } }
  }
}`;

async function walk(stack: Stack, first: number, filter?: object) {
  const seen: Array<{ sourceId: string; nativeId: string; createdAt: string; node: any }> = [];
  let after: string | null = null;
  for (let page = 0; page < 2000; page++) {
    const res: any = await stack.gql(RUNS, { first, after, filter });
    expect(res.body.errors).toBeUndefined();
    const { edges, pageInfo } = res.body.data.runs;
    expect(edges.length).toBeLessThanOrEqual(first);
    for (const e of edges) seen.push({ sourceId: e.node.source.id, nativeId: e.node.nativeId, createdAt: e.node.createdAt, node: e.node });
    if (!pageInfo.hasNextPage) return seen;
    expect(edges.length).toBe(first);
    after = pageInfo.endCursor;
  }
  throw new Error('the walk did not end');
}

describe('one graph over three vendors', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ qacomplete: {}, enterpriseTester: {} });
  });
  afterAll(() => stack.stop());
  afterEach(() => {
    for (const sim of [stack.testrail, stack.qacomplete, stack.enterpriseTester]) sim!.server.clearFaults();
  });

  test('a walk with first: 7 returns exactly the sorted union of every source\'s runs, each once', async () => {
    const expected = everyRun(stack);
    expect(new Set(expected.map((r) => r.sourceId))).toEqual(new Set(['tr', 'qac', 'et']));
    const seen = await walk(stack, 7);
    expect(seen.map((r) => `${r.sourceId}:${r.nativeId}`)).toEqual(expected.map((r) => `${r.sourceId}:${r.nativeId}`));
    expect(seen.map((r) => Date.parse(r.createdAt) / 1000)).toEqual(expected.map((r) => r.createdAt));
  });

  test('any edge cursor resumes right after that edge', async () => {
    const first = (await stack.gql(RUNS, { first: 30 })).body.data.runs.edges;
    const resumed = (await stack.gql(RUNS, { first: 10, after: first[12].cursor })).body.data.runs.edges;
    expect(resumed.map((e: any) => e.node.id)).toEqual(first.slice(13, 23).map((e: any) => e.node.id));
  });

  test('a source answering 500 leaves the others\' runs and adds one error naming it', async () => {
    stack.testrail!.server.injectFault({ status: 500, times: 10_000, body: { error: 'Internal Server Error' } });
    const res = await stack.gql(operation('Dashboard'), { first: 40 });
    const sources = new Set(res.body.data.runs.edges.map((e: any) => e.node.source.id));
    expect(sources).toEqual(new Set(['qac', 'et']));
    const expected = everyRun(stack).filter((r) => r.sourceId !== 'tr').slice(0, 40);
    expect(res.body.data.runs.edges.map((e: any) => `${e.node.source.id}:${e.node.nativeId}`)).toEqual(expected.map((r) => `${r.sourceId}:${r.nativeId}`));
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toMatchObject({ path: ['runs'], extensions: { code: 'UPSTREAM_UNAVAILABLE', source: 'tr' } });
    expect(res.body.data.sources).toHaveLength(3);
  });

  test('a failure is never cached: the next request reads the healed source', async () => {
    stack.qacomplete!.server.injectFault({ status: 503, times: 3 });
    const failed = await stack.gql(RUNS, { first: 5, filter: { sourceIds: ['qac'] } });
    expect(failed.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'qac' });
    const healed = await stack.gql(RUNS, { first: 5, filter: { sourceIds: ['qac'] } });
    expect(healed.body.errors).toBeUndefined();
    expect(healed.body.data.runs.edges).toHaveLength(5);
  });

  test('node, run, project and host lookups round-trip for every source', async () => {
    const dash = (await stack.gql(RUNS, { first: 100 })).body.data.runs.edges.map((e: any) => e.node);
    const projects = (await stack.gql(operation('Projects'), { first: 100 })).body.data.projects.nodes;
    const hosts = (await stack.gql('{ hosts { nodes { id name source { id } } } }')).body.data.hosts.nodes;
    for (const sourceId of ['tr', 'qac', 'et']) {
      const run = dash.find((r: any) => r.source.id === sourceId);
      const project = projects.find((p: any) => p.source.id === sourceId);
      expect(run).toBeDefined();
      expect(project).toBeDefined();
      const res = await stack.gql(
        `query($r: ID!, $p: ID!) { a: node(id: $r) { id ... on Run { nativeId } } run(id: $r) { id status } b: node(id: $p) { id ... on Project { name } } project(id: $p) { id name } }`,
        { r: run.id, p: project.id },
      );
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data).toEqual({
        a: { id: run.id, nativeId: run.nativeId },
        run: { id: run.id, status: run.status },
        b: { id: project.id, name: project.name },
        project: { id: project.id, name: project.name },
      });
    }
    expect(hosts.length).toBeGreaterThan(0);
    for (const host of hosts) {
      const res = await stack.gql('query($h: ID!) { node(id: $h) { id ... on Host { name } } host(id: $h) { id name } }', { h: host.id });
      expect(res.body.data).toEqual({ node: { id: host.id, name: host.name }, host: { id: host.id, name: host.name } });
    }
  });

  test('an ID of the wrong type is BAD_USER_INPUT for every lookup', async () => {
    const project = (await stack.gql(operation('Projects'), { first: 1 })).body.data.projects.nodes[0];
    for (const field of ['run', 'host']) {
      const res = await stack.gql(`query($id: ID!) { ${field}(id: $id) { id } }`, { id: project.id });
      expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('filters give the same answer pushed down or not', () => {
  let pushed: Stack;
  let gateway: Stack;
  beforeAll(async () => {
    pushed = await startStack({ qacomplete: {}, enterpriseTester: {} });
    const off = { pushdown: false };
    gateway = await startStack({ qacomplete: {}, enterpriseTester: {}, sourceConfig: { tr: off, qac: off, et: off } });
  });
  afterAll(async () => {
    await pushed.stop();
    await gateway.stop();
  });

  const ids = (runs: Array<{ sourceId: string; nativeId: string }>) => runs.map((r) => `${r.sourceId}:${r.nativeId}`);

  test.each([
    ['statuses', { statuses: ['QUEUED'] }],
    ['conclusions', { conclusions: ['FAILED', 'BLOCKED'] }],
    ['isClosed: true', { isClosed: true }],
    ['isClosed: false', { isClosed: false }],
    ['created window', { createdAfter: '2026-10-20T00:00:00Z', createdBefore: '2026-11-10T12:00:00Z' }],
    ['sourceIds', { sourceIds: ['qac', 'et'] }],
    ['everything at once', { statuses: ['COMPLETED'], isClosed: true, createdAfter: '2026-10-01T00:00:00Z' }],
  ])('%s', async (_name, filter) => {
    const a = await walk(pushed, 50, filter);
    const b = await walk(gateway, 50, filter);
    expect(a.length).toBeGreaterThan(0);
    expect(ids(a)).toEqual(ids(b));
  });

  test('projectIds and hostIds', async () => {
    const projects = (await pushed.gql(operation('Projects'), { first: 100 })).body.data.projects.nodes;
    const pick = ['tr', 'qac', 'et'].map((s) => projects.find((p: any) => p.source.id === s).id);
    const hosts = (await pushed.gql('{ hosts { nodes { id } } }')).body.data.hosts.nodes.map((h: any) => h.id);
    for (const filter of [{ projectIds: pick }, { hostIds: hosts.slice(0, 1) }, { projectIds: pick, statuses: ['IN_PROGRESS', 'QUEUED'] }]) {
      const a = await walk(pushed, 50, filter);
      const b = await walk(gateway, 50, filter);
      expect(a.length).toBeGreaterThan(0);
      expect(ids(a)).toEqual(ids(b));
    }
  });

  test('each filter means what it says', async () => {
    const all = await walk(pushed, 100);
    const closed = await walk(pushed, 100, { isClosed: true });
    expect(ids(closed)).toEqual(ids(all.filter((r) => r.node.isClosed)));
    const failed = await walk(pushed, 100, { conclusions: ['FAILED'] });
    expect(ids(failed)).toEqual(ids(all.filter((r) => r.node.conclusion === 'FAILED')));
    const window = await walk(pushed, 100, { createdAfter: '2026-10-20T00:00:00Z', createdBefore: '2026-11-10T12:00:00Z' });
    const lo = Date.parse('2026-10-20T00:00:00Z');
    const hi = Date.parse('2026-11-10T12:00:00Z');
    expect(ids(window)).toEqual(ids(all.filter((r) => Date.parse(r.createdAt) >= lo && Date.parse(r.createdAt) < hi)));
  });
});

describe('lookups overlap the slower sources', () => {
  test("a fast source's project and host lookups start before a slow source has answered", async () => {
    const stack = await startStack({ qacomplete: {}, enterpriseTester: {} });
    try {
      const slow = 600;
      stack.testrail!.server.injectFault({ route: 'GET get_plan', delayMs: slow, times: 1000 });
      for (const sim of [stack.testrail!, stack.qacomplete!, stack.enterpriseTester!]) sim.server.resetCounts();
      const res = await stack.gql(operation('Dashboard'), { first: 50, filter: { sourceIds: ['tr', 'qac'] } });
      expect(res.body.errors).toBeUndefined();
      const firstPlanRead = Math.min(...stack.testrail!.server.log.filter((r) => r.route === 'GET get_plan').map((r) => r.at));
      const hostReads = stack.qacomplete!.server.log.filter((r) => r.route === 'GET /automation/v2/hosts/{id}').map((r) => r.at);
      expect(hostReads.length).toBeGreaterThan(0);
      // TestRail cannot answer before its plans have (slow ms after the first plan read): the host
      // reads went out long before, so they did not wait for the merged page.
      for (const at of hostReads) expect(at).toBeLessThan(firstPlanRead + slow - 200);
    } finally {
      await stack.stop();
    }
  });
});
