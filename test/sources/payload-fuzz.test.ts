/**
 * Vendor payloads are untrusted. Property: whatever JSON a vendor sends — valid, varied, broken
 * or garbage — each mapper returns exactly the record the vendor's reference says the payload
 * means, or throws a GatewayError with UPSTREAM_ERROR when the payload means nothing. Never a
 * TypeError, never a silently wrong record: the expected record comes from an oracle written here
 * (with test/support/fuzz.ts), from ../shared/vendors/*.md and ../shared/contract/status.md, not
 * from the mappers' helpers.
 */
import fc from 'fast-check';
import type { Project, Run, RunConclusion } from '../../src/model/types';
import { mapProject as mapTestRailProject, mapRun as mapTestRailRun } from '../../src/sources/testrail/map';
import { mapProject as mapQACProject, mapRun as mapQACRun } from '../../src/sources/qacomplete/map';
import { parseProject as parseETProject, parseRun as parseETRun, toRun as toETRun } from '../../src/sources/enterprise-tester/map';
import { DEMO_RUNS, DEMO_PROJECTS, ET_DEMO_USER, EnterpriseTesterSimulator } from '../../src/simulators/enterprise-tester';
import { QACompleteSimulator, QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_DEMO_USER } from '../../src/simulators/qacomplete';
import {
  ABSENT, contractConclusion, contractStatus, countsOf, enterpriseTester, fuzzMapper, qacomplete, qacompleteDates, read, reject,
  someGuid, someInstant, someText,
} from '../support/fuzz';

const testrailRun = {
  id: 81, suite_id: 1, name: 'Regression', description: null, milestone_id: 7, assignedto_id: 6, include_all: false,
  is_completed: false, completed_on: null, config: null, config_ids: [], passed_count: 2, blocked_count: 0,
  untested_count: 3, retest_count: 1, failed_count: 2, custom_status1_count: 0, custom_status2_count: 1,
  custom_status3_count: 0, custom_status4_count: 0, custom_status5_count: 0, custom_status6_count: 0,
  custom_status7_count: 0, project_id: 1, plan_id: null, created_on: 1793000000, created_by: 1, refs: 'RF-1',
  url: 'https://example.testrail.io/index.php?/runs/view/81',
};
const testrailProject = { id: 1, name: 'Webshop', announcement: null, show_announcement: false, is_completed: false, completed_on: null, suite_mode: 1, url: 'https://example.testrail.io/index.php?/projects/overview/1' };

/** Real payloads, as the simulators send them, are the valid starting points for the others. */
async function fetchJson(url: string, user: string, password: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, accept: 'application/json' } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

const samples: Record<string, Record<string, unknown>> = {};

beforeAll(async () => {
  const qac = new QACompleteSimulator();
  const et = new EnterpriseTesterSimulator();
  try {
    const q = `${await qac.start()}/rest-api/service`;
    const project = QACOMPLETE_DEMO_PROJECTS.checkoutWeb;
    samples.qacRun = await fetchJson(`${q}/api/v2/projects/${project}/testruns/831204`, QACOMPLETE_DEMO_USER.email, QACOMPLETE_DEMO_USER.password);
    samples.qacProject = await fetchJson(`${q}/api/v1/projects/${project}`, QACOMPLETE_DEMO_USER.email, QACOMPLETE_DEMO_USER.password);
    const e = `${await et.start()}/api`;
    samples.etRun = await fetchJson(`${e}/scriptrun/${DEMO_RUNS.completedFailed}?$expand=StepResults,Assignment`, ET_DEMO_USER.username, ET_DEMO_USER.password);
    samples.etProject = await fetchJson(`${e}/project/${DEMO_PROJECTS.mobile}`, ET_DEMO_USER.username, ET_DEMO_USER.password);
  } finally {
    await qac.stop();
    await et.stop();
  }
});

const someCount = fc.oneof(fc.nat(6), fc.nat(1000), fc.constantFrom(null, ABSENT));
const optionalText = fc.oneof(someText, fc.constantFrom(null, ABSENT));
/** What TestRail writes for a flag: a JSON boolean, or 1/0. */
const trFlag = fc.constantFrom(true, false, 1, 0);

