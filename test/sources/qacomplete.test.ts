/**
 * QAComplete end to end: GraphQL over HTTP → gateway → QAComplete simulator over HTTP, and back.
 * Expected values come from status.md's rules and the simulator's own state, never from the
 * gateway's output.
 */
import { encodeId } from '../../src/graph/ids';
import {
  QACOMPLETE_DEMO_HOSTS,
  QACOMPLETE_DEMO_PROJECTS,
  QACOMPLETE_DEMO_USER,
  QACOMPLETE_ROUTES,
  runJson,
  type QACRun,
  type QACompleteSimulator,
} from '../../src/simulators/qacomplete';
import { parseVendorDate } from '../../src/sources/qacomplete/dates';
import { operation, startStack, type Stack } from '../support/stack';

const { checkoutWeb, paymentsApi, mobileApp, legacyPortal } = QACOMPLETE_DEMO_PROJECTS;
const [agent01, perfLab] = QACOMPLETE_DEMO_HOSTS;

const runId = (id: number, projectId: number) => encodeId('Run', 'qac', [String(id), String(projectId)]);
const projectId = (id: number) => encodeId('Project', 'qac', [String(id)]);
const hostId = (id: number) => encodeId('Host', 'qac', [String(id)]);
const idOf = (run: QACRun) => runId(run.id, run.projectId);

const RUN_FIELDS =
  'id nativeId name status conclusion isClosed vendorStatus counts { total passed failed blocked untested retest other } createdAt completedAt url project { id name } host { id name }';

// ------------------------------------------------------------------------------------------
// Expectations, from the simulator's state and ../../../shared/contract/status.md.

const A = 'Awaiting Run';
const P = 'Passed';
const F = 'Failed';

/** status.md, QAComplete: status_code → status / conclusion / isClosed. */
const STATUS_MD: Record<string, [string, string | null, boolean]> = {
  'Awaiting Run': ['QUEUED', null, false],
  'In Progress': ['IN_PROGRESS', null, false],
  Paused: ['IN_PROGRESS', null, false],
  Passed: ['COMPLETED', 'PASSED', true],
  Failed: ['COMPLETED', 'FAILED', true],
  Blocked: ['COMPLETED', 'BLOCKED', true],
  Incomplete: ['COMPLETED', 'INCOMPLETE', true],
};

/** status.md counts: the four counters from item statuses; other = total − the four (Skipped …). */
function countsOf(run: QACRun) {
  const n = (status: string) => run.items.filter((i) => i.statusCode === status).length;
  const c = { passed: n('Passed'), failed: n('Failed'), blocked: n('Blocked'), untested: n(A), retest: 0 };
  const total = run.items.length;
  return { total, ...c, other: total - (c.passed + c.failed + c.blocked + c.untested) };
}

function expectedStatus(run: QACRun): { status: string; conclusion: string | null; isClosed: boolean } {
  const row = STATUS_MD[run.statusCode];
  if (row) return { status: row[0], conclusion: row[1], isClosed: row[2] };
  // "anything else: by the counts rule" (and never closed).
  const c = countsOf(run);
  const status = c.untested === c.total ? 'QUEUED' : c.untested > 0 ? 'IN_PROGRESS' : 'COMPLETED';
  const conclusion = status !== 'COMPLETED' ? null : c.failed ? 'FAILED' : c.blocked ? 'BLOCKED' : c.untested ? 'INCOMPLETE' : 'PASSED';
  return { status, conclusion, isClosed: false };
}

const secs = (d: Date) => Math.floor(d.getTime() / 1000);
const iso = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
/** decisions.md "Order": newest first by createdAt (whole seconds), ties by native id. */
const newestFirst = (runs: QACRun[]) => [...runs].sort((a, b) => secs(b.dateCreated) - secs(a.dateCreated) || a.id - b.id).map((r) => String(r.id));

interface Want {
  statuses?: string[];
  conclusions?: string[];
  isClosed?: boolean;
  createdAfter?: string;
  createdBefore?: string;
  hostNames?: string[];
  projects?: number[];
}

function wanted(run: QACRun, f: Want): boolean {
  const e = expectedStatus(run);
  const t = secs(run.dateCreated);
  if (f.statuses && !f.statuses.includes(e.status)) return false;
  if (f.conclusions && !(e.conclusion && f.conclusions.includes(e.conclusion))) return false;
  if (f.isClosed !== undefined && e.isClosed !== f.isClosed) return false;
  if (f.createdAfter && t < Date.parse(f.createdAfter) / 1000) return false;
  if (f.createdBefore && t >= Date.parse(f.createdBefore) / 1000) return false;
  if (f.hostNames && !f.hostNames.includes(run.testHost)) return false;
  if (f.projects && !f.projects.includes(run.projectId)) return false;
  return true;
}

/** A run's native id from its global ID (contract operations do not all select nativeId). */
const nativeOf = (id: string): string => JSON.parse(Buffer.from(id, 'base64url').toString('utf8'))[2];

/** Every run of a connection, page by page, as native ids. */
/** Every node's native id, page by page to the end (or for `pages` pages). */
async function walk(stack: Stack, query: string, variables: Record<string, unknown>, connection: (data: any) => any, pages = 0): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 100; page++) {
    if (pages > 0 && page === pages) return seen;
    const res: any = await stack.gql(query, { ...variables, after });
    expect(res.body.errors).toBeUndefined();
    const conn = connection(res.body.data);
    seen.push(...conn.nodes.map((n: any) => n.nativeId ?? nativeOf(n.id)));
    if (!conn.pageInfo.hasNextPage) return seen;
    after = conn.pageInfo.endCursor;
  }
  throw new Error('the walk did not end');
}

const RUNS_QUERY = `query($first: Int, $after: String, $filter: RunFilter) {
  runs(first: $first, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor } nodes { nativeId } } }`;

