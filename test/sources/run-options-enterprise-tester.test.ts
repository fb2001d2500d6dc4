/**
 * Project.addRunOptions on Enterprise Tester, over real HTTP: the script assignments and testers
 * a user finds through GraphQL are what addRun accepts (checked on the run the simulator holds),
 * one project pages with one TQL read per page, a project list is one combined read however many
 * projects it shows (and the same answer as asking each project alone), and failures are null
 * with their error at their path.
 */
import { encodeId } from '../../src/graph/ids';
import { DEMO_ASSIGNMENTS, DEMO_PROJECTS, DEMO_USERS, ET_ROUTES, type EnterpriseTesterSimulator } from '../../src/simulators/enterprise-tester';
import { startStack, type Stack } from '../support/stack';

const projectId = (id: string) => encodeId('Project', 'et', [id]);

const OPTIONS = `query($id: ID!, $first: Int, $after: String) { project(id: $id) { addRunOptions {
  testrail { suites { nodes { id } } }
  enterpriseTester {
    scriptAssignments(first: $first, after: $after) { nodes { id name status packageName assignedTo } pageInfo { hasNextPage endCursor } }
    testers { nodes { id userName name } }
  }
} } }`;

const LIST = (first: number) => `{ projects(sourceIds: ["et"], first: 10) { nodes { id name addRunOptions { enterpriseTester {
  scriptAssignments(first: ${first}) { nodes { id name status packageName assignedTo } pageInfo { hasNextPage endCursor } }
} } } } }`;

/** A project's assignments as the simulator holds them, in `ORDER BY Name` (ties by id, the simulator's rule). */
function assignmentsOf(sim: EnterpriseTesterSimulator, project: string) {
  const { store } = sim;
  return [...store.assignments.values()]
    .filter((a) => store.packages.get(a.PackageId)?.ProjectId === project)
    .map((a) => ({ id: a.Id, name: store.scripts.get(a.ScriptId)!.Name, packageName: store.packages.get(a.PackageId)!.Name }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }) || a.id.localeCompare(b.id));
}

describe('the demo data', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ testrail: false, enterpriseTester: {} });
  });
  afterAll(() => stack.stop());
  afterEach(() => stack.enterpriseTester!.server.clearFaults());
  const sim = () => stack.enterpriseTester!;

  test.each([
    ['Payments Platform', DEMO_PROJECTS.payments],
    ['Mobile Banking', DEMO_PROJECTS.mobile],
    ['Data Warehouse', DEMO_PROJECTS.warehouse],
  ])('%s: a listed assignment and tester start a run for that tester on that assignment', async (_name, project) => {
    const res = await stack.gql(OPTIONS, { id: projectId(project), first: 100 });
    expect(res.body.errors).toBeUndefined();
    const options = res.body.data.project.addRunOptions;
    expect(options.testrail).toBeNull();
    const { scriptAssignments, testers } = options.enterpriseTester;
    expect(scriptAssignments.nodes.map(({ id, name, packageName }: any) => ({ id, name, packageName }))).toEqual(assignmentsOf(sim(), project));
    expect(testers.nodes.map((t: any) => t.userName)).toEqual(['anna.k', 'demo', 'joeb', 'raj.p']);

    const free = scriptAssignments.nodes.find((a: any) => a.status !== 'In Progress');
    const tester = testers.nodes.find((t: any) => t.userName === 'raj.p');
    expect(tester).toEqual({ id: DEMO_USERS.rajp, userName: 'raj.p', name: 'Raj Patel' });
    const added = await stack.gql('mutation($input: AddRunInput!) { addRun(input: $input) { nativeId status name } }', {
      input: { projectId: projectId(project), enterpriseTester: { scriptAssignmentId: free.id, testerId: tester.id } },
    });
    expect(added.body.errors).toBeUndefined();
    expect(added.body.data.addRun).toMatchObject({ status: 'QUEUED', name: free.name });
    expect(sim().store.getRun(added.body.data.addRun.nativeId)).toMatchObject({ AssignmentId: free.id, RunById: tester.id, Completed: false });
  });

  test('status "In Progress" says what addRun will do: return the unfinished run, not start another', async () => {
    const res = await stack.gql(OPTIONS, { id: projectId(DEMO_PROJECTS.mobile), first: 100 });
    const busy = res.body.data.project.addRunOptions.enterpriseTester.scriptAssignments.nodes.find((a: any) => a.id === DEMO_ASSIGNMENTS.mobileInProgress);
    expect(busy.status).toBe('In Progress');
    const unfinished = sim().store.runsOfAssignment(busy.id).filter((r) => !r.Completed);
    expect(unfinished).toHaveLength(1);
    const added = await stack.gql('mutation($input: AddRunInput!) { addRun(input: $input) { nativeId } }', {
      input: { projectId: projectId(DEMO_PROJECTS.mobile), enterpriseTester: { scriptAssignmentId: busy.id } },
    });
    expect(added.body.data.addRun.nativeId).toBe(unfinished[0].Id);
    expect(sim().store.runsOfAssignment(busy.id).filter((r) => !r.Completed)).toHaveLength(1);
  });

  test('one project pages through its assignments, one TQL read per page', async () => {
    const expected = assignmentsOf(sim(), DEMO_PROJECTS.mobile).map((a) => a.id);
    for (const first of [1, 4, 9]) {
      sim().server.resetCounts();
      const seen: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const res: any = await stack.gql(OPTIONS, { id: projectId(DEMO_PROJECTS.mobile), first, after });
        expect(res.body.errors).toBeUndefined();
        const page = res.body.data.project.addRunOptions.enterpriseTester.scriptAssignments;
        seen.push(...page.nodes.map((a: any) => a.id));
        pages += 1;
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual(expected);
      expect(pages).toBe(Math.ceil(expected.length / first));
      expect(sim().server.count(ET_ROUTES.scriptAssignments)).toBe(pages);
    }
  });

  test('a project list is one combined assignments read, with no package lookups, and the same pages as asking each project alone', async () => {
    sim().server.resetCounts();
    const res = await stack.gql(LIST(2));
    expect(res.body.errors).toBeUndefined();
    const projects = res.body.data.projects.nodes;
    expect(projects).toHaveLength(sim().store.projects.size);
    expect(sim().server.countsByRoute()).toEqual({ [ET_ROUTES.projects]: 1, [ET_ROUTES.scriptAssignments]: 1 });
    for (const project of projects) {
      const alone = await stack.gql(OPTIONS, { id: project.id, first: 2 });
      expect(project.addRunOptions.enterpriseTester.scriptAssignments).toEqual(alone.body.data.project.addRunOptions.enterpriseTester.scriptAssignments);
    }
    // Intranet Archive has none.
    expect(projects.find((p: any) => p.name === 'Intranet Archive').addRunOptions.enterpriseTester.scriptAssignments).toEqual({ nodes: [], pageInfo: { hasNextPage: false, endCursor: expect.any(String) } });
  });

  test('a server that refuses Project IN (…) on assignments gets one read per project, with the same answer', async () => {
    const expected = (await stack.gql(LIST(3))).body.data;
    sim().server.resetCounts();
    sim().server.injectFault({ route: ET_ROUTES.scriptAssignments, status: 403, body: { Message: 'The TQL query is not valid.' }, times: 1 });
    const res = await stack.gql(LIST(3));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual(expected);
    expect(sim().server.count(ET_ROUTES.scriptAssignments)).toBe(1 + sim().store.projects.size);
    expect(stack.logs.some((line) => /refused Project IN/.test(line))).toBe(true);
  });

  test('a failed list is null with its error at its path; the other projects and lists answer', async () => {
    sim().server.injectFault({ route: ET_ROUTES.projectAssignees, status: 500, times: 1 });
    const res = await stack.gql(`{ projects(sourceIds: ["et"]) { nodes { addRunOptions { enterpriseTester { scriptAssignments(first: 1) { nodes { id } } testers { nodes { id } } } } } } }`);
    const nodes = res.body.data.projects.nodes;
    const failed = nodes.findIndex((n: any) => n.addRunOptions.enterpriseTester.testers === null);
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(nodes.filter((n: any) => n.addRunOptions.enterpriseTester.testers !== null)).toHaveLength(nodes.length - 1);
    expect(nodes.every((n: any) => n.addRunOptions.enterpriseTester.scriptAssignments !== null)).toBe(true);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toMatchObject({
      path: ['projects', 'nodes', failed, 'addRunOptions', 'enterpriseTester', 'testers'],
      extensions: { code: 'UPSTREAM_UNAVAILABLE', source: 'et' },
    });
  });
});

