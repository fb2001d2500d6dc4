/**
 * An independent client against the simulator: @dlenroc/testrail 1.9.3 builds its own URLs
 * (`host + '/index.php?/api/v2/' + path + '&k=v'`), pages by itself (limit=250, offset+=250 until
 * `_links.next` is null, de-duplicating by id) and throws TestRail.Exception with the `error` text.
 * It retries 429 and 409 forever, so every test clears injected faults afterwards and only
 * injects one-shot faults.
 */
import TestRail from '@dlenroc/testrail';
import { DEMO_IDS, TESTRAIL_DEMO_USER, TestRailSimulator } from '../../src/simulators/testrail';

let sim: TestRailSimulator;
let client: TestRail;

beforeEach(async () => {
  sim = new TestRailSimulator();
  const host = await sim.start();
  client = new TestRail({ host, username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password });
});

afterEach(async () => {
  sim.server.clearFaults();
  await sim.stop();
});

it('lists the projects', async () => {
  const projects = await client.getProjects();
  expect(projects.map((p) => [p.id, p.name, p.is_completed])).toEqual(sim.store.allProjects().map((p) => [p.id, p.name, p.is_completed]));
  expect(sim.server.count('GET get_projects')).toBe(1);
});

it('auto-pages get_runs over 300 runs and gets every run exactly once', async () => {
  const runs = await client.getRuns(DEMO_IDS.projects.nightly);
  const ids = runs.map((r) => r.id);
  expect(ids).toHaveLength(DEMO_IDS.nightly.count);
  expect(new Set(ids).size).toBe(ids.length);
  const expected = sim.store.runsOf(DEMO_IDS.projects.nightly).filter((r) => r.plan_id === null).map((r) => r.id);
  expect(ids).toEqual(expected);
  // Two pages: 250 + 50, the second page's `_links.next` is null so no third request is made.
  expect(sim.server.count('GET get_runs')).toBe(2);
  expect(sim.server.log.filter((l) => l.route === 'GET get_runs').map((l) => l.target)).toEqual([
    '/index.php?/api/v2/get_runs/3&limit=250&offset=0',
    '/index.php?/api/v2/get_runs/3&limit=250&offset=250',
  ]);
});

it('passes filters the way the client encodes them (booleans 1/0, lists joined and percent-encoded)', async () => {
  const runs = await client.getRuns(DEMO_IDS.projects.webshop, { is_completed: false, created_by: [2, 3] });
  expect(runs.map((r) => r.id)).toEqual([4, 6, 8]);
  expect(sim.server.log.at(-1)!.target).toContain('&is_completed=0&created_by=2%2C3');
  // Plan runs never appear in get_runs.
  expect((await client.getRuns(DEMO_IDS.projects.webshop)).map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

it('adds, closes and deletes a run, with the simulator state following each step', async () => {
  const added = await client.addRun(DEMO_IDS.projects.webshop, { name: 'dlenroc run', include_all: false, case_ids: [1, 2, 3] });
  expect(sim.store.hasRun(added.id)).toBe(true);
  expect(sim.store.run(added.id)).toMatchObject({ name: 'dlenroc run', include_all: false, is_completed: false, created_by: DEMO_IDS.users.admin });
  expect(sim.store.testsOf(added.id).map((t) => [t.case_id, t.status_id])).toEqual([[1, 3], [2, 3], [3, 3]]);
  expect(added.untested_count).toBe(3);

  await client.addResultsForCases(added.id, { results: [{ case_id: 1, status_id: 1 }, { case_id: 2, status_id: 5 }] });
  expect(sim.store.countersOf(added.id)).toMatchObject({ passed_count: 1, failed_count: 1, untested_count: 1 });

  const closed = await client.closeRun(added.id);
  expect(closed.is_completed).toBe(true);
  expect(sim.store.run(added.id)!.is_completed).toBe(true);
  expect(sim.store.run(added.id)!.completed_on).toEqual(expect.any(Number));

  await expect(client.deleteRun(added.id)).resolves.toBeDefined();
  expect(sim.store.hasRun(added.id)).toBe(false);
  expect(sim.store.testsOf(added.id)).toEqual([]);
  await expect(client.getRun(added.id)).rejects.toThrow('Field :run_id is not a valid test run.');
});

it('surfaces the vendor error text and survives a one-shot 429', async () => {
  await expect(client.addRun(DEMO_IDS.projects.mobile, { name: 'no suite' })).rejects.toThrow('Field :suite_id is a required field.');
  await expect(client.getRun(99_999)).rejects.toBeInstanceOf(TestRail.Exception);

  sim.server.injectFault({ route: 'GET get_run', status: 429, headers: { 'Retry-After': '0' }, body: { error: 'API Rate Limit Exceeded' } });
  const run = await client.getRun(DEMO_IDS.planRuns.chromeLinux);
  expect(run).toMatchObject({ plan_id: DEMO_IDS.plans.browserMatrix, config: 'Chrome, Linux' });
  expect(sim.server.count('GET get_run')).toBe(3);
});

it('reads a plan with its entries and plan runs', async () => {
  const plan = await client.getPlan(DEMO_IDS.plans.deviceMatrix);
  expect(plan.entries.map((e) => e.runs.map((r) => r.id))).toEqual([[16, 17], [18]]);
  const statuses = await client.getStatuses();
  expect(statuses.map((s) => s.id)).toEqual([1, 2, 3, 4, 5, 7, 8]);
});
