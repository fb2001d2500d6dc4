/**
 * The TestRail simulator over real HTTP (global fetch against 127.0.0.1, ephemeral port), checked
 * against ../shared/vendors/testrail.md. Each test gets a fresh, freshly seeded simulator.
 */
import { AUTH_FAILED, DEMO_IDS, TESTRAIL_DEMO_USER, TestRailSimulator } from '../../src/simulators/testrail';
import { at } from '../../src/simulators/testrail/seed';

let sim: TestRailSimulator;
let base: string;

const basic = (email: string, password: string) => `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;
const DEMO_AUTH = basic(TESTRAIL_DEMO_USER.email, TESTRAIL_DEMO_USER.password);

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** Calls `{base}/index.php?/api/v2/{path}`; the verb follows the method prefix unless given. */
async function api(path: string, options: { method?: string; body?: unknown; auth?: string | null; rawTarget?: string } = {}): Promise<Reply> {
  const method = options.method ?? (path.startsWith('get_') || options.rawTarget ? 'GET' : 'POST');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.auth !== null) headers.authorization = options.auth ?? DEMO_AUTH;
  const url = options.rawTarget ? `${base}${options.rawTarget}` : `${base}/index.php?/api/v2/${path}`;
  const response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
}

beforeEach(async () => {
  sim = new TestRailSimulator();
  base = await sim.start();
});

afterEach(async () => {
  sim.server.clearFaults();
  await sim.stop();
});

describe('auth and routing', () => {
  it('answers 401 with the vendor body without, or with wrong, credentials', async () => {
    for (const auth of [null, basic(TESTRAIL_DEMO_USER.email, 'wrong'), basic('nobody@example.com', 'x'), 'Bearer abc']) {
      const reply = await api('get_projects', { auth });
      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ error: AUTH_FAILED });
      expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    }
    expect((await api('get_projects')).status).toBe(200);
    // E-mail logins are matched case-insensitively; inactive users cannot log in.
    expect((await api('get_projects', { auth: basic('DEMO@rungraph.local', TESTRAIL_DEMO_USER.password) })).status).toBe(200);
    sim.store.user(DEMO_IDS.users.inactive)!.password = 'secret';
    expect((await api('get_projects', { auth: basic('cora.lind@rungraph.local', 'secret') })).status).toBe(401);
  });

  it('routes on the raw query string, tolerates a leading // and decodes values', async () => {
    const reply = await api('', { rawTarget: `//index.php?/api/v2/get_tests/${DEMO_IDS.runs.failures}&status_id=1%2C5` });
    expect(reply.status).toBe(200);
    expect(reply.body.tests.map((t: any) => t.status_id)).toEqual([1, 1, 1, 5]);
    expect(sim.server.count('GET get_tests')).toBe(1);
  });

  it('answers unknown methods and wrong verbs with 404 and a JSON error', async () => {
    const unknown = await api('get_everything/1');
    expect(unknown.status).toBe(404);
    expect(typeof unknown.body.error).toBe('string');
    const wrongVerb = await api('add_run/1', { method: 'GET' });
    expect(wrongVerb.status).toBe(404);
    expect(wrongVerb.body).toEqual({ error: 'Unsupported HTTP method "get" for this action.' });
    expect((await api('get_run/1', { method: 'POST' })).body).toEqual({ error: 'Unsupported HTTP method "post" for this action.' });
    expect(sim.server.count('GET add_run')).toBe(1);
    expect(sim.store.runsOf(1)).toHaveLength(15);
    expect((await api('', { rawTarget: '/api/v2/get_runs/1' })).status).toBe(404);
  });
});

