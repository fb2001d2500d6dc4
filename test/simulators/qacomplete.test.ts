/**
 * The QAComplete simulator over real HTTP, checked against ../../../shared/vendors/qacomplete.md:
 * auth, envelope and paging, filter, the run lifecycle (create, restart, item updates, delete),
 * errors, dates, the automation API, fault injection and counters. Each test gets a fresh
 * simulator, so no test sees another's writes or faults.
 */
import {
  QACOMPLETE_DEMO_HOSTS, QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_DEMO_USER, QACOMPLETE_ROUTES, QACompleteSimulator,
  type QACompleteSimulatorOptions,
} from '../../src/simulators/qacomplete';

const { checkoutWeb, paymentsApi, mobileApp, legacyPortal } = QACOMPLETE_DEMO_PROJECTS;
const [agent01, perfLab] = QACOMPLETE_DEMO_HOSTS;
const SMOKE_SET = 40100; // Checkout smoke: 3 tests
const REGRESSION_SET = 40101; // Checkout regression: 5 tests, one run of it In Progress
const LOCAL_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}$/;
const UNSET = '0001-01-01T00:00:00';

type Json = Record<string, any>;
interface Reply { status: number; headers: Headers; text: string; json: Json }

let sim: QACompleteSimulator;
let root: string;

async function startSim(options?: QACompleteSimulatorOptions): Promise<void> {
  await sim?.stop();
  sim = new QACompleteSimulator(options);
  root = await sim.start();
}

beforeEach(() => startSim());
afterEach(() => sim.stop());

const basic = (login: string | number, password: string) => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
const USER = basic(QACOMPLETE_DEMO_USER.email, QACOMPLETE_DEMO_USER.password);
const HOST_143 = basic(agent01.id, agent01.token);

