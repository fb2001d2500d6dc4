/**
 * The deterministic demo data: no randomness, fixed timestamps in October–November 2026. It is
 * built to exercise a client, not to look pretty:
 * - one standalone run per TestRail row of the contract's status.md (ids 1–10), created in an
 *   order that disagrees with their ids, so a client that assumes get_runs is date-ordered is caught;
 * - plans whose runs (some with configurations) interleave in time with the standalone runs and
 *   are excluded from get_runs;
 * - a project with 300 standalone runs, so any client that does not page stops at 250;
 * - a completed project, a multi-suite project, inactive users and a non-contiguous set of
 *   active custom statuses (7 and 8, see model.ts).
 * The ids below are asserted by the seed itself (explicit ids), so docs and tests can rely on them.
 */
import type { TestRailStore } from './store';

export const DEMO_IDS = {
  users: { admin: 1, tester: 2, lead: 3, inactive: 4 },
  projects: { webshop: 1, mobile: 2, nightly: 3, legacy: 4 },
  suites: { webshop: 1, ios: 2, android: 3, nightly: 4, legacy: 5 },
  milestones: { release30: 1, release31: 2, release29: 3, mobile50: 4 },
  plans: { browserMatrix: 1, signOff: 2, deviceMatrix: 3 },
  /** Standalone runs of project 1, one per status.md row; comments give the expected normalization. */
  runs: {
    completed: 1, // closed, all passed → COMPLETED / PASSED
    allUntested: 2, // active, every test untested → QUEUED
    noTests: 3, // active, no tests at all → QUEUED
    inProgress: 4, // active, some results in → IN_PROGRESS
    failures: 5, // active, all run, with failures → COMPLETED / FAILED
    blockedOnly: 6, // active, all blocked → COMPLETED / BLOCKED
    retest: 7, // active, passed + retest → COMPLETED / RETEST
    passedOnly: 8, // active, all passed → COMPLETED / PASSED
    customOnly: 9, // active, custom statuses only → COMPLETED / PASSED (other = 3)
    completedWithUntested: 10, // closed with untested left → COMPLETED / INCOMPLETE
  },
  /** Runs inside plans (get_run and get_plan only). */
  planRuns: { chromeLinux: 11, firefoxWindows: 12, safariMac: 13, smoke: 14, signOff: 15, iphone: 16, ipad: 17, android: 18 },
  mobileRuns: { iosSmoke: 19, androidSmoke: 20 },
  /** Project 3 holds runs 21…320. */
  nightly: { firstRunId: 21, count: 300 },
  legacyRun: 321,
} as const;

/** UNIX seconds for a UTC wall-clock time in 2026. */
export const at = (month: number, day: number, hour = 9, minute = 0): number => Date.UTC(2026, month - 1, day, hour, minute) / 1000;

const WEBSHOP_CASES = [
  'Log in with valid credentials',
  'Reject an invalid password',
  'Search the catalog by keyword',
  'Add an item to the cart',
  'Apply a discount code',
  'Check out with a credit card',
  'Check out with PayPal',
  'Track an order',
  'Change the shipping address',
  'Switch the shop language',
];

const MOBILE_CASES = ['Install and launch', 'Sign in', 'Receive a push notification', 'Browse offline', 'Rotate the screen', 'Log out'];