describe('lists and paging', () => {
  it('wraps get_projects in the exact envelope and filters by is_completed', async () => {
    const all = await api('get_projects');
    expect(Object.keys(all.body).sort()).toEqual(['_links', 'limit', 'offset', 'projects', 'size']);
    expect(all.body).toMatchObject({ offset: 0, limit: 250, size: 4, _links: { next: null, prev: null } });
    expect(all.body.projects[0]).toMatchObject({ id: 1, name: 'Webshop', suite_mode: 1, url: `${base}/index.php?/projects/overview/1` });
    const completed = await api('get_projects&is_completed=1');
    expect(completed.body.projects.map((p: any) => p.id)).toEqual([DEMO_IDS.projects.legacy]);
    expect((await api('get_projects&is_completed=0')).body.size).toBe(3);
  });

  it('pages get_runs past 250 with relative _links and returns every run once, by ascending id', async () => {
    const project = DEMO_IDS.projects.nightly;
    const first = await api(`get_runs/${project}`);
    expect(first.body).toMatchObject({ offset: 0, limit: 250, size: 250 });
    expect(first.body._links).toEqual({ next: `/api/v2/get_runs/${project}&limit=250&offset=250`, prev: null });

    const second = await api('', { rawTarget: `/index.php?${first.body._links.next}` });
    expect(second.body).toMatchObject({ offset: 250, limit: 250, size: 50 });
    expect(second.body._links).toEqual({ next: null, prev: `/api/v2/get_runs/${project}&limit=250&offset=0` });

    const ids = [...first.body.runs, ...second.body.runs].map((r: any) => r.id);
    expect(new Set(ids).size).toBe(300);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // The documented order is by id; creation times deliberately disagree with it.
    const created = [...first.body.runs, ...second.body.runs].map((r: any) => r.created_on);
    expect(created.some((c, i) => i > 0 && c < created[i - 1])).toBe(true);
    expect(sim.server.count('GET get_runs')).toBe(2);
  });

  it('validates limit and offset and echoes filters in the links', async () => {
    for (const bad of ['limit=251', 'limit=0', 'limit=abc', 'offset=-1']) {
      const reply = await api(`get_runs/3&${bad}`);
      expect(reply.status).toBe(400);
      expect(typeof reply.body.error).toBe('string');
    }
    const page = await api('get_runs/3&is_completed=1&limit=10&offset=20');
    expect(page.body).toMatchObject({ offset: 20, limit: 10, size: 10 });
    expect(page.body._links).toEqual({
      next: '/api/v2/get_runs/3&is_completed=1&limit=10&offset=30',
      prev: '/api/v2/get_runs/3&is_completed=1&limit=10&offset=10',
    });
    expect(page.body.runs.every((r: any) => r.is_completed)).toBe(true);
  });

  it('applies the get_runs filters', async () => {
    const ids = async (query: string) => (await api(`get_runs/1${query}`)).body.runs.map((r: any) => r.id);
    expect(await ids('&is_completed=1')).toEqual([1, 10]);
    expect(await ids('&created_by=2')).toEqual([4, 8]);
    expect(await ids('&created_by=2,3')).toEqual([1, 4, 6, 8]);
    expect(await ids('&milestone_id=1')).toEqual([1, 4, 5]);
    expect(await ids('&refs_filter=WEB-101')).toEqual([1]);
    // Strict bounds: a run created exactly at the bound is excluded.
    expect(await ids(`&created_after=${at(10, 31)}`)).toEqual([4, 7, 9]);
    expect(await ids(`&created_before=${at(10, 6)}`)).toEqual([10]);
    expect(await ids(`&created_after=${at(10, 14)}&created_before=${at(10, 27)}`)).toEqual([5, 6]);
    const mobile = await api(`get_runs/2&suite_id=${DEMO_IDS.suites.android}`);
    expect(mobile.body.runs.map((r: any) => r.id)).toEqual([DEMO_IDS.mobileRuns.androidSmoke]);
    expect((await api('get_runs/1&created_by=x')).status).toBe(400);
  });

  it('returns get_statuses and get_suites as bare arrays', async () => {
    const statuses = await api('get_statuses');
    expect(statuses.body.map((s: any) => s.id)).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(statuses.body[2]).toMatchObject({ id: 3, name: 'untested', is_untested: true, is_system: true });
    const suites = await api('get_suites/2');
    expect(suites.body.map((s: any) => s.name)).toEqual(['iOS', 'Android']);
  });

  it('lists a suite\'s cases with get_cases in the paging envelope; suite_id is needed unless the project is single-suite', async () => {
    const ios = await api(`get_cases/${DEMO_IDS.projects.mobile}&suite_id=${DEMO_IDS.suites.ios}&limit=4`);
    expect(ios.status).toBe(200);
    expect(ios.body).toMatchObject({ offset: 0, limit: 4, size: 4, _links: { prev: null } });
    expect(ios.body._links.next).toBe(`/api/v2/get_cases/${DEMO_IDS.projects.mobile}&suite_id=${DEMO_IDS.suites.ios}&limit=4&offset=4`);
    expect(ios.body.cases.map((c: any) => c.title)).toEqual(['iOS: Install and launch', 'iOS: Sign in', 'iOS: Receive a push notification', 'iOS: Browse offline']);
    expect(ios.body.cases[0]).toMatchObject({ suite_id: DEMO_IDS.suites.ios, template_id: 1, type_id: 7, priority_id: 2, refs: null });
    const rest = await api(`get_cases/${DEMO_IDS.projects.mobile}&suite_id=${DEMO_IDS.suites.ios}&limit=4&offset=4`);
    expect(rest.body).toMatchObject({ size: 2, _links: { next: null } });
    // Single-suite project: the master suite's cases without suite_id.
    const webshop = await api(`get_cases/${DEMO_IDS.projects.webshop}`);
    expect(webshop.body.cases.map((c: any) => c.id)).toEqual(sim.store.casesOf(DEMO_IDS.suites.webshop).map((c) => c.id));
    expect((await api(`get_cases/${DEMO_IDS.projects.mobile}`)).body).toEqual({ error: 'Field :suite_id is a required field.' });
    // A suite of another project is not a valid suite of this one.
    expect(await api(`get_cases/${DEMO_IDS.projects.mobile}&suite_id=${DEMO_IDS.suites.webshop}`)).toMatchObject({ status: 400, body: { error: 'Field :suite_id is not a valid test suite.' } });
    expect((await api('get_cases/99')).body).toEqual({ error: 'Field :project_id is not a valid or accessible project.' });
  });

  it('can answer like a pre-6.7 server with bare arrays', async () => {
    sim.compat.legacyBareArrays = true;
    const runs = await api('get_runs/3');
    expect(Array.isArray(runs.body)).toBe(true);
    expect(runs.body).toHaveLength(250);
  });
});