// ------------------------------------------------------------------------------------------- TestRail

const TR_CUSTOM = [1, 2, 3, 4, 5, 6, 7].map((n) => `custom_status${n}_count`);

/** testrail.md §3 and status.md's TestRail row. */
function testrailRunOracle(payload: unknown): Run {
  const o = read.object(payload);
  const id = read.int(o.id, 'id');
  const projectId = read.int(o.project_id, 'project_id');
  const planId = read.optInt(o.plan_id, 'plan_id');
  const isCompleted = read.flag(o.is_completed, 'is_completed');
  const counts = countsOf({
    passed: read.count(o.passed_count, 'passed_count'),
    failed: read.count(o.failed_count, 'failed_count'),
    blocked: read.count(o.blocked_count, 'blocked_count'),
    untested: read.count(o.untested_count, 'untested_count'),
    retest: read.count(o.retest_count, 'retest_count'),
    other: TR_CUSTOM.map((field) => read.count(o[field], field)).reduce((a, b) => a + b, 0),
  });
  const status = isCompleted ? 'COMPLETED' : contractStatus(counts);
  return {
    sourceId: 'tr',
    key: planId === null ? [`${id}`, `${projectId}`] : [`${id}`, `${projectId}`, `${planId}`],
    nativeId: `${id}`,
    name: read.str(o.name, 'name'),
    projectKey: [`${projectId}`],
    host: null,
    status,
    conclusion: status === 'COMPLETED' ? contractConclusion(counts) : null,
    isClosed: isCompleted,
    vendorStatus: isCompleted ? 'Completed' : 'Active',
    counts,
    createdAt: read.optInt(o.created_on, 'created_on'),
    completedAt: read.optInt(o.completed_on, 'completed_on'),
    // TestRail 6.5.2 and later; older servers send none.
    updatedAt: read.optInt(o.updated_on, 'updated_on'),
    url: read.optStr(o.url, 'url'),
  };
}

function testrailProjectOracle(payload: unknown): Project {
  const o = read.object(payload);
  const id = read.int(o.id, 'id');
  return { sourceId: 'tr', key: [`${id}`], nativeId: `${id}`, name: read.str(o.name, 'name'), isCompleted: read.flag(o.is_completed, 'is_completed'), url: read.optStr(o.url, 'url') };
}

// ----------------------------------------------------------------------------------------- QAComplete

const ZONE = 'Europe/Berlin';

/** status.md's QAComplete table: the vendor's word where it has one. */
const QAC_STATUS = new Map<string, { status: Run['status']; conclusion: RunConclusion | null; isClosed: boolean }>([
  ['Awaiting Run', { status: 'QUEUED', conclusion: null, isClosed: false }],
  ['In Progress', { status: 'IN_PROGRESS', conclusion: null, isClosed: false }],
  ['Paused', { status: 'IN_PROGRESS', conclusion: null, isClosed: false }],
  ['Passed', { status: 'COMPLETED', conclusion: 'PASSED', isClosed: true }],
  ['Failed', { status: 'COMPLETED', conclusion: 'FAILED', isClosed: true }],
  ['Blocked', { status: 'COMPLETED', conclusion: 'BLOCKED', isClosed: true }],
  ['Incomplete', { status: 'COMPLETED', conclusion: 'INCOMPLETE', isClosed: true }],
]);

