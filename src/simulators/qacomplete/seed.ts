/**
 * The deterministic demo data: fixed ids and timestamps (October–November 2026, UTC instants), no
 * randomness. It is shaped to exercise a client, not to look busy:
 * - runs in every `status_code` of status.md, plus `Running`, a code the vendor does not document,
 *   so a client must fall back to the counts rule;
 * - runs with `Skipped` items (Incomplete, and Failed with a skip), runs on each demo host (whose
 *   `test_host` is the host NAME) and runs without a host;
 * - `date_created` deliberately out of id order (the vendor promises no list order, rungraph sorts);
 * - an `Awaiting Run` run whose `date_finished` is set, like the vendor's own sample (quirk 10);
 * - Payments API with 64 runs, so the default page of 25 spans three pages;
 * - an inactive project with history.
 */
import type { QACompleteStore } from './store';
import type { ItemSpec } from './types';

export const QACOMPLETE_DEMO_DEPT = { id: 2001, name: 'Quality Engineering' } as const;
export const QACOMPLETE_DEMO_USER_ID = 130457;

export const QACOMPLETE_DEMO_PROJECTS = {
  checkoutWeb: 11873,
  paymentsApi: 11874,
  mobileApp: 11875,
  legacyPortal: 11876,
} as const;

/** 143's token is the vendor's own documentation example. */
export const QACOMPLETE_DEMO_HOSTS: Array<{ id: number; token: string; name: string }> = [
  { id: 143, token: 'd2e1ffd1-3c74-4ccf-738b-10997283e35f', name: 'build-agent-01' },
  { id: 144, token: '7c9e6679-7425-40de-944b-e07fc1f90ae7', name: 'perf-lab-02' },
];

const at = (iso: string) => new Date(iso);
const A = 'Awaiting Run';
const P = 'Passed';
const F = 'Failed';
const B = 'Blocked';
const S = 'Skipped';

export function seedDemo(store: QACompleteStore): void {
  // Records whose creation time the seed does not spell out get this one, not the wall clock.
  const clock = store.clock;
  store.clock = () => new Date('2026-09-20T09:00:00.000Z');
  try {
    seedRecords(store);
  } finally {
    store.clock = clock;
  }
}