describe('runs and plans', () => {
  it('sends every documented run field, with seconds and UI urls', async () => {
    const run = (await api(`get_run/${DEMO_IDS.runs.inProgress}`)).body;
    for (const field of [
      'id', 'suite_id', 'name', 'description', 'milestone_id', 'assignedto_id', 'include_all', 'is_completed', 'completed_on',
      'config', 'config_ids', 'passed_count', 'blocked_count', 'untested_count', 'retest_count', 'failed_count',
      ...[1, 2, 3, 4, 5, 6, 7].map((n) => `custom_status${n}_count`), 'project_id', 'plan_id', 'created_on', 'created_by', 'updated_on', 'refs', 'url',
    ]) {
      expect(run).toHaveProperty(field);
    }
    expect(run).toMatchObject({ plan_id: null, config: null, config_ids: [], completed_on: null, created_on: at(11, 3), url: `${base}/index.php?/runs/view/4` });
    expect(run).not.toHaveProperty('entry_id');
  });

  it('keeps plan runs out of get_runs but shows them in get_run and get_plan', async () => {
    const listed = (await api('get_runs/1')).body.runs.map((r: any) => r.id);
    expect(listed).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

    const planRun = (await api(`get_run/${DEMO_IDS.planRuns.chromeLinux}`)).body;
    expect(planRun).toMatchObject({ plan_id: DEMO_IDS.plans.browserMatrix, config: 'Chrome, Linux', config_ids: [1, 4] });

    const plan = (await api(`get_plan/${DEMO_IDS.plans.browserMatrix}`)).body;
    expect(plan.url).toBe(`${base}/index.php?/plans/view/1`);
    expect(plan.entries).toHaveLength(2);
    const [matrix, smoke] = plan.entries;
    expect(matrix.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(matrix.runs.map((r: any) => [r.id, r.config, r.entry_id, r.entry_index])).toEqual([
      [11, 'Chrome, Linux', matrix.id, 1],
      [12, 'Firefox, Windows', matrix.id, 1],
      [13, 'Safari, macOS', matrix.id, 1],
    ]);
    expect(smoke.runs[0]).toMatchObject({ id: 14, entry_index: 2, config: null, config_ids: [] });
    // Plan counters are the sums over its runs.
    expect(plan).toMatchObject({ passed_count: 3 + 10, failed_count: 1, untested_count: 1 + 3 + 4 });

    const plans = (await api('get_plans/1')).body;
    expect(plans.plans.map((p: any) => p.id)).toEqual([1, 2]);
    expect(plans.plans[0]).not.toHaveProperty('entries');
    expect((await api('get_plans/1&is_completed=1')).body.plans.map((p: any) => p.id)).toEqual([2]);
  });

  it('derives the counters of every status.md row from the tests', async () => {
    const counts = async (id: number) => {
      const r = (await api(`get_run/${id}`)).body;
      const other = [1, 2, 3, 4, 5, 6, 7].reduce((sum, n) => sum + r[`custom_status${n}_count`], 0);
      return [r.is_completed, r.passed_count, r.failed_count, r.blocked_count, r.untested_count, r.retest_count, other];
    };
    const { runs } = DEMO_IDS;
    expect(await counts(runs.completed)).toEqual([true, 5, 0, 0, 0, 0, 0]);
    expect(await counts(runs.allUntested)).toEqual([false, 0, 0, 0, 4, 0, 0]);
    expect(await counts(runs.noTests)).toEqual([false, 0, 0, 0, 0, 0, 0]);
    expect(await counts(runs.inProgress)).toEqual([false, 2, 1, 0, 2, 0, 0]);
    expect(await counts(runs.failures)).toEqual([false, 3, 1, 1, 0, 0, 0]);
    expect(await counts(runs.blockedOnly)).toEqual([false, 0, 0, 3, 0, 0, 0]);
    expect(await counts(runs.retest)).toEqual([false, 2, 0, 0, 0, 1, 0]);
    expect(await counts(runs.passedOnly)).toEqual([false, 4, 0, 0, 0, 0, 0]);
    expect(await counts(runs.customOnly)).toEqual([false, 0, 0, 0, 0, 0, 3]);
    expect(await counts(runs.completedWithUntested)).toEqual([true, 2, 0, 0, 2, 0, 0]);
    const custom = (await api(`get_run/${runs.customOnly}`)).body;
    expect([custom.custom_status1_count, custom.custom_status2_count, custom.custom_status3_count]).toEqual([0, 2, 1]);
  });

  it('add_run creates one untested test per selected case', async () => {
    const all = await api('add_run/1', { body: { name: 'All cases' } });
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ include_all: true, suite_id: 1, untested_count: 10, passed_count: 0, is_completed: false, created_by: 1, plan_id: null });
    expect(sim.store.testsOf(all.body.id)).toHaveLength(10);

    const some = await api('add_run/1', { body: { name: 'Some', include_all: false, case_ids: [2, 5, 7], milestone_id: 2, refs: 'WEB-9', assignedto_id: 2 } });
    expect(some.body).toMatchObject({ include_all: false, untested_count: 3, milestone_id: 2, refs: 'WEB-9', assignedto_id: 2 });
    const tests = (await api(`get_tests/${some.body.id}`)).body.tests;
    expect(tests.map((t: any) => [t.case_id, t.status_id])).toEqual([[2, 3], [5, 3], [7, 3]]);
    expect((await api('get_runs/1')).body.runs.map((r: any) => r.id)).toContain(some.body.id);
  });

  it('add_run rejects bad bodies with the observed wordings', async () => {
    const error = async (project: number, body: unknown) => (await api(`add_run/${project}`, { body })).body.error;
    expect(await error(2, { name: 'x' })).toBe('Field :suite_id is a required field.');
    expect(await error(2, { name: 'x', suite_id: 1 })).toBe('Field :suite_id is not a valid test suite.');
    expect(await error(1, { name: 'x', include_all: false, case_ids: [1, 9999] })).toBe('Field :case_ids is not a valid ID.');
    expect(await error(1, { name: 'x', include_all: false, case_ids: [11] })).toBe('Field :case_ids is not a valid ID.');
    expect(await error(1, { name: 'x', milestone_id: 4 })).toBe('Field :milestone_id is not a valid milestone.');
    expect(await error(999, { name: 'x' })).toBe('Field :project_id is not a valid or accessible project.');
    expect(sim.store.runsOf(1)).toHaveLength(15);
    const mobile = await api('add_run/2', { body: { name: 'iOS', suite_id: 2 } });
    expect(mobile.body).toMatchObject({ suite_id: 2, untested_count: 6 });
  });

  it('update_run changes fields and the case selection, never plan runs', async () => {
    const run = DEMO_IDS.runs.inProgress; // cases 1–5: passed, passed, failed, untested, untested
    const updated = await api(`update_run/${run}`, { body: { name: 'Checkout – trimmed', description: 'fewer cases', case_ids: [1, 3, 9] } });
    expect(updated.body).toMatchObject({ name: 'Checkout – trimmed', description: 'fewer cases', include_all: false, passed_count: 1, failed_count: 1, untested_count: 1 });
    expect(updated.body.updated_on).toEqual(expect.any(Number));
    expect(sim.store.testsOf(run).map((t) => t.case_id)).toEqual([1, 3, 9]);
    const all = await api(`update_run/${run}`, { body: { include_all: true } });
    expect(all.body).toMatchObject({ include_all: true, untested_count: 8, passed_count: 1, failed_count: 1 });
    expect((await api(`update_run/${DEMO_IDS.planRuns.smoke}`, { body: { name: 'x' } })).status).toBe(400);
  });

  it('close_run closes once and makes the run read-only', async () => {
    sim.store.clock = () => at(11, 27, 10);
    const closed = await api(`close_run/${DEMO_IDS.runs.inProgress}`);
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ id: 4, is_completed: true, completed_on: at(11, 27, 10) });
    expect(sim.store.run(4)!.is_completed).toBe(true);

    const again = await api(`close_run/${DEMO_IDS.runs.inProgress}`);
    expect(again.status).toBe(400);
    const test = sim.store.testsOf(4)[4];
    expect((await api(`add_result/${test.id}`, { body: { status_id: 1 } })).status).toBe(400);
    expect((await api(`add_result_for_case/4/${test.case_id}`, { body: { status_id: 1 } })).status).toBe(400);
    expect((await api(`update_run/4`, { body: { name: 'renamed' } })).status).toBe(400);
    expect(sim.store.countersOf(4).untested_count).toBe(2);

    expect((await api(`close_run/${DEMO_IDS.planRuns.safariMac}`)).status).toBe(400);
    expect(sim.store.run(DEMO_IDS.planRuns.safariMac)!.is_completed).toBe(false);
  });

  it('delete_run: soft=1 (query or body) only counts, hard deletes for good', async () => {
    const run = DEMO_IDS.runs.failures;
    const softQuery = await api(`delete_run/${run}&soft=1`);
    expect(softQuery).toMatchObject({ status: 200, body: { affected_tests: 5 } });
    const softBody = await api(`delete_run/${run}`, { body: { soft: 1 } });
    expect(softBody.body).toEqual({ affected_tests: 5 });
    expect(sim.store.hasRun(run)).toBe(true);

    const hard = await api(`delete_run/${run}&soft=0`);
    expect(hard.status).toBe(200);
    expect(hard.text).toBe('');
    expect(sim.store.hasRun(run)).toBe(false);
    expect((await api(`get_run/${run}`)).body).toEqual({ error: 'Field :run_id is not a valid test run.' });
    expect((await api(`delete_run/${run}`)).status).toBe(400);

    const noBody = await api(`delete_run/${DEMO_IDS.runs.retest}`);
    expect(noBody).toMatchObject({ status: 200, text: '' });
    expect(sim.store.hasRun(DEMO_IDS.runs.retest)).toBe(false);

    expect((await api(`delete_run/${DEMO_IDS.planRuns.smoke}`)).status).toBe(400);
    expect(sim.store.hasRun(DEMO_IDS.planRuns.smoke)).toBe(true);
  });

  it('answers unknown or malformed ids with 400 and the reference wordings', async () => {
    const cases: Array<[string, string]> = [
      ['get_project/999', 'Field :project_id is not a valid or accessible project.'],
      ['get_runs/999', 'Field :project_id is not a valid or accessible project.'],
      ['get_run/99999', 'Field :run_id is not a valid test run.'],
      ['get_tests/99999', 'Field :run_id is not a valid test run.'],
      ['close_run/99999', 'Field :run_id is not a valid test run.'],
      ['delete_run/99999', 'Field :run_id is not a valid test run.'],
      ['get_plan/999', 'Field :plan_id is not a valid test plan.'],
      ['get_test/999999', 'Field :test_id is not a valid test.'],
      ['add_result/999999', 'Field :test_id is not a valid test.'],
      ['get_suite/999', 'Field :suite_id is not a valid test suite.'],
      ['get_milestone/999', 'Field :milestone_id is not a valid milestone.'],
      ['add_result_for_case/1/99999', 'Field :case_id is not a valid test case.'],
      ['get_run/abc', 'Field :run_id is not a valid ID.'],
      ['get_run', 'Field :run_id is a required field.'],
    ];
    for (const [path, error] of cases) {
      const reply = await api(path, { body: path.startsWith('add_') ? { status_id: 1 } : undefined });
      expect({ path, status: reply.status, body: reply.body }).toEqual({ path, status: 400, body: { error } });
    }
  });
});