/** qacomplete.md §3, quirks 4–6 and 10, and status.md's QAComplete row. */
function qacompleteRunOracle(payload: unknown): Run {
  const o = read.object(payload);
  const id = qacomplete.id(o.id, 'id');
  const projectId = qacomplete.id(o.project_id, 'project_id');
  const code = read.str(o.status_code, 'status_code');
  const four = {
    passed: read.count(o.nbr_passed, 'nbr_passed'),
    failed: read.count(o.nbr_failed, 'nbr_failed'),
    blocked: read.count(o.nbr_blocked, 'nbr_blocked'),
    untested: read.count(o.nbr_awaiting_run, 'nbr_awaiting_run'),
  };
  const tests = read.count(o.nbr_tests, 'nbr_tests');
  // `other` is what nbr_tests leaves beyond the four; counts that do not add up keep total = the sum.
  const counts = countsOf({ ...four, retest: 0, other: Math.max(0, tests - (four.passed + four.failed + four.blocked + four.untested)) });
  const byCounts = contractStatus(counts);
  const normalized = QAC_STATUS.get(code) ?? { status: byCounts, conclusion: byCounts === 'COMPLETED' ? contractConclusion(counts) : null, isClosed: false };
  const host = (read.optStr(o.test_host, 'test_host') ?? '').trim();
  const testSet = (read.optStr(o.test_set_name, 'test_set_name') ?? '').trim();
  return {
    sourceId: 'qac',
    key: [id, projectId],
    nativeId: id,
    name: testSet === '' ? `Test run ${id}` : testSet,
    projectKey: [projectId],
    host: host === '' ? null : { name: host },
    ...normalized,
    vendorStatus: code,
    counts,
    // date_created when set, else date_started (the vendor fills it at creation).
    createdAt: qacomplete.date(o.date_created, ZONE, 'date_created') ?? qacomplete.date(o.date_started, ZONE, 'date_started'),
    // date_finished is filled even for runs that are not over (quirk 10): read only for a final run.
    completedAt: normalized.isClosed ? qacomplete.date(o.date_finished, ZONE, 'date_finished') : null,
    // The reference documents no update time on test runs.
    updatedAt: null,
    url: null,
  };
}

function qacompleteProjectOracle(payload: unknown): Project {
  const o = read.object(payload);
  const id = qacomplete.id(o.id, 'id');
  return { sourceId: 'qac', key: [id], nativeId: id, name: read.str(o.proj_name, 'proj_name'), isCompleted: !qacomplete.flag(o.is_active, 'is_active'), url: null };
}

/** Ids as v2 (numbers) and v1 (digit strings, maybe padded) write them. */
const qacId = fc.oneof(fc.nat(), fc.nat().map(String), fc.nat(99).map((n) => ` 00${n} `));
const qacFlag = fc.constantFrom(true, false, 1, 0, 'true', 'FALSE', ' True ');

// ------------------------------------------------------------------------------------ Enterprise Tester

/** Step outcomes (§6): the five, as spelled, spaced, in other case, and anything else. */
const ET_OUTCOMES: Array<[string, keyof Omit<Run['counts'], 'total'>]> = [
  ['passed', 'passed'],
  ['failed', 'failed'],
  ['blocked', 'blocked'],
  ['notrun', 'untested'],
];
const outcomePart = (outcome: string) => ET_OUTCOMES.find(([word]) => outcome.replace(/[\s_-]/g, '').toLowerCase() === word)?.[1] ?? 'other';
const ET_FINAL = new Map<string, RunConclusion>([['Passed', 'PASSED'], ['Failed', 'FAILED'], ['Blocked', 'BLOCKED']]);

/** enterprise-tester.md §2, §4.1, §6 and status.md's Enterprise Tester row; the run's name and project come from elsewhere. */
function enterpriseTesterRunOracle(payload: unknown): Run {
  const o = read.object(payload);
  if (o.StepResults === undefined) reject('StepResults is missing (not expanded)');
  const steps = o.StepResults === null ? [] : read.list(o.StepResults, 'StepResults');
  const parts = { passed: 0, failed: 0, blocked: 0, untested: 0, retest: 0, other: 0 };
  for (const step of steps) parts[outcomePart(read.str(read.object(step, 'step').Outcome, 'Outcome'))]++;
  if (o.Assignment !== undefined && o.Assignment !== null) {
    // An inlined assignment must read, though the run takes its name from the caller.
    const a = read.object(o.Assignment, 'Assignment');
    enterpriseTester.guid(a.Id, 'Assignment.Id');
    read.str(a.Name, 'Assignment.Name');
    enterpriseTester.guid(a.PackageId, 'Assignment.PackageId');
  }
  const counts = countsOf(parts);
  const id = enterpriseTester.guid(o.Id, 'Id');
  enterpriseTester.guid(o.AssignmentId, 'AssignmentId');
  const status = read.str(o.Status, 'Status');
  const completed = read.optFlag(o.Completed, 'Completed', false);
  return {
    sourceId: 'et',
    key: [id],
    nativeId: id,
    name: 'Login',
    projectKey: null,
    host: null,
    status: completed ? 'COMPLETED' : counts.untested === counts.total ? 'QUEUED' : 'IN_PROGRESS',
    conclusion: completed ? (ET_FINAL.get(status) ?? 'INCOMPLETE') : null,
    isClosed: completed,
    vendorStatus: status,
    counts,
    createdAt: enterpriseTester.timestamp(o.CreatedAt, 'CreatedAt'),
    completedAt: null,
    // LastUpdatedAt moves on every change (§7.4); absent or null is unknown.
    updatedAt: o.LastUpdatedAt === undefined || o.LastUpdatedAt === null ? null : enterpriseTester.timestamp(o.LastUpdatedAt, 'LastUpdatedAt'),
    url: null,
  };
}