const basic = (login: string | number, password: string) => Buffer.from(`${login}:${password}`).toString('base64');
const SECRETS = [
  QACOMPLETE_DEMO_USER.password,
  basic(QACOMPLETE_DEMO_USER.email, QACOMPLETE_DEMO_USER.password),
  ...QACOMPLETE_DEMO_HOSTS.flatMap((h) => [h.token, basic(h.id, h.token)]),
];

function expectNoSecrets(stack: Stack, extra: string[] = []): void {
  const logs = stack.logs.join('\n');
  const responses = stack.responses.join('\n');
  expect(stack.logs.length).toBeGreaterThan(0);
  for (const secret of [...SECRETS, ...extra]) {
    expect(logs).not.toContain(secret);
    expect(responses).not.toContain(secret);
  }
}

// ------------------------------------------------------------------------------------------

describe('QAComplete through the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    // The error-mapping tests provoke many vendor failures in a row; the circuit breaker (tested
    // on its own elsewhere) must not turn later tests' calls away.
    stack = await startStack({ testrail: false, qacomplete: {}, sourceConfig: { qac: { policy: { breakerFailures: 1000 } } } });
  });
  afterAll(() => stack.stop());
  afterEach(() => sim().server.clearFaults());

  const sim = (): QACompleteSimulator => stack.qacomplete!;
  const store = () => sim().store;
  const setOf = (title: string) => [...store().testSets.values()].find((s) => s.title === title)!;

  describe('status.md, every QAComplete row', () => {
    test.each([...Object.keys(STATUS_MD), 'Running'])('status_code %s', async (code) => {
      const record = store().runs(checkoutWeb).find((r) => r.statusCode === code)!;
      expect(record).toBeDefined();
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`, { id: idOf(record) });
      expect(res.body.errors).toBeUndefined();
      const run = res.body.data.run;
      expect(run).toMatchObject({ nativeId: String(record.id), vendorStatus: code, ...expectedStatus(record), url: null });
      expect(run.counts).toEqual(countsOf(record));
      expect(run.createdAt).toBe(iso(secs(record.dateCreated)));
      // date_finished only counts once the vendor calls the run final (it is set on awaiting runs too).
      expect(run.completedAt).toBe(expectedStatus(record).isClosed ? iso(secs(record.dateFinished!)) : null);
      const set = store().testSets.get(record.testSetId);
      expect(run.name).toBe(set ? set.title : `Test run ${record.id}`);
      expect(run.project.name).toBe(store().projects.get(record.projectId)!.name);
      expect(run.host?.name ?? null).toBe(record.testHost === '' ? null : record.testHost);
    });

    test('an unknown code follows the counts rule and is never closed', async () => {
      const record = store().runs(checkoutWeb).find((r) => r.statusCode === 'Running')!;
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { status conclusion isClosed } }`, { id: idOf(record) });
      const c = countsOf(record);
      expect(c.untested).toBeGreaterThan(0);
      expect(c.untested).toBeLessThan(c.total);
      expect(res.body.data.run).toEqual({ status: 'IN_PROGRESS', conclusion: null, isClosed: false });
    });

    test('a single-test run is named after its id; a run without a host has host null', async () => {
      const record = store().runs(checkoutWeb).find((r) => r.testSetId === 0 && r.testHost === '')!;
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { name host { id } } }`, { id: idOf(record) });
      expect(res.body.data.run).toEqual({ name: `Test run ${record.id}`, host: null });
    });
  });

  describe('contract operations', () => {
    test('Dashboard: the newest runs of every project, with project and host, at a fixed cost', async () => {
      sim().server.resetCounts();
      const res = await stack.gql(operation('Dashboard'), { first: 25 });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.sources).toEqual([
        { id: 'qac', kind: 'QACOMPLETE', name: 'QAComplete', capabilities: { addRun: true, restartRun: true, closeRun: true, deleteRun: true, hosts: true } },
      ]);
      const edges = res.body.data.runs.edges;
      expect(edges.map((e: any) => e.node.nativeId)).toEqual(newestFirst(store().runs()).slice(0, 25));
      for (const { node } of edges) {
        const record = store().run(Number(node.nativeId))!;
        expect(node.project.name).toBe(store().projects.get(record.projectId)!.name);
        expect(node.host?.name ?? null).toBe(record.testHost || null);
        expect(node.source).toEqual({ id: 'qac', kind: 'QACOMPLETE' });
      }
      // One projects listing, one run listing per project, one GET per configured host.
      expect(sim().server.countsByRoute()).toEqual({
        [QACOMPLETE_ROUTES.listProjects]: 1,
        [QACOMPLETE_ROUTES.listRuns]: store().projects.size,
        [QACOMPLETE_ROUTES.getHost]: QACOMPLETE_DEMO_HOSTS.length,
      });
      // Lists are asked for in pages larger than the vendor's default 25.
      expect(sim().server.log.every((r) => r.route !== QACOMPLETE_ROUTES.listRuns || /[?&]limit=1000\b/.test(r.target))).toBe(true);
    });

    test('Projects: v1 projects with string ids; an inactive project is completed', async () => {
      const res = await stack.gql(operation('Projects'), { sourceIds: ['qac'] });
      expect(res.body.errors).toBeUndefined();
      const expected = [...store().projects.values()]
        .sort((a, b) => a.id - b.id)
        .map((p) => ({ id: projectId(p.id), nativeId: String(p.id), name: p.name, isCompleted: !p.isActive, url: null, source: { id: 'qac', kind: 'QACOMPLETE' } }));
      expect(res.body.data.projects.nodes).toEqual(expected);
      expect(res.body.data.projects.nodes.find((p: any) => p.nativeId === String(legacyPortal)).isCompleted).toBe(true);
    });

    test('ProjectRuns over the 64-run project, 10 at a time, walks every open run once, newest first', async () => {
      const all = store().runs(paymentsApi);
      expect(all).toHaveLength(64);
      const open = all.filter((r) => !expectedStatus(r).isClosed);
      expect(open.length).toBeGreaterThan(10);
      const seen = await walk(stack, operation('ProjectRuns'), { id: projectId(paymentsApi), first: 10 }, (d) => d.project.runs);
      expect(seen).toEqual(newestFirst(open));
    });

    test('every run of the 64-run project, 10 at a time: each once, newest first', async () => {
      const query = `query($id: ID!, $first: Int, $after: String) { project(id: $id) { runs(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { nativeId } } } }`;
      const seen = await walk(stack, query, { id: projectId(paymentsApi), first: 10 }, (d) => d.project.runs);
      expect(seen).toEqual(newestFirst(store().runs(paymentsApi)));
    });

    test('HostRuns: the configured hosts, named by the vendor, each with its own queued and running runs', async () => {
      sim().server.resetCounts();
      const res = await stack.gql(operation('HostRuns'), {});
      expect(res.body.errors).toBeUndefined();
      const hosts = res.body.data.hosts.nodes;
      expect(hosts.map((h: any) => [h.id, h.name, h.source.id])).toEqual(QACOMPLETE_DEMO_HOSTS.map((h) => [hostId(h.id), store().hosts.get(h.id)!.name, 'qac']));
      for (const host of hosts) {
        const runs = store().runs().filter((r) => wanted(r, { hostNames: [host.name], statuses: ['QUEUED', 'IN_PROGRESS'] }));
        const expected = newestFirst(runs).slice(0, 10);
        expect(expected.length).toBeGreaterThan(0);
        expect(host.runs.nodes.map((n: any) => nativeOf(n.id))).toEqual(expected);
        for (const node of host.runs.nodes) expect(['QUEUED', 'IN_PROGRESS']).toContain(node.status);
      }
      // One read per project serves both hosts; each host is read once.
      expect(sim().server.count(QACOMPLETE_ROUTES.getHost)).toBe(QACOMPLETE_DEMO_HOSTS.length);
      expect(sim().server.count(QACOMPLETE_ROUTES.listRuns)).toBe(store().projects.size);
    });

    test("a host's runs are exactly the runs whose test_host is its name", async () => {
      for (const host of QACOMPLETE_DEMO_HOSTS) {
        const query = `query($id: ID!, $first: Int, $after: String) { host(id: $id) { runs(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { nativeId } } } }`;
        const seen = await walk(stack, query, { id: hostId(host.id), first: 30 }, (d) => d.host.runs);
        const expected = store().runs().filter((r) => r.testHost === host.name);
        expect(expected.length).toBeGreaterThan(5);
        expect(seen).toEqual(newestFirst(expected));
      }
    });

    test('NodeLookup resolves a run, a project and a host', async () => {
      const record = store().runs(mobileApp)[0];
      const run = await stack.gql(operation('NodeLookup'), { id: idOf(record) });
      expect(run.body.errors).toBeUndefined();
      expect(run.body.data).toEqual({
        node: { id: idOf(record), name: store().testSets.get(record.testSetId)!.title, status: expectedStatus(record).status, conclusion: expectedStatus(record).conclusion, project: { id: projectId(mobileApp) } },
        run: { id: idOf(record), status: expectedStatus(record).status },
      });
      const project = await stack.gql(operation('NodeLookup'), { id: projectId(mobileApp) });
      expect(project.body.data.node).toEqual({ id: projectId(mobileApp), name: 'Mobile App' });
      const host = await stack.gql(`query($id: ID!) { node(id: $id) { id ... on Host { name nativeId } } }`, { id: hostId(perfLab.id) });
      expect(host.body.data.node).toEqual({ id: hostId(perfLab.id), name: perfLab.name, nativeId: String(perfLab.id) });
    });

    test('a host that is not configured is NOT_FOUND and costs no call', async () => {
      sim().server.resetCounts();
      const res = await stack.gql(`query($id: ID!) { host(id: $id) { name } }`, { id: hostId(999) });
      expect(res.body.data.host).toBeNull();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', source: 'qac' });
      expect(sim().server.count()).toBe(0);
    });

    test('a project the user cannot see is NOT_FOUND', async () => {
      const res = await stack.gql(`query($id: ID!) { project(id: $id) { name } }`, { id: projectId(99999) });
      expect(res.body.data.project).toBeNull();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', source: 'qac' });
    });
  });

  describe('upstream cost', () => {
    test('nested project and host over 5 and over 60 runs cost the same number of upstream calls', async () => {
      const query = `query($first: Int) { runs(first: $first) { nodes { id project { name } host { name } } } }`;
      const cost = async (first: number, s: Stack) => {
        s.qacomplete!.server.resetCounts();
        const res = await s.gql(query, { first });
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data.runs.nodes).toHaveLength(first);
        expect(res.body.data.runs.nodes.filter((n: any) => n.host).length).toBeGreaterThan(0);
        return s.qacomplete!.server.count();
      };
      const five = await cost(5, stack);
      const sixty = await cost(60, stack);
      expect(sixty).toBe(five);
      // Without loaders and the request memo the same query pays per row: the measure can tell.
      const naive = await startStack({ testrail: false, qacomplete: {}, batching: false });
      try {
        expect(await cost(60, naive)).toBeGreaterThan(sixty + 50);
      } finally {
        await naive.stop();
      }
    });

    test('a host is read at most once per request, however often it is asked for', async () => {
      sim().server.resetCounts();
      const res = await stack.gql(
        `query($h: ID!) { a: host(id: $h) { name } b: host(id: $h) { name } hosts { nodes { name } } runs(first: 40) { nodes { host { name } } } }`,
        { h: hostId(agent01.id) },
      );
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.a.name).toBe(agent01.name);
      expect(sim().server.log.filter((r) => r.route === QACOMPLETE_ROUTES.getHost).map((r) => r.target).sort()).toEqual(
        QACOMPLETE_DEMO_HOSTS.map((h) => `/rest-api/service/automation/v2/hosts/${h.id}`).sort(),
      );
    });

    test('fifty run representations of one project cost one listing, not fifty GETs', async () => {
      const ids = store().runs(paymentsApi).slice(0, 50).map(idOf);
      sim().server.resetCounts();
      const res = await stack.gql(`query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Run { id vendorStatus } } }`, {
        reps: ids.map((id) => ({ __typename: 'Run', id })),
      });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data._entities.map((n: any) => n.id)).toEqual(ids);
      expect(sim().server.countsByRoute()).toEqual({ [QACOMPLETE_ROUTES.listRuns]: 1 });
    });
  });

  describe('dates', () => {
    test('dates without an offset are read in the configured zone: the same wall time in another zone shifts', async () => {
      const record = store().runs(checkoutWeb)[0];
      store().setTimeZoneOffset(330); // the server now writes IST wall clock; this source reads UTC
      try {
        const res = await stack.gql(`query($id: ID!) { run(id: $id) { createdAt } }`, { id: idOf(record) });
        expect(res.body.data.run.createdAt).toBe(iso(secs(record.dateCreated) + 330 * 60));
      } finally {
        store().setTimeZoneOffset(0);
      }
    });

    test('a server that sends no date_created: createdAt falls back to date_started', async () => {
      const record = store().runs(mobileApp)[1];
      const { date_created: _dropped, ...body } = runJson(store(), record);
      sim().server.injectFault({ route: QACOMPLETE_ROUTES.getRun, status: 200, body: { ...body, date_started: '2026-11-01T10:20:30.1234567' } });
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { createdAt } }`, { id: idOf(record) });
      expect(res.body.data.run.createdAt).toBe('2026-11-01T10:20:30Z');
    });
  });

  describe('mutations', () => {
    const newRun = (items: string[], extra: Partial<Parameters<QACompleteSimulator['store']['addRun']>[0]> = {}) =>
      store().addRun({
        projectId: checkoutWeb,
        testSetId: items.length === 3 ? setOf('Checkout smoke').id : setOf('Checkout regression').id,
        items,
        hostId: agent01.id,
        dateCreated: new Date('2026-11-27T09:00:00.000Z'),
        ...extra,
      });

    test('AddRun creates a test-set run on a host: hostId reaches RunByHostId', async () => {
      const set = setOf('Checkout smoke');
      const config = [...store().configurations.values()].find((c) => c.projectId === checkoutWeb)!;
      const release = [...store().releases.values()].find((r) => r.projectId === checkoutWeb)!;
      sim().server.resetCounts();
      const res = await stack.gql(operation('AddRun'), {
        input: {
          projectId: projectId(checkoutWeb),
          hostId: hostId(perfLab.id),
          qacomplete: { testSetId: String(set.id), testConfigId: String(config.id), releaseId: String(release.id), isSequential: true },
        },
      });
      expect(res.body.errors).toBeUndefined();
      const run = res.body.data.addRun;
      const record = store().run(Number(run.nativeId))!;
      expect(record).toMatchObject({ projectId: checkoutWeb, testSetId: set.id, testConfigId: config.id, releaseId: release.id, hostId: perfLab.id, isSequential: true });
      expect(run).toEqual({
        id: idOf(record),
        nativeId: String(record.id),
        name: set.title,
        status: 'QUEUED',
        conclusion: null,
        isClosed: false,
        vendorStatus: 'Awaiting Run',
        project: { id: projectId(checkoutWeb) },
        host: { id: hostId(perfLab.id) },
        counts: { total: set.testIds.length, untested: set.testIds.length },
      });
      const posted = sim().server.log.filter((r) => r.route === QACOMPLETE_ROUTES.createRun);
      expect(posted).toHaveLength(1);
      expect(JSON.parse(posted[0].body)).toEqual({
        TestSetId: set.id,
        TestConfigId: config.id,
        ReleaseId: release.id,
        RunByHostId: perfLab.id,
        IsSequential: true,
        ForceNewRunCreation: true,
      });
    });

    test('AddRun adds a new run even while one of the same set is running; forceNewRunCreation: false lets the vendor return that one', async () => {
      const running = newRun([P, A, A]);
      expect(running.statusCode).toBe('In Progress');
      const fresh = await stack.gql(operation('AddRun'), { input: { projectId: projectId(checkoutWeb), qacomplete: { testSetId: String(running.testSetId) } } });
      expect(fresh.body.errors).toBeUndefined();
      expect(Number(fresh.body.data.addRun.nativeId)).not.toBe(running.id);
      expect(store().run(Number(fresh.body.data.addRun.nativeId))).toBeDefined();

      const before = store().runs().length;
      const reused = await stack.gql(operation('AddRun'), {
        input: { projectId: projectId(checkoutWeb), qacomplete: { testSetId: String(running.testSetId), forceNewRunCreation: false } },
      });
      expect(reused.body.errors).toBeUndefined();
      expect(store().runs().length).toBe(before);
      expect(reused.body.data.addRun).toMatchObject({ nativeId: String(running.id), status: 'IN_PROGRESS' });
    });

    test('AddRun of a single test', async () => {
      const test = [...store().tests.values()].find((t) => t.projectId === checkoutWeb)!;
      const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(checkoutWeb), qacomplete: { testId: String(test.id) } } });
      expect(res.body.errors).toBeUndefined();
      const record = store().run(Number(res.body.data.addRun.nativeId))!;
      expect(record).toMatchObject({ testId: test.id, testSetId: 0 });
      expect(res.body.data.addRun).toMatchObject({ name: `Test run ${record.id}`, host: null, counts: { total: 1, untested: 1 } });
    });

    test.each([
      ['a TestRail block', { testrail: { suiteId: '1' } }, /input\.testrail is for another vendor/],
      ['an Enterprise Tester block', { enterpriseTester: { scriptAssignmentId: 'x' } }, /input\.enterpriseTester is for another vendor/],
      ['a name', { name: 'Nightly', qacomplete: { testId: '1' } }, /input\.name/],
      ['a description', { description: 'why', qacomplete: { testId: '1' } }, /input\.description/],
      ['neither testId nor testSetId', { qacomplete: { releaseId: '1' } }, /exactly one of testId .* or testSetId/],
      ['no qacomplete block', {}, /exactly one of testId .* or testSetId/],
      ['both testId and testSetId', { qacomplete: { testId: '1', testSetId: '2' } }, /exactly one of testId .* or testSetId/],
      ['a non-numeric test id', { qacomplete: { testId: 'abc' } }, /qacomplete\.testId must be a QAComplete id/],
      ['a non-numeric configuration id', { qacomplete: { testId: '1', testConfigId: '1.5' } }, /qacomplete\.testConfigId must be a QAComplete id/],
      ['a host that is not configured', { hostId: encodeId('Host', 'qac', ['999']), qacomplete: { testId: '1' } }, /input\.hostId: test host 999 is not configured/],
    ])('AddRun with %s is BAD_USER_INPUT and sends nothing', async (_name, extra, message) => {
      sim().server.resetCounts();
      const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(checkoutWeb), ...extra } });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'qac' });
      expect(res.body.errors[0].message).toMatch(message);
      expect(sim().server.count()).toBe(0);
    });

    test("AddRun with a test set the project does not have is BAD_USER_INPUT with QAComplete's message", async () => {
      const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(checkoutWeb), qacomplete: { testSetId: '99999' } } });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'qac', status: 400 });
      expect(res.body.errors[0].extensions.vendorMessage).toMatch(/99999/);
    });

    test('a failed create reaches QAComplete exactly once, whatever the failure', async () => {
      for (const fault of [{ status: 503, times: 5 }, { reset: true, times: 5 }, { status: 500, times: 5 }, { status: 408, times: 5 }]) {
        sim().server.clearFaults();
        sim().server.resetCounts();
        sim().server.injectFault({ route: QACOMPLETE_ROUTES.createRun, ...fault });
        const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(checkoutWeb), qacomplete: { testSetId: String(setOf('Checkout smoke').id) } } });
        expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'qac' });
        expect(sim().server.count(QACOMPLETE_ROUTES.createRun)).toBe(1);
      }
    });

    test('RestartRun creates a new run of the same tests, configuration, release and host, and leaves the old one untouched', async () => {
      const old = store().runs(checkoutWeb).find((r) => r.statusCode === 'Failed' && r.testSetId !== 0)!;
      const before = JSON.stringify(runJson(store(), old));
      sim().server.resetCounts();
      const res = await stack.gql(operation('RestartRun'), { id: idOf(old) });
      expect(res.body.errors).toBeUndefined();
      const fresh = store().run(Number(res.body.data.restartRun.nativeId))!;
      expect(fresh.id).not.toBe(old.id);
      expect(fresh).toMatchObject({ projectId: old.projectId, testSetId: old.testSetId, testConfigId: old.testConfigId, releaseId: old.releaseId, testHost: old.testHost });
      expect(res.body.data.restartRun).toEqual({ id: idOf(fresh), nativeId: String(fresh.id), status: 'QUEUED', counts: { total: old.items.length, untested: old.items.length } });
      expect(JSON.stringify(runJson(store(), old))).toBe(before);
      expect(sim().server.count(QACOMPLETE_ROUTES.restartRun)).toBe(1);
    });

    test('CloseRun skips exactly the awaiting tests, returns what the vendor then reports, and a second close writes nothing', async () => {
      const record = newRun([P, F, A, A, A]);
      const awaiting = record.items.filter((i) => i.statusCode === A).map((i) => i.id);
      sim().server.resetCounts();
      const first = await stack.gql(operation('CloseRun'), { id: idOf(record) });
      expect(first.body.errors).toBeUndefined();
      const patched = sim().server.log.filter((r) => r.route === QACOMPLETE_ROUTES.patchRunItem);
      expect(patched).toHaveLength(awaiting.length);
      expect(patched.map((r) => Number(/items\/(\d+)/.exec(r.target)![1])).sort()).toEqual([...awaiting].sort());
      for (const r of patched) expect(JSON.parse(r.body)).toEqual({ StatusCode: 'Skipped' });
      expect(store().items(record.id).map((i) => i.statusCode)).toEqual([P, F, 'Skipped', 'Skipped', 'Skipped']);
      // What the vendor reports after the updates (a failure is in: Failed), mapped by status.md.
      const now = store().run(record.id)!;
      expect(now.statusCode).toBe('Failed');
      expect(first.body.data.closeRun).toEqual({ id: idOf(record), ...expectedStatus(now), status: 'COMPLETED' });

      sim().server.resetCounts();
      const second = await stack.gql(operation('CloseRun'), { id: idOf(record) });
      expect(second.body.data.closeRun).toEqual(first.body.data.closeRun);
      expect(sim().server.count(/^(PATCH|PUT|POST|DELETE) /)).toBe(0);
    });

    test('CloseRun on a queued run ends it Incomplete', async () => {
      const record = newRun([A, A, A]);
      const res = await stack.gql(operation('CloseRun'), { id: idOf(record) });
      expect(store().run(record.id)!.statusCode).toBe('Incomplete');
      expect(res.body.data.closeRun).toEqual({ id: idOf(record), isClosed: true, status: 'COMPLETED', conclusion: 'INCOMPLETE' });
    });

    test('DeleteRun dryRun counts the tests and deletes nothing; a real delete removes the run', async () => {
      const record = newRun([P, F, A, A, A]);
      sim().server.resetCounts();
      const dry = await stack.gql(operation('DeleteRun'), { id: idOf(record), dryRun: true });
      expect(dry.body.errors).toBeUndefined();
      expect(dry.body.data.deleteRun).toEqual({ id: idOf(record), deleted: false, affectedTests: record.items.length });
      expect(store().run(record.id)).toBeDefined();
      expect(sim().server.count(QACOMPLETE_ROUTES.deleteRun)).toBe(0);
      expect(sim().server.count()).toBe(1);

      const real = await stack.gql(operation('DeleteRun'), { id: idOf(record), dryRun: null });
      expect(real.body.data.deleteRun).toEqual({ id: idOf(record), deleted: true, affectedTests: null });
      expect(store().run(record.id)).toBeUndefined();

      const gone = await stack.gql(operation('NodeLookup'), { id: idOf(record) });
      expect(gone.body.data).toEqual({ node: null, run: null });
      expect(gone.body.errors.map((e: any) => [e.path[0], e.extensions.code, e.extensions.source])).toEqual([
        ['node', 'NOT_FOUND', 'qac'],
        ['run', 'NOT_FOUND', 'qac'],
      ]);
    });
  });

  describe('error mapping', () => {
    const lookup = (id = idOf(store().runs(checkoutWeb)[0])) => stack.gql(`query($id: ID!) { run(id: $id) { id } }`, { id });

    test('404 "File or directory not found" for the run is NOT_FOUND', async () => {
      const res = await lookup(runId(99999, checkoutWeb));
      expect(res.body.data.run).toBeNull();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', source: 'qac', status: 404, vendorMessage: 'File or directory not found' });
    });

    test('403 "Access is denied" is FORBIDDEN, naming both possible reasons', async () => {
      const res = await lookup(runId(1, 99999));
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', source: 'qac', status: 403, vendorMessage: 'Access is denied' });
      expect(res.body.errors[0].message).toMatch(/project 99999.*does not exist.*lacks the right/);
      sim().server.injectFault({ route: QACOMPLETE_ROUTES.getRun, status: 403, body: { errors: [{ message: 'Access is denied', code: 403 }] } });
      expect((await lookup()).body.errors[0].extensions.code).toBe('FORBIDDEN');
    });

    test.each([
      ['408 that persists', { status: 408, times: 3, body: { errors: [{ message: 'Request timeout', code: 408 }] } }],
      ['500', { status: 500, body: { errors: [{ message: 'Object reference not set to an instance of an object.', code: 500 }] } }],
      ['503 that persists', { status: 503, times: 3 }],
      ['a connection reset that persists', { reset: true, times: 3 }],
    ])('%s is UPSTREAM_UNAVAILABLE', async (_name, fault) => {
      sim().server.injectFault({ route: QACOMPLETE_ROUTES.getRun, ...fault });
      const res = await lookup();
      expect(res.body.data.run).toBeNull();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'qac' });
    });

    test('a single dropped connection on a read is retried and the read succeeds', async () => {
      sim().server.resetCounts();
      sim().server.injectFault({ route: QACOMPLETE_ROUTES.getRun, reset: true });
      const res = await lookup();
      expect(res.body.errors).toBeUndefined();
      expect(sim().server.count(QACOMPLETE_ROUTES.getRun)).toBe(2);
    });

    test('a malformed body is UPSTREAM_ERROR', async () => {
      sim().server.injectFault({ route: QACOMPLETE_ROUTES.getRun, malformed: true });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_ERROR', source: 'qac' });
    });

    test('a body of the wrong shape is UPSTREAM_ERROR naming the field', async () => {
      sim().server.injectFault({ route: QACOMPLETE_ROUTES.getRun, status: 200, body: { id: 'seven', status_code: 3 } });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_ERROR', source: 'qac' });
      expect(res.body.errors[0].message).toMatch(/QAComplete test run\.id/);
    });

    test('a failing list leaves a partial answer: the error at runs, sources still answered', async () => {
      sim().server.injectFault({ route: QACOMPLETE_ROUTES.listProjects, status: 500 });
      const res = await stack.gql(operation('Dashboard'), { first: 5 });
      expect(res.body.data.sources).toHaveLength(1);
      expect(res.body.data.runs.edges).toEqual([]);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: ['runs'], extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', source: 'qac', status: 500 }) })]);
    });
  });

  test('no password or host token appears in any response or log line', () => {
    expect(stack.responses.length).toBeGreaterThan(20);
    expectNoSecrets(stack);
  });
});

