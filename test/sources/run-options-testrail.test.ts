/**
 * Project.addRunOptions on TestRail, over real HTTP: the suites, cases and milestones a user finds
 * through GraphQL are exactly what addRun accepts (the run they start is checked in the
 * simulator), the lists page completely, cost one vendor call per project and list however many
 * rows they hold, and a failed list is null with its error while the rest of the answer stays.
 */
import { encodeId } from '../../src/graph/ids';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.stop());
afterEach(() => stack.testrail!.server.clearFaults());

const sim = () => stack.testrail!;
const projectId = (id: number) => encodeId('Project', 'tr', [String(id)]);

const OPTIONS = `query($id: ID!) { project(id: $id) { addRunOptions {
  testrail { suites { nodes { id name isMaster cases(first: 100) { nodes { id title } } } } milestones(first: 100) { nodes { id name isCompleted parentId } } }
  qacomplete { tests { nodes { id } } }
  enterpriseTester { testers { nodes { id } } }
} } }`;

test.each([
  ['Webshop (single suite)', DEMO_IDS.projects.webshop],
  ['Mobile App (multi-suite: suiteId required)', DEMO_IDS.projects.mobile],
  ['Nightly Regression', DEMO_IDS.projects.nightly],
])('%s: the listed suite, cases and milestone start a run with exactly those', async (_name, project) => {
  const res = await stack.gql(OPTIONS, { id: projectId(project) });
  expect(res.body.errors).toBeUndefined();
  const options = res.body.data.project.addRunOptions;
  // Only the project's own vendor's block is set.
  expect(options.qacomplete).toBeNull();
  expect(options.enterpriseTester).toBeNull();
  const { suites, milestones } = options.testrail;
  expect(suites.nodes.map((s: any) => s.id)).toEqual(sim().store.suitesOf(project).map((s) => String(s.id)));
  expect(milestones.nodes.map((m: any) => m.id)).toEqual(sim().store.milestonesOf(project).map((m) => String(m.id)));

  const suite = suites.nodes.at(-1);
  expect(suite.cases.nodes.map((c: any) => c.title)).toEqual(sim().store.casesOf(Number(suite.id)).map((c) => c.title));
  const caseIds = suite.cases.nodes.slice(-2).map((c: any) => c.id);
  const milestone = milestones.nodes.find((m: any) => !m.isCompleted);
  const input = {
    projectId: projectId(project),
    name: 'From addRunOptions',
    testrail: { suiteId: suite.id, caseIds, ...(milestone ? { milestoneId: milestone.id } : {}) },
  };
  const added = await stack.gql('mutation($input: AddRunInput!) { addRun(input: $input) { nativeId counts { total untested } } }', { input });
  expect(added.body.errors).toBeUndefined();
  expect(added.body.data.addRun.counts).toEqual({ total: 2, untested: 2 });
  const run = sim().store.run(Number(added.body.data.addRun.nativeId))!;
  expect(run).toMatchObject({ project_id: project, suite_id: Number(suite.id), milestone_id: milestone ? Number(milestone.id) : null, include_all: false });
  expect(sim().store.testsOf(run.id).map((t) => String(t.case_id))).toEqual(caseIds);
});

test('cases page completely with any first, one get_cases per page; first 0–100 and cursors are checked', async () => {
  const suite = DEMO_IDS.suites.webshop;
  const query = `query($id: ID!, $first: Int, $after: String) { project(id: $id) { addRunOptions { testrail { suites { nodes { id
    cases(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } } } } } }`;
  const casesOf = (res: any) => res.body.data.project.addRunOptions.testrail.suites.nodes.find((s: any) => s.id === String(suite)).cases;
  for (const first of [1, 3, 10]) {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    sim().server.resetCounts();
    for (;;) {
      const res: any = await stack.gql(query, { id: projectId(DEMO_IDS.projects.webshop), first, after });
      expect(res.body.errors).toBeUndefined();
      const cases = casesOf(res);
      seen.push(...cases.nodes.map((c: any) => c.id));
      pages += 1;
      if (!cases.pageInfo.hasNextPage) break;
      after = cases.pageInfo.endCursor;
    }
    expect(seen).toEqual(sim().store.casesOf(suite).map((c) => String(c.id)));
    expect(pages).toBe(Math.ceil(10 / first));
    expect(sim().server.count('GET get_cases')).toBe(pages);
  }
  const none = await stack.gql(query, { id: projectId(DEMO_IDS.projects.webshop), first: 0 });
  // An empty page ends where it started: its endCursor continues from the first case.
  expect(casesOf(none)).toEqual({ nodes: [], pageInfo: { hasNextPage: true, endCursor: expect.any(String) } });
  const fromThere = await stack.gql(query, { id: projectId(DEMO_IDS.projects.webshop), first: 2, after: casesOf(none).pageInfo.endCursor });
  expect(casesOf(fromThere).nodes).toEqual(casesOf(await stack.gql(query, { id: projectId(DEMO_IDS.projects.webshop), first: 2 })).nodes);

  for (const [first, after] of [[101, null], [-1, null], [5, 'not-a-cursor'], [5, encodeCursorOfAnotherList()]] as const) {
    const res = await stack.gql(query, { id: projectId(DEMO_IDS.projects.webshop), first, after });
    const error = res.body.errors.find((e: any) => e.path.at(-1) === 'cases');
    expect(error.extensions.code).toBe('BAD_USER_INPUT');
  }
});