describe('more assignments than one read holds', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ testrail: false, enterpriseTester: {} });
  });
  afterAll(() => stack.stop());
  const sim = () => stack.enterpriseTester!;

  /** Adds `count` assignments to Intranet Archive (which has none in the demo). */
  function arrange(count: number) {
    const { store } = sim();
    const pkg = store.addExecutionPackage({ ProjectId: DEMO_PROJECTS.archive, Name: `Bulk ${store.packages.size}` });
    for (let i = 0; i < count; i++) {
      const script = store.addScript({ ProjectId: DEMO_PROJECTS.archive, Name: `Archived check ${String(i).padStart(3, '0')}`, Steps: [] });
      store.addScriptAssignment({ ScriptId: script.Id, PackageId: pkg.Id });
    }
  }

  test('the combined read goes on while that costs fewer calls than one read per project, else each project is read alone; the answer is the same', async () => {
    const projects = sim().store.projects.size;
    arrange(150); // 20 demo + 150: two combined reads, fewer than four per-project reads
    sim().server.resetCounts();
    const combined = await stack.gql(LIST(100));
    expect(combined.body.errors).toBeUndefined();
    expect(sim().server.count(ET_ROUTES.scriptAssignments)).toBe(2);
    const archive = (data: any) => data.projects.nodes.find((p: any) => p.name === 'Intranet Archive').addRunOptions.enterpriseTester.scriptAssignments;
    expect(archive(combined.body.data).nodes.map((a: any) => a.id)).toEqual(assignmentsOf(sim(), DEMO_PROJECTS.archive).slice(0, 100).map((a) => a.id));
    expect(archive(combined.body.data).pageInfo.hasNextPage).toBe(true);

    arrange(300); // 470: five combined reads would cost more than four per-project reads
    sim().server.resetCounts();
    const alone = await stack.gql(LIST(100));
    expect(alone.body.errors).toBeUndefined();
    expect(sim().server.count(ET_ROUTES.scriptAssignments)).toBe(1 + projects);
    expect(archive(alone.body.data).nodes.map((a: any) => a.id)).toEqual(assignmentsOf(sim(), DEMO_PROJECTS.archive).slice(0, 100).map((a) => a.id));
  });
});