async function call(method: string, path: string, options: { auth?: string | null; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const auth = options.auth === undefined ? USER : options.auth;
  if (auth) headers.authorization = auth;
  let body: string | undefined;
  if (typeof options.body === 'string') body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${root}/rest-api/service${path}`, { method, headers, body });
  const text = await res.text();
  let json: Json = {};
  try { json = text ? JSON.parse(text) : {}; } catch { /* a malformed body is what some tests want */ }
  return { status: res.status, headers: res.headers, text, json };
}

const runsPath = (projectId: number) => `/api/v2/projects/${projectId}/testruns`;
const filtered = async (projectId: number, filter: string) => {
  const reply = await call('GET', `${runsPath(projectId)}?limit=1000&filter=${encodeURIComponent(filter)}`);
  expect(reply.status).toBe(200);
  return reply.json.results as Json[];
};
const allRuns = async (projectId: number) => (await call('GET', `${runsPath(projectId)}?limit=1000`)).json.results as Json[];

describe('authentication', () => {
  it('answers 401 with a Basic challenge for missing or bad user credentials', async () => {
    for (const auth of [null, basic(QACOMPLETE_DEMO_USER.email, 'wrong'), basic('nobody@example.com', 'x'), HOST_143]) {
      const reply = await call('GET', runsPath(checkoutWeb), { auth });
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toMatch(/^Basic/);
    }
    expect(sim.server.count(QACOMPLETE_ROUTES.listRuns)).toBe(4);
  });

  it('answers 401 for a bad host token and serves the host object to its own token', async () => {
    const path = `/automation/v2/hosts/${agent01.id}`;
    expect((await call('GET', path, { auth: basic(agent01.id, 'd2e1ffd1-0000-0000-0000-000000000000') })).status).toBe(401);
    expect((await call('GET', path, { auth: basic(perfLab.id, agent01.token) })).status).toBe(401);
    const asUser = await call('GET', path); // user credentials are not host credentials
    expect(asUser.status).toBe(401);
    expect(asUser.headers.get('www-authenticate')).toMatch(/^Basic/);

    const reply = await call('GET', path, { auth: HOST_143 });
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      id: 143, host_name: 'build-agent-01', host_configuration: expect.any(String), agents: expect.any(Array), os: expect.any(String),
      is_active: true, security_token: agent01.token, agent_version: expect.any(String),
    });
    expect(sim.server.count(QACOMPLETE_ROUTES.getHost)).toBe(4);
  });

  it("keeps a host's token to that host", async () => {
    const reply = await call('GET', `/automation/v2/hosts/${perfLab.id}`, { auth: HOST_143 });
    expect(reply.status).toBe(403);
  });
});

describe('list envelope and paging', () => {
  it('pages the 64 Payments API runs 25 at a time by default', async () => {
    const seen: number[] = [];
    for (let offset = 0; ; offset += 25) {
      const reply = await call('GET', `${runsPath(paymentsApi)}?offset=${offset}`);
      expect(reply.status).toBe(200);
      expect(Object.keys(reply.json)).toEqual(['metadata', 'results']);
      const { result_set, permissions } = reply.json.metadata;
      expect(result_set).toEqual({ count: reply.json.results.length, offset, limit: 25, total: 64 });
      expect(permissions).toEqual({ acl: 7 });
      seen.push(...reply.json.results.map((r: Json) => r.id));
      if (offset + 25 >= result_set.total) break;
    }
    expect(seen).toHaveLength(64);
    expect(new Set(seen).size).toBe(64);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen); // listed by id
    expect(sim.server.count(QACOMPLETE_ROUTES.listRuns)).toBe(3);
  });

  it('honours offset and limit in any case, answers metadata only for limit=0, and refuses bad numbers', async () => {
    const page = await call('GET', `${runsPath(paymentsApi)}?Offset=60&Limit=10`);
    expect(page.json.metadata.result_set).toEqual({ count: 4, offset: 60, limit: 10, total: 64 });
    const past = await call('GET', `${runsPath(paymentsApi)}?offset=100`);
    expect(past.json.metadata.result_set).toEqual({ count: 0, offset: 100, limit: 25, total: 64 });
    expect(past.json.results).toEqual([]);
    const meta = await call('GET', `${runsPath(paymentsApi)}?limit=0`);
    expect(meta.json).toEqual({ metadata: { result_set: { count: 0, offset: 0, limit: 0, total: 64 }, permissions: { acl: 7 } } });
    expect((await call('GET', `${runsPath(paymentsApi)}?limit=ten`)).status).toBe(400);
    expect((await call('GET', `${runsPath(paymentsApi)}?offset=-1`)).status).toBe(400);
  });

  it('pages run items with the same envelope', async () => {
    const reply = await call('GET', `${runsPath(checkoutWeb)}/831201/items?limit=2&offset=1`);
    expect(reply.json.metadata.result_set).toEqual({ count: 2, offset: 1, limit: 2, total: 5 });
    expect(reply.json.results.map((i: Json) => i.sequence_number)).toEqual([2, 3]);
  });
});

describe('filter', () => {
  it('matches field names in any case and spelling, with =, !=, ~, in, and/or/not and parentheses', async () => {
    const runs = await allRuns(checkoutWeb);
    const ids = (list: Json[]) => list.map((r) => r.id);
    const where = (predicate: (r: Json) => boolean) => ids(runs.filter(predicate));

    for (const f of ["status_code = 'Failed'", "StatusCode = 'failed'", "STATUSCODE='Failed'", "status ~ 'fail'"]) {
      expect(ids(await filtered(checkoutWeb, f))).toEqual(where((r) => r.status_code === 'Failed'));
    }
    expect(ids(await filtered(checkoutWeb, 'releaseId = 183121 AND testSetId = 40100'))).toEqual(where((r) => r.release_id === 183121 && r.test_set_id === SMOKE_SET));
    expect(ids(await filtered(checkoutWeb, 'Id in {831200, 831203, 999}'))).toEqual([831200, 831203]);
    expect(ids(await filtered(checkoutWeb, 'id not in {831200}'))).toEqual(where((r) => r.id !== 831200));
    expect(ids(await filtered(checkoutWeb, 'Id >= 831205 and Id < 831207'))).toEqual([831205, 831206]);
    expect(ids(await filtered(checkoutWeb, 'Id > 831208 or Id <= 831200'))).toEqual([831200, 831209, 831210]);
    expect(ids(await filtered(checkoutWeb, "TestHost = 'build-agent-01' OR (test_host ~ 'PERF' and status_code != 'Blocked')")))
      .toEqual(where((r) => r.test_host === 'build-agent-01' || (r.test_host === 'perf-lab-02' && r.status_code !== 'Blocked')));
    expect(ids(await filtered(checkoutWeb, "not (status_code = 'Passed') and test_host is empty")))
      .toEqual(where((r) => r.status_code !== 'Passed' && r.test_host === ''));
    expect(ids(await filtered(checkoutWeb, 'TestHost is not empty'))).toEqual(where((r) => r.test_host !== ''));
    expect(ids(await filtered(checkoutWeb, 'test_set_name = "Checkout smoke" and is_sequential = false'))).toEqual(where((r) => r.test_set_id === SMOKE_SET));
  });

  it('compares DateCreated as a date in the server zone', async () => {
    const runs = await allRuns(paymentsApi);
    const got = await filtered(paymentsApi, "DateCreated >= '2026-11-01' and date_created < '2026-11-10T12:00:00'");
    const want = runs.filter((r) => r.date_created >= '2026-11-01' && r.date_created < '2026-11-10T12:00:00');
    expect(want.length).toBeGreaterThan(2);
    expect(got.map((r) => r.id)).toEqual(want.map((r) => r.id));
  });

  it.each([
    ["status_code = 'Passed"], ['(Id = 1'], ['Id = 1)'], ['bogus'], ['Id ='], ['Id = Passed'], ["Id = 'abc'"],
    ['NoSuchField = 1'], ["Id ~ '1'"], ["date_created > 'yesterday'"], ['Id = 1 and'], ['Id in {}'],
  ])('refuses %s with 400 and an error body', async (filter) => {
    const reply = await call('GET', `${runsPath(checkoutWeb)}?filter=${encodeURIComponent(filter)}`);
    expect(reply.status).toBe(400);
    expect(reply.json.errors).toEqual([{ message: expect.stringMatching(/filter/i), code: 400 }]);
  });
});

describe('creating, restarting and deleting runs', () => {
  it('creates a run with 200, honouring RunByHostId by showing the host name', async () => {
    const reply = await call('POST', runsPath(checkoutWeb), { body: { TestSetId: SMOKE_SET, TestConfigId: 7002, ReleaseId: 183122, RunByHostId: perfLab.id, IsSequential: true } });
    expect(reply.status).toBe(200);
    const run = reply.json;
    expect(run).toMatchObject({
      test_set_id: SMOKE_SET, test_set_name: 'Checkout smoke', test_config_id: 7002, release_id: 183122, release_name: 'Sprint 47',
      project_id: checkoutWeb, run_by_user_id: 130457, run_by_user_name: 'User, Demo ', is_sequential: true, status_code: 'Awaiting Run',
      execution_type: 'Automated', nbr_tests: 3, nbr_passed: 0, nbr_failed: 0, nbr_blocked: 0, nbr_awaiting_run: 3,
      run_time: 0, run_time_formated: '00:00:00', schedule_id: '0', test_host: 'perf-lab-02',
    });
    const items = (await call('GET', `${runsPath(checkoutWeb)}/${run.id}/items`)).json.results as Json[];
    expect(items.map((i) => [i.sequence_number, i.status_code])).toEqual([[1, 'Awaiting Run'], [2, 'Awaiting Run'], [3, 'Awaiting Run']]);
    expect((await call('GET', `${runsPath(checkoutWeb)}/${run.id}`)).json).toEqual(run);
    expect(sim.store.run(run.id)?.hostId).toBe(perfLab.id);
    expect(sim.server.count(QACOMPLETE_ROUTES.createRun)).toBe(1);
  });

  it('emits every field of the run table with its documented type', async () => {
    const run = (await call('GET', `${runsPath(checkoutWeb)}/831201`)).json;
    const types = {
      id: 'number', test_set_id: 'number', test_set_name: 'string', test_config_id: 'number', configuration_name: 'string', release_id: 'number',
      release_name: 'string', project_id: 'number', run_by_user_id: 'number', run_by_user_name: 'string', is_sequential: 'boolean', status_code: 'string',
      execution_type: 'string', date_started: 'string', date_finished: 'string', nbr_tests: 'number', nbr_passed: 'number', nbr_failed: 'number',
      nbr_blocked: 'number', nbr_awaiting_run: 'number', run_time: 'number', run_time_formated: 'string', schedule_id: 'string', test_host: 'string',
    };
    for (const [key, type] of Object.entries(types)) expect([key, typeof run[key]]).toEqual([key, type]);
    expect(run.run_time_formated).toMatch(/^\d{2}:\d{2}:\d{2}$/);
  });

  it('accepts other key casings and a form body, and refuses bad bodies with 400', async () => {
    expect((await call('POST', runsPath(checkoutWeb), { body: { test_id: 3218450 } })).json).toMatchObject({ test_set_id: 0, nbr_tests: 1, execution_type: 'Manual', test_host: '' });
    const form = await call('POST', runsPath(checkoutWeb), { body: 'TestId=3218451&RunByHostId=143', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(200);
    expect(form.json.test_host).toBe('build-agent-01');
    for (const body of [{}, { TestId: 3218450, TestSetId: SMOKE_SET }, { TestId: 'x' }, { TestId: 999 }, { TestSetId: SMOKE_SET, RunByHostId: 999 }, '{not json']) {
      const reply = await call('POST', runsPath(checkoutWeb), { body });
      expect([JSON.stringify(body), reply.status]).toEqual([JSON.stringify(body), 400]);
      expect(reply.json.errors[0].code).toBe(400);
    }
  });

  it('returns the running run unless ForceNewRunCreation is set', async () => {
    const running = (await filtered(checkoutWeb, `TestSetId = ${REGRESSION_SET} and status_code = 'In Progress'`))[0];
    const again = await call('POST', runsPath(checkoutWeb), { body: { TestSetId: REGRESSION_SET } });
    expect(again.json.id).toBe(running.id);
    const forced = await call('POST', runsPath(checkoutWeb), { body: { TestSetId: REGRESSION_SET, ForceNewRunCreation: true } });
    expect(forced.status).toBe(200);
    expect(forced.json.id).toBeGreaterThan(running.id);
    expect(forced.json.status_code).toBe('Awaiting Run');
  });

  it('restarts into a new run (200) and leaves the old one untouched', async () => {
    const before = (await call('GET', `${runsPath(checkoutWeb)}/831201`)).json;
    const reply = await call('POST', `${runsPath(checkoutWeb)}/831201/restart`, { headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(200);
    expect(reply.json.id).not.toBe(831201);
    expect(reply.json).toMatchObject({
      test_set_id: before.test_set_id, test_config_id: before.test_config_id, release_id: before.release_id, test_host: before.test_host,
      is_sequential: before.is_sequential, status_code: 'Awaiting Run', nbr_tests: before.nbr_tests, nbr_awaiting_run: before.nbr_tests,
    });
    expect((await call('GET', `${runsPath(checkoutWeb)}/831201`)).json).toEqual(before);
    expect((await call('POST', `${runsPath(checkoutWeb)}/999/restart`, { body: {} })).status).toBe(404);
    expect(sim.server.count(QACOMPLETE_ROUTES.restartRun)).toBe(2);
  });

  it('deletes with 200 and an empty body, then answers 404', async () => {
    const reply = await call('DELETE', `${runsPath(checkoutWeb)}/831203`);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('');
    const gone = await call('GET', `${runsPath(checkoutWeb)}/831203`);
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ errors: [{ message: 'File or directory not found', code: 404 }] });
    expect((await call('DELETE', `${runsPath(checkoutWeb)}/831203`)).status).toBe(404);
    expect((await call('GET', `${runsPath(checkoutWeb)}/831203/items`)).status).toBe(404);
    expect(sim.server.count(QACOMPLETE_ROUTES.deleteRun)).toBe(2);
  });

  it('answers 404 for a run of another project', async () => {
    expect((await call('GET', `${runsPath(mobileApp)}/831201`)).status).toBe(404);
  });
});

describe('item updates drive the run', () => {
  const patch = (runId: number, itemId: number, body: unknown, method = 'PATCH') => call(method, `${runsPath(checkoutWeb)}/${runId}/items/${itemId}`, { body });
  const getRun = async (runId: number) => (await call('GET', `${runsPath(checkoutWeb)}/${runId}`)).json;

  it('moves Awaiting Run → In Progress → final, with counters and dates', async () => {
    const run = sim.store.addRun({ projectId: checkoutWeb, testSetId: SMOKE_SET });
    const [first, second, third] = run.items.map((item) => item.id);
    expect(await getRun(run.id)).toMatchObject({ status_code: 'Awaiting Run', nbr_tests: 3, nbr_awaiting_run: 3, date_finished: UNSET });

    const one = await patch(run.id, first, { StatusCode: 'Passed', RunTime: 42 });
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ id: first, test_run_id: run.id, status_code: 'Passed', run_time: 42, run_time_formated: '00:00:42' });
    expect(await getRun(run.id)).toMatchObject({ status_code: 'In Progress', nbr_passed: 1, nbr_awaiting_run: 2, run_time: 42, date_finished: UNSET });

    expect((await patch(run.id, second, { status_code: 'Failed', run_time: 8 })).status).toBe(200); // snake_case accepted
    expect(await getRun(run.id)).toMatchObject({ status_code: 'In Progress', nbr_passed: 1, nbr_failed: 1, nbr_awaiting_run: 1 });

    expect((await patch(run.id, third, { StatusCode: 'Passed' }, 'PUT')).status).toBe(200);
    const done = await getRun(run.id);
    expect(done).toMatchObject({ status_code: 'Failed', nbr_tests: 3, nbr_passed: 2, nbr_failed: 1, nbr_blocked: 0, nbr_awaiting_run: 0, run_time: 50 });
    expect(done.date_finished).toMatch(LOCAL_DATE);
    expect(sim.server.count(QACOMPLETE_ROUTES.patchRunItem)).toBe(2);
    expect(sim.server.count(QACOMPLETE_ROUTES.putRunItem)).toBe(1);
  });

  it.each([
    [['Passed', 'Passed', 'Passed'], 'Passed'],
    [['Passed', 'Failed', 'Blocked'], 'Failed'],
    [['Passed', 'Blocked', 'Skipped'], 'Blocked'],
    [['Passed', 'Skipped', 'Passed'], 'Incomplete'],
    [['Skipped', 'Skipped', 'Skipped'], 'Incomplete'],
    [['Failed', 'Skipped', 'Passed'], 'Failed'],
    [['NA', 'Passed', 'Passed'], 'Passed'],
  ])('ends %j as %s', async (statuses, final) => {
    const run = sim.store.addRun({ projectId: checkoutWeb, items: ['Awaiting Run', 'Awaiting Run', 'Awaiting Run'] });
    for (const [index, status] of statuses.entries()) expect((await patch(run.id, run.items[index].id, { StatusCode: status })).status).toBe(200);
    const got = await getRun(run.id);
    const n = (s: string) => statuses.filter((x) => x === s).length;
    expect(got).toMatchObject({ status_code: final, nbr_tests: 3, nbr_passed: n('Passed'), nbr_failed: n('Failed'), nbr_blocked: n('Blocked'), nbr_awaiting_run: 0 });
  });

  it('replaces a pinned status (Paused) on the next item result, and reopens a run set back to Awaiting Run', async () => {
    const paused = (await filtered(checkoutWeb, "status_code = 'Paused'"))[0];
    const items = sim.store.items(paused.id);
    const awaiting = items.find((item) => item.statusCode === 'Awaiting Run')!;
    await patch(paused.id, awaiting.id, { StatusCode: 'Passed' });
    expect((await getRun(paused.id)).status_code).toBe('In Progress');

    const passed = (await filtered(checkoutWeb, "status_code = 'Passed'"))[0];
    await patch(passed.id, sim.store.items(passed.id)[0].id, { StatusCode: 'Awaiting Run' });
    expect(await getRun(passed.id)).toMatchObject({ status_code: 'In Progress', nbr_awaiting_run: 1, date_finished: UNSET });
  });

  it('records step results and refuses bad bodies and unknown items', async () => {
    const run = sim.store.addRun({ projectId: checkoutWeb, testId: 3218450 });
    const itemId = run.items[0].id;
    const reply = await patch(run.id, itemId, { StatusCode: 'Failed', Steps: [{ Seq: 2, StatusCode: 'Failed', ActualResult: 'Error 500' }] });
    expect(reply.json.test_run_results.map((s: Json) => [s.seq, s.status_code, s.actual_result])).toEqual([[1, 'Awaiting Run', ''], [2, 'Failed', 'Error 500']]);
    for (const body of [{}, { StatusCode: '' }, { StatusCode: 'Passed', RunTime: 'long' }, { StatusCode: 'Passed', Steps: [{ Seq: 1 }] }, { StatusCode: 'Passed', Steps: 'no' }]) {
      expect([JSON.stringify(body), (await patch(run.id, itemId, body)).status]).toEqual([JSON.stringify(body), 400]);
    }
    const missing = await patch(run.id, 1, { StatusCode: 'Passed' });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ errors: [{ message: 'File or directory not found', code: 404 }] });
  });
});

describe('projects and access', () => {
  it('lists projects with string ids and is_active, and gets one', async () => {
    const reply = await call('GET', '/api/v1/projects');
    expect(reply.json.metadata.result_set).toEqual({ count: 4, offset: 0, limit: 25, total: 4 });
    const projects = reply.json.results as Json[];
    expect(projects.map((p) => [p.id, p.proj_name, p.is_active])).toEqual([
      ['11873', 'Checkout Web', true], ['11874', 'Payments API', true], ['11875', 'Mobile App', true], ['11876', 'Legacy Portal', false],
    ]);
    expect(typeof projects[0].dept_id).toBe('string');
    expect(projects[0].date_end_actual).toBe('00001-01-01T00:00:00.0000000'); // as the vendor's sample shows
    expect((await call('GET', `/api/v1/projects/${legacyPortal}`)).json).toMatchObject({ id: '11876', is_active: false });
    expect((await call('GET', "/api/v1/projects?filter=" + encodeURIComponent('is_active = false'))).json.results.map((p: Json) => p.id)).toEqual(['11876']);
  });

  it('answers 403 "Access is denied" for an unknown project or one the user may not access', async () => {
    const denied = { errors: [{ message: 'Access is denied', code: 403 }] };
    for (const path of [runsPath(99999), `${runsPath(99999)}/831200`, '/api/v1/projects/99999']) {
      const reply = await call('GET', path);
      expect([path, reply.status, reply.json]).toEqual([path, 403, denied]);
    }
    expect((await call('POST', runsPath(99999), { body: { TestId: 1 } })).status).toBe(403);

    await startSim({ users: [{ email: 'limited@example.com', password: 'pw', projectIds: [checkoutWeb] }] });
    const limited = basic('limited@example.com', 'pw');
    expect((await call('GET', runsPath(paymentsApi), { auth: limited })).json).toEqual(denied);
    expect((await call('GET', runsPath(checkoutWeb), { auth: limited })).status).toBe(200);
    expect((await call('GET', '/api/v1/projects', { auth: limited })).json.results.map((p: Json) => p.id)).toEqual(['11873']);
    expect((await call('GET', runsPath(paymentsApi))).status).toBe(200); // the demo user still sees everything
  });
});

describe('dates', () => {
  it('writes server-local dates without offset and with 7 fractional digits, unset as 0001-01-01T00:00:00', async () => {
    const runs = await allRuns(checkoutWeb);
    for (const run of runs) {
      for (const key of ['date_created', 'date_started', 'date_finished']) expect(run[key] === UNSET || LOCAL_DATE.test(run[key])).toBe(true);
    }
    expect(runs.find((r) => r.id === 831200)).toMatchObject({ date_started: '2026-11-20T06:42:04.6530000', date_finished: '2026-11-20T06:42:16.7700000', status_code: 'Awaiting Run' });
    expect(runs.some((r) => r.date_finished === UNSET)).toBe(true);

    sim.store.setTimeZoneOffset(-300);
    const shifted = (await call('GET', `${runsPath(checkoutWeb)}/831200`)).json;
    expect(shifted.date_created).toBe('2026-11-20T01:42:04.6530000');
    expect((await filtered(checkoutWeb, "DateCreated = '2026-11-20T01:42:04.653'")).map((r) => r.id)).toEqual([831200]);
    expect((await filtered(checkoutWeb, "DateCreated = '2026-11-20T06:42:04.653Z'")).map((r) => r.id)).toEqual([831200]);
  });

  it('stamps created runs with the store clock', async () => {
    sim.store.clock = () => new Date('2026-11-27T10:00:00.123Z');
    const run = (await call('POST', runsPath(checkoutWeb), { body: { TestId: 3218450 } })).json;
    expect(run.date_created).toBe('2026-11-27T10:00:00.1230000');
    expect(run.date_started).toBe('2026-11-27T10:00:00.1230000');
    expect(run.date_finished).toBe(UNSET);
  });
});

describe('demo seed', () => {
  it('has every status code, both hosts and no host, skipped items, and date_created out of id order', async () => {
    const runs = [...await allRuns(checkoutWeb), ...await allRuns(mobileApp), ...await allRuns(paymentsApi), ...await allRuns(legacyPortal)];
    const codes = new Set(runs.map((r) => r.status_code));
    for (const code of ['Awaiting Run', 'In Progress', 'Paused', 'Passed', 'Failed', 'Blocked', 'Incomplete', 'Running']) expect(codes).toContain(code);
    for (const host of ['build-agent-01', 'perf-lab-02', '']) expect(runs.some((r) => r.test_host === host)).toBe(true);
    expect(sim.store.runs().some((run) => run.items.some((item) => item.statusCode === 'Skipped'))).toBe(true);
    for (const run of runs) expect(run.nbr_tests).toBeGreaterThanOrEqual(run.nbr_passed + run.nbr_failed + run.nbr_blocked + run.nbr_awaiting_run);
    const checkout = await allRuns(checkoutWeb);
    const created = checkout.map((r) => r.date_created);
    expect([...created].sort()).not.toEqual(created);
    for (const d of runs.map((r) => r.date_created)) expect(d >= '2026-10-01' && d < '2026-12-01').toBe(true);
  });

  it('is deterministic and an empty seed has no projects', async () => {
    const snapshot = async () => Promise.all(['/api/v1/projects', runsPath(paymentsApi) + '?limit=100', `${runsPath(checkoutWeb)}/831201/items`,
      `/api/v2/projects/${checkoutWeb}/testsets`, `/api/v2/projects/${checkoutWeb}/configurations`, `/api/v1/projects/${checkoutWeb}/releases`,
      `/api/v2/projects/${checkoutWeb}/tests`].map(async (path) => (await call('GET', path)).json));
    const first = await snapshot();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await startSim();
    expect(await snapshot()).toEqual(first);
    await startSim({ seed: 'empty' });
    expect((await call('GET', '/api/v1/projects')).json.metadata.result_set.total).toBe(0);
  });
});

describe('test library', () => {
  it('lists tests, test sets, configurations and releases of a project in the list envelope', async () => {
    const tests = await call('GET', `/api/v2/projects/${checkoutWeb}/tests?limit=2`);
    expect(tests.json.metadata.result_set).toEqual({ count: 2, offset: 0, limit: 2, total: 5 });
    expect(tests.json.results[0]).toMatchObject({ id: 3218450, title: 'Sign in with a valid password', project_id: checkoutWeb, execution_type: 'Manual' });
    const sets = (await call('GET', `/api/v2/projects/${checkoutWeb}/testsets?filter=${encodeURIComponent('is_sequential = true')}`)).json.results;
    expect(sets.map((s: Json) => [s.id, s.title])).toEqual([[REGRESSION_SET, 'Checkout regression']]);
    expect((await call('GET', `/api/v2/projects/${checkoutWeb}/configurations/7002`)).json).toMatchObject({ id: 7002, title: 'Firefox 132 / Ubuntu 24.04' });
    expect((await call('GET', `/api/v1/projects/${checkoutWeb}/releases/183122`)).json).toMatchObject({ release_type: 'Iteration', parent_id: 183121, parent_name: 'Release 2026.11' });
    expect((await call('GET', `/api/v2/projects/${mobileApp}/configurations/7002`)).status).toBe(404);
  });
});

describe('automation API', () => {
  it('lists departments, finds a host by name with its token, and registers a host', async () => {
    const depts = await call('GET', '/automation/v2/depts');
    expect(depts.json.results).toEqual([{ id: 2001, name: 'Quality Engineering', company: expect.any(String), date_created: expect.stringMatching(/Z$/) }]);
    const found = await call('GET', '/automation/v2/hosts?name=PERF-LAB-02');
    expect(found.json).toMatchObject({ id: 144, host_name: 'perf-lab-02', security_token: perfLab.token });
    expect((await call('GET', '/automation/v2/hosts?name=nope')).json).toEqual({ errors: [{ message: 'Host with name nope not found', code: 404 }] });
    expect((await call('GET', '/automation/v2/hosts')).status).toBe(400);

    const body = { host_name: 'ci-runner-07', host_configuration: 'Linux', agents: ['junit', 'testng'], os: 'Debian 12' };
    const created = await call('POST', '/automation/v2/hosts', { body });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ host_name: 'ci-runner-07', agents: ['JUnit (Selenium)', 'TestNG (Selenium)'], is_active: true });
    expect(created.json.security_token).toMatch(/^[0-9a-f-]{36}$/);
    expect((await call('GET', `/automation/v2/hosts/${created.json.id}`, { auth: basic(created.json.id, created.json.security_token) })).status).toBe(200);
    expect((await call('POST', '/automation/v2/hosts', { body })).status).toBe(500); // already exists
    const own = basic(created.json.id, created.json.security_token);
    const patched = await call('PATCH', `/automation/v2/hosts/${created.json.id}`, { auth: own, body: { is_active: false, agents: ['ReadyAPI'] } });
    expect(patched.json).toMatchObject({ is_active: false, agents: ['ReadyAPI / SoapUI OS'] });
    expect((await call('POST', runsPath(checkoutWeb), { body: { TestId: 3218450, RunByHostId: created.json.id } })).status).toBe(400); // inactive host
  });

  it("lists a host's pending runs by id and takes results by sequence number", async () => {
    const reply = await call('GET', `/automation/v2/hosts/${agent01.id}/currentruns`, { auth: HOST_143 });
    const ids = reply.json.results.map((r: Json) => r.id);
    const expected = sim.store.runs().filter((r) => r.hostId === agent01.id && !['Passed', 'Failed', 'Blocked', 'Incomplete'].includes(r.statusCode)).map((r) => r.id);
    expect(ids).toEqual(expected);
    expect(ids.length).toBeGreaterThan(0);

    const runId = 831200; // Awaiting Run on build-agent-01, 3 items
    const item = await call('PATCH', `/automation/v2/hosts/${agent01.id}/runs/${runId}/items/2`, {
      auth: HOST_143, body: { status: 'Passed', date_started: '2026-11-27T10:00:00Z', date_finished: '2026-11-27T10:01:30Z', test_run_results: [{ status: 'Passed', step: 'Open', expected_result: 'Opens', actual_result: 'Opened' }] },
    });
    expect(item.status).toBe(200);
    expect(item.json).toMatchObject({ sequence_number: 2, stop_on_fail: false, status: 'Passed', run_time: 90 });
    const run = (await call('GET', `${runsPath(checkoutWeb)}/${runId}`)).json;
    expect(run).toMatchObject({ status_code: 'In Progress', nbr_passed: 1, nbr_awaiting_run: 2 });
    expect((await call('PATCH', `/automation/v2/hosts/${agent01.id}/runs/${runId}/items/2`, { auth: HOST_143, body: { status: 'Done' } })).status).toBe(400);
    expect((await call('PATCH', `/automation/v2/hosts/${agent01.id}/runs/831201/items/1`, { auth: HOST_143, body: { status: 'Passed' } })).status).toBe(404); // perf-lab-02's run
  });
});

describe('protocol edges, faults and counters', () => {
  it('answers 500 for a wrong method and 404 for an unknown path, counting both', async () => {
    const wrong = await call('PUT', runsPath(checkoutWeb), { body: { TestId: 3218450 } });
    expect(wrong.status).toBe(500);
    expect(wrong.json.errors[0].code).toBe(500);
    expect(sim.server.count('PUT /api/v2/projects/{ProjectId}/testruns')).toBe(1);
    expect((await call('GET', '/api/v2/projects/11873/nothing')).status).toBe(404);
    expect((await call('GET', `${runsPath(checkoutWeb)}/abc`)).status).toBe(400);
    expect((await call('GET', `/API/V2/Projects/${checkoutWeb}/TestRuns.json?limit=1`)).status).toBe(200);
    expect(sim.server.count(QACOMPLETE_ROUTES.listRuns)).toBe(1);
  });

  it('injects timeouts, throttling headers and malformed bodies, once each', async () => {
    sim.server.injectFault({ route: QACOMPLETE_ROUTES.listRuns, status: 408 });
    sim.server.injectFault({ route: QACOMPLETE_ROUTES.getRun, status: 503, headers: { 'Retry-After': '2' } });
    sim.server.injectFault({ route: QACOMPLETE_ROUTES.listProjects, malformed: true });
    expect((await call('GET', runsPath(checkoutWeb))).status).toBe(408);
    expect((await call('GET', runsPath(checkoutWeb))).status).toBe(200);
    const throttled = await call('GET', `${runsPath(checkoutWeb)}/831200`);
    expect([throttled.status, throttled.headers.get('retry-after')]).toEqual([503, '2']);
    const malformed = await call('GET', '/api/v1/projects');
    expect(malformed.status).toBe(200);
    expect(() => JSON.parse(malformed.text)).toThrow();
    expect(sim.server.count(QACOMPLETE_ROUTES.listRuns)).toBe(2);
    expect(sim.server.log.filter((entry) => entry.faulted).map((entry) => entry.route)).toEqual([QACOMPLETE_ROUTES.listRuns, QACOMPLETE_ROUTES.getRun, QACOMPLETE_ROUTES.listProjects]);
  });

  it('faults a write without changing state', async () => {
    sim.server.injectFault({ route: QACOMPLETE_ROUTES.createRun, status: 408 });
    const before = sim.store.runs(checkoutWeb).length;
    expect((await call('POST', runsPath(checkoutWeb), { body: { TestId: 3218450 } })).status).toBe(408);
    expect(sim.store.runs(checkoutWeb)).toHaveLength(before);
  });
});