export function seedDemo(store: TestRailStore): void {
  const ids = DEMO_IDS;
  store.addUser({ id: ids.users.admin, name: 'Demo Admin', email: 'demo@rungraph.local', is_admin: true, role_id: 1, role: 'Lead' });
  store.addUser({ id: ids.users.tester, name: 'Ada Quinn', email: 'ada.quinn@rungraph.local' });
  store.addUser({ id: ids.users.lead, name: 'Ben Okafor', email: 'ben.okafor@rungraph.local', role_id: 1, role: 'Lead' });
  store.addUser({ id: ids.users.inactive, name: 'Cora Lind', email: 'cora.lind@rungraph.local', is_active: false });

  // Projects first, so project and master-suite ids line up with DEMO_IDS.
  store.addProject({ id: ids.projects.webshop, name: 'Webshop', suite_mode: 1, announcement: 'Release 3.0 is in test.', show_announcement: true });
  store.addProject({ id: ids.projects.mobile, name: 'Mobile App', suite_mode: 3 });
  store.addSuite(ids.projects.mobile, { id: ids.suites.ios, name: 'iOS', description: 'iPhone and iPad' });
  store.addSuite(ids.projects.mobile, { id: ids.suites.android, name: 'Android' });
  store.addProject({ id: ids.projects.nightly, name: 'Nightly Regression', suite_mode: 1 });
  store.addProject({ id: ids.projects.legacy, name: 'Legacy Portal', suite_mode: 1, is_completed: true, completed_on: at(10, 2, 17) });

  for (const title of WEBSHOP_CASES) store.addCase(ids.suites.webshop, { title, refs: 'WEB-1' });
  for (const title of MOBILE_CASES) store.addCase(ids.suites.ios, { title: `iOS: ${title}` });
  for (const title of MOBILE_CASES) store.addCase(ids.suites.android, { title: `Android: ${title}` });
  for (const title of ['Nightly API checks', 'Nightly UI checks', 'Nightly data migration']) store.addCase(ids.suites.nightly, { title });
  for (const title of ['Legacy login', 'Legacy reports', 'Legacy export']) store.addCase(ids.suites.legacy, { title });

  const m = ids.milestones;
  store.addMilestone(ids.projects.webshop, { id: m.release30, name: 'Release 3.0', start_on: at(10, 1), started_on: at(10, 1), is_started: true, due_on: at(11, 15) });
  store.addMilestone(ids.projects.webshop, { id: m.release31, name: 'Release 3.1', due_on: at(12, 15) });
  store.addMilestone(ids.projects.webshop, { id: m.release29, name: 'Release 2.9', is_started: true, started_on: at(9, 1), is_completed: true, completed_on: at(10, 5, 16) });
  store.addMilestone(ids.projects.mobile, { id: m.mobile50, name: 'Mobile 5.0', is_started: true, started_on: at(10, 20), due_on: at(11, 30) });

  seedStatusRuns(store);
  seedPlans(store);
  seedMobileRuns(store);
  seedNightly(store);
  store.addRun(ids.projects.legacy, {
    id: ids.legacyRun, name: 'Legacy final regression', statuses: [1, 1, 5], created_on: at(9, 28), is_completed: true, completed_on: at(10, 1, 18),
  });
}

function seedStatusRuns(store: TestRailStore): void {
  const { projects, runs, milestones, users } = DEMO_IDS;
  const add = (id: number, name: string, created: number, statuses: number[], extra: Parameters<TestRailStore['addRun']>[1] = {}) =>
    store.addRun(projects.webshop, { id, name, created_on: created, statuses, created_by: users.admin, ...extra });

  add(runs.completed, 'Regression 3.0 – final', at(10, 6), [1, 1, 1, 1, 1], {
    is_completed: true, completed_on: at(10, 9, 17), milestone_id: milestones.release30, refs: 'WEB-100, WEB-101', created_by: users.lead,
  });
  add(runs.allUntested, 'Smoke – queued', at(10, 27), [3, 3, 3, 3], { assignedto_id: users.tester });
  add(runs.noTests, 'Exploratory – empty', at(10, 14), [], { include_all: false, case_ids: [], description: 'Charter-based session; no cases selected yet.' });
  const inProgress = add(runs.inProgress, 'Checkout – in progress', at(11, 3), [1, 1, 5, 3, 3], { refs: 'WEB-140', created_by: users.tester, milestone_id: milestones.release30 });
  add(runs.failures, 'Payments – failures', at(10, 22), [1, 1, 1, 5, 2], { milestone_id: milestones.release30 });
  add(runs.blockedOnly, 'Search – blocked', at(10, 19), [2, 2, 2], { created_by: users.lead });
  add(runs.retest, 'Accounts – retest', at(11, 10), [1, 4, 1], { refs: 'WEB-150' });
  add(runs.passedOnly, 'Catalog – passed', at(10, 31), [1, 1, 1, 1], { created_by: users.tester });
  add(runs.customOnly, 'Localization – custom statuses', at(11, 6), [7, 8, 7], { milestone_id: milestones.release31 });
  add(runs.completedWithUntested, 'Regression 2.9 – closed early', at(10, 2), [1, 1, 3, 3], {
    is_completed: true, completed_on: at(10, 4, 12), milestone_id: milestones.release29,
  });

  // A comment-only result (status null) on an untested test: the test stays untested.
  const waiting = store.testsOf(inProgress.id)[3];
  store.addResult(waiting.id, { status_id: null, comment: 'Waiting for the payment sandbox.', created_on: at(11, 4, 10), created_by: users.tester });
  // A later result with a defect, for defects_filter; the test stays failed.
  const failed = store.testsOf(runs.failures)[3];
  store.addResult(failed.id, { status_id: 5, comment: 'Still failing after the hotfix.', defects: 'WEB-311', elapsed: '2m 30s', version: '3.0.0-rc2', created_on: at(10, 24, 15), created_by: users.tester });
}