/** A genuine cursor, but of the projects list. */
function encodeCursorOfAnotherList(): string {
  return Buffer.from(JSON.stringify({ k: 'projects', o: 1 })).toString('base64url');
}

test('a list of every project costs one get_suites and one get_milestones per project and one get_cases per suite, whatever the page sizes', async () => {
  const query = (suites: number, cases: number) => `{ projects(sourceIds: ["tr"], first: 10) { nodes { addRunOptions { testrail {
    suites(first: ${suites}) { nodes { id cases(first: ${cases}) { nodes { id } } } }
    again: suites(first: ${suites}) { nodes { id } }
    milestones(first: ${cases}) { nodes { id } }
  } } } } }`;
  const projects = sim().store.allProjects();
  const suites = projects.flatMap((p) => sim().store.suitesOf(p.id));
  for (const [first, cases] of [[1, 1], [10, 40]]) {
    sim().server.resetCounts();
    const res = await stack.gql(query(first, cases));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.projects.nodes).toHaveLength(projects.length);
    expect(sim().server.countsByRoute()).toEqual({
      'GET get_projects': 1,
      'GET get_suites': projects.length,
      'GET get_milestones': projects.length,
      // One get_cases per suite shown: the first of each project, or all of them.
      'GET get_cases': first === 1 ? projects.length : suites.length,
    });
  }
});

test('a failed list is null with its error at its path; the other lists and projects still answer', async () => {
  sim().server.injectFault({ route: 'GET get_milestones', status: 500, times: 1 });
  const res = await stack.gql(`{ projects(sourceIds: ["tr"]) { nodes { name addRunOptions { testrail { suites { nodes { id } } milestones { nodes { id } } } } } } }`);
  const nodes = res.body.data.projects.nodes;
  const failed = nodes.filter((n: any) => n.addRunOptions.testrail.milestones === null);
  expect(failed).toHaveLength(1);
  expect(nodes.every((n: any) => n.addRunOptions.testrail.suites.nodes.length > 0)).toBe(true);
  expect(res.body.errors).toHaveLength(1);
  const [error] = res.body.errors;
  expect(error.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'tr', status: 500 });
  expect(error.path).toEqual(['projects', 'nodes', nodes.indexOf(failed[0]), 'addRunOptions', 'testrail', 'milestones']);
});

test.each([
  ['get_suites in the 9.3.1 envelope', { suitesEnvelope: true }],
  ['pre-6.7 bare arrays for get_cases and get_milestones', { legacyBareArrays: true }],
])('the same options from a server answering %s', async (_name, compat) => {
  const query = `query($id: ID!) { project(id: $id) { addRunOptions { testrail {
    suites { nodes { id cases(first: 4) { nodes { id } pageInfo { hasNextPage } } } } milestones(first: 1) { nodes { id } pageInfo { hasNextPage } } } } } }`;
  const expected = (await stack.gql(query, { id: projectId(DEMO_IDS.projects.mobile) })).body;
  Object.assign(sim().compat, compat);
  try {
    const res = await stack.gql(query, { id: projectId(DEMO_IDS.projects.mobile) });
    expect(res.body).toEqual(expected);
    expect(res.body.data.project.addRunOptions.testrail.suites.nodes).toHaveLength(2);
  } finally {
    Object.assign(sim().compat, { suitesEnvelope: false, legacyBareArrays: false });
  }
});