function enterpriseTesterProjectOracle(payload: unknown): Project {
  const o = read.object(payload);
  const id = enterpriseTester.guid(o.Id, 'Id');
  return { sourceId: 'et', key: [id], nativeId: id, name: read.str(o.Name, 'Name'), isCompleted: false, url: null };
}

const etOutcome = fc.oneof(fc.constantFrom('Passed', 'Failed', 'Blocked', 'NotRun', 'Undetermined', 'Not Run', 'not_run', 'PASSED', ' failed '), fc.string());
const etSteps = fc.array(fc.record({ Id: fc.uuid(), Outcome: etOutcome }), { maxLength: 6 });
const etTimestamp = fc.tuple(someInstant, fc.constantFrom('Z', '', '+02:00', '-0530')).map(([t, zone]) => `${new Date(t * 1000).toISOString().slice(0, 19)}${zone}`);

describe('vendor payloads at the boundary', () => {
  fuzzMapper({
    name: 'TestRail run',
    valid: () => testrailRun,
    map: (v) => mapTestRailRun('tr', v),
    expected: testrailRunOracle,
    sample: { status: 'IN_PROGRESS', conclusion: null, updatedAt: null, counts: { total: 9, passed: 2, failed: 2, blocked: 0, untested: 3, retest: 1, other: 1 } },
    variants: {
      id: fc.integer(), project_id: fc.nat(), plan_id: fc.oneof(fc.nat(), fc.constantFrom(null, ABSENT)), is_completed: trFlag,
      name: someText, created_on: fc.oneof(someInstant, fc.constantFrom(null, ABSENT)), completed_on: fc.oneof(someInstant, fc.constant(null)),
      updated_on: fc.oneof(someInstant, fc.constantFrom(null, ABSENT)),
      url: optionalText, description: optionalText,
      ...Object.fromEntries(['passed_count', 'failed_count', 'blocked_count', 'untested_count', 'retest_count', ...TR_CUSTOM].map((f) => [f, someCount])),
    },
  });
  fuzzMapper({
    name: 'TestRail project',
    valid: () => testrailProject,
    map: (v) => mapTestRailProject('tr', v),
    expected: testrailProjectOracle,
    sample: { nativeId: '1', name: 'Webshop', isCompleted: false },
    variants: { id: fc.integer(), name: someText, is_completed: trFlag, url: optionalText, announcement: optionalText },
  });
  fuzzMapper({
    name: 'QAComplete run',
    valid: () => samples.qacRun,
    map: (v) => mapQACRun('qac', v, ZONE),
    expected: qacompleteRunOracle,
    // The demo seed's run 831204: Failed, 2 passed, 1 failed, 1 blocked of 5; created 2026-10-21 16:45 in Berlin (CEST).
    sample: {
      nativeId: '831204', name: 'Checkout regression', status: 'COMPLETED', conclusion: 'FAILED', isClosed: true,
      counts: { total: 5, passed: 2, failed: 1, blocked: 1, untested: 0, retest: 0, other: 1 },
      createdAt: Date.parse('2026-10-21T16:45:00+02:00') / 1000, completedAt: Date.parse('2026-10-21T16:50:00+02:00') / 1000,
    },
    variants: {
      id: qacId, project_id: qacId,
      status_code: fc.oneof(fc.constantFrom(...QAC_STATUS.keys(), 'Skipped', 'Running', 'passed'), fc.string()),
      nbr_tests: someCount, nbr_passed: someCount, nbr_failed: someCount, nbr_blocked: someCount, nbr_awaiting_run: someCount,
      test_host: fc.oneof(optionalText, fc.constant('  build-agent-7 ')), test_set_name: optionalText,
      date_created: qacompleteDates(ZONE), date_started: qacompleteDates(ZONE), date_finished: qacompleteDates(ZONE),
      release_name: optionalText,
    },
  });
  fuzzMapper({
    name: 'QAComplete project',
    valid: () => samples.qacProject,
    map: (v) => mapQACProject('qac', v),
    expected: qacompleteProjectOracle,
    sample: { nativeId: '11873', name: 'Checkout Web', isCompleted: false },
    variants: { id: qacId, proj_name: someText, is_active: qacFlag, dept_name: optionalText },
  });
  fuzzMapper({
    name: 'Enterprise Tester run',
    valid: () => samples.etRun,
    map: (v) => toETRun('et', parseETRun(v), 'Login', null),
    expected: enterpriseTesterRunOracle,
    // The demo seed's completed, failed run: one step Failed, three NotRun.
    sample: {
      status: 'COMPLETED', conclusion: 'FAILED', isClosed: true, counts: { total: 4, passed: 0, failed: 1, blocked: 0, untested: 3, retest: 0, other: 0 },
      createdAt: Date.parse('2026-10-27T14:02:33Z') / 1000, updatedAt: Date.parse('2026-10-27T15:02:33Z') / 1000,
    },
    variants: {
      Id: someGuid, AssignmentId: someGuid, CreatedAt: etTimestamp, LastUpdatedAt: fc.oneof(etTimestamp, fc.constantFrom(null, ABSENT)),
      Status: fc.oneof(fc.constantFrom('Passed', 'Failed', 'Blocked', 'Undetermined', 'Not Run', 'In Progress'), fc.string()),
      Completed: fc.constantFrom(true, false, 1, 0, null, ABSENT),
      StepResults: fc.oneof(etSteps, fc.constant(null)),
      Assignment: fc.oneof(
        fc.constantFrom(null, ABSENT),
        fc.record({ Id: someGuid, Name: someText, PackageId: someGuid }).map((a) => ({ ...(samples.etRun.Assignment as object), ...a })),
      ),
      RunBy: optionalText,
    },
    nearMisses: {
      // One bad step among good ones, and an inlined assignment with one bad field.
      StepResults: fc.tuple(etSteps, fc.constantFrom(null, 7, 'Passed', {}, { Outcome: 3 }, { Outcome: null })).map(([steps, bad]) => [...steps, bad]),
      Assignment: fc.constantFrom('Id', 'Name', 'PackageId').chain((field) =>
        fc.constantFrom(null, 7, '', ABSENT).map((value) => {
          const a: Record<string, unknown> = { ...(samples.etRun.Assignment as object) };
          if (value === ABSENT) delete a[field];
          else a[field] = value;
          return a;
        }),
      ),
      Id: fc.constantFrom('', 'x'.repeat(101)),
    },
  });
  fuzzMapper({
    name: 'Enterprise Tester project',
    valid: () => samples.etProject,
    map: (v) => parseETProject('et', v),
    expected: enterpriseTesterProjectOracle,
    sample: { nativeId: DEMO_PROJECTS.mobile.toLowerCase() },
    variants: { Id: someGuid, Name: someText, Description: optionalText },
    nearMisses: { Id: fc.constantFrom('', 'x'.repeat(101)) },
  });
});

describe('known gaps the oracle allows for today', () => {
  // enterprise-tester.md §2: times are ISO-8601 UTC with `Z`. The mapper reads CreatedAt with
  // Date.parse, which takes "1" for 2001-01-01 — a silently wrong date (LastUpdatedAt too). When the mapper rejects
  // non-ISO text, this test passes, jest reports it, and `test.failing` and the Date.parse
  // allowance in fuzz.ts (enterpriseTester.timestamp) should go.
  test.failing('Enterprise Tester: a CreatedAt that is not an ISO-8601 time is UPSTREAM_ERROR', () => {
    expect(() => toETRun('et', parseETRun({ ...samples.etRun, CreatedAt: '1' }), 'Login', null)).toThrow(/CreatedAt/);
  });
});
