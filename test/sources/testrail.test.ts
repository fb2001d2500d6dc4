/**
 * TestRail end to end: GraphQL over HTTP → gateway → TestRail simulator over HTTP, and back.
 * Expected values come from status.md's rules and the simulator's own state, never from the
 * gateway's output.
 */
import { encodeId } from '../../src/graph/ids';
import { DEMO_IDS, type TestRailSimulator } from '../../src/simulators/testrail';
import { operation, startStack, type Stack } from '../support/stack';

const runId = (id: number, projectId: number, planId?: number) =>
  encodeId('Run', 'tr', planId === undefined ? [String(id), String(projectId)] : [String(id), String(projectId), String(planId)]);
const projectId = (id: number) => encodeId('Project', 'tr', [String(id)]);

const RUN_FIELDS = 'id nativeId name status conclusion isClosed vendorStatus counts { total passed failed blocked untested retest other } createdAt completedAt url';

describe('TestRail through the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());
  afterEach(() => stack.testrail!.server.clearFaults());

  const sim = () => stack.testrail!;

  describe('status.md, every TestRail row', () => {
    test.each([
      ['completed, all passed', DEMO_IDS.runs.completed, 'COMPLETED', 'PASSED', true, 'Completed'],
      ['active, all untested', DEMO_IDS.runs.allUntested, 'QUEUED', null, false, 'Active'],
      ['active, no tests', DEMO_IDS.runs.noTests, 'QUEUED', null, false, 'Active'],
      ['active, partly run', DEMO_IDS.runs.inProgress, 'IN_PROGRESS', null, false, 'Active'],
      ['active, all run with failures', DEMO_IDS.runs.failures, 'COMPLETED', 'FAILED', false, 'Active'],
      ['active, blocked only', DEMO_IDS.runs.blockedOnly, 'COMPLETED', 'BLOCKED', false, 'Active'],
      ['active, retest', DEMO_IDS.runs.retest, 'COMPLETED', 'RETEST', false, 'Active'],
      ['active, passed only', DEMO_IDS.runs.passedOnly, 'COMPLETED', 'PASSED', false, 'Active'],
      ['active, custom statuses only', DEMO_IDS.runs.customOnly, 'COMPLETED', 'PASSED', false, 'Active'],
      ['completed with untested left', DEMO_IDS.runs.completedWithUntested, 'COMPLETED', 'INCOMPLETE', true, 'Completed'],
    ])('%s', async (_name, id, status, conclusion, isClosed, vendorStatus) => {
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`, { id: runId(id, 1) });
      expect(res.body.errors).toBeUndefined();
      const run = res.body.data.run;
      expect(run).toMatchObject({ nativeId: String(id), status, conclusion, isClosed, vendorStatus });
      const c = sim().store.countersOf(id);
      const other = [1, 2, 3, 4, 5, 6, 7].reduce((sum, n) => sum + (c as any)[`custom_status${n}_count`], 0);
      expect(run.counts).toEqual({
        total: c.passed_count + c.failed_count + c.blocked_count + c.untested_count + c.retest_count + other,
        passed: c.passed_count,
        failed: c.failed_count,
        blocked: c.blocked_count,
        untested: c.untested_count,
        retest: c.retest_count,
        other,
      });
      const record = sim().store.run(id)!;
      expect(run.createdAt).toBe(new Date(record.created_on * 1000).toISOString().replace('.000Z', 'Z'));
      expect(run.url).toMatch(new RegExp(`index\\.php\\?/runs/view/${id}$`));
    });
  });

  test('the Dashboard operation returns runs with their project names', async () => {
    const res = await stack.gql(operation('Dashboard'), { first: 25 });
    expect(res.body.errors).toBeUndefined();
    const edges = res.body.data.runs.edges;
    expect(edges).toHaveLength(25);
    for (const { node } of edges) {
      const record = sim().store.run(Number(node.nativeId))!;
      expect(node.project.name).toBe(sim().store.project(record.project_id)!.name);
      expect(node.host).toBeNull();
    }
    const created = edges.map((e: any) => Date.parse(e.node.createdAt));
    expect([...created].sort((a, b) => b - a)).toEqual(created);
  });

  test('paging past 250 runs: a project with 300 runs walks completely, newest first', async () => {
    const walk = async (query: string) => {
      const seen: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 20; page++) {
        const res: any = await stack.gql(query, { id: projectId(DEMO_IDS.projects.nightly), first: 100, after });
        expect(res.body.errors).toBeUndefined();
        seen.push(...res.body.data.project.runs.nodes.map((n: any) => JSON.parse(Buffer.from(n.id, 'base64url').toString())[2]));
        if (!res.body.data.project.runs.pageInfo.hasNextPage) return seen;
        after = res.body.data.project.runs.pageInfo.endCursor;
      }
      throw new Error('the walk did not end');
    };
    const newestFirst = (runs: Array<{ id: number; created_on: number }>) =>
      runs.sort((a, b) => b.created_on - a.created_on || a.id - b.id).map((r) => String(r.id));
    const all = sim().store.runsOf(DEMO_IDS.projects.nightly);
    expect(all.length).toBeGreaterThan(250);
    sim().server.resetCounts();
    const everything = await walk(
      `query($id: ID!, $first: Int, $after: String) { project(id: $id) { runs(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { id } } } }`,
    );
    expect(everything).toEqual(newestFirst([...all]));
    // The first page read 250 runs, then only what is newer than the page's horizon (below, and
    // "reading only the history a page can hold" for a project that needs many pages).
    expect(sim().server.log.some((r) => r.route === 'GET get_runs' && /created_after=/.test(r.target))).toBe(true);
    // The contract's ProjectRuns (open runs only) walks the open subset the same way.
    expect(await walk(operation('ProjectRuns'))).toEqual(newestFirst(all.filter((r) => !r.is_completed)));
  });

  test('runs inside plans are listed with the standalone runs', async () => {
    const res = await stack.gql(`query($p: [ID!]) { runs(first: 100, filter: { projectIds: $p }) { nodes { nativeId } } }`, {
      p: [projectId(DEMO_IDS.projects.webshop)],
    });
    expect(res.body.errors).toBeUndefined();
    const listed = new Set(res.body.data.runs.nodes.map((n: any) => n.nativeId));
    const all = sim().store.runsOf(DEMO_IDS.projects.webshop);
    expect(all.some((r) => r.plan_id !== null)).toBe(true);
    for (const run of all) expect(listed.has(String(run.id))).toBe(true);
    expect(listed.size).toBe(all.length);
  });

  test('nested project lookups over 5 and over 60 runs cost the same number of upstream calls', async () => {
    const query = `query($first: Int) { runs(first: $first) { nodes { id project { name } } } }`;
    const cost = async (first: number, s: Stack) => {
      s.testrail!.server.resetCounts();
      const res = await s.gql(query, { first });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.runs.nodes).toHaveLength(first);
      return s.testrail!.server.count();
    };
    const five = await cost(5, stack);
    const sixty = await cost(60, stack);
    expect(sixty).toBe(five);
    // The same query without loaders fetches per row: the measurement can tell the difference.
    const naive = await startStack({ batching: false });
    try {
      expect(await cost(60, naive)).toBeGreaterThan(sixty + 50);
    } finally {
      await naive.stop();
    }
  });

  describe('mutations', () => {
    test('addRun creates the run with exactly the selected cases', async () => {
      const cases = sim().store.casesOf(DEMO_IDS.suites.webshop).slice(0, 3).map((c) => String(c.id));
      sim().server.resetCounts();
      const res = await stack.gql(operation('AddRun'), {
        input: { projectId: projectId(DEMO_IDS.projects.webshop), name: 'Checkout smoke', testrail: { caseIds: cases } },
      });
      expect(res.body.errors).toBeUndefined();
      const run = res.body.data.addRun;
      expect(run).toMatchObject({ name: 'Checkout smoke', status: 'QUEUED', isClosed: false, vendorStatus: 'Active', counts: { total: 3, untested: 3 } });
      const record = sim().store.run(Number(run.nativeId))!;
      expect(record.include_all).toBe(false);
      expect(sim().store.testsOf(record.id).map((t) => String(t.case_id)).sort()).toEqual([...cases].sort());
      expect(sim().server.count('POST add_run')).toBe(1);
    });

    test('addRun without a name gets the documented default name', async () => {
      const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_IDS.projects.webshop) } });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.addRun.name).toMatch(/^Test Run \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/);
    });

    test.each([
      ['includeAll with caseIds', { testrail: { includeAll: true, caseIds: ['1'] } }, /cannot be combined/],
      ['a QAComplete block on a TestRail project', { qacomplete: { testId: '1' } }, /input\.qacomplete is for another vendor/],
      ['an Enterprise Tester block', { enterpriseTester: { scriptAssignmentId: 'x' } }, /input\.enterpriseTester is for another vendor/],
      ['a host on a source without hosts', { hostId: encodeId('Host', 'tr', ['1']) }, /has no test hosts/],
      ['a non-numeric suite id', { testrail: { suiteId: 'abc' } }, /testrail\.suiteId must be a TestRail id/],
    ])('addRun with %s is BAD_USER_INPUT and sends nothing', async (_name, extra, message) => {
      sim().server.resetCounts();
      const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_IDS.projects.webshop), ...extra } });
      expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
      expect(res.body.errors[0].message).toMatch(message);
      expect(sim().server.count()).toBe(0);
    });

    test('addRun with a suite the project does not have is BAD_USER_INPUT with TestRail\'s message', async () => {
      const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_IDS.projects.mobile), testrail: { suiteId: '999' } } });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'tr', status: 400 });
      expect(res.body.errors[0].extensions.vendorMessage).toMatch(/suite_id/);
    });

    test('restartRun copies the exact case selection and leaves the old run untouched', async () => {
      const oldId = DEMO_IDS.runs.failures;
      const before = JSON.stringify({ run: sim().store.run(oldId), tests: sim().store.testsOf(oldId), results: sim().store.resultsOfRun(oldId) });
      const oldCases = sim().store.testsOf(oldId).map((t) => t.case_id).sort();
      const res = await stack.gql(operation('RestartRun'), { id: runId(oldId, 1) });
      expect(res.body.errors).toBeUndefined();
      const fresh = sim().store.run(Number(res.body.data.restartRun.nativeId))!;
      expect(fresh.id).not.toBe(oldId);
      const old = sim().store.run(oldId)!;
      expect(fresh).toMatchObject({ name: old.name, description: old.description, suite_id: old.suite_id, milestone_id: old.milestone_id, assignedto_id: old.assignedto_id, refs: old.refs, include_all: false });
      expect(sim().store.testsOf(fresh.id).map((t) => t.case_id).sort()).toEqual(oldCases);
      expect(res.body.data.restartRun).toMatchObject({ status: 'QUEUED', counts: { total: oldCases.length, untested: oldCases.length } });
      expect(JSON.stringify({ run: sim().store.run(oldId), tests: sim().store.testsOf(oldId), results: sim().store.resultsOfRun(oldId) })).toBe(before);
    });

    test('closeRun closes once; closing again returns the run unchanged and writes nothing', async () => {
      const id = DEMO_IDS.runs.inProgress;
      sim().server.resetCounts();
      const first = await stack.gql(operation('CloseRun'), { id: runId(id, 1) });
      expect(first.body.errors).toBeUndefined();
      const c = sim().store.countersOf(id);
      const conclusion = c.failed_count ? 'FAILED' : c.blocked_count ? 'BLOCKED' : c.retest_count ? 'RETEST' : c.untested_count ? 'INCOMPLETE' : 'PASSED';
      expect(c.untested_count).toBeGreaterThan(0);
      expect(first.body.data.closeRun).toMatchObject({ isClosed: true, status: 'COMPLETED', conclusion });
      expect(sim().store.run(id)!.is_completed).toBe(true);
      const second = await stack.gql(operation('CloseRun'), { id: runId(id, 1) });
      expect(second.body.errors).toBeUndefined();
      expect(second.body.data.closeRun).toEqual(first.body.data.closeRun);
      expect(sim().server.count('POST close_run')).toBe(1);
    });

    test('deleteRun dryRun deletes nothing and reports the affected tests; a real delete removes the run', async () => {
      const id = DEMO_IDS.runs.passedOnly;
      const tests = sim().store.testsOf(id).length;
      expect(tests).toBeGreaterThan(0);
      const dry = await stack.gql(operation('DeleteRun'), { id: runId(id, 1), dryRun: true });
      expect(dry.body.errors).toBeUndefined();
      expect(dry.body.data.deleteRun).toEqual({ id: runId(id, 1), deleted: false, affectedTests: tests });
      expect(sim().store.hasRun(id)).toBe(true);

      const real = await stack.gql(operation('DeleteRun'), { id: runId(id, 1), dryRun: null });
      expect(real.body.data.deleteRun).toEqual({ id: runId(id, 1), deleted: true, affectedTests: null });
      expect(sim().store.hasRun(id)).toBe(false);

      const gone = await stack.gql(operation('NodeLookup'), { id: runId(id, 1) });
      expect(gone.body.data).toEqual({ node: null, run: null });
      expect(gone.body.errors.map((e: any) => [e.path[0], e.extensions.code, e.extensions.source])).toEqual([
        ['node', 'NOT_FOUND', 'tr'],
        ['run', 'NOT_FOUND', 'tr'],
      ]);
    });

    test.each([
      ['restartRun', operation('RestartRun')],
      ['closeRun', operation('CloseRun')],
      ['deleteRun', operation('DeleteRun')],
    ])('%s on a run inside a plan is UNSUPPORTED_OPERATION and writes nothing', async (_name, op) => {
      sim().server.resetCounts();
      const res = await stack.gql(op, { id: runId(DEMO_IDS.planRuns.chromeLinux, 1, DEMO_IDS.plans.browserMatrix) });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UNSUPPORTED_OPERATION', source: 'tr' });
      expect(res.body.errors[0].message).toMatch(/plan/);
      expect(sim().server.count(/^POST /)).toBe(0);
    });
  });

  describe('lookups', () => {
    test('run, project and node round-trip their IDs', async () => {
      const res = await stack.gql(
        `query($r: ID!, $p: ID!) { run(id: $r) { id name } project(id: $p) { id name isCompleted url } node(id: $p) { id ... on Project { nativeId } } }`,
        { r: runId(DEMO_IDS.runs.completed, 1), p: projectId(DEMO_IDS.projects.legacy) },
      );
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.run).toEqual({ id: runId(DEMO_IDS.runs.completed, 1), name: sim().store.run(DEMO_IDS.runs.completed)!.name });
      expect(res.body.data.project).toMatchObject({ id: projectId(DEMO_IDS.projects.legacy), isCompleted: true });
      expect(res.body.data.node).toEqual({ id: projectId(DEMO_IDS.projects.legacy), nativeId: String(DEMO_IDS.projects.legacy) });
    });

    test.each([
      ['garbage', 'not-an-id!'],
      ['a Project ID given to run', projectId(1)],
    ])('%s is BAD_USER_INPUT', async (_name, id) => {
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { id } }`, { id });
      expect(res.body.data.run).toBeNull();
      expect(res.body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('error mapping', () => {
    const lookup = (id: number = DEMO_IDS.runs.completed) => stack.gql(`query($id: ID!) { run(id: $id) { id } }`, { id: runId(id, 1) });

    test('400 for the addressed run is NOT_FOUND', async () => {
      const res = await lookup(99999);
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', source: 'tr', status: 400 });
    });

    test('403 is FORBIDDEN', async () => {
      sim().server.injectFault({ route: 'GET get_run', status: 403, body: { error: 'You are not allowed to access this project.' } });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', source: 'tr', status: 403 });
    });

    test('429 with Retry-After is retried after the wait, and the read succeeds', async () => {
      sim().server.resetCounts();
      sim().server.injectFault({ route: 'GET get_run', status: 429, headers: { 'retry-after': '1' }, body: { error: 'API Rate Limit Exceeded - 180 per minute maximum allowed. Retry after 1 seconds.' } });
      const started = Date.now();
      const res = await lookup();
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.run.id).toBe(runId(DEMO_IDS.runs.completed, 1));
      expect(sim().server.count('GET get_run')).toBe(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });

    test('429 that persists is RATE_LIMITED after two retries; a long Retry-After is RATE_LIMITED at once', async () => {
      sim().server.resetCounts();
      sim().server.injectFault({ route: 'GET get_run', status: 429, headers: { 'retry-after': '0' }, times: 3, body: { error: 'API Rate Limit Exceeded' } });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', source: 'tr' });
      expect(sim().server.count('GET get_run')).toBe(3);

      sim().server.resetCounts();
      sim().server.injectFault({ route: 'GET get_run', status: 429, headers: { 'retry-after': '120' }, body: { error: 'API Rate Limit Exceeded' } });
      const long = await lookup();
      expect(long.body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED', source: 'tr', retryAfter: 120 });
      expect(sim().server.count('GET get_run')).toBe(1);
    });

    test('500 is UPSTREAM_UNAVAILABLE', async () => {
      sim().server.injectFault({ route: 'GET get_run', status: 500, times: 3, body: { error: 'Undefined property: stdClass::$sso_enabled' } });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'tr', status: 500 });
    });

    test('a dropped connection is retried for a read; when it keeps dropping it is UPSTREAM_UNAVAILABLE', async () => {
      sim().server.resetCounts();
      sim().server.injectFault({ route: 'GET get_run', reset: true });
      expect((await lookup()).body.errors).toBeUndefined();
      sim().server.injectFault({ route: 'GET get_run', reset: true, times: 3 });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'tr' });
    });

    test('a malformed body is UPSTREAM_ERROR', async () => {
      sim().server.injectFault({ route: 'GET get_run', malformed: true });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_ERROR', source: 'tr' });
    });

    test('a body of the wrong shape is UPSTREAM_ERROR naming the field', async () => {
      sim().server.injectFault({ route: 'GET get_run', status: 200, body: { id: 'seven', name: 3 } });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_ERROR', source: 'tr' });
      expect(res.body.errors[0].message).toMatch(/TestRail run\.id/);
    });

    test('a 404 (no such API route) is UPSTREAM_ERROR that points at the baseUrl', async () => {
      sim().server.injectFault({ route: 'GET get_run', status: 404, body: { error: 'Unknown method' } });
      const res = await lookup();
      expect(res.body.errors[0].extensions.code).toBe('UPSTREAM_ERROR');
      expect(res.body.errors[0].message).toMatch(/baseUrl/);
    });

    test('a failed add_run reaches TestRail exactly once, whatever the failure', async () => {
      for (const fault of [{ status: 503, times: 5 }, { reset: true, times: 5 }, { status: 429, headers: { 'retry-after': '0' }, times: 5 }]) {
        sim().server.clearFaults();
        sim().server.resetCounts();
        sim().server.injectFault({ route: 'POST add_run', ...fault });
        const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_IDS.projects.webshop), name: 'once' } });
        expect(res.body.errors[0].extensions.source).toBe('tr');
        expect(sim().server.count('POST add_run')).toBe(1);
      }
    });
  });
});