describe('results', () => {
  it('moves counters with results; comment-only results change nothing', async () => {
    const run = DEMO_IDS.runs.allUntested;
    const [t1, t2, t3] = sim.store.testsOf(run);
    const failed = await api(`add_result/${t1.id}`, { body: { status_id: 5, comment: 'Broken', defects: 'WEB-1', elapsed: '1m 5s' } });
    expect(failed.body).toMatchObject({ test_id: t1.id, status_id: 5, comment: 'Broken', defects: 'WEB-1', elapsed: '1m 5s', created_by: 1 });
    const comment = await api(`add_result/${t2.id}`, { body: { comment: 'Looking into it' } });
    expect(comment.body.status_id).toBeNull();
    const custom = await api(`add_result_for_case/${run}/${t3.case_id}`, { body: { status_id: 8 } });
    expect(custom.status).toBe(200);

    const counters = (await api(`get_run/${run}`)).body;
    expect(counters).toMatchObject({ failed_count: 1, untested_count: 2, custom_status3_count: 1, passed_count: 0 });

    // Untested (3) and inactive custom statuses (6) cannot be submitted; an empty result is refused.
    for (const body of [{ status_id: 3 }, { status_id: 6 }, {}]) {
      expect((await api(`add_result/${t2.id}`, { body })).status).toBe(400);
    }

    const bulk = await api(`add_results_for_cases/${run}`, { body: { results: [{ case_id: t2.case_id, status_id: 1 }, { case_id: t3.case_id, status_id: 4 }] } });
    expect(Array.isArray(bulk.body)).toBe(true);
    expect(bulk.body.map((r: any) => r.status_id)).toEqual([1, 4]);
    expect(sim.store.countersOf(run)).toMatchObject({ passed_count: 1, failed_count: 1, retest_count: 1, untested_count: 1, custom_status3_count: 0 });

    const invalid = await api(`add_results_for_cases/${run}`, { body: { results: [{ case_id: t2.case_id, status_id: 1 }, { case_id: 9999, status_id: 1 }] } });
    expect(invalid.body.error).toBe('Field :results contains one or more invalid results (case C9999 unknown or not part of the test run)');
    expect((await api(`add_results_for_cases/${run}`, { body: { results: [] } })).body.error).toBe('Field :results cannot be empty (one result is required)');
    expect(sim.store.resultsOfRun(run)).toHaveLength(5);

    const results = (await api(`get_results_for_run/${run}`)).body;
    expect(results.size).toBe(5);
    expect(results.results[0]).toMatchObject({ case_id: expect.any(Number) });
  });

  it('lets tests arrange runs with chosen statuses and results directly in the store', async () => {
    const run = sim.store.addRun(1, { name: 'Arranged', created_on: at(11, 20), statuses: [1, 5, 3, 7] });
    expect(sim.store.countersOf(run.id)).toMatchObject({ passed_count: 1, failed_count: 1, untested_count: 1, custom_status2_count: 1 });
    sim.store.addResult(sim.store.testsOf(run.id)[2].id, { status_id: 2 });
    sim.store.addResult(sim.store.testsOf(run.id)[0].id, { status_id: null, comment: 'note' });
    const served = (await api(`get_run/${run.id}`)).body;
    expect(served).toMatchObject({ created_on: at(11, 20), passed_count: 1, blocked_count: 1, untested_count: 0 });

    const plan = sim.store.addPlan(1, { name: 'Arranged plan', entries: [{ runs: [{ statuses: [1, 1] }, { config: 'Edge', config_ids: [9] }] }] });
    const [entry] = (await api(`get_plan/${plan.id}`)).body.entries;
    expect(entry.runs.map((r: any) => [r.passed_count, r.untested_count, r.config])).toEqual([[2, 8, null], [0, 10, 'Edge']]);
    expect((await api('get_runs/1')).body.runs.map((r: any) => r.id)).not.toContain(entry.runs[0].id);
  });
});

