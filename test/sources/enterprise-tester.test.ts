/**
 * Enterprise Tester end to end: GraphQL over HTTP → gateway → Enterprise Tester simulator over
 * HTTP, and back. Expected values come from the simulator's own state and status.md's ET rows
 * (written out again below), never from the gateway's output.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeId } from '../../src/graph/ids';
import { DEFAULT_SERVER } from '../../src/server/config';
import {
  DEMO_ASSIGNMENTS,
  DEMO_PACKAGES,
  DEMO_PAYMENTS_RUN_COUNT,
  DEMO_PROJECTS,
  DEMO_RUNS,
  DEMO_USERS,
  ET_DEMO_USER,
  ET_ROUTES,
  type EnterpriseTesterSimulator,
  type EtScriptRun,
} from '../../src/simulators/enterprise-tester';
import { operation, startStack, type Stack } from '../support/stack';

const runId = (id: string) => encodeId('Run', 'et', [id]);
const projectId = (id: string) => encodeId('Project', 'et', [id]);
const basicAuth = () => `Basic ${Buffer.from(`${ET_DEMO_USER.username}:${ET_DEMO_USER.password}`).toString('base64')}`;
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

const RUN_FIELDS = 'id nativeId name status conclusion isClosed vendorStatus counts { total passed failed blocked untested retest other } createdAt completedAt url project { id name }';

/** Every ET call but none to outside the app path: what the gateway asked of the vendor. */
const calls = (sim: EnterpriseTesterSimulator) => sim.server.count();

/** status.md, Enterprise Tester rows, written out independently of src/model/status.ts. */
function expected(sim: EnterpriseTesterSimulator, id: string) {
  const run = sim.store.getRun(id)!;
  const outcomes = sim.store.getStepResults(id).map((s) => s.Outcome);
  const n = (o: string) => outcomes.filter((x) => x === o).length;
  const counts = {
    total: outcomes.length,
    passed: n('Passed'),
    failed: n('Failed'),
    blocked: n('Blocked'),
    untested: n('NotRun'),
    retest: 0,
    other: outcomes.length - n('Passed') - n('Failed') - n('Blocked') - n('NotRun'),
  };
  const completed = run.Completed === true;
  const conclusion = !completed ? null : run.Status === 'Passed' ? 'PASSED' : run.Status === 'Failed' ? 'FAILED' : run.Status === 'Blocked' ? 'BLOCKED' : 'INCOMPLETE';
  const status = completed ? 'COMPLETED' : counts.untested === counts.total ? 'QUEUED' : 'IN_PROGRESS';
  const assignment = sim.store.assignments.get(run.AssignmentId)!;
  const project = sim.store.projects.get(sim.store.packages.get(assignment.PackageId)!.ProjectId)!;
  return {
    id: runId(run.Id),
    nativeId: run.Id,
    name: sim.store.scripts.get(assignment.ScriptId)!.Name,
    status,
    conclusion,
    isClosed: completed,
    vendorStatus: run.Status,
    counts,
    createdAt: iso(run.CreatedAt),
    completedAt: null,
    url: null,
    project: { id: projectId(project.Id), name: project.Name },
  };
}

/** The one run order: newest first, ties by native id ascending (one source). */
const newestFirst = (a: EtScriptRun, b: EtScriptRun) => b.CreatedAt - a.CreatedAt || (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0);
const projectOfRun = (sim: EnterpriseTesterSimulator, run: EtScriptRun) => sim.store.packages.get(sim.store.assignments.get(run.AssignmentId)!.PackageId)!.ProjectId;
const runsOfProject = (sim: EnterpriseTesterSimulator, project: string) => [...sim.store.runs.values()].filter((r) => projectOfRun(sim, r) === project).sort(newestFirst);

/** Walks a run connection to its end; returns native ids in order and the upstream calls of each page. */
async function walk(stack: Stack, query: string, variables: Record<string, unknown>, at: (data: any) => any) {
  const ids: string[] = [];
  const perPage: Array<Record<string, number>> = [];
  let after: string | null = null;
  for (let page = 0; page < 200; page++) {
    stack.enterpriseTester!.server.resetCounts();
    const res: any = await stack.gql(query, { ...variables, after });
    expect(res.body.errors).toBeUndefined();
    perPage.push(stack.enterpriseTester!.server.countsByRoute());
    const connection = at(res.body.data);
    ids.push(...connection.nodes.map((n: any) => n.nativeId));
    if (!connection.pageInfo.hasNextPage) return { ids, perPage };
    after = connection.pageInfo.endCursor;
  }
  throw new Error('the walk did not end');
}

const RUNS_QUERY = `query($first: Int, $after: String, $filter: RunFilter) { runs(first: $first, after: $after, filter: $filter) { pageInfo { hasNextPage endCursor } nodes { nativeId } } }`;
const PROJECT_RUNS_QUERY = `query($id: ID!, $first: Int, $after: String) { project(id: $id) { runs(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { nativeId } } } }`;

// A breaker that opened after the injected failures would make later tests fail fast; the
// breaker has its own tests.
const ET_POLICY = { et: { policy: { breakerFailures: 1000 } } };