function seedPlans(store: TestRailStore): void {
  const { projects, plans, planRuns, milestones, suites, users } = DEMO_IDS;
  // Created on 25 October: its runs fall between standalone runs 5 (22 Oct) and 2 (27 Oct).
  store.addPlan(projects.webshop, {
    id: plans.browserMatrix, name: 'Release 3.0 browser matrix', created_on: at(10, 25), created_by: users.lead, milestone_id: milestones.release30,
    entries: [
      {
        suite_id: suites.webshop, name: 'Browser matrix', case_ids: [1, 2, 3, 4],
        runs: [
          { id: planRuns.chromeLinux, config: 'Chrome, Linux', config_ids: [1, 4], statuses: [1, 1, 5, 3] },
          { id: planRuns.firefoxWindows, config: 'Firefox, Windows', config_ids: [2, 5], statuses: [1, 3, 3, 3] },
          { id: planRuns.safariMac, config: 'Safari, macOS', config_ids: [3, 6], assignedto_id: users.tester },
        ],
      },
      { suite_id: suites.webshop, name: 'Release 3.0 smoke', runs: [{ id: planRuns.smoke, statuses: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] }] },
    ],
  });
  store.addPlan(projects.webshop, {
    id: plans.signOff, name: 'Release 2.9 sign-off', created_on: at(10, 3), is_completed: true, completed_on: at(10, 5, 15), milestone_id: milestones.release29,
    entries: [{ suite_id: suites.webshop, name: 'Sign-off', case_ids: [1, 2, 3], runs: [{ id: planRuns.signOff, statuses: [1, 1, 1] }] }],
  });
  store.addPlan(projects.mobile, {
    id: plans.deviceMatrix, name: 'Mobile 5.0 device matrix', created_on: at(11, 4, 8), created_by: users.tester, milestone_id: milestones.mobile50,
    entries: [
      {
        suite_id: suites.ios, name: 'iOS devices',
        runs: [
          { id: planRuns.iphone, config: 'iPhone 16', config_ids: [7], statuses: [1, 1, 1, 5, 3, 3] },
          { id: planRuns.ipad, config: 'iPad Air', config_ids: [8], statuses: [1, 2] },
        ],
      },
      { suite_id: suites.android, name: 'Android', runs: [{ id: planRuns.android }] },
    ],
  });
}

function seedMobileRuns(store: TestRailStore): void {
  const { projects, suites, mobileRuns, users } = DEMO_IDS;
  store.addRun(projects.mobile, { id: mobileRuns.iosSmoke, suite_id: suites.ios, name: 'iOS smoke', statuses: [1, 1, 5], created_on: at(11, 1), created_by: users.tester });
  store.addRun(projects.mobile, { id: mobileRuns.androidSmoke, suite_id: suites.android, name: 'Android smoke', created_on: at(10, 29), created_by: users.lead });
}

/**
 * 300 cheap runs (two tests each), one every 4.8 hours from 1 October. Every tenth run was
 * "imported late" and carries a creation time three days earlier than its neighbours, so id order
 * and created_on order disagree here too. Runs from before 20 November are closed.
 */
function seedNightly(store: TestRailStore): void {
  const { projects, nightly, users } = DEMO_IDS;
  const patterns = [[1, 1], [1, 5], [1, 3], [3, 3], [7, 1]];
  const creators = [users.admin, users.tester, users.lead];
  for (let i = 0; i < nightly.count; i++) {
    const created = at(10, 1, 2) + i * 17_280 - (i % 10 === 9 ? 3 * 86_400 : 0);
    const closed = created < at(11, 20);
    store.addRun(projects.nightly, {
      id: nightly.firstRunId + i,
      name: `Nightly #${i + 1}`,
      statuses: patterns[i % patterns.length],
      created_on: created,
      created_by: creators[i % creators.length],
      is_completed: closed,
      completed_on: closed ? created + 6 * 3600 : null,
      refs: i % 50 === 0 ? 'NIGHTLY-1' : null,
    });
  }
}