describe('TestRail timeouts and credentials', () => {
  test('a call slower than timeoutMs is UPSTREAM_UNAVAILABLE', async () => {
    const stack = await startStack({ sourceConfig: { tr: { timeoutMs: 300 } } });
    try {
      stack.testrail!.server.injectFault({ route: 'GET get_run', delayMs: 1500 });
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { id } }`, { id: runId(DEMO_IDS.runs.completed, 1) });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'tr' });
      expect(res.body.errors[0].message).toMatch(/within 300 ms/);
    } finally {
      await stack.stop();
    }
  });

  test('401 is UNAUTHENTICATED, and a failing source still leaves `sources` answering', async () => {
    const stack = await startStack({ sourceConfig: { tr: { auth: { username: 'demo@rungraph.local', password: 'wrong-password-123' } } } });
    try {
      const res = await stack.gql(operation('Dashboard'), { first: 5 });
      expect(res.body.data.sources).toHaveLength(1);
      expect(res.body.data.runs.edges).toEqual([]);
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors[0]).toMatchObject({ path: ['runs'], extensions: { code: 'UNAUTHENTICATED', source: 'tr', status: 401 } });
    } finally {
      await stack.stop();
    }
  });
});

describe('TestRail: reading only the history a page can hold', () => {
  // One project: 1,200 standalone runs an hour apart (id order scrambled against time), 30 plans
  // closed long ago, one plan closed an hour before the newest runs, and one plan opened long ago
  // that got a run an hour ago. Two gateways over identical simulators: one as shipped, one that
  // reads everything (pushdown off), which is the reference.
  const HOUR = 3600;
  const T0 = Date.UTC(2026, 0, 1) / 1000;
  const PROJECT = 1;
  let narrowed: Stack;
  let full: Stack;

  const seed = (sim: TestRailSimulator) => {
    const store = sim.store;
    store.addProject({ id: PROJECT, name: 'Continuous', suite_mode: 1 });
    const suite = store.suitesOf(PROJECT)[0].id;
    store.addCase(suite, { title: 'Deploys' });
    for (let i = 0; i < 1200; i++) {
      store.addRun(PROJECT, { name: `CI #${i}`, statuses: [1], created_on: T0 + ((i * 7) % 1200) * HOUR });
    }
    for (let k = 0; k < 30; k++) {
      store.addPlan(PROJECT, { name: `Release ${k}`, created_on: T0 + k * 20 * HOUR, is_completed: true, completed_on: T0 + (k * 20 + 2) * HOUR, entries: [{ runs: [{}] }] });
    }
    store.addPlan(PROJECT, { name: 'Hotfix', created_on: T0 + 1190 * HOUR, is_completed: true, completed_on: T0 + 1198 * HOUR, entries: [{ name: 'Hotfix', runs: [{}] }] });
    store.addPlan(PROJECT, { name: 'Long-running matrix', created_on: T0 + 100 * HOUR, entries: [{ name: 'Long-running matrix', runs: [{}, { created_on: T0 + 1199 * HOUR + 1800 }] }] });
  };

  beforeAll(async () => {
    narrowed = await startStack({ testrail: { seed: 'empty' } });
    full = await startStack({ testrail: { seed: 'empty' }, sourceConfig: { tr: { pushdown: false } } });
    seed(narrowed.testrail!);
    seed(full.testrail!);
  });
  afterAll(async () => {
    await narrowed.stop();
    await full.stop();
  });

  const query = `query($first: Int, $after: String) { runs(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { nativeId name createdAt } } }`;
  const page = async (s: Stack, first: number, after: string | null = null) => {
    const res = await s.gql(query, { first, after });
    expect(res.body.errors).toBeUndefined();
    return res.body.data.runs;
  };
  const calls = (s: Stack, route: string) => s.testrail!.server.log.filter((r) => r.route === route);

  test('the newest page reads two get_runs and opens only the plans that can reach it, and answers like a full read', async () => {
    const newest = [...narrowed.testrail!.store.runsOf(PROJECT)]
      .sort((a, b) => b.created_on - a.created_on || a.id - b.id)
      .slice(0, 20)
      .map((r) => String(r.id));
    narrowed.testrail!.server.resetCounts();
    full.testrail!.server.resetCounts();
    const a = await page(narrowed, 20);
    const b = await page(full, 20);
    expect(a).toEqual(b);
    expect(a.nodes.map((n: any) => n.nativeId)).toEqual(newest);
    expect(a.nodes[0].name).toBe('Long-running matrix');
    expect(a.nodes.some((n: any) => n.name === 'Hotfix')).toBe(true);
    expect(a.pageInfo.hasNextPage).toBe(true);

    // The reference walks 1,200 runs 250 at a time (following _links.next) and opens all 32 plans.
    expect(calls(full, 'GET get_runs').map((r) => /offset=(\d+)/.exec(r.target)![1])).toEqual(['0', '250', '500', '750', '1000']);
    expect(calls(full, 'GET get_plan')).toHaveLength(32);
    // As shipped: the first page, then only runs from the horizon on; the open plan and the plan
    // closed after the horizon, not the 30 closed long before it.
    const runs = calls(narrowed, 'GET get_runs');
    expect(runs).toHaveLength(2);
    expect(runs[1].target).toMatch(/created_after=\d+/);
    expect(calls(narrowed, 'GET get_plan')).toHaveLength(2);
  });

  test('walking to the end with first: 100 still returns every run once, old plans included, in order', async () => {
    const expected = [...narrowed.testrail!.store.runsOf(PROJECT)]
      .sort((a, b) => b.created_on - a.created_on || a.id - b.id)
      .map((r) => String(r.id));
    const seen: string[] = [];
    let after: string | null = null;
    for (let n = 0; n < 30; n++) {
      const p = await page(narrowed, 100, after);
      seen.push(...p.nodes.map((node: any) => node.nativeId));
      if (!p.pageInfo.hasNextPage) break;
      after = p.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(1233);
    expect(seen).toEqual(expected);
  });
});
