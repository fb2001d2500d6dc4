/**
 * Project.addRunOptions on QAComplete, over real HTTP: the tests, test sets, releases and
 * configurations a user finds through GraphQL are what addRun accepts (checked on the run the
 * simulator holds), each page is one vendor read, a project list costs one read per project and
 * list, and a failed list is null with its error while the others answer.
 */
import { encodeId } from '../../src/graph/ids';
import { QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_ROUTES } from '../../src/simulators/qacomplete';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ testrail: false, qacomplete: {} });
});
afterAll(() => stack.stop());
afterEach(() => stack.qacomplete!.server.clearFaults());

const sim = () => stack.qacomplete!;
const projectId = (id: number) => encodeId('Project', 'qac', [String(id)]);
const inProject = <T extends { id: number; projectId: number }>(records: Map<number, T>, project: number) =>
  [...records.values()].filter((r) => r.projectId === project).sort((a, b) => a.id - b.id);

const OPTIONS = `query($id: ID!) { project(id: $id) { addRunOptions {
  testrail { suites { nodes { id } } }
  qacomplete {
    tests(first: 100) { nodes { id title isActive executionType folderName } pageInfo { hasNextPage } }
    testSets(first: 100) { nodes { id title isActive isSequential } }
    releases(first: 100) { nodes { id title releaseType parentId isActive } }
    configurations(first: 100) { nodes { id title isActive } }
  }
} } }`;

const ADD = 'mutation($input: AddRunInput!) { addRun(input: $input) { nativeId status counts { total untested } } }';

test.each([
  ['Checkout Web', QACOMPLETE_DEMO_PROJECTS.checkoutWeb],
  ['Payments API', QACOMPLETE_DEMO_PROJECTS.paymentsApi],
  ['Mobile App', QACOMPLETE_DEMO_PROJECTS.mobileApp],
])('%s: what is listed is the vendor\'s, and starts runs exactly as chosen', async (_name, project) => {
  const res = await stack.gql(OPTIONS, { id: projectId(project) });
  expect(res.body.errors).toBeUndefined();
  const options = res.body.data.project.addRunOptions;
  expect(options.testrail).toBeNull();
  const { tests, testSets, releases, configurations } = options.qacomplete;
  const store = sim().store;
  expect(tests.nodes.map((t: any) => t.title)).toEqual(inProject(store.tests, project).map((t) => t.title));
  expect(tests.nodes[0]).toMatchObject({ isActive: true, executionType: inProject(store.tests, project)[0].executionType });
  expect(tests.pageInfo.hasNextPage).toBe(false);
  expect(testSets.nodes.map((s: any) => s.id)).toEqual(inProject(store.testSets, project).map((s) => String(s.id)));
  expect(releases.nodes.map((r: any) => [r.id, r.parentId])).toEqual(inProject(store.releases, project).map((r) => [String(r.id), r.parentId ? String(r.parentId) : null]));
  expect(configurations.nodes.map((c: any) => c.id)).toEqual(inProject(store.configurations, project).map((c) => String(c.id)));

  // A test-set run with a configuration and a release, all as listed.
  const set = testSets.nodes.at(-1);
  const input = { projectId: projectId(project), qacomplete: { testSetId: set.id, testConfigId: configurations.nodes.at(-1).id, releaseId: releases.nodes.at(-1).id } };
  const bySet = await stack.gql(ADD, { input });
  expect(bySet.body.errors).toBeUndefined();
  const run = store.run(Number(bySet.body.data.addRun.nativeId))!;
  expect(run).toMatchObject({ projectId: project, testSetId: Number(set.id), testConfigId: Number(input.qacomplete.testConfigId), releaseId: Number(input.qacomplete.releaseId) });
  expect(bySet.body.data.addRun.counts.total).toBe(store.testSets.get(Number(set.id))!.testIds.length);

  // A single-test run of the last listed test.
  const byTest = await stack.gql(ADD, { input: { projectId: projectId(project), qacomplete: { testId: tests.nodes.at(-1).id } } });
  expect(byTest.body.errors).toBeUndefined();
  const single = store.run(Number(byTest.body.data.addRun.nativeId))!;
  expect(single.items.map((i) => String(i.testId))).toEqual([tests.nodes.at(-1).id]);
});

test('tests page completely with any first, one read per page', async () => {
  const project = QACOMPLETE_DEMO_PROJECTS.checkoutWeb;
  const query = `query($id: ID!, $first: Int, $after: String) { project(id: $id) { addRunOptions { qacomplete {
    tests(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } } } }`;
  const expected = inProject(sim().store.tests, project).map((t) => String(t.id));
  for (const first of [1, 2, 5]) {
    sim().server.resetCounts();
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res: any = await stack.gql(query, { id: projectId(project), first, after });
      expect(res.body.errors).toBeUndefined();
      const tests = res.body.data.project.addRunOptions.qacomplete.tests;
      seen.push(...tests.nodes.map((t: any) => t.id));
      pages += 1;
      if (!tests.pageInfo.hasNextPage) break;
      after = tests.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / first));
    expect(sim().server.count(QACOMPLETE_ROUTES.listTests)).toBe(pages);
  }
  const res = await stack.gql(query, { id: projectId(project), first: 101 });
  expect(res.body.errors[0]).toMatchObject({ path: ['project', 'addRunOptions', 'qacomplete', 'tests'], extensions: { code: 'BAD_USER_INPUT' } });
});

test('a list of every project costs one read per project and list, the same for 1 or 100 rows', async () => {
  const query = (first: number) => `{ projects(first: 10) { nodes { addRunOptions { qacomplete {
    tests(first: ${first}) { nodes { id } } again: tests(first: ${first}) { nodes { title } }
    testSets(first: ${first}) { nodes { id } } releases(first: ${first}) { nodes { id } } configurations(first: ${first}) { nodes { id } }
  } } } } }`;
  const projects = sim().store.projects.size;
  for (const first of [1, 100]) {
    sim().server.resetCounts();
    const res = await stack.gql(query(first));
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.projects.nodes).toHaveLength(projects);
    expect(sim().server.countsByRoute()).toEqual({
      [QACOMPLETE_ROUTES.listProjects]: 1,
      [QACOMPLETE_ROUTES.listTests]: projects,
      [QACOMPLETE_ROUTES.listTestSets]: projects,
      [QACOMPLETE_ROUTES.listReleases]: projects,
      [QACOMPLETE_ROUTES.listConfigurations]: projects,
    });
  }
});

test('a failed list is null with its error at its path; the others still answer', async () => {
  sim().server.injectFault({ route: QACOMPLETE_ROUTES.listReleases, status: 500, times: 1 });
  const res = await stack.gql(OPTIONS, { id: projectId(QACOMPLETE_DEMO_PROJECTS.checkoutWeb) });
  const qac = res.body.data.project.addRunOptions.qacomplete;
  expect(qac.releases).toBeNull();
  expect(qac.tests.nodes.length).toBeGreaterThan(0);
  expect(qac.testSets.nodes.length).toBeGreaterThan(0);
  expect(qac.configurations.nodes.length).toBeGreaterThan(0);
  expect(res.body.errors).toHaveLength(1);
  expect(res.body.errors[0]).toMatchObject({ path: ['project', 'addRunOptions', 'qacomplete', 'releases'], extensions: { code: 'UPSTREAM_UNAVAILABLE', source: 'qac' } });
});