describe('users', () => {
  it('serves get_users in path and query form, and refuses non-admins without a project', async () => {
    expect((await api('get_users')).body.map((u: any) => u.id)).toEqual([1, 2, 3, 4]);
    expect((await api('get_users/1')).body).toHaveLength(4);
    expect((await api('get_users&project_id=2')).body).toHaveLength(4);
    expect((await api('get_current_user')).body).toMatchObject({ id: 1, email: TESTRAIL_DEMO_USER.email, is_admin: true });
    expect((await api(`get_user_by_email&email=${encodeURIComponent('ada.quinn@rungraph.local')}`)).body.id).toBe(2);

    sim.store.user(2)!.password = 'ada-key';
    const ada = basic('ada.quinn@rungraph.local', 'ada-key');
    const denied = await api('get_users', { auth: ada });
    expect(denied).toMatchObject({ status: 403, body: { error: 'Access Denied. You are not a TestRail administrator. Field:project_id is a required field.' } });
    expect((await api('get_users/1', { auth: ada })).status).toBe(200);
  });

  it('takes logins from the options and can start empty', async () => {
    const empty = new TestRailSimulator({ seed: 'empty', users: [{ email: 'ci@example.com', password: 'k' }] });
    const url = await empty.start();
    try {
      const reply = await fetch(`${url}/index.php?/api/v2/get_projects`, { headers: { authorization: basic('ci@example.com', 'k') } });
      expect(await reply.json()).toMatchObject({ size: 0, projects: [] });
    } finally {
      await empty.stop();
    }
  });
});

describe('harness integration', () => {
  it('injects a 429 with Retry-After once, and counts every request', async () => {
    sim.server.injectFault({
      route: 'GET get_runs',
      status: 429,
      headers: { 'Retry-After': '2' },
      body: { error: 'API Rate Limit Exceeded - 180 per minute maximum allowed. Retry after 2 seconds.' },
    });
    const limited = await api('get_runs/1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.body.error).toMatch(/^API Rate Limit Exceeded/);
    expect((await api('get_runs/1')).status).toBe(200);
    expect(sim.server.count('GET get_runs')).toBe(2);
    expect(sim.server.count('GET get_run')).toBe(0);
  });

  it('seeds the demo data deterministically and fast', () => {
    const started = performance.now();
    const a = new TestRailSimulator();
    const elapsed = performance.now() - started;
    const b = new TestRailSimulator();
    expect(elapsed).toBeLessThan(100);
    expect(a.store.plan(1)!.entries.map((e) => e.id)).toEqual(b.store.plan(1)!.entries.map((e) => e.id));
    expect(a.store.runsOf(3).filter((r) => r.plan_id === null)).toHaveLength(300);
  });
});