describe('Enterprise Tester through the gateway', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ testrail: false, enterpriseTester: {}, sourceConfig: ET_POLICY, server: { limits: { ...DEFAULT_SERVER.limits, maxAliases: 100 } } });
  });
  afterAll(() => stack.stop());
  afterEach(() => stack.enterpriseTester!.server.clearFaults());

  const sim = () => stack.enterpriseTester!;

  describe('status.md, every Enterprise Tester row', () => {
    test.each([
      ['completed Passed', DEMO_RUNS.completedPassed, 'COMPLETED', 'PASSED'],
      ['completed Failed', DEMO_RUNS.completedFailed, 'COMPLETED', 'FAILED'],
      ['completed Blocked', DEMO_RUNS.completedBlocked, 'COMPLETED', 'BLOCKED'],
      ['completed Undetermined', DEMO_RUNS.completedUndetermined, 'COMPLETED', 'INCOMPLETE'],
      ['completed Not Run', DEMO_RUNS.completedNotRun, 'COMPLETED', 'INCOMPLETE'],
      ['open, every step NotRun ("In Progress" to the vendor)', DEMO_RUNS.openAllNotRun, 'QUEUED', null],
      ['open, no steps at all', DEMO_RUNS.openNoSteps, 'QUEUED', null],
      ['open, some outcomes recorded', DEMO_RUNS.openSomeOutcomes, 'IN_PROGRESS', null],
      ['open, every step recorded but not completed', DEMO_RUNS.openAllRecorded, 'IN_PROGRESS', null],
    ])('%s', async (_name, id, status, conclusion) => {
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { ${RUN_FIELDS} } }`, { id: runId(id) });
      expect(res.body.errors).toBeUndefined();
      const want = expected(sim(), id);
      expect(want).toMatchObject({ status, conclusion });
      expect(res.body.data.run).toEqual(want);
    });

    test('an open run reads "In Progress" as its vendorStatus, whatever the normalized status', async () => {
      const res = await stack.gql(`query($a: ID!, $b: ID!) { a: run(id: $a) { status vendorStatus } b: run(id: $b) { status vendorStatus } }`, {
        a: runId(DEMO_RUNS.openAllNotRun),
        b: runId(DEMO_RUNS.openSomeOutcomes),
      });
      expect(res.body.data).toEqual({ a: { status: 'QUEUED', vendorStatus: 'In Progress' }, b: { status: 'IN_PROGRESS', vendorStatus: 'In Progress' } });
    });

    test('`Completed` absent means not completed; an unknown outcome counts as other', async () => {
      const view = await rawRun(stack, DEMO_RUNS.openSomeOutcomes);
      delete view.Completed;
      view.StepResults[3].Outcome = 'Skipped';
      sim().server.injectFault({ route: ET_ROUTES.scriptRun, status: 200, body: view });
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { status conclusion isClosed counts { total passed failed untested other } } }`, { id: runId(DEMO_RUNS.openSomeOutcomes) });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.run).toEqual({ status: 'IN_PROGRESS', conclusion: null, isClosed: false, counts: { total: 4, passed: 1, failed: 1, untested: 1, other: 1 } });
    });
  });

  describe('contract operations', () => {
    test('Dashboard: the 25 newest runs with their project names, in the one run order', async () => {
      sim().server.resetCounts();
      const res = await stack.gql(operation('Dashboard'), { first: 25 });
      expect(res.body.errors).toBeUndefined();
      const all = [...sim().store.runs.values()].sort(newestFirst);
      const edges = res.body.data.runs.edges;
      expect(edges.map((e: any) => e.node.nativeId)).toEqual(all.slice(0, 25).map((r) => r.Id));
      for (const { node } of edges) {
        const want = expected(sim(), node.nativeId);
        expect(node).toMatchObject({ ...want, source: { id: 'et', kind: 'ENTERPRISE_TESTER' }, host: null });
      }
      expect(res.body.data.runs.pageInfo.hasNextPage).toBe(true);
      expect(res.body.data.sources).toEqual([
        { id: 'et', kind: 'ENTERPRISE_TESTER', name: 'Enterprise Tester', capabilities: { addRun: true, restartRun: true, closeRun: true, deleteRun: true, hosts: false } },
      ]);
      // One TQL page (25 + 1 look-ahead), one batch of packages, one projects page.
      expect(sim().server.countsByRoute()).toEqual({ [ET_ROUTES.scriptRuns]: 1, [ET_ROUTES.executionPackages]: 1, [ET_ROUTES.projects]: 1 });
      expect(sim().server.log.find((r) => r.route === ET_ROUTES.scriptRuns)!.target).toMatch(/\$top=26(&|$)/);
    });

    test('Projects: every project, not completed, no UI url', async () => {
      const res = await stack.gql(operation('Projects'), { sourceIds: ['et'] });
      expect(res.body.errors).toBeUndefined();
      const want = [...sim().store.projects.values()]
        .sort((a, b) => a.OrderNumber - b.OrderNumber)
        .map((p) => ({ id: projectId(p.Id), nativeId: p.Id, name: p.Name, isCompleted: false, url: null, source: { id: 'et', kind: 'ENTERPRISE_TESTER' } }));
      expect(res.body.data.projects.nodes).toEqual(want);
    });

    test('ProjectRuns: the open runs of one project', async () => {
      const res = await stack.gql(operation('ProjectRuns'), { id: projectId(DEMO_PROJECTS.mobile) });
      expect(res.body.errors).toBeUndefined();
      const open = runsOfProject(sim(), DEMO_PROJECTS.mobile).filter((r) => !r.Completed);
      expect(open.length).toBeGreaterThan(2);
      expect(res.body.data.project).toMatchObject({ name: 'Mobile Banking', isCompleted: false, source: { id: 'et', kind: 'ENTERPRISE_TESTER' } });
      expect(res.body.data.project.runs.nodes.map((n: any) => n.id)).toEqual(open.map((r) => runId(r.Id)));
      for (const node of res.body.data.project.runs.nodes) {
        const want = expected(sim(), JSON.parse(Buffer.from(node.id, 'base64url').toString())[2]);
        expect(node).toEqual({ id: want.id, name: want.name, status: want.status, conclusion: null, counts: { total: want.counts.total, passed: want.counts.passed, failed: want.counts.failed } });
      }
    });

    test('NodeLookup: a run by its ID, with its project', async () => {
      const res = await stack.gql(operation('NodeLookup'), { id: runId(DEMO_RUNS.completedBlocked) });
      expect(res.body.errors).toBeUndefined();
      const want = expected(sim(), DEMO_RUNS.completedBlocked);
      expect(res.body.data).toEqual({
        node: { id: want.id, name: want.name, status: 'COMPLETED', conclusion: 'BLOCKED', project: { id: want.project.id } },
        run: { id: want.id, status: 'COMPLETED' },
      });
    });

    test('HostRuns: Enterprise Tester has no hosts', async () => {
      sim().server.resetCounts();
      const res = await stack.gql(operation('HostRuns'));
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.hosts.nodes).toEqual([]);
      expect(calls(sim())).toBe(0);
    });

    test('an upper-case GUID in a lookup finds the same run (GUIDs compare case-insensitively)', async () => {
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { nativeId } }`, { id: runId(DEMO_RUNS.completedPassed.toUpperCase()) });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.run.nativeId).toBe(DEMO_RUNS.completedPassed);
    });
  });

  describe('paging', () => {
    test('the 66-run project walks with first: 10 — every run once, newest first, the CreatedAt tie included', async () => {
      const all = runsOfProject(sim(), DEMO_PROJECTS.payments);
      expect(all).toHaveLength(DEMO_PAYMENTS_RUN_COUNT);
      const ties = all.filter((r, i) => all.some((o, j) => j !== i && o.CreatedAt === r.CreatedAt));
      expect(ties.length).toBeGreaterThanOrEqual(2);
      const { ids, perPage } = await walk(stack, PROJECT_RUNS_QUERY, { id: projectId(DEMO_PROJECTS.payments), first: 10 }, (d) => d.project.runs);
      expect(ids).toEqual(all.map((r) => r.Id));
      expect(perPage).toHaveLength(7);
      // Each page: one GET project (the nested field's parent) and one TQL page. It does not grow.
      for (const counts of perPage) expect(counts).toEqual({ [ET_ROUTES.project]: 1, [ET_ROUTES.scriptRuns]: 1 });
    });

    test('each page reads only itself plus one look-ahead (plus the cursor run that CreatedAt <= position returns)', async () => {
      sim().server.resetCounts();
      await walk(stack, PROJECT_RUNS_QUERY, { id: projectId(DEMO_PROJECTS.payments), first: 10 }, (d) => d.project.runs);
      const tops = sim().server.log.filter((r) => r.route === ET_ROUTES.scriptRuns).map((r) => new URL(r.target, 'http://x').searchParams.get('$top'));
      expect(tops[tops.length - 1]).toBe('12');
      const first = await (async () => {
        sim().server.resetCounts();
        await stack.gql(PROJECT_RUNS_QUERY, { id: projectId(DEMO_PROJECTS.payments), first: 10 });
        return sim().server.log.find((r) => r.route === ET_ROUTES.scriptRuns)!;
      })();
      const params = new URL(first.target, 'http://x').searchParams;
      expect(params.get('$top')).toBe('11');
      expect(params.get('tql')).toBe(`Project = "${DEMO_PROJECTS.payments}" ORDER BY CreatedAt DESC`);
      expect(params.get('$expand')).toBe('StepResults,Assignment');
    });

    test('the Dashboard walks every run once across projects; calls per page stay flat', async () => {
      const { ids, perPage } = await walk(stack, RUNS_QUERY, { first: 17 }, (d) => d.runs);
      expect(ids).toEqual([...sim().store.runs.values()].sort(newestFirst).map((r) => r.Id));
      for (const counts of perPage.slice(0, -1)) expect(counts[ET_ROUTES.scriptRuns]).toBe(1);
    });

    test('many runs in one second: ties are walked in native-id order, each exactly once, whatever the page size', async () => {
      const store = sim().store;
      const project = store.addProject({ Name: 'Tie Breakers' });
      const pkg = store.addExecutionPackage({ ProjectId: project.Id, Name: 'Ties' });
      const script = store.addScript({ ProjectId: project.Id, Name: 'Same second', Steps: [{ Description: 'one' }] });
      const assignment = store.addScriptAssignment({ ScriptId: script.Id, PackageId: pkg.Id });
      const second = '2026-11-01T12:00:00Z';
      for (let i = 0; i < 9; i++) store.addScriptRun(assignment.Id, { CreatedAt: second, Completed: true, Outcomes: ['Passed'] });
      store.addScriptRun(assignment.Id, { CreatedAt: '2026-11-01T12:00:01Z', Completed: true, Outcomes: ['Failed'] });
      store.addScriptRun(assignment.Id, { CreatedAt: '2026-11-01T11:59:59Z', Completed: true, Outcomes: ['Failed'] });
      const want = runsOfProject(sim(), project.Id).map((r) => r.Id);
      for (const first of [1, 2, 3, 4, 10]) {
        const { ids } = await walk(stack, PROJECT_RUNS_QUERY, { id: projectId(project.Id), first }, (d) => d.project.runs);
        expect(ids).toEqual(want);
      }
    });

    test('projects page through the OData collection with $inlinecount=allpages', async () => {
      sim().server.resetCounts();
      const first = await stack.gql(operation('Projects'), { sourceIds: ['et'], first: 2 });
      const rest = await stack.gql(operation('Projects'), { sourceIds: ['et'], after: first.body.data.projects.pageInfo.endCursor });
      const names = [...first.body.data.projects.nodes, ...rest.body.data.projects.nodes].map((p: any) => p.name);
      expect(names).toEqual([...sim().store.projects.values()].sort((a, b) => a.OrderNumber - b.OrderNumber).map((p) => p.Name));
      expect(first.body.data.projects.pageInfo.hasNextPage).toBe(true);
      expect(sim().server.log.filter((r) => r.route === ET_ROUTES.projects).every((r) => /\$inlinecount=allpages/.test(r.target))).toBe(true);
    });
  });

  test('runs the server lists without their assignment get names from one batched assignment read', async () => {
    const root = `${sim().server.origin}${sim().appPath}`;
    const page = await fetch(`${root}/api/scriptruns?tql=${encodeURIComponent('ORDER BY CreatedAt DESC')}&$top=6&$inlinecount=allpages&$expand=StepResults`, { headers: { authorization: basicAuth() } });
    const body = (await page.json()) as { Items: Array<Record<string, unknown>> };
    expect(body.Items[0].Assignment).toBeUndefined();
    sim().server.resetCounts();
    sim().server.injectFault({ route: ET_ROUTES.scriptRuns, status: 200, body });
    const res = await stack.gql(`query { runs(first: 5) { nodes { nativeId name project { name } } } }`);
    expect(res.body.errors).toBeUndefined();
    for (const node of res.body.data.runs.nodes) {
      const want = expected(sim(), node.nativeId);
      expect(node).toEqual({ nativeId: want.nativeId, name: want.name, project: { name: want.project.name } });
    }
    expect(sim().server.count(ET_ROUTES.scriptAssignments)).toBe(1);
  });

  test('a child package without its own ProjectId is resolved through its parent', async () => {
    const root = `${sim().server.origin}${sim().appPath}`;
    const child = (await (await fetch(`${root}/api/executionpackage/${DEMO_PACKAGES.paymentsRegression}`, { headers: { authorization: basicAuth() } })).json()) as Record<string, unknown>;
    expect(child.ParentId).toBe(DEMO_PACKAGES.paymentsRelease);
    sim().server.resetCounts();
    sim().server.injectFault({ route: ET_ROUTES.executionPackage, status: 200, body: { ...child, ProjectId: null } });
    const res = await stack.gql(`query($id: ID!) { run(id: $id) { project { id name } } }`, { id: runId(DEMO_RUNS.paymentsOpen) });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.run.project).toEqual({ id: projectId(DEMO_PROJECTS.payments), name: 'Payments Platform' });
    expect(sim().server.count(ET_ROUTES.executionPackage)).toBe(2);
  });

  test('more than one OData page of projects is read to the end ($top=100, $skip)', async () => {
    const s = await startStack({ testrail: false, enterpriseTester: { seed: 'empty' } });
    try {
      const store = s.enterpriseTester!.store;
      for (let i = 0; i < 150; i++) store.addProject({ Name: `Project ${String(i).padStart(3, '0')}`, OrderNumber: i });
      const names: string[] = [];
      let after: string | null = null;
      for (;;) {
        const res: any = await s.gql(operation('Projects'), { sourceIds: ['et'], after });
        expect(res.body.errors).toBeUndefined();
        names.push(...res.body.data.projects.nodes.map((p: any) => p.name));
        if (!res.body.data.projects.pageInfo.hasNextPage) break;
        after = res.body.data.projects.pageInfo.endCursor;
      }
      expect(names).toEqual([...store.projects.values()].map((p) => p.Name));
      const skips = s.enterpriseTester!.server.log.filter((r) => r.route === ET_ROUTES.projects).map((r) => new URL(r.target, 'http://x').searchParams.get('$skip'));
      expect(skips).toEqual(['0', '100', '0', '100']);
    } finally {
      await s.stop();
    }
  });

  test('nested project lookups over 5 and over 60 runs cost the same number of upstream calls', async () => {
    const query = `query($first: Int) { runs(first: $first) { nodes { id project { name } } } }`;
    const cost = async (first: number, s: Stack) => {
      s.enterpriseTester!.server.resetCounts();
      const res = await s.gql(query, { first });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.runs.nodes).toHaveLength(first);
      return s.enterpriseTester!.server.count();
    };
    const five = await cost(5, stack);
    const sixty = await cost(60, stack);
    expect(sixty).toBe(five);
    expect(five).toBe(3);
    const naive = await startStack({ testrail: false, enterpriseTester: {}, batching: false });
    try {
      expect(await cost(60, naive)).toBeGreaterThan(sixty + 50);
    } finally {
      await naive.stop();
    }
  });

  test('run lookups batch: 50 runs by ID cost two TQL reads (25 ids each) and one package batch', async () => {
    const ids = [...sim().store.runs.values()].sort(newestFirst).slice(0, 50).map((r) => r.Id);
    const query = `query { ${ids.map((id, i) => `r${i}: run(id: "${runId(id)}") { nativeId name project { name } }`).join(' ')} }`;
    sim().server.resetCounts();
    const res = await stack.gql(query);
    expect(res.body.errors).toBeUndefined();
    ids.forEach((id, i) => {
      const want = expected(sim(), id);
      expect(res.body.data[`r${i}`]).toEqual({ nativeId: id, name: want.name, project: { name: want.project.name } });
    });
    expect(sim().server.count(ET_ROUTES.scriptRuns)).toBe(2);
    expect(sim().server.count(ET_ROUTES.scriptRun)).toBe(0);
    expect(sim().server.count()).toBe(4);
  });

  describe('mutations', () => {
    test('addRun on an assignment with an unfinished run returns that run (ET answers 200), and no second run exists', async () => {
      const assignment = DEMO_ASSIGNMENTS.payments[5];
      const before = sim().store.runsOfAssignment(assignment).map((r) => r.Id);
      sim().server.resetCounts();
      const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_PROJECTS.payments), enterpriseTester: { scriptAssignmentId: assignment } } });
      expect(res.body.errors).toBeUndefined();
      const want = expected(sim(), DEMO_RUNS.paymentsOpen);
      expect(res.body.data.addRun).toEqual({
        id: want.id,
        nativeId: DEMO_RUNS.paymentsOpen,
        name: want.name,
        status: want.status,
        conclusion: null,
        isClosed: false,
        vendorStatus: 'In Progress',
        project: { id: projectId(DEMO_PROJECTS.payments) },
        host: null,
        counts: { total: want.counts.total, untested: want.counts.untested },
      });
      expect(sim().store.runsOfAssignment(assignment).map((r) => r.Id)).toEqual(before);
      expect(sim().server.count(ET_ROUTES.createRun)).toBe(1);
      expect(stack.logs.some((l) => /unfinished run of the assignment/.test(l))).toBe(true);
    });

    test('addRun on an assignment whose runs are completed starts a new run (201) for the given tester', async () => {
      const assignment = DEMO_ASSIGNMENTS.warehouseReconcile;
      const before = sim().store.runsOfAssignment(assignment).length;
      const res = await stack.gql(operation('AddRun'), {
        input: { projectId: projectId(DEMO_PROJECTS.warehouse), enterpriseTester: { scriptAssignmentId: assignment.toUpperCase(), testerId: DEMO_USERS.annak } },
      });
      expect(res.body.errors).toBeUndefined();
      const created = sim().store.getRun(res.body.data.addRun.nativeId)!;
      expect(sim().store.runsOfAssignment(assignment)).toHaveLength(before + 1);
      expect(created.RunById).toBe(DEMO_USERS.annak);
      const steps = sim().store.getStepResults(created.Id).length;
      expect(res.body.data.addRun).toMatchObject({ name: 'Row counts reconcile', status: 'QUEUED', conclusion: null, isClosed: false, vendorStatus: 'In Progress', counts: { total: steps, untested: steps } });
      expect(res.body.data.addRun.project.id).toBe(projectId(DEMO_PROJECTS.warehouse));
      // Once created, a second addRun returns the same run.
      const again = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_PROJECTS.warehouse), enterpriseTester: { scriptAssignmentId: assignment } } });
      expect(again.body.data.addRun.id).toBe(res.body.data.addRun.id);
      expect(sim().store.runsOfAssignment(assignment)).toHaveLength(before + 1);
    });

    test.each([
      ['a name', { name: 'Nightly', enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.mobileNotRun } }, /input\.name/],
      ['a description', { description: 'x', enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.mobileNotRun } }, /input\.description/],
      ['a host', { hostId: encodeId('Host', 'et', ['1']), enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.mobileNotRun } }, /has no test hosts/],
      ['no enterpriseTester block', {}, /input\.enterpriseTester is required/],
      ['a TestRail block', { testrail: { suiteId: '1' }, enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.mobileNotRun } }, /input\.testrail is for another vendor/],
      ['a QAComplete block', { qacomplete: { testId: '1' }, enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.mobileNotRun } }, /input\.qacomplete is for another vendor/],
      ['a scriptAssignmentId that is no GUID', { enterpriseTester: { scriptAssignmentId: '42' } }, /scriptAssignmentId must be an Enterprise Tester id/],
      ['a testerId that is no GUID', { enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.mobileNotRun, testerId: 'joeb' } }, /testerId must be an Enterprise Tester id/],
    ])('addRun with %s is BAD_USER_INPUT and sends nothing', async (_name, extra, message) => {
      sim().server.resetCounts();
      const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_PROJECTS.mobile), ...extra } });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'et' });
      expect(res.body.errors[0].message).toMatch(message);
      expect(calls(sim())).toBe(0);
    });

    test('addRun with an assignment of another project, or one ET does not have, is BAD_USER_INPUT and writes nothing', async () => {
      sim().server.resetCounts();
      const other = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_PROJECTS.mobile), enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.warehouseNeverRun } } });
      expect(other.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'et' });
      expect(other.body.errors[0].message).toMatch(/belongs to project/);
      const missing = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_PROJECTS.mobile), enterpriseTester: { scriptAssignmentId: '0badc0de-0000-4000-8000-000000000000' } } });
      expect(missing.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'et', status: 404 });
      expect(sim().server.count(ET_ROUTES.createRun)).toBe(0);
      expect(sim().store.runsOfAssignment(DEMO_ASSIGNMENTS.warehouseNeverRun)).toEqual([]);
    });

    test('addRun with a tester ET does not know: its 403 validation answer is BAD_USER_INPUT with its message', async () => {
      const res = await stack.gql(operation('AddRun'), {
        input: { projectId: projectId(DEMO_PROJECTS.payments), enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.paymentsSmokeNeverRun, testerId: '0badc0de-0000-4000-8000-000000000001' } },
      });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'et', status: 403 });
      expect(res.body.errors[0].extensions.vendorMessage).toMatch(/TesterId/);
      expect(sim().store.runsOfAssignment(DEMO_ASSIGNMENTS.paymentsSmokeNeverRun)).toEqual([]);
    });

    test('restartRun of a completed run starts a new run on the same assignment and leaves the old run as it was', async () => {
      const oldId = DEMO_RUNS.completedFailed;
      const snapshot = () => JSON.stringify({ run: sim().store.getRun(oldId), steps: sim().store.getStepResults(oldId) });
      const before = snapshot();
      const assignment = sim().store.getRun(oldId)!.AssignmentId;
      const count = sim().store.runsOfAssignment(assignment).length;
      const res = await stack.gql(operation('RestartRun'), { id: runId(oldId) });
      expect(res.body.errors).toBeUndefined();
      const fresh = sim().store.getRun(res.body.data.restartRun.nativeId)!;
      expect(fresh.Id).not.toBe(oldId);
      expect(fresh.AssignmentId).toBe(assignment);
      expect(sim().store.runsOfAssignment(assignment)).toHaveLength(count + 1);
      const steps = sim().store.getStepResults(fresh.Id).length;
      expect(res.body.data.restartRun).toEqual({ id: runId(fresh.Id), nativeId: fresh.Id, status: 'QUEUED', counts: { total: steps, untested: steps } });
      expect(snapshot()).toBe(before);
    });

    test('restartRun of an unfinished run is BAD_USER_INPUT ("close it first") and writes nothing', async () => {
      sim().server.resetCounts();
      const res = await stack.gql(operation('RestartRun'), { id: runId(DEMO_RUNS.openAllRecorded) });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'et' });
      expect(res.body.errors[0].message).toMatch(/close it first/);
      expect(sim().server.count(/^(POST|PUT|DELETE|PATCH) /)).toBe(0);
    });

    test('closeRun completes the run once; closing again returns it unchanged and writes nothing', async () => {
      const id = DEMO_RUNS.openSomeOutcomes;
      sim().server.resetCounts();
      const first = await stack.gql(operation('CloseRun'), { id: runId(id) });
      expect(first.body.errors).toBeUndefined();
      const after = sim().store.getRun(id)!;
      expect(after.Completed).toBe(true);
      expect(first.body.data.closeRun).toEqual({ id: runId(id), isClosed: true, status: 'COMPLETED', conclusion: expected(sim(), id).conclusion });
      expect(first.body.data.closeRun.conclusion).toBe('FAILED');
      const body = JSON.parse(sim().server.log.find((r) => r.route === ET_ROUTES.updateScriptRun)!.body);
      expect(body).toEqual({ AttemptToComplete: true });
      const second = await stack.gql(operation('CloseRun'), { id: runId(id) });
      expect(second.body.errors).toBeUndefined();
      expect(second.body.data.closeRun).toEqual(first.body.data.closeRun);
      expect(sim().server.count(ET_ROUTES.updateScriptRun)).toBe(1);
    });

    test('deleteRun dryRun counts the step results and deletes nothing; a real delete removes the run', async () => {
      const id = DEMO_RUNS.completedBlocked;
      const steps = sim().store.getStepResults(id).length;
      expect(steps).toBeGreaterThan(0);
      sim().server.resetCounts();
      const dry = await stack.gql(operation('DeleteRun'), { id: runId(id), dryRun: true });
      expect(dry.body.errors).toBeUndefined();
      expect(dry.body.data.deleteRun).toEqual({ id: runId(id), deleted: false, affectedTests: steps });
      expect(sim().store.hasRun(id)).toBe(true);
      expect(sim().server.count(ET_ROUTES.deleteScriptRun)).toBe(0);

      const real = await stack.gql(operation('DeleteRun'), { id: runId(id), dryRun: null });
      expect(real.body.data.deleteRun).toEqual({ id: runId(id), deleted: true, affectedTests: null });
      expect(sim().store.hasRun(id)).toBe(false);
      expect(sim().server.count(ET_ROUTES.deleteScriptRun)).toBe(1);

      const gone = await stack.gql(operation('NodeLookup'), { id: runId(id) });
      expect(gone.body.data).toEqual({ node: null, run: null });
      expect(gone.body.errors.map((e: any) => [e.path[0], e.extensions.code, e.extensions.source])).toEqual([
        ['node', 'NOT_FOUND', 'et'],
        ['run', 'NOT_FOUND', 'et'],
      ]);
    });
  });

  describe('error mapping', () => {
    const lookup = (id: string = DEMO_RUNS.completedPassed) => stack.gql(`query($id: ID!) { run(id: $id) { id } }`, { id: runId(id) });

    test('404 for a run ET does not have is NOT_FOUND', async () => {
      const res = await lookup('0badc0de-0000-4000-8000-00000000abcd');
      expect(res.body.data.run).toBeNull();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'NOT_FOUND', source: 'et', status: 404 });
    });

    test('a run key that is no GUID is BAD_USER_INPUT and asks nothing', async () => {
      sim().server.resetCounts();
      const res = await lookup('not-a-guid');
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'et' });
      expect(calls(sim())).toBe(0);
    });

    test('403 to a read is FORBIDDEN', async () => {
      sim().server.injectFault({ route: ET_ROUTES.scriptRun, status: 403, body: { Message: 'You do not have permission to view this script run.' } });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', source: 'et', status: 403, vendorMessage: 'You do not have permission to view this script run.' });
    });

    test('403 to a write: a permission message is FORBIDDEN, a validation message is BAD_USER_INPUT', async () => {
      const close = () => stack.gql(operation('CloseRun'), { id: runId(DEMO_RUNS.openAllNotRun) });
      sim().server.injectFault({ route: ET_ROUTES.updateScriptRun, status: 403, body: { Message: 'You do not have permission to execute this test.' } });
      expect((await close()).body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', source: 'et', status: 403 });
      sim().server.injectFault({ route: ET_ROUTES.updateScriptRun, status: 403, body: { Message: 'The run cannot be completed until a step has a result.' } });
      const validation = await close();
      expect(validation.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'et', status: 403, vendorMessage: 'The run cannot be completed until a step has a result.' });
      sim().server.injectFault({ route: ET_ROUTES.updateScriptRun, status: 403, body: '' });
      expect((await close()).body.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', source: 'et' });
      expect(sim().store.getRun(DEMO_RUNS.openAllNotRun)!.Completed).toBe(false);
    });

    test('400 is BAD_USER_INPUT', async () => {
      sim().server.injectFault({ route: ET_ROUTES.deleteScriptRun, status: 400, body: { Message: 'The request is invalid.' } });
      const res = await stack.gql(operation('DeleteRun'), { id: runId(DEMO_RUNS.earlierFailed) });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'et', status: 400 });
      expect(sim().store.hasRun(DEMO_RUNS.earlierFailed)).toBe(true);
    });

    test('500 is UPSTREAM_UNAVAILABLE after the read retries', async () => {
      sim().server.resetCounts();
      sim().server.injectFault({ route: ET_ROUTES.scriptRun, status: 500, times: 3, body: { Message: 'An error has occurred.' } });
      const res = await lookup();
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'et', status: 500 });
    });

    test('a dropped connection is retried for a read; when it keeps dropping it is UPSTREAM_UNAVAILABLE', async () => {
      sim().server.injectFault({ route: ET_ROUTES.scriptRun, reset: true });
      expect((await lookup()).body.errors).toBeUndefined();
      sim().server.injectFault({ route: ET_ROUTES.scriptRun, reset: true, times: 3 });
      expect((await lookup()).body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'et' });
    });

    test('a malformed body is UPSTREAM_ERROR; a body of the wrong shape names the field', async () => {
      sim().server.injectFault({ route: ET_ROUTES.scriptRun, malformed: true });
      expect((await lookup()).body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_ERROR', source: 'et' });
      sim().server.injectFault({ route: ET_ROUTES.scriptRun, status: 200, body: { Id: 7, StepResults: [] } });
      const wrong = await lookup();
      expect(wrong.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_ERROR', source: 'et' });
      expect(wrong.body.errors[0].message).toMatch(/script run\.Id/);
      sim().server.injectFault({ route: ET_ROUTES.scriptRun, status: 200, body: { ...(await rawRun(stack, DEMO_RUNS.completedPassed)), StepResults: undefined } });
      expect((await lookup()).body.errors[0].message).toMatch(/StepResults/);
    });

    test('a 404 that is not the API (outside the application path) is UPSTREAM_ERROR pointing at baseUrl', async () => {
      sim().server.injectFault({ route: ET_ROUTES.scriptRuns, status: 404, headers: { 'content-type': 'text/html' }, body: '<html><body>404 - File or directory not found.</body></html>' });
      const res = await stack.gql(operation('Dashboard'), { first: 3 });
      expect(res.body.errors[0]).toMatchObject({ path: ['runs'], extensions: { code: 'UPSTREAM_ERROR', source: 'et' } });
      expect(res.body.errors[0].message).toMatch(/baseUrl/);
    });

    test('a failed create reaches Enterprise Tester exactly once, whatever the failure', async () => {
      for (const fault of [{ status: 503, times: 5 }, { reset: true, times: 5 }, { status: 500, times: 5 }, { status: 429, headers: { 'retry-after': '0' }, times: 5 }]) {
        sim().server.clearFaults();
        sim().server.resetCounts();
        sim().server.injectFault({ route: ET_ROUTES.createRun, ...fault });
        const res = await stack.gql(operation('AddRun'), { input: { projectId: projectId(DEMO_PROJECTS.mobile), enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.mobileNotRun } } });
        expect(res.body.errors[0].extensions.source).toBe('et');
        expect(sim().server.count(ET_ROUTES.createRun)).toBe(1);
      }
      // The close and delete writes are not retried either.
      for (const route of [ET_ROUTES.updateScriptRun, ET_ROUTES.deleteScriptRun]) {
        sim().server.resetCounts();
        sim().server.injectFault({ route, status: 503, times: 5 });
        const op = route === ET_ROUTES.updateScriptRun ? operation('CloseRun') : operation('DeleteRun');
        const res = await stack.gql(op, { id: runId(DEMO_RUNS.openNoSteps) });
        expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'et' });
        expect(sim().server.count(route)).toBe(1);
        sim().server.clearFaults();
      }
    });

    test('no password, and no Basic-auth form of it, in any response or log line', () => {
      const secrets = [ET_DEMO_USER.password, Buffer.from(`${ET_DEMO_USER.username}:${ET_DEMO_USER.password}`).toString('base64')];
      for (const text of [...stack.responses, ...stack.logs]) for (const secret of secrets) expect(text).not.toContain(secret);
      expect(stack.logs.length).toBeGreaterThan(50);
    });
  });
});

describe('Enterprise Tester credentials, timeouts and the application path', () => {
  test('401 is UNAUTHENTICATED, and the password never shows', async () => {
    const stack = await startStack({ testrail: false, enterpriseTester: {}, sourceConfig: { et: { auth: { username: 'demo', password: 'wrong-et-password-77' } } } });
    try {
      const res = await stack.gql(operation('Dashboard'), { first: 5 });
      expect(res.body.data.runs.edges).toEqual([]);
      expect(res.body.errors).toHaveLength(1);
      expect(res.body.errors[0]).toMatchObject({ path: ['runs'], extensions: { code: 'UNAUTHENTICATED', source: 'et', status: 401 } });
      for (const text of [...stack.responses, ...stack.logs]) expect(text).not.toContain('wrong-et-password-77');
    } finally {
      await stack.stop();
    }
  });

  test('a call slower than timeoutMs is UPSTREAM_UNAVAILABLE', async () => {
    const stack = await startStack({ testrail: false, enterpriseTester: {}, sourceConfig: { et: { timeoutMs: 300 } } });
    try {
      stack.enterpriseTester!.server.injectFault({ route: ET_ROUTES.scriptRun, delayMs: 1500 });
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { id } }`, { id: runId(DEMO_RUNS.completedPassed) });
      expect(res.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'et' });
    } finally {
      await stack.stop();
    }
  });

  test('an install at the host root (empty application path) works the same', async () => {
    const stack = await startStack({ testrail: false, enterpriseTester: { appPath: '' } });
    try {
      const res = await stack.gql(`query($id: ID!) { run(id: $id) { nativeId status } }`, { id: runId(DEMO_RUNS.completedPassed) });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.run).toEqual({ nativeId: DEMO_RUNS.completedPassed, status: 'COMPLETED' });
      expect(stack.enterpriseTester!.server.log[0].target).toMatch(/^\/api\/scriptrun\//);
    } finally {
      await stack.stop();
    }
  });

  test('with TestRail alongside, one Dashboard merges both sources', async () => {
    const stack = await startStack({ enterpriseTester: {} });
    try {
      const res = await stack.gql(operation('Dashboard'), { first: 40 });
      expect(res.body.errors).toBeUndefined();
      const kinds = new Set(res.body.data.runs.edges.map((e: any) => e.node.source.kind));
      expect(res.body.data.sources.map((s: any) => s.id)).toEqual(['tr', 'et']);
      expect(kinds.has('ENTERPRISE_TESTER')).toBe(true);
      const created = res.body.data.runs.edges.map((e: any) => Date.parse(e.node.createdAt));
      expect([...created].sort((a, b) => b - a)).toEqual(created);
    } finally {
      await stack.stop();
    }
  });
});