describe('QAComplete filters: the same answers pushed down or not', () => {
  let on: Stack;
  let off: Stack;
  beforeAll(async () => {
    [on, off] = await Promise.all([
      startStack({ testrail: false, qacomplete: {} }),
      // The other also reads in the vendor's default page size, to prove paging over several pages.
      startStack({ testrail: false, qacomplete: {}, sourceConfig: { qac: { pushdown: false, pageLimit: 25 } } }),
    ]);
  });
  afterAll(() => Promise.all([on.stop(), off.stop()]));

  const filters: Array<[string, Record<string, unknown>, Want]> = [
    ['no filter', {}, {}],
    ['statuses QUEUED', { statuses: ['QUEUED'] }, { statuses: ['QUEUED'] }],
    ['statuses IN_PROGRESS', { statuses: ['IN_PROGRESS'] }, { statuses: ['IN_PROGRESS'] }],
    ['statuses COMPLETED', { statuses: ['COMPLETED'] }, { statuses: ['COMPLETED'] }],
    ['conclusions FAILED, INCOMPLETE', { conclusions: ['FAILED', 'INCOMPLETE'] }, { conclusions: ['FAILED', 'INCOMPLETE'] }],
    ['conclusions PASSED', { conclusions: ['PASSED'] }, { conclusions: ['PASSED'] }],
    ['isClosed true', { isClosed: true }, { isClosed: true }],
    ['isClosed false', { isClosed: false }, { isClosed: false }],
    ['createdAfter (inclusive, on a run\'s own second)', { createdAfter: '2026-11-10T13:37:00Z' }, { createdAfter: '2026-11-10T13:37:00Z' }],
    ['createdBefore (exclusive, on a run\'s own second)', { createdBefore: '2026-11-10T13:37:00Z' }, { createdBefore: '2026-11-10T13:37:00Z' }],
    ['a date window and a status', { createdAfter: '2026-10-15T00:00:00Z', createdBefore: '2026-11-20T00:00:00Z', statuses: ['COMPLETED'] }, { createdAfter: '2026-10-15T00:00:00Z', createdBefore: '2026-11-20T00:00:00Z', statuses: ['COMPLETED'] }],
    ['a host', { hostIds: [hostId(agent01.id)] }, { hostNames: [agent01.name] }],
    ['a project, open runs', { projectIds: [projectId(paymentsApi)], isClosed: false }, { projects: [paymentsApi], isClosed: false }],
  ];

  test.each(filters)('%s', async (_name, filter, want) => {
    const expected = newestFirst(on.qacomplete!.store.runs().filter((r) => wanted(r, want)));
    const [pushed, local] = await Promise.all([
      walk(on, RUNS_QUERY, { first: 7, filter }, (d) => d.runs),
      walk(off, RUNS_QUERY, { first: 7, filter }, (d) => d.runs),
    ]);
    expect(pushed).toEqual(expected);
    expect(local).toEqual(expected);
  });

  test('the pushed-down reads use the vendor filter; the others never do', () => {
    const filtered = (s: Stack) => s.qacomplete!.server.log.filter((r) => r.route === QACOMPLETE_ROUTES.listRuns && /[?&]filter=/.test(r.target));
    const texts = filtered(on).map((r) => decodeURIComponent(/[?&]filter=([^&]*)/.exec(r.target)![1]));
    expect(texts.some((t) => /DateCreated < '/.test(t))).toBe(true);
    expect(texts.some((t) => /DateCreated >= '2026-11-10T13:37:00'/.test(t))).toBe(true);
    expect(texts.some((t) => /StatusCode != 'Passed'/.test(t))).toBe(true);
    expect(filtered(off)).toEqual([]);
  });

  test('vendor pages of 25 are followed until offset >= total', () => {
    const payments = off.qacomplete!.server.log.filter((r) => r.route === QACOMPLETE_ROUTES.listRuns && r.target.includes(`/projects/${paymentsApi}/`));
    const offsets = new Set(payments.map((r) => /[?&]offset=(\d+)/.exec(r.target)![1]));
    expect(payments.every((r) => /[?&]limit=25\b/.test(r.target))).toBe(true);
    expect([...offsets].sort()).toEqual(['0', '25', '50']);
  });
});

describe('QAComplete: reading only the history a page can hold', () => {
  // Two projects of 300 runs six hours apart, read in vendor pages of 25 by a gateway as shipped
  // and by one that reads everything (pushdown off), the reference. In one, ids follow time (as
  // runs get created); in the other, id order disagrees with time.
  const SIX_HOURS = 6 * 3600 * 1000;
  const T0 = Date.UTC(2026, 5, 1);
  let narrowed: Stack;
  let full: Stack;
  let inOrder: number;
  let scrambled: number;

  const seed = (sim: QACompleteSimulator) => {
    const a = sim.store.addProject({ name: 'Nightly load tests' });
    for (let i = 0; i < 300; i++) sim.store.addRun({ projectId: a.id, dateCreated: new Date(T0 + i * SIX_HOURS), items: [P] });
    const b = sim.store.addProject({ name: 'Imported history' });
    for (let i = 0; i < 300; i++) sim.store.addRun({ projectId: b.id, dateCreated: new Date(T0 + ((i * 7) % 300) * SIX_HOURS), items: [F] });
    return [a.id, b.id];
  };

  beforeAll(async () => {
    [narrowed, full] = await Promise.all([
      startStack({ testrail: false, qacomplete: {}, sourceConfig: { qac: { pageLimit: 25 } } }),
      startStack({ testrail: false, qacomplete: {}, sourceConfig: { qac: { pushdown: false, pageLimit: 25 } } }),
    ]);
    [inOrder, scrambled] = seed(narrowed.qacomplete!);
    expect(seed(full.qacomplete!)).toEqual([inOrder, scrambled]);
  });
  afterAll(() => Promise.all([narrowed.stop(), full.stop()]));

  const reads = (s: Stack) => s.qacomplete!.server.log.filter((r) => r.route === QACOMPLETE_ROUTES.listRuns).map((r) => decodeURIComponent(r.target));
  const newest20 = async (project: number) => {
    const variables = { first: 20, filter: { projectIds: [projectId(project)] } };
    narrowed.qacomplete!.server.resetCounts();
    full.qacomplete!.server.resetCounts();
    const [a, b] = await Promise.all([walk(narrowed, RUNS_QUERY, variables, (d) => d.runs, 1), walk(full, RUNS_QUERY, variables, (d) => d.runs, 1)]);
    const expected = newestFirst(narrowed.qacomplete!.store.runs(project)).slice(0, 20);
    expect(a).toEqual(expected);
    expect(b).toEqual(expected);
    // The reference pages through all 300: 12 pages of 25.
    expect(reads(full)).toHaveLength(12);
    return reads(narrowed);
  };

  test('ids in time order: the first page, the last page, and a read from a day before the horizon', async () => {
    const shipped = await newest20(inOrder);
    expect(shipped[1]).toMatch(/offset=275&/);
    expect(shipped[2]).toMatch(/DateCreated >= '/);
    expect(shipped.length).toBeLessThanOrEqual(4);
  });

  test('ids out of time order: the same answer, still fewer reads than the whole walk', async () => {
    const shipped = await newest20(scrambled);
    expect(shipped.length).toBeLessThan(12);
  });

  test('without a horizon (no run matches a gateway-side host filter) each page is read once, the last one included', async () => {
    narrowed.qacomplete!.server.resetCounts();
    const res = await narrowed.gql(RUNS_QUERY, { first: 20, filter: { projectIds: [projectId(inOrder)], hostIds: [hostId(agent01.id)] } });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.runs.nodes).toEqual([]);
    const offsets = reads(narrowed).map((target) => Number(/offset=(\d+)/.exec(target)![1]));
    expect([...offsets].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, k) => k * 25));
  });

  test.each([['in time order', () => inOrder], ['out of time order', () => scrambled]])('walking every page (%s) returns all 300 runs once, in order', async (_name, project) => {
    const all = await walk(narrowed, RUNS_QUERY, { first: 40, filter: { projectIds: [projectId(project())] } }, (d) => d.runs);
    expect(all).toEqual(newestFirst(narrowed.qacomplete!.store.runs(project())));
  });
});