function seedRecords(store: QACompleteStore): void {
  const user = QACOMPLETE_DEMO_USER_ID;
  const [agent01, perfLab] = QACOMPLETE_DEMO_HOSTS;
  store.addHost({
    ...agent01, deptId: QACOMPLETE_DEMO_DEPT.id, configuration: 'Windows Server 2022, 8 vCPU, TestExecute 15.60',
    agents: ['TestComplete/TestExecute', 'JUnit (Selenium)'], os: 'Windows Server 2022', agentVersion: '15.60.1000',
  });
  store.addHost({
    ...perfLab, deptId: QACOMPLETE_DEMO_DEPT.id, configuration: 'Ubuntu 24.04, 16 vCPU, ReadyAPI 3.54',
    agents: ['ReadyAPI / SoapUI OS', 'TestNG (Selenium)'], os: 'Ubuntu 24.04 LTS', agentVersion: '3.54.0100',
  });

  const project = (id: number, name: string, created: string, isActive = true) =>
    store.addProject({ id, name, deptId: QACOMPLETE_DEMO_DEPT.id, isActive, dateCreated: at(created), dateUpdated: at(created) });
  const checkout = project(QACOMPLETE_DEMO_PROJECTS.checkoutWeb, 'Checkout Web', '2026-09-14T08:00:00.000Z');
  const payments = project(QACOMPLETE_DEMO_PROJECTS.paymentsApi, 'Payments API', '2026-09-15T08:00:00.000Z');
  const mobile = project(QACOMPLETE_DEMO_PROJECTS.mobileApp, 'Mobile App', '2026-09-16T08:00:00.000Z');
  const legacy = project(QACOMPLETE_DEMO_PROJECTS.legacyPortal, 'Legacy Portal', '2025-03-01T08:00:00.000Z', false);

  const tests = (projectId: number, folder: string, titles: Array<[string, 'Manual' | 'Automated']>) =>
    titles.map(([title, executionType]) => store.addTest({
      projectId, title, executionType, folderName: folder, description: `${title}.`, dateCreated: at('2026-09-20T09:00:00.000Z'),
      steps: [{ seq: 1, step: 'Prepare the test data', expected: 'Data is in place' }, { seq: 2, step: title, expected: 'It works' }],
    }).id);

  // Checkout Web: one run per status code, both hosts, skipped items, single-test runs.
  const checkoutTests = tests(checkout.id, 'Checkout', [
    ['Sign in with a valid password', 'Manual'], ['Add an item to the cart', 'Automated'], ['Apply a discount code', 'Manual'],
    ['Pay by credit card', 'Automated'], ['Check out as a guest', 'Manual'],
  ]);
  const smoke = store.addTestSet({ projectId: checkout.id, title: 'Checkout smoke', testIds: [checkoutTests[0], checkoutTests[1], checkoutTests[3]] });
  const regression = store.addTestSet({ projectId: checkout.id, title: 'Checkout regression', testIds: checkoutTests, isSequential: true });
  const chrome = store.addConfiguration({ projectId: checkout.id, title: 'Chrome 130 / Windows 11' });
  const firefox = store.addConfiguration({ projectId: checkout.id, title: 'Firefox 132 / Ubuntu 24.04' });
  const release = store.addRelease({ projectId: checkout.id, title: 'Release 2026.11', releaseType: 'Release' });
  const sprint = store.addRelease({ projectId: checkout.id, title: 'Sprint 47', releaseType: 'Iteration', parentId: release.id });

  type Run = { set?: number; test?: number; items: ItemSpec[]; host?: number; created: string; config?: number; release?: number; status?: string; finished?: string };
  const run = (projectId: number, r: Run) => store.addRun({
    projectId, testSetId: r.set, testId: r.test, items: r.items, hostId: r.host, testConfigId: r.config, releaseId: r.release,
    statusCode: r.status, dateCreated: at(r.created), dateFinished: r.finished ? at(r.finished) : undefined, runByUserId: user,
  });
  const checkoutRuns: Run[] = [
    // The vendor's sample: Awaiting Run with a date_finished already set.
    { set: smoke.id, items: [A, A, A], host: agent01.id, created: '2026-11-20T06:42:04.653Z', finished: '2026-11-20T06:42:16.770Z', config: chrome.id, release: release.id },
    { set: regression.id, items: [P, F, A, A, A], host: perfLab.id, created: '2026-11-18T09:15:30.120Z', config: firefox.id, release: sprint.id },
    { set: regression.id, items: [P, P, A, A, A], created: '2026-10-05T14:00:00.000Z', status: 'Paused', config: chrome.id },
    { set: smoke.id, items: [P, P, P], host: agent01.id, created: '2026-11-02T08:30:12.400Z', config: chrome.id, release: release.id },
    { set: regression.id, items: [P, F, P, B, S], created: '2026-10-21T16:45:00.250Z', release: sprint.id },
    { set: smoke.id, items: [P, B, P], host: perfLab.id, created: '2026-11-25T11:05:45.900Z', config: firefox.id },
    { set: regression.id, items: [P, P, S, S, P], host: agent01.id, created: '2026-10-12T10:20:30.000Z', release: release.id },
    // Not a documented status: a client must fall back to the counts rule.
    { set: smoke.id, items: [P, A, A], host: agent01.id, created: '2026-11-27T07:55:00.000Z', status: 'Running' },
    { test: checkoutTests[4], items: [A], created: '2026-11-10T13:37:00.000Z' },
    { test: checkoutTests[3], items: [{ status: P, runTime: 95 }], host: perfLab.id, created: '2026-10-28T19:02:11.111Z', config: chrome.id },
    { set: smoke.id, items: [S, S, S], created: '2026-11-15T12:00:00.500Z' },
  ];
  for (const r of checkoutRuns) run(checkout.id, r);

  // Mobile App: a handful of runs, mostly on perf-lab-02.
  const mobileTests = tests(mobile.id, 'Mobile', [['Launch the app cold', 'Automated'], ['Log in with Face ID', 'Manual'], ['Receive a push notification', 'Automated']]);
  const sanity = store.addTestSet({ projectId: mobile.id, title: 'Mobile sanity', testIds: mobileTests });
  const iphone = store.addConfiguration({ projectId: mobile.id, title: 'iOS 18 / iPhone 15' });
  const mobileRelease = store.addRelease({ projectId: mobile.id, title: 'Mobile 5.0', releaseType: 'Release' });
  const mobileRuns: Run[] = [
    { set: sanity.id, items: [P, P, P], host: perfLab.id, created: '2026-11-06T07:10:00.000Z', config: iphone.id, release: mobileRelease.id },
    { set: sanity.id, items: [P, F, F], host: perfLab.id, created: '2026-10-30T15:25:00.000Z', config: iphone.id },
    { set: sanity.id, items: [P, A, A], host: perfLab.id, created: '2026-11-26T10:00:00.000Z', config: iphone.id, release: mobileRelease.id },
    { set: sanity.id, items: [A, A, A], host: agent01.id, created: '2026-11-24T18:30:00.000Z' },
    { set: sanity.id, items: [B, P, P], created: '2026-10-08T09:45:00.000Z' },
  ];
  for (const r of mobileRuns) run(mobile.id, r);

  // Legacy Portal (inactive): history only.
  const legacyTests = tests(legacy.id, 'Legacy', [['Print an invoice', 'Manual'], ['Export to CSV', 'Manual']]);
  const legacySet = store.addTestSet({ projectId: legacy.id, title: 'Legacy regression', testIds: legacyTests });
  run(legacy.id, { set: legacySet.id, items: [P, P], created: '2026-10-02T11:00:00.000Z' });
  run(legacy.id, { set: legacySet.id, items: [P, F], created: '2026-10-01T11:00:00.000Z' });

  // Payments API: 64 runs over eight item patterns, hosts in turn, creation times shuffled.
  const paymentTests = tests(payments.id, 'Payments', [
    ['Authorize a card payment', 'Automated'], ['Capture an authorized payment', 'Automated'], ['Refund a captured payment', 'Automated'], ['Reject an expired card', 'Automated'],
  ]);
  const contract = store.addTestSet({ projectId: payments.id, title: 'Payments contract suite', testIds: paymentTests });
  const staging = store.addConfiguration({ projectId: payments.id, title: 'Staging EU' });
  const paymentsRelease = store.addRelease({ projectId: payments.id, title: 'Payments 3.2', releaseType: 'Release' });
  const patterns: ItemSpec[][] = [[P, P, P, P], [P, F, P, P], [P, P, B, P], [P, P, S, S], [A, A, A, A], [P, A, A, A], [P, P, P, P], [F, F, P, P]];
  const hosts = [agent01.id, perfLab.id, undefined];
  const base = Date.parse('2026-10-01T08:00:00.000Z');
  for (let i = 0; i < 64; i += 1) {
    const slot = (i * 37) % 64; // a permutation of 0..63: ids and creation times disagree
    run(payments.id, {
      set: contract.id, items: patterns[i % patterns.length], host: hosts[i % hosts.length],
      created: new Date(base + slot * 21 * 3_600_000 + i * 13 * 60_000 + (i % 10) * 111).toISOString(),
      config: i % 2 === 0 ? staging.id : undefined, release: i % 4 === 0 ? paymentsRelease.id : undefined,
    });
  }
}