/** The simulator's own JSON for a run (with steps), to hand back through a fault with one change. */
async function rawRun(stack: Stack, id: string): Promise<Record<string, any>> {
  const root = `${stack.enterpriseTester!.server.origin}${stack.enterpriseTester!.appPath}`;
  const res = await fetch(`${root}/api/scriptrun/${id}?$expand=StepResults,Assignment`, { headers: { authorization: basicAuth(), accept: 'application/json' } });
  return (await res.json()) as Record<string, any>;
}

describe('Enterprise Tester filters give the same runs pushed down or not', () => {
  // Two gateways over two identically seeded simulators, one pushing filters into TQL and one not.
  let stack: Stack;
  let plain: Stack;
  beforeAll(async () => {
    [stack, plain] = await Promise.all([
      startStack({ testrail: false, enterpriseTester: {} }),
      startStack({ testrail: false, enterpriseTester: {}, sourceConfig: { et: { pushdown: false } } }),
    ]);
    // Ties in one second, on both, so every filter meets them too.
    for (const s of [stack, plain]) {
      const store = s.enterpriseTester!.store;
      for (let i = 0; i < 4; i++) {
        store.addScriptRun(DEMO_ASSIGNMENTS.mobileNotRun, { Id: `5eed0000-0000-4000-8000-00000000000${i}`, CreatedAt: '2026-11-12T08:05:45Z', Completed: i % 2 === 0, Outcomes: ['Passed', 'Failed'] });
      }
    }
  });
  afterAll(() => Promise.all([stack.stop(), plain.stop()]));
  const sim = () => stack.enterpriseTester!;

  const filters: Array<[string, Record<string, unknown>]> = [
    ['no filter', {}],
    ['one project', { projectIds: [projectId(DEMO_PROJECTS.mobile)] }],
    ['two projects', { projectIds: [projectId(DEMO_PROJECTS.mobile), projectId(DEMO_PROJECTS.warehouse)] }],
    ['a project without runs', { projectIds: [projectId(DEMO_PROJECTS.archive)] }],
    ['statuses QUEUED', { statuses: ['QUEUED'] }],
    ['statuses IN_PROGRESS', { statuses: ['IN_PROGRESS'] }],
    ['statuses QUEUED + IN_PROGRESS', { statuses: ['QUEUED', 'IN_PROGRESS'] }],
    ['statuses COMPLETED', { statuses: ['COMPLETED'] }],
    ['statuses QUEUED + COMPLETED', { statuses: ['QUEUED', 'COMPLETED'] }],
    ['conclusions PASSED', { conclusions: ['PASSED'] }],
    ['conclusions FAILED + BLOCKED', { conclusions: ['FAILED', 'BLOCKED'] }],
    ['conclusions INCOMPLETE', { conclusions: ['INCOMPLETE'] }],
    ['conclusions INCOMPLETE + PASSED', { conclusions: ['INCOMPLETE', 'PASSED'] }],
    ['conclusions RETEST', { conclusions: ['RETEST'] }],
    ['isClosed true', { isClosed: true }],
    ['isClosed false', { isClosed: false }],
    ['isClosed false with COMPLETED', { isClosed: false, statuses: ['COMPLETED'] }],
    ['createdAfter', { createdAfter: ('2026-11-03T11:45:10Z') }],
    ['createdBefore', { createdBefore: ('2026-10-20T02:10:00Z') }],
    ['a created window', { createdAfter: ('2026-10-12T09:15:00Z'), createdBefore: ('2026-11-12T08:05:45Z') }],
    ['project + closed + window', { projectIds: [projectId(DEMO_PROJECTS.payments)], isClosed: true, createdAfter: ('2026-10-15T00:00:00Z'), createdBefore: ('2026-11-10T00:00:00Z') }],
  ];

  /** The same filter, computed from the simulator's state with status.md (as in `expected`). */
  function wanted(s: EnterpriseTesterSimulator, filter: Record<string, any>): string[] {
    return [...s.store.runs.values()]
      .sort(newestFirst)
      .filter((r) => {
        const e = expected(s, r.Id);
        if (filter.projectIds && !filter.projectIds.includes(e.project.id)) return false;
        if (filter.statuses && !filter.statuses.includes(e.status)) return false;
        if (filter.conclusions && !(e.conclusion && filter.conclusions.includes(e.conclusion))) return false;
        if (filter.isClosed !== undefined && e.isClosed !== filter.isClosed) return false;
        if (filter.createdAfter && r.CreatedAt < Date.parse(filter.createdAfter)) return false;
        if (filter.createdBefore && r.CreatedAt >= Date.parse(filter.createdBefore)) return false;
        return true;
      })
      .map((r) => r.Id);
  }

  test.each(filters)('%s', async (_name, filter) => {
    const pushed = await walk(stack, RUNS_QUERY, { first: 7, filter }, (d) => d.runs);
    const notPushed = await walk(plain, RUNS_QUERY, { first: 7, filter }, (d) => d.runs);
    expect(pushed.ids).toEqual(notPushed.ids);
    expect(pushed.ids).toEqual(wanted(sim(), filter));
  });

  test('a filter no run can meet costs no call at all (RETEST, or an open run that is COMPLETED)', async () => {
    sim().server.resetCounts();
    const res = await stack.gql(RUNS_QUERY, { first: 5, filter: { conclusions: ['RETEST'] } });
    expect(res.body.data.runs.nodes).toEqual([]);
    expect(calls(sim())).toBe(0);
  });

  test('what goes to the server: project, Status and CreatedAt bounds in TQL, with timeZone=UTC', async () => {
    sim().server.resetCounts();
    await stack.gql(RUNS_QUERY, {
      first: 5,
      filter: { projectIds: [projectId(DEMO_PROJECTS.payments), projectId(DEMO_PROJECTS.mobile)], isClosed: false, createdAfter: '2026-10-01T00:00:00Z', createdBefore: '2026-12-01T00:00:00Z' },
    });
    const params = new URL(sim().server.log.find((r) => r.route === ET_ROUTES.scriptRuns)!.target, 'http://x').searchParams;
    expect(params.get('tql')).toBe(
      `Project IN ("${DEMO_PROJECTS.payments}", "${DEMO_PROJECTS.mobile}") AND Status = "In Progress" AND CreatedAt >= "2026-10-01T00:00:00Z" AND CreatedAt <= "2026-11-30T23:59:59Z" ORDER BY CreatedAt DESC`,
    );
    expect(params.get('timeZone')).toBe('UTC');
    expect(params.get('$top')).toBe('6');
  });
});