describe('QAComplete configuration', () => {
  test('a server in another zone: dates are read in the configured timeZone, and paging still works', async () => {
    const stack = await startStack({ testrail: false, qacomplete: {}, sourceConfig: { qac: { timeZone: 'Asia/Kolkata' } } });
    try {
      const store = stack.qacomplete!.store;
      store.setTimeZoneOffset(330);
      const record = store.runs(checkoutWeb).find((r) => r.statusCode === 'Passed')!;
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { createdAt completedAt } }`, { id: idOf(record) });
      expect(res.body.data.run).toEqual({ createdAt: iso(secs(record.dateCreated)), completedAt: iso(secs(record.dateFinished!)) });
      const query = `query($id: ID!, $first: Int, $after: String) { project(id: $id) { runs(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { nativeId } } } }`;
      expect(await walk(stack, query, { id: projectId(paymentsApi), first: 10 }, (d) => d.project.runs)).toEqual(newestFirst(store.runs(paymentsApi)));
    } finally {
      await stack.stop();
    }
  });

  test('automationBaseUrl is where hosts are read; the main API stays at baseUrl', async () => {
    const stack = await startStack({ testrail: false, qacomplete: {}, sourceConfig: { qac: { automationBaseUrl: 'http://127.0.0.1:9' } } });
    try {
      const res = await stack.gql(`{ runs(first: 3) { nodes { id } } hosts { nodes { name } } }`);
      expect(res.body.data.runs.nodes).toHaveLength(3);
      expect(res.body.errors[0]).toMatchObject({ path: ['hosts'], extensions: { code: 'UPSTREAM_UNAVAILABLE', source: 'qac' } });
      expect(stack.qacomplete!.server.count(QACOMPLETE_ROUTES.getHost)).toBe(0);
    } finally {
      await stack.stop();
    }
  });

  test('401 for the user is UNAUTHENTICATED, and the password never shows', async () => {
    const password = 'wrong-password-4711';
    const stack = await startStack({ testrail: false, qacomplete: {}, sourceConfig: { qac: { auth: { username: QACOMPLETE_DEMO_USER.email, password } } } });
    try {
      const res = await stack.gql(operation('Dashboard'), { first: 5 });
      expect(res.body.data.sources).toHaveLength(1);
      expect(res.body.data.runs.edges).toEqual([]);
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors[0]).toMatchObject({ path: ['runs'], extensions: { code: 'UNAUTHENTICATED', source: 'qac', status: 401 } });
      expectNoSecrets(stack, [password, basic(QACOMPLETE_DEMO_USER.email, password)]);
    } finally {
      await stack.stop();
    }
  });

  test('401 for a host token is UNAUTHENTICATED naming the host, and the token never shows', async () => {
    const token = 'd2e1ffd1-0000-4ccf-738b-10997283e35f';
    const stack = await startStack({ testrail: false, qacomplete: {}, sourceConfig: { qac: { hosts: [{ id: agent01.id, token }] } } });
    try {
      const res = await stack.gql(`query($id: ID!) { hosts { nodes { name } } host(id: $id) { name } }`, { id: hostId(agent01.id) });
      expect(res.body.data.host).toBeNull();
      for (const error of res.body.errors) {
        expect(error.extensions).toMatchObject({ code: 'UNAUTHENTICATED', source: 'qac', status: 401 });
        expect(error.message).toMatch(/test host 143/);
      }
      expectNoSecrets(stack, [token, basic(agent01.id, token)]);
    } finally {
      await stack.stop();
    }
  });
});

describe('QAComplete dates (pure)', () => {
  test.each([
    ['2016-09-23T06:42:04.6530000', 'UTC', '2016-09-23T06:42:04Z'],
    ['2026-07-01T12:00:00.0000000', 'Europe/Berlin', '2026-07-01T10:00:00Z'], // CEST, +2
    ['2026-11-20T12:00:00.0000000', 'Europe/Berlin', '2026-11-20T11:00:00Z'], // CET, +1
    ['2026-10-25T02:30:00.0000000', 'Europe/Berlin', '2026-10-25T00:30:00Z'], // happens twice: the earlier
    ['2026-03-29T02:30:00.0000000', 'Europe/Berlin', '2026-03-29T01:30:00Z'], // never happens: after the gap
    ['2026-03-08T12:00:00.0000000', 'America/New_York', '2026-03-08T16:00:00Z'], // EDT from 02:00 that day
    ['2026-07-01T12:00:00Z', 'Asia/Kolkata', '2026-07-01T12:00:00Z'], // an explicit offset wins
  ])('%s in %s is %s', (text, zone, expected) => {
    expect(iso(parseVendorDate(text, zone, 'x')!)).toBe(expected);
  });

  test.each(['0001-01-01T00:00:00', '00001-01-01T00:00:00.0000000', '', null])('unset %p is null', (text) => {
    expect(parseVendorDate(text, 'Europe/Berlin', 'x')).toBeNull();
  });
});
