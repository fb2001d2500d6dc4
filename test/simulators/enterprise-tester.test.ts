/**
 * The Enterprise Tester simulator over real HTTP: auth, app-path routing, TQL and OData
 * collections, the manual-run lifecycle (§7), error answers (§9), the demo seed's coverage of
 * status.md, and the harness's faults and counters.
 */
import {
  DEMO_ASSIGNMENTS,
  DEMO_PACKAGES,
  DEMO_PAYMENTS_RUN_COUNT,
  DEMO_PROJECTS,
  DEMO_RUNS,
  DEMO_USERS,
  EMPTY_GUID,
  ET_DEMO_USER,
  ET_ROUTES,
  EnterpriseTesterSimulator,
  completedStatus,
  type EnterpriseTesterSimulatorOptions,
  type Outcome,
} from '../../src/simulators/enterprise-tester';
import { compileTql, TqlError, type TqlSchema } from '../../src/simulators/enterprise-tester/tql';

type Json = Record<string, any>;

const basic = (username: string, password: string) => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const AUTH = basic(ET_DEMO_USER.username, ET_DEMO_USER.password);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

let sim: EnterpriseTesterSimulator;
let root: string;

async function startSim(options?: EnterpriseTesterSimulatorOptions): Promise<void> {
  sim = new EnterpriseTesterSimulator(options);
  root = await sim.start();
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Json;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers: { authorization: AUTH, accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(path.startsWith('http') ? path : `${root}${path}`, init);
  const text = await res.text();
  let json: Json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = {};
  }
  return { status: res.status, headers: res.headers, text, json };
}
const get = (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers);
const tql = (query: string, extra = '') => get(`/api/scriptruns?tql=${encodeURIComponent(query)}${extra}`);
const outcomes = (run: Json): Outcome[] => run.StepResults.map((s: Json) => s.Outcome);

afterEach(async () => {
  await sim?.stop();
});

describe('authentication', () => {
  beforeEach(() => startSim());

  test('every call needs HTTP Basic; a missing or wrong login is 401 with a Message and a Basic challenge', async () => {
    for (const authorization of [undefined, basic('demo', 'wrong'), basic('nobody', 'x'), 'Bearer abc']) {
      const res = await fetch(`${root}/api/projects`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(await res.json()).toEqual({ Message: 'Authorization has been denied for this request.' });
    }
    expect((await get('/api/projects')).status).toBe(200);
    // A 401 is counted but changes nothing.
    expect(sim.server.count(ET_ROUTES.projects)).toBe(5);
  });

  test('seed colleagues have no API password; configured users may log in; user names ignore case', async () => {
    await sim.stop();
    await startSim({ users: [{ username: 'joeb', password: 'joe-secret' }, { username: 'ci-bot', password: 'bot' }] });
    expect((await get('/api/projects', { authorization: basic('JoeB', 'joe-secret') })).status).toBe(200);
    expect((await get('/api/projects', { authorization: basic('ci-bot', 'bot') })).status).toBe(200);
    expect((await get('/api/projects', { authorization: basic('demo', ET_DEMO_USER.password) })).status).toBe(401);
    const created = await call('POST', `/api/scriptassignment/${DEMO_ASSIGNMENTS.mobilePassed}/runs`, undefined, { authorization: basic('joeb', 'joe-secret') });
    expect(created.json.RunBy).toBe('joeb');
    expect(created.json.RunById).toBe(DEMO_USERS.joeb);
  });
});

describe('application path', () => {
  test('start() resolves to the app root; the API lives below it; paths ignore case and a trailing slash', async () => {
    await startSim();
    expect(root).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/EnterpriseTester$/);
    const origin = root.replace('/EnterpriseTester', '');
    const outside = await fetch(`${origin}/api/projects`, { headers: { authorization: AUTH } });
    expect(outside.status).toBe(404);
    expect(outside.headers.get('content-type')).toMatch(/text\/html/);
    expect(sim.server.count('GET (outside app path)')).toBe(1);
    expect((await get(`${origin}/enterprisetester/API/Projects/`)).status).toBe(200);
    expect(sim.server.count(ET_ROUTES.projects)).toBe(1);

    const unknown = await get('/api/scriptrun');
    expect(unknown.status).toBe(404);
    expect(unknown.json.Message).toBe(`No HTTP resource was found that matches the request URI '${root}/api/scriptrun'.`);
    expect(sim.server.count('GET /api/?')).toBe(1);
  });

  test('Self URLs are absolute and carry the app path; appPath is configurable, also empty', async () => {
    await startSim({ appPath: 'ET/' });
    expect(root).toMatch(/\/ET$/);
    const run = await get(`/api/scriptrun/${DEMO_RUNS.completedPassed}`);
    expect(run.json.Self).toBe(`${root}/api/scriptrun/${DEMO_RUNS.completedPassed}`);
    await sim.stop();
    await startSim({ appPath: '' });
    expect(root).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await get('/api/projects')).json.Items).toHaveLength(4);
  });
});