describe('Enterprise Tester with a server that orders CreatedAt ties its own way', () => {
  // A proxy between the gateway and the simulator that answers /api/scriptruns with ties in
  // descending id order (the reverse of rungraph's), paging consistently: ET documents no tie order.
  let stack: Stack;
  let proxy: Server;
  let target = '';
  beforeAll(async () => {
    proxy = createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', target);
      const headers = { authorization: req.headers.authorization ?? '', accept: 'application/json' };
      if (!/\/api\/scriptruns$/i.test(url.pathname)) {
        const upstream = await fetch(url, { headers });
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(await upstream.text());
        return;
      }
      const skip = Number(url.searchParams.get('$skip') ?? 0);
      const top = Number(url.searchParams.get('$top') ?? 25);
      url.searchParams.set('$skip', '0');
      url.searchParams.set('$top', '100000');
      const upstream = await fetch(url, { headers });
      const body = (await upstream.json()) as { Items: Array<{ Id: string; CreatedAt: string }>; Total: number };
      const items = [...body.Items].sort((a, b) => Date.parse(b.CreatedAt) - Date.parse(a.CreatedAt) || (a.Id < b.Id ? 1 : -1));
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ Skip: skip, Top: top, Total: body.Total, Items: items.slice(skip, skip + top) }));
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/EnterpriseTester`;
    stack = await startStack({ testrail: false, enterpriseTester: {}, sourceConfig: { et: { baseUrl: proxyUrl } } });
    target = stack.enterpriseTester!.server.origin;
    const store = stack.enterpriseTester!.store;
    for (let i = 0; i < 7; i++) store.addScriptRun(DEMO_ASSIGNMENTS.mobileNotRun, { CreatedAt: '2026-11-12T08:05:45Z', Completed: true, Outcomes: ['Passed', 'Passed', 'Passed'] });
  });
  afterAll(async () => {
    await stack.stop();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  });

  test.each([1, 2, 3, 5, 8])('walking with first: %i returns every run once, ties in native-id order', async (first) => {
    const s = stack.enterpriseTester!;
    const want = runsOfProject(s, DEMO_PROJECTS.mobile).map((r) => r.Id);
    expect(want.length).toBeGreaterThan(15);
    const { ids } = await walk(stack, PROJECT_RUNS_QUERY, { id: projectId(DEMO_PROJECTS.mobile), first }, (d) => d.project.runs);
    expect(ids).toEqual(want);
  });
});

describe('a server that refuses the TQL rungraph writes beyond the vendor examples', () => {
  const refusal = { route: ET_ROUTES.scriptRuns, status: 403, body: { Message: 'The TQL query is not valid: unexpected token.' } };
  const query = `query($f: RunFilter) { runs(first: 6, filter: $f) { nodes { id name status } } }`;

  test('a refused filtered query falls back to ORDER BY only and gives the same answer', async () => {
    const plain = await startStack({ testrail: false, enterpriseTester: {} });
    const picky = await startStack({ testrail: false, enterpriseTester: {} });
    try {
      const filter = { f: { isClosed: true } };
      const expected = (await plain.gql(query, filter)).body.data.runs.nodes;
      expect(expected).toHaveLength(6);
      const sim = picky.enterpriseTester!;
      sim.server.injectFault(refusal);
      sim.server.resetCounts();
      const first = await picky.gql(query, filter);
      expect(first.body.errors).toBeUndefined();
      expect(first.body.data.runs.nodes).toEqual(expected);
      const reads = sim.server.log.filter((r) => r.route === ET_ROUTES.scriptRuns);
      // The refused query, then plain ORDER BY reads (filtering in the gateway may need more than one).
      expect(reads[0].faulted).toBe(true);
      expect(decodeURIComponent(reads[0].target)).toMatch(/Status/);
      expect(reads.length).toBeGreaterThan(1);
      for (const r of reads.slice(1)) {
        expect(r.faulted).toBe(false);
        expect(decodeURIComponent(r.target)).not.toMatch(/Status/);
      }
      // From then on the source filters in the gateway: one read, no refusal.
      sim.server.resetCounts();
      expect((await picky.gql(query, filter)).body.data.runs.nodes).toEqual(expected);
      expect(sim.server.log.filter((r) => r.route === ET_ROUTES.scriptRuns).every((r) => !/Status/.test(decodeURIComponent(r.target)))).toBe(true);
    } finally {
      await plain.stop();
      await picky.stop();
    }
  });

  test('a refused Id IN (…) lookup reads the runs one by one', async () => {
    const stack = await startStack({ testrail: false, enterpriseTester: {} });
    try {
      const sim = stack.enterpriseTester!;
      const ids = [DEMO_RUNS.completedPassed, DEMO_RUNS.completedFailed, DEMO_RUNS.openAllNotRun];
      const lookup = `query($a: ID!, $b: ID!, $c: ID!) { a: run(id: $a) { nativeId } b: run(id: $b) { nativeId } c: run(id: $c) { nativeId } }`;
      const vars = { a: runId(ids[0]), b: runId(ids[1]), c: runId(ids[2]) };
      sim.server.injectFault(refusal);
      sim.server.resetCounts();
      const res = await stack.gql(lookup, vars);
      expect(res.body.errors).toBeUndefined();
      expect([res.body.data.a.nativeId, res.body.data.b.nativeId, res.body.data.c.nativeId]).toEqual(ids);
      expect(sim.server.count(ET_ROUTES.scriptRun)).toBe(3);
      sim.server.resetCounts();
      expect((await stack.gql(lookup, vars)).body.errors).toBeUndefined();
      expect(sim.server.count(ET_ROUTES.scriptRuns)).toBe(0);
      expect(sim.server.count(ET_ROUTES.scriptRun)).toBe(3);
    } finally {
      await stack.stop();
    }
  });
});