describe('script runs collection (TQL)', () => {
  beforeEach(() => startSim());

  test('Project filter + ORDER BY CreatedAt DESC pages through all runs with the default $top of 25', async () => {
    const seen: Json[] = [];
    for (let skip = 0; skip < DEMO_PAYMENTS_RUN_COUNT; skip += 25) {
      const page = await tql('Project = "Payments Platform" ORDER BY CreatedAt DESC', skip ? `&$skip=${skip}` : '');
      expect(page.status).toBe(200);
      expect(Object.keys(page.json)).toEqual(['Skip', 'Top', 'Total', 'Items']);
      expect(page.json).toMatchObject({ Skip: skip, Top: 25, Total: DEMO_PAYMENTS_RUN_COUNT });
      seen.push(...page.json.Items);
    }
    expect(seen).toHaveLength(DEMO_PAYMENTS_RUN_COUNT);
    expect(new Set(seen.map((r) => r.Id)).size).toBe(DEMO_PAYMENTS_RUN_COUNT);
    const times = seen.map((r) => Date.parse(r.CreatedAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(seen[0].Id).toBe(DEMO_RUNS.paymentsOpen);
    // Two runs share a CreatedAt; they still come out in one stable order (by Id).
    const tied = seen.filter((r, i) => seen.some((o, j) => j !== i && o.CreatedAt === r.CreatedAt));
    expect(tied).toHaveLength(2);
    expect(tied[0].Id < tied[1].Id).toBe(true);
    expect(sim.server.count(ET_ROUTES.scriptRuns)).toBe(3);
  });

  test('$top, $skip, ProjectId by upper-case GUID, and the same query as ASC', async () => {
    const desc = await tql(`ProjectId = '${DEMO_PROJECTS.payments.toUpperCase()}' ORDER BY CreatedAt DESC`, '&$top=5&$skip=3');
    expect(desc.json).toMatchObject({ Skip: 3, Top: 5, Total: 66 });
    expect(desc.json.Items).toHaveLength(5);
    const asc = await tql(`Project = ${DEMO_PROJECTS.payments} ORDER BY CreatedAt ASC`, '&$top=100');
    expect(asc.json.Items).toHaveLength(66);
    expect(asc.json.Items[65 - 3].Id).toBe(desc.json.Items[0].Id);
  });

  test('operators: =, !=, ~, IN, NOT IN, AND, OR, parentheses, NOT, booleans and date ranges', async () => {
    const ids = async (q: string) => (await tql(q, '&$top=200')).json.Items.map((r: Json) => r.Id as string).sort();
    const mobile = 'Project = "Mobile Banking"';
    expect(await ids(`${mobile} AND Completed = false`)).toEqual([DEMO_RUNS.openAllNotRun, DEMO_RUNS.openNoSteps, DEMO_RUNS.openSomeOutcomes, DEMO_RUNS.openAllRecorded].sort());
    expect(await ids(`${mobile} AND Status = "Not Run"`)).toEqual([DEMO_RUNS.completedNotRun]);
    expect(await ids(`${mobile} AND Status IN (Blocked, 'Undetermined')`)).toEqual([DEMO_RUNS.completedBlocked, DEMO_RUNS.completedUndetermined].sort());
    expect(await ids(`${mobile} AND (Status = Passed OR Status = Failed)`)).toEqual([DEMO_RUNS.earlierFailed, DEMO_RUNS.completedPassed, DEMO_RUNS.completedFailed].sort());
    expect(await ids(`${mobile} AND Completed = true AND Status NOT IN (Passed, Failed, Blocked)`)).toEqual([DEMO_RUNS.completedUndetermined, DEMO_RUNS.completedNotRun].sort());
    expect(await ids(`${mobile} AND NOT Completed = true AND Status != "In Progress"`)).toEqual([]);
    expect(await ids(`Package ~ 'nightly' AND RunBy = raj.p`)).toEqual([DEMO_RUNS.warehouseFailed, DEMO_RUNS.warehousePassed].sort());
    expect(await ids(`Package = 'Release 4.2|Regression' AND CreatedAt >= '2026-11-24' AND CreatedAt < "2026-11-25T00:00:00Z"`)).toEqual([DEMO_RUNS.paymentsOpen]);
    expect(await ids(`CreatedAt = 2026-10-03 AND Status = failed AND Project = "Data Warehouse"`)).toEqual([DEMO_RUNS.warehouseFailed]);
    expect(await ids(`AssignedTo = demo AND Project = 'mobile banking'`)).toEqual([DEMO_RUNS.openAllNotRun, DEMO_RUNS.openNoSteps].sort());
    expect((await tql('')).json.Total).toBe(66 + 10 + 2);
  });

  test('a date without a zone is read in the timeZone parameter', async () => {
    // 2026-10-03T02:10Z is 2026-10-03 15:10 in Auckland (NZDT, +13).
    const q = encodeURIComponent(`Id = ${DEMO_RUNS.warehouseFailed} AND CreatedAt >= '2026-10-03 15:00' AND CreatedAt < '2026-10-03 15:30'`);
    expect((await get(`/api/scriptruns?tql=${q}&timeZone=${encodeURIComponent('New Zealand Standard Time')}`)).json.Total).toBe(1);
    expect((await get(`/api/scriptruns?tql=${q}`)).json.Total).toBe(0);
    expect((await get(`/api/scriptruns?tql=${q}&timeZone=Mars/Olympus`)).status).toBe(403);
  });

  test('$expand inlines StepResults and Assignment; StepResults stays in Expands (§10)', async () => {
    const res = await tql(`Id = ${DEMO_RUNS.openSomeOutcomes}`, '&$expand=StepResults,Assignment');
    const run = res.json.Items[0];
    expect(run.Expands).toEqual(['StepResults']);
    expect(outcomes(run)).toEqual(['Passed', 'Failed', 'NotRun', 'NotRun']);
    expect(run.StepResults[0].RunId).toBe(run.Id);
    expect(run.Assignment).toMatchObject({ Id: DEMO_ASSIGNMENTS.mobileInProgress, Name: 'Freeze and unfreeze card', Status: 'In Progress', AssignedTo: 'joeb' });
  });

  test('a bad TQL query is the documented 403 with a Message; bad paging is 400', async () => {
    for (const q of ['Status = ', 'Colour = Red', 'Status = Passed AND', '(Status = Passed', 'Id IN Packages("Cycle 1")', 'Status > Passed', 'Completed = maybe', 'CreatedAt > yesterday', 'Status = "open']) {
      const res = await tql(q);
      expect(res.status).toBe(403);
      expect(Object.keys(res.json)).toEqual(['Message']);
      expect(res.json.Message).toMatch(/^The TQL query is not valid: /);
    }
    const badTop = await get('/api/scriptruns?$top=ten');
    expect(badTop.status).toBe(400);
    expect(badTop.json).toMatchObject({ Message: 'The request is invalid.' });
  });
});

describe('projects and users (OData)', () => {
  beforeEach(() => startSim());

  test('without $inlinecount only {Items}; with allpages {Skip, Top, Total, Items}', async () => {
    const all = await get('/api/projects');
    expect(Object.keys(all.json)).toEqual(['Items']);
    expect(all.json.Items.map((p: Json) => p.Name)).toEqual(['Payments Platform', 'Mobile Banking', 'Data Warehouse', 'Intranet Archive']);
    const paged = await get('/api/projects?$orderby=Name%20desc&$top=2&$skip=1&$inlinecount=allpages');
    expect(paged.json).toMatchObject({ Skip: 1, Top: 2, Total: 4 });
    expect(paged.json.Items.map((p: Json) => p.Name)).toEqual(['Mobile Banking', 'Intranet Archive']);
  });

  test('$filter: eq, substringof, startswith, year(), and/or/not, guid literals', async () => {
    const names = async (filter: string) => (await get(`/api/projects?$filter=${encodeURIComponent(filter)}`)).json.Items.map((p: Json) => p.Name);
    expect(await names("Name eq 'Mobile Banking'")).toEqual(['Mobile Banking']);
    expect(await names("substringof('bank',Name) eq true")).toEqual(['Mobile Banking']);
    expect(await names("startswith(Slug,'D') or Slug eq 'ARC'")).toEqual(['Data Warehouse', 'Intranet Archive']);
    expect(await names('year(StartDate) eq 2026 and not (month(StartDate) eq 9)')).toEqual(['Mobile Banking']);
    expect(await names(`Id eq guid'${DEMO_PROJECTS.warehouse.toUpperCase()}'`)).toEqual(['Data Warehouse']);
    expect(await names("StartDate ge datetime'2026-09-15T00:00:00' and ProjectCategoryName eq null")).toEqual(['Mobile Banking']);
  });

  test('an unknown property or broken filter is 400 with a Message', async () => {
    for (const filter of ["Colour eq 'red'", "Name eq 'x", 'Name eq', "nosuch(Name) eq 'x'"]) {
      const res = await get(`/api/projects?$filter=${encodeURIComponent(filter)}`);
      expect(res.status).toBe(400);
      expect(res.json.Message).toMatch(/^The query specified in the URI is not valid\./);
    }
  });

  test('GET /api/project/{id}: any GUID case in, lower case out; all fields typed; missing → 404', async () => {
    const res = await get(`/api/project/${DEMO_PROJECTS.payments.toUpperCase()}?$expand=ExecutionPackages`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.json).toMatchObject({ Id: DEMO_PROJECTS.payments, Name: 'Payments Platform', Slug: 'PAY', ManagerUserName: 'joeb', OrderNumber: 0, StartDate: '2026-09-01T00:00:00Z' });
    expect(res.json.ExecutionPackages.map((p: Json) => p.Name)).toEqual(['Release 4.2']);
    expect(res.json.Expands).not.toContain('ExecutionPackages');
    expect(res.json.Self).toBe(`${root}/api/project/${DEMO_PROJECTS.payments}`);
    const missing = await get('/api/project/0f6d1c2a-0000-4a7f-b3c9-5d2e1f0a9b81');
    expect(missing.status).toBe(404);
    expect(Object.keys(missing.json)).toEqual(['Message']);
  });

  test('users, execution packages and assignments', async () => {
    const users = await get(`/api/users?$filter=${encodeURIComponent("UserName eq 'anna.k'")}&$expand=DisplayName`);
    expect(users.json.Items).toEqual([expect.objectContaining({ Id: DEMO_USERS.annak, DisplayName: 'Anna Kowalski', Enabled: true })]);
    const children = await get(`/api/executionpackage/${DEMO_PACKAGES.paymentsRelease}/children`);
    expect(children.json.Items.map((p: Json) => p.Name)).toEqual(['Regression', 'Smoke']);
    const packages = await get(`/api/executionpackages?tql=${encodeURIComponent('Project = "Payments Platform"')}`);
    expect(packages.json).toMatchObject({ Total: 3, Top: 25 });
    const neverRun = await get(`/api/scriptassignment/${DEMO_ASSIGNMENTS.warehouseNeverRun}`);
    expect(neverRun.json).toMatchObject({ Status: 'Not Run', AssignedTo: null, AssignedToId: null, Name: 'Late-arriving facts' });
    const assignments = await get(`/api/scriptassignments?tql=${encodeURIComponent('Project = "Mobile Banking" AND Status = "In Progress"')}`);
    expect(assignments.json.Total).toBe(4);
  });
});

describe('project assignees', () => {
  beforeEach(() => startSim());

  test('GET /api/project/{id}/assignees lists the enabled users as QueryResults<User>, each usable as a TesterId; unknown project → 404', async () => {
    sim.store.addUser({ UserName: 'left.company', FirstName: 'Left', LastName: 'Company', Email: 'left@example.com', Enabled: false });
    const res = await get(`/api/project/${DEMO_PROJECTS.warehouse.toUpperCase()}/assignees`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ Skip: 0, Total: 4 });
    expect(res.json.Items.map((u: Json) => u.UserName)).toEqual(['anna.k', 'demo', 'joeb', 'raj.p']);
    expect(res.json.Items[0]).toMatchObject({ Id: DEMO_USERS.annak, FirstName: 'Anna', LastName: 'Kowalski', Enabled: true });
    expect(sim.server.count(ET_ROUTES.projectAssignees)).toBe(1);
    // A listed assignee is a valid TesterId for a new run.
    const started = await call('POST', `/api/scriptassignment/${DEMO_ASSIGNMENTS.warehouseNeverRun}/runs`, { TesterId: res.json.Items[0].Id });
    expect(started.status).toBe(201);
    expect(started.json.RunById).toBe(DEMO_USERS.annak);
    expect((await get('/api/project/0f6d1c2a-0000-4a7f-b3c9-5d2e1f0a9b81/assignees')).status).toBe(404);
  });
});

describe('the manual-run lifecycle (§7)', () => {
  beforeEach(async () => {
    await startSim();
    sim.store.now = () => new Date('2026-11-27T10:00:00.750Z');
  });

  test('POST …/runs creates a run (201 + Location), then returns that unfinished run (200), never a duplicate', async () => {
    const aid = DEMO_ASSIGNMENTS.payments[0];
    const before = sim.store.runsOfAssignment(aid).length;
    const first = await call('POST', `/api/scriptassignment/${aid.toUpperCase()}/runs?$expand=StepResults`);
    expect(first.status).toBe(201);
    const run = first.json;
    expect(first.headers.get('location')).toBe(`${root}/api/scriptrun/${run.Id}`);
    expect(run).toMatchObject({ AssignmentId: aid, Status: 'In Progress', Completed: false, ScriptVersion: 2, ActualDuration: '', CreatedAt: '2026-11-27T10:00:00Z', RunBy: 'demo', CreatedBy: 'demo' });
    expect(run.Id).toMatch(GUID);
    expect(outcomes(run)).toEqual(['NotRun', 'NotRun', 'NotRun', 'NotRun']);
    // §10: step results inlined on create carry the empty GUID as RunId.
    expect(run.StepResults.every((s: Json) => s.RunId === EMPTY_GUID && GUID.test(s.Id))).toBe(true);

    const second = await call('POST', `/api/scriptassignment/${aid}/runs`, { TesterId: null, WidgetValues: null, FieldValues: null });
    expect(second.status).toBe(200);
    expect(second.json.Id).toBe(run.Id);
    expect(second.headers.get('location')).toBe(`${root}/api/scriptrun/${run.Id}`);
    expect(sim.store.runsOfAssignment(aid)).toHaveLength(before + 1);
    expect(sim.server.count(ET_ROUTES.createRun)).toBe(2);

    const history = await get(`/api/scriptassignment/${aid}/runs`);
    expect(Object.keys(history.json)).toEqual(['Items']);
    expect(history.json.Items[0].Id).toBe(run.Id);
    expect(history.json.Items).toHaveLength(before + 1);
  });

  test('an assignment with a seeded unfinished run answers 200 with it; TesterId sets RunBy on a new run', async () => {
    const resumed = await call('POST', `/api/scriptassignment/${DEMO_ASSIGNMENTS.mobileQueued}/runs`);
    expect(resumed.status).toBe(200);
    expect(resumed.json.Id).toBe(DEMO_RUNS.openAllNotRun);
    const created = await call('POST', `/api/scriptassignment/${DEMO_ASSIGNMENTS.warehouseNeverRun}/runs`, { TesterId: DEMO_USERS.rajp.toUpperCase() });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ RunById: DEMO_USERS.rajp, RunBy: 'raj.p', CreatedBy: 'demo' });
    const badTester = await call('POST', `/api/scriptassignment/${DEMO_ASSIGNMENTS.payments[1]}/runs`, { TesterId: '11111111-2222-4333-8444-555555555555' });
    expect(badTester.status).toBe(403);
    expect(badTester.json.Message).toMatch(/TesterId/);
    expect((await call('POST', `/api/scriptassignment/${DEMO_RUNS.completedPassed}/runs`)).status).toBe(404);
  });

  test('recording step results keeps the run In Progress and changes its counts; the step result URL shows them', async () => {
    const id = DEMO_RUNS.openAllNotRun;
    const before = (await get(`/api/scriptrun/${id}?$expand=StepResults`)).json;
    expect(outcomes(before)).toEqual(['NotRun', 'NotRun', 'NotRun']);
    const [s1, s2] = before.StepResults;
    const put = await call('PUT', `/api/scriptrun/${id}?$expand=StepResults`, { StepResults: [{ Id: s1.Id.toUpperCase(), Outcome: 'Passed', ActualResult: 'ok' }, { Id: s2.Id, Outcome: 'blocked' }] });
    expect(put.status).toBe(200);
    expect(put.json).toMatchObject({ Status: 'In Progress', Completed: false, LastUpdatedAt: '2026-11-27T10:00:00Z', LastUpdatedBy: 'demo' });
    expect(outcomes(put.json)).toEqual(['Passed', 'Blocked', 'NotRun']);
    const step = await get(`/api/stepresult/${s1.Id}?$expand=Run`);
    expect(step.json).toMatchObject({ Id: s1.Id, RunId: id, Outcome: 'Passed', ActualResult: 'ok', Self: `${root}/api/stepresult/${s1.Id}` });
    expect(step.json.Run.Id).toBe(id);
    expect(sim.store.getStepResults(id).map((s) => s.Outcome)).toEqual(['Passed', 'Blocked', 'NotRun']);
    // Step results change only through the run (§4.2).
    const direct = await call('PUT', `/api/stepresult/${s1.Id}`, { Outcome: 'Failed' });
    expect(direct.status).toBe(405);
    expect(direct.headers.get('allow')).toBe('GET');
    expect(direct.json.Message).toMatch(/does not support http method 'PUT'/);
  });

  test('AttemptToComplete completes the run with a Status derived from its steps; then steps are frozen', async () => {
    const id = DEMO_RUNS.openSomeOutcomes;
    const done = await call('PUT', `/api/scriptrun/${id}`, { AttemptToComplete: true, ActualDuration: '14 minutes' });
    expect(done.status).toBe(200);
    expect(done.json).toMatchObject({ Completed: true, Status: 'Failed', ActualDuration: '14 minutes' });
    const steps = sim.store.getStepResults(id);
    expect(steps.map((s) => s.Outcome)).toEqual(['Passed', 'Failed', 'NotRun', 'NotRun']);

    const change = await call('PUT', `/api/scriptrun/${id}`, { StepResults: [{ Id: steps[2].Id, Outcome: 'Passed' }] });
    expect(change.status).toBe(403);
    expect(Object.keys(change.json)).toEqual(['Message']);
    expect(change.json.Message).toMatch(/completed/);
    // Custom fields and duration stay editable; re-sending unchanged values and completing again are harmless.
    const edit = await call('PUT', `/api/scriptrun/${id}?$expand=FieldValues`, { AttemptToComplete: true, ActualDuration: '15 minutes', FieldValues: { Build: '4.2.1' }, StepResults: [{ Id: steps[0].Id, Outcome: 'Passed' }] });
    expect(edit.status).toBe(200);
    expect(edit.json).toMatchObject({ Completed: true, Status: 'Failed', ActualDuration: '15 minutes', FieldValues: { Build: '4.2.1' } });
    expect(edit.json.Expands).toEqual(['Assignment', 'Widgets', 'StepResults']);

    // Restart = a new run on the same assignment; the old one stays in the history.
    const restart = await call('POST', `/api/scriptassignment/${DEMO_ASSIGNMENTS.mobileInProgress}/runs`);
    expect(restart.status).toBe(201);
    expect(restart.json.Id).not.toBe(id);
    expect(sim.store.getRun(id)?.Completed).toBe(true);
  });

  test.each<[Outcome[], string]>([
    [['Passed', 'Passed', 'Passed'], 'Passed'],
    [['Passed', 'Failed', 'Blocked'], 'Failed'],
    [['Blocked', 'Undetermined', 'Passed'], 'Blocked'],
    [['Undetermined', 'Passed', 'NotRun'], 'Undetermined'],
    [['Passed', 'NotRun', 'NotRun'], 'Not Run'],
    [['NotRun', 'NotRun', 'NotRun'], 'Not Run'],
  ])('completing with steps %j gives Status %s', async (steps, status) => {
    const run = sim.store.addScriptRun(DEMO_ASSIGNMENTS.mobileNotRun, { CreatedAt: '2026-11-26T12:00:00Z', Outcomes: steps });
    expect(completedStatus(steps)).toBe(status);
    const done = await call('PUT', `/api/scriptrun/${run.Id}`, { AttemptToComplete: true });
    expect(done.json).toMatchObject({ Completed: true, Status: status });
  });

  test('a run with no steps completes as Not Run', async () => {
    const done = await call('PUT', `/api/scriptrun/${DEMO_RUNS.openNoSteps}?$expand=StepResults`, { AttemptToComplete: true });
    expect(done.json).toMatchObject({ Completed: true, Status: 'Not Run', StepResults: [] });
  });

  test('DELETE removes the run and its step results; then 404', async () => {
    const id = DEMO_RUNS.completedBlocked;
    const stepIds = sim.store.getRun(id)!.StepResultIds;
    const del = await call('DELETE', `/api/scriptrun/${id.toUpperCase()}`);
    expect(del.status).toBe(200);
    expect(del.text).toBe('');
    expect(sim.store.hasRun(id)).toBe(false);
    const gone = await get(`/api/scriptrun/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ Message: expect.stringContaining(id) });
    expect((await get(`/api/stepresult/${stepIds[0]}`)).status).toBe(404);
    expect((await call('DELETE', `/api/scriptrun/${id}`)).status).toBe(404);
    expect((await call('PUT', `/api/scriptrun/${id}`, { AttemptToComplete: true })).status).toBe(404);
    expect(sim.server.count(ET_ROUTES.deleteScriptRun)).toBe(2);
    // The assignment falls back to its previous state.
    expect((await get(`/api/scriptassignment/${DEMO_ASSIGNMENTS.mobileBlocked}`)).json.Status).toBe('Not Run');
  });
});

describe('error answers (§9)', () => {
  beforeEach(() => startSim());

  test('malformed input is 400, a non-JSON body 415, a validation failure 403 — each a {Message} body', async () => {
    const id = DEMO_RUNS.openAllNotRun;
    const badGuid = await get('/api/scriptrun/not-a-guid');
    expect(badGuid.status).toBe(400);
    expect(badGuid.json).toEqual({ Message: 'The request is invalid.', MessageDetail: expect.stringContaining('not-a-guid') });
    expect((await call('PUT', `/api/scriptrun/${id}`, '{"AttemptToComplete": tru')).status).toBe(400);
    expect((await call('PUT', `/api/scriptrun/${id}`, { AttemptToComplete: 'yes' })).status).toBe(400);
    expect((await call('PUT', `/api/scriptrun/${id}`, { StepResults: [{ Id: 'x', Outcome: 'Passed' }] })).status).toBe(400);
    expect((await call('PUT', `/api/scriptrun/${id}`)).status).toBe(400);
    const wrongType = await call('PUT', `/api/scriptrun/${id}`, 'AttemptToComplete=true', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.json.Message).toMatch(/media type 'application\/x-www-form-urlencoded'/);

    const steps = sim.store.getStepResults(id);
    const badOutcome = await call('PUT', `/api/scriptrun/${id}`, { StepResults: [{ Id: steps[0].Id, Outcome: 'Skipped' }] });
    expect(badOutcome.status).toBe(403);
    expect(badOutcome.json.Message).toMatch(/'Skipped' is not a valid/);
    const otherRun = sim.store.getStepResults(DEMO_RUNS.openSomeOutcomes)[0].Id;
    const foreign = await call('PUT', `/api/scriptrun/${id}`, { StepResults: [{ Id: otherRun, Outcome: 'Passed' }], AttemptToComplete: true });
    expect(foreign.status).toBe(403);
    // Nothing was applied by a rejected write.
    expect(sim.store.getRun(id)!.Completed).toBe(false);
    expect(sim.store.getStepResult(otherRun)!.Outcome).toBe('Passed');
  });

  test('indent-json pretty-prints, by query or header', async () => {
    const q = await get(`/api/scriptrun/${DEMO_RUNS.completedPassed}?indent-json=true`);
    expect(q.text).toContain('\n  "Id": ');
    const h = await get(`/api/scriptrun/${DEMO_RUNS.completedPassed}`, { 'indent-json': 'true' });
    expect(h.text).toBe(q.text);
    expect((await get(`/api/scriptrun/${DEMO_RUNS.completedPassed}`)).text).not.toContain('\n');
  });
});

describe('the demo seed', () => {
  beforeEach(() => startSim());

  test('covers every Enterprise Tester row of status.md', async () => {
    const expectations: Array<[string, boolean, string, (o: Outcome[]) => boolean]> = [
      [DEMO_RUNS.completedPassed, true, 'Passed', (o) => o.every((x) => x === 'Passed')],
      [DEMO_RUNS.completedFailed, true, 'Failed', (o) => o.includes('Failed')],
      [DEMO_RUNS.completedBlocked, true, 'Blocked', (o) => o.includes('Blocked')],
      [DEMO_RUNS.completedUndetermined, true, 'Undetermined', (o) => o.includes('Undetermined')],
      [DEMO_RUNS.completedNotRun, true, 'Not Run', (o) => o.length > 0 && o.every((x) => x === 'NotRun')],
      [DEMO_RUNS.openAllNotRun, false, 'In Progress', (o) => o.length > 0 && o.every((x) => x === 'NotRun')],
      [DEMO_RUNS.openNoSteps, false, 'In Progress', (o) => o.length === 0],
      [DEMO_RUNS.openSomeOutcomes, false, 'In Progress', (o) => o.includes('NotRun') && o.some((x) => x !== 'NotRun')],
      [DEMO_RUNS.openAllRecorded, false, 'In Progress', (o) => o.length > 0 && !o.includes('NotRun')],
    ];
    for (const [id, completed, status, stepRule] of expectations) {
      const run = (await get(`/api/scriptrun/${id}?$expand=StepResults`)).json;
      expect({ id, Completed: run.Completed, Status: run.Status }).toEqual({ id, Completed: completed, Status: status });
      expect(stepRule(outcomes(run))).toBe(true);
    }
  });

  test('every run carries every §4.1 field with its type', async () => {
    const page = await tql('', '&$top=200&$expand=StepResults');
    expect(page.json.Items).toHaveLength(78);
    for (const run of page.json.Items) {
      for (const key of ['Id', 'ScriptId', 'AssignmentId', 'CreatedById', 'RunById', 'LastUpdatedById']) expect(run[key]).toMatch(GUID);
      for (const key of ['CreatedAt', 'LastUpdatedAt']) expect(run[key]).toMatch(TIMESTAMP);
      for (const key of ['CreatedBy', 'RunBy', 'LastUpdatedBy', 'ActualDuration', 'Status', 'Self']) expect(typeof run[key]).toBe('string');
      expect(Number.isInteger(run.ScriptVersion)).toBe(true);
      expect(typeof run.Completed).toBe('boolean');
      expect(Array.isArray(run.Expands) && Array.isArray(run.Links)).toBe(true);
      expect(Date.parse(run.CreatedAt)).toBeGreaterThanOrEqual(Date.parse('2026-10-01T00:00:00Z'));
      expect(Date.parse(run.CreatedAt)).toBeLessThan(Date.parse('2026-12-01T00:00:00Z'));
      for (const step of run.StepResults) {
        expect(Object.keys(step)).toEqual(['RunId', 'Id', 'Description', 'Data', 'Notes', 'ExpectedResult', 'ActualResult', 'Outcome', 'HasIncidents', 'HasAttachments', 'Self']);
      }
    }
  });

  test('is deterministic: two simulators answer the same data', async () => {
    const first = (await tql('ORDER BY CreatedAt DESC', '&$top=200&$expand=StepResults')).text.replaceAll(root, '');
    const other = new EnterpriseTesterSimulator();
    const otherRoot = await other.start();
    try {
      const res = await fetch(`${otherRoot}/api/scriptruns?tql=${encodeURIComponent('ORDER BY CreatedAt DESC')}&$top=200&$expand=StepResults`, { headers: { authorization: AUTH } });
      expect((await res.text()).replaceAll(otherRoot, '')).toBe(first);
    } finally {
      await other.stop();
    }
  });

  test('restartable and resumable assignments exist; the empty seed has no data', async () => {
    for (const aid of [...DEMO_ASSIGNMENTS.payments.slice(0, 5), DEMO_ASSIGNMENTS.mobilePassed, DEMO_ASSIGNMENTS.warehouseReconcile]) {
      expect(sim.store.runsOfAssignment(aid)[0].Completed).toBe(true);
    }
    for (const aid of [DEMO_ASSIGNMENTS.payments[5], DEMO_ASSIGNMENTS.mobileQueued, DEMO_ASSIGNMENTS.mobileNoSteps, DEMO_ASSIGNMENTS.mobileInProgress, DEMO_ASSIGNMENTS.mobileAllRecorded]) {
      expect(sim.store.runsOfAssignment(aid)[0].Completed).toBe(false);
    }
    await sim.stop();
    await startSim({ seed: 'empty' });
    expect((await get('/api/projects')).json).toEqual({ Items: [] });
    expect((await tql('')).json).toEqual({ Skip: 0, Top: 25, Total: 0, Items: [] });
  });
});

describe('harness faults and counters', () => {
  beforeEach(() => startSim());
  afterEach(() => sim.server.clearFaults());

  test('an injected status answers instead of the handler, once, and is counted and logged', async () => {
    sim.server.injectFault({ route: ET_ROUTES.scriptRuns, status: 503, body: { Message: 'Service Unavailable' }, headers: { 'retry-after': '2' } });
    const faulted = await tql('Status = Passed');
    expect(faulted.status).toBe(503);
    expect(faulted.headers.get('retry-after')).toBe('2');
    expect((await tql('Status = Passed')).status).toBe(200);
    expect(sim.server.count(ET_ROUTES.scriptRuns)).toBe(2);
    expect(sim.server.log.map((l) => l.faulted)).toEqual([true, false]);
  });

  test('a faulted write changes nothing; malformed bodies, resets and delays', async () => {
    sim.server.injectFault({ route: ET_ROUTES.createRun, status: 500 });
    expect((await call('POST', `/api/scriptassignment/${DEMO_ASSIGNMENTS.payments[0]}/runs`)).status).toBe(500);
    expect(sim.store.runsOfAssignment(DEMO_ASSIGNMENTS.payments[0])[0].Completed).toBe(true);

    sim.server.injectFault({ route: ET_ROUTES.scriptRun, malformed: true });
    const malformed = await get(`/api/scriptrun/${DEMO_RUNS.completedPassed}`);
    expect(malformed.status).toBe(200);
    expect(() => JSON.parse(malformed.text)).toThrow();

    sim.server.injectFault({ route: ET_ROUTES.project, reset: true });
    await expect(fetch(`${root}/api/project/${DEMO_PROJECTS.mobile}`, { headers: { authorization: AUTH } })).rejects.toThrow();

    sim.server.injectFault({ route: /scriptassignment/, delayMs: 150 });
    const started = Date.now();
    expect((await get(`/api/scriptassignment/${DEMO_ASSIGNMENTS.mobilePassed}`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(sim.server.countsByRoute()).toMatchObject({ [ET_ROUTES.createRun]: 1, [ET_ROUTES.scriptRun]: 1, [ET_ROUTES.project]: 1, [ET_ROUTES.scriptAssignment]: 1 });
  });
});

describe('TQL evaluator', () => {
  type Row = { Id: string; Name: string; At: number; Done: boolean };
  const schema: TqlSchema<Row> = {
    id: { type: 'text', values: (r) => [r.Id] },
    name: { type: 'text', values: (r) => [r.Name] },
    at: { type: 'date', values: (r) => [r.At] },
    done: { type: 'bool', values: (r) => [r.Done] },
  };
  const rows: Row[] = [
    { Id: 'a', Name: 'Alpha Report', At: Date.parse('2026-11-01T00:00:00Z'), Done: true },
    { Id: 'b', Name: 'Beta', At: Date.parse('2026-11-01T23:59:59Z'), Done: false },
    { Id: 'c', Name: "O'Brien \"quoted\"", At: Date.parse('2026-11-02T00:00:00Z'), Done: true },
  ];
  const run = (q: string, tz?: string) => {
    const c = compileTql(q, schema, tz);
    const hits = rows.filter((r) => c.matches(r));
    return (c.compare ? hits.sort(c.compare) : hits).map((r) => r.Id);
  };

  test.each<[string, string[]]>([
    ['at = 2026-11-01', ['a', 'b']],
    ['at > 2026-11-01', ['c']],
    ['at <= "2026-11-01"', ['a', 'b']],
    ['at >= "2026-11-01T23:59:59Z"', ['b', 'c']],
    ['at < "2026-11-01T01:00:00+02:00"', []],
    ["name ~ 'REPORT' or name = 'O''Brien \"quoted\"'", ['a', 'c']],
    ['name !~ alpha', ['b', 'c']],
    ['not (done = true) or id = c', ['b', 'c']],
    ['done = true order by at desc', ['c', 'a']],
    ['ORDER BY name DESC, at ASC', ['c', 'b', 'a']],
    ['id not in (a, "b")', ['c']],
  ])('%s', (q, expected) => {
    expect(run(q)).toEqual(expected);
  });

  test('local dates follow the time zone; errors are TqlErrors', () => {
    // Auckland is UTC+13 in November: its 2 November runs from 1 Nov 11:00Z to 2 Nov 11:00Z.
    expect(run('at = 2026-11-02', 'Pacific/Auckland')).toEqual(['b', 'c']);
    for (const q of ['name ==', 'at = 2026-02-30', 'done > true', 'order name', 'name = a b']) expect(() => run(q)).toThrow(TqlError);
  });
});
