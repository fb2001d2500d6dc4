/**
 * The deterministic demo data set: fixed GUIDs and timestamps (Oct–Nov 2026), no randomness.
 * It is built to cover every Enterprise Tester row of ../shared/contract/status.md (see
 * DEMO_RUNS), plus paging (Payments Platform has 66 runs, so `$top` 25 spans three pages),
 * restarts (assignments whose latest run is completed) and resumes (assignments with an
 * unfinished run, where POST …/runs answers 200).
 */
import { guidFrom, type NewRun, type Outcome } from './model';
import type { EnterpriseTesterStore } from './store';

export const DEMO_USERS = {
  demo: 'd2f0c5a4-3b1e-4c7d-9a8f-0e6b5d4c3a21',
  joeb: 'e7157154-5f93-4ec4-bde3-0a3e5c66b04a',
  annak: '41c9d2e8-7f3a-4b6c-8d1e-2a9f0b7c6d54',
  rajp: '6a3e8f0b-1c2d-4e5f-a6b7-c8d9e0f1a2b3',
} as const;

export const DEMO_PROJECTS = {
  payments: '0f6d1c2a-8e4b-4a7f-b3c9-5d2e1f0a9b81',
  mobile: '3b7e2d9c-4a1f-4c8e-a6d5-9f0b2c3e4d82',
  warehouse: 'c5a8f1e3-6b2d-4f9a-8e7c-1d0b3a5f6e83',
  archive: '92d4b6a0-7c3e-4d1f-b5a9-e8f2c0d1a384',
} as const;

export const DEMO_PACKAGES = {
  paymentsRelease: '11aa2f3c-5d6e-4f70-8a91-b2c3d4e5f601',
  paymentsRegression: '11aa2f3c-5d6e-4f70-8a91-b2c3d4e5f602',
  paymentsSmoke: '11aa2f3c-5d6e-4f70-8a91-b2c3d4e5f603',
  mobileSprint: '11aa2f3c-5d6e-4f70-8a91-b2c3d4e5f604',
  warehouseNightly: '11aa2f3c-5d6e-4f70-8a91-b2c3d4e5f605',
} as const;

const assignmentId = (n: string) => `33cc4e5f-6a7b-4c8d-9e0f-a1b2c3d4e5${n}`;
const runId = (n: string) => `44dd5f6a-7b8c-4d9e-8f0a-b1c2d3e4f5${n}`;

export const DEMO_ASSIGNMENTS = {
  /** Payments Platform › Release 4.2 › Regression: 11 runs each; a1–a5 end completed. */
  payments: ['01', '02', '03', '04', '05', '06'].map(assignmentId),
  /** Payments Platform › Release 4.2 › Smoke: never run (Status "Not Run"). */
  paymentsSmokeNeverRun: assignmentId('07'),
  mobilePassed: assignmentId('11'),
  mobileFailed: assignmentId('12'),
  mobileBlocked: assignmentId('13'),
  mobileUndetermined: assignmentId('14'),
  mobileNotRun: assignmentId('15'),
  mobileQueued: assignmentId('16'),
  mobileNoSteps: assignmentId('17'),
  mobileInProgress: assignmentId('18'),
  mobileAllRecorded: assignmentId('19'),
  warehouseReconcile: assignmentId('21'),
  warehouseNeverRun: assignmentId('22'),
} as const;

/** One run per status.md row, all in Mobile Banking, plus the unfinished Payments run. */
export const DEMO_RUNS = {
  completedPassed: runId('11'),
  completedFailed: runId('12'),
  completedBlocked: runId('13'),
  completedUndetermined: runId('14'),
  completedNotRun: runId('15'),
  openAllNotRun: runId('16'),
  openNoSteps: runId('17'),
  openSomeOutcomes: runId('18'),
  openAllRecorded: runId('19'),
  /** An older, completed Failed run on the same assignment as completedPassed. */
  earlierFailed: runId('10'),
  warehouseFailed: runId('21'),
  warehousePassed: runId('22'),
  /** The newest Payments Platform run: unfinished, on DEMO_ASSIGNMENTS.payments[5]. */
  paymentsOpen: runId('99'),
} as const;

/** Payments Platform's run count: three pages at the default $top of 25. */
export const DEMO_PAYMENTS_RUN_COUNT = 66;

const steps = (...descriptions: string[]) => descriptions.map((d, i) => ({ Description: d, ExpectedResult: `Step ${i + 1} behaves as specified`, Data: i === 0 ? 'see test data sheet' : null }));
const at = (iso: string) => new Date(iso);
const N = 'NotRun' as const;
const P = 'Passed' as const;
const F = 'Failed' as const;
const B = 'Blocked' as const;
const U = 'Undetermined' as const;

export function seedDemo(store: EnterpriseTesterStore): void {
  store.addUser({ Id: DEMO_USERS.demo, UserName: 'demo', FirstName: 'Demo', LastName: 'User', Email: 'demo@example.com', LastLogIn: '2026-11-26T08:00:00Z' });
  store.addUser({ Id: DEMO_USERS.joeb, UserName: 'joeb', FirstName: 'Joe', LastName: 'Bloggs', Email: 'joeb@example.com', LastLogIn: '2026-11-25T17:42:10Z' });
  store.addUser({ Id: DEMO_USERS.annak, UserName: 'anna.k', FirstName: 'Anna', LastName: 'Kowalski', Email: 'anna.k@example.com', LastLogIn: '2026-11-24T09:03:51Z' });
  store.addUser({ Id: DEMO_USERS.rajp, UserName: 'raj.p', FirstName: 'Raj', LastName: 'Patel', Email: 'raj.p@example.com', Enabled: true, LastLogIn: null });

  const org = { OrganisationId: 'b0e1c2d3-a4f5-4678-9abc-def012345678', OrganisationName: 'Catch Demo Org', ManagerId: DEMO_USERS.joeb };
  store.addProject({ ...org, Id: DEMO_PROJECTS.payments, Name: 'Payments Platform', Slug: 'PAY', Description: 'Card payments, refunds and settlement.', StartDate: '2026-09-01T00:00:00Z', EstimatedEndDate: '2026-12-18T00:00:00Z', OrderNumber: 0 });
  store.addProject({ ...org, Id: DEMO_PROJECTS.mobile, Name: 'Mobile Banking', Slug: 'MOB', Description: 'iOS and Android banking app.', StartDate: '2026-10-01T00:00:00Z', OrderNumber: 1 });
  store.addProject({ ...org, Id: DEMO_PROJECTS.warehouse, Name: 'Data Warehouse', Slug: 'DWH', Description: 'Nightly ETL into the reporting warehouse.', OrderNumber: 2, ProjectCategoryId: 'b7c8d9e0-f1a2-4b3c-8d4e-5f6a7b8c9d0e', ProjectCategoryName: 'Back office' });
  store.addProject({ ...org, Id: DEMO_PROJECTS.archive, Name: 'Intranet Archive', Slug: 'ARC', Description: 'Retired intranet; kept for its history.', OrderNumber: 3, ManagerId: DEMO_USERS.annak });

  store.addExecutionPackage({ Id: DEMO_PACKAGES.paymentsRelease, ProjectId: DEMO_PROJECTS.payments, Name: 'Release 4.2' });
  store.addExecutionPackage({ Id: DEMO_PACKAGES.paymentsRegression, ParentId: DEMO_PACKAGES.paymentsRelease, Name: 'Regression' });
  store.addExecutionPackage({ Id: DEMO_PACKAGES.paymentsSmoke, ParentId: DEMO_PACKAGES.paymentsRelease, Name: 'Smoke' });
  store.addExecutionPackage({ Id: DEMO_PACKAGES.mobileSprint, ProjectId: DEMO_PROJECTS.mobile, Name: 'Sprint 14' });
  store.addExecutionPackage({ Id: DEMO_PACKAGES.warehouseNightly, ProjectId: DEMO_PROJECTS.warehouse, Name: 'Nightly ETL checks' });

  seedPayments(store);
  seedMobile(store);
  seedWarehouse(store);
}

function script(store: EnterpriseTesterStore, n: string, projectId: string, name: string, stepList: ReturnType<typeof steps>, version = 1): string {
  return store.addScript({ Id: `22bb3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d${n}`, ProjectId: projectId, Name: name, Steps: stepList, VersionNumber: version, CreatedAt: '2026-09-15T10:00:00Z', CreatedById: DEMO_USERS.joeb }).Id;
}

/** Fixed step-result ids, derived from the run id so every run's are distinct and stable. */
function run(store: EnterpriseTesterStore, assignment: string, id: string, input: NewRun): void {
  const count = store.scripts.get(store.assignments.get(assignment)!.ScriptId)!.Steps.length;
  store.addScriptRun(assignment, { ...input, Id: id, StepResultIds: Array.from({ length: count }, (_, i) => guidFrom(`seed:stepresult:${id}:${i}`)) });
}

/** Step outcomes that make a completed run come out with the wanted Status. */
function outcomesFor(status: string, count: number): Outcome[] {
  const fill = (first: Outcome[], rest: Outcome) => Array.from({ length: count }, (_, i) => first[i] ?? rest);
  if (status === 'Passed') return fill([], P);
  if (status === 'Failed') return fill([P, F], N);
  if (status === 'Blocked') return fill([P, B], N);
  if (status === 'Undetermined') return fill([P, U], P);
  return fill([], N);
}

function seedPayments(store: EnterpriseTesterStore): void {
  const scripts = [
    script(store, '01', DEMO_PROJECTS.payments, 'Card authorisation happy path', steps('Open checkout', 'Enter a valid Visa card', 'Submit the payment', 'Check the authorisation record'), 2),
    script(store, '02', DEMO_PROJECTS.payments, 'Refund a partial amount', steps('Find a settled payment', 'Refund 40% of it', 'Check the refund ledger entry'), 2),
    script(store, '03', DEMO_PROJECTS.payments, 'Chargeback dispute flow', steps('Raise a chargeback', 'Attach evidence', 'Submit to the scheme', 'Receive the decision', 'Check the merchant balance'), 2),
    script(store, '04', DEMO_PROJECTS.payments, 'Currency conversion rounding', steps('Pay 10.005 EUR from a GBP card', 'Check the converted amount', 'Check the rounding line'), 2),
    script(store, '05', DEMO_PROJECTS.payments, '3-D Secure challenge', steps('Pay with a 3DS2 card', 'Complete the challenge', 'Check the liability shift flag', 'Check the audit log'), 2),
    script(store, '06', DEMO_PROJECTS.payments, 'Settlement file export', steps('Run the settlement job', 'Download the file', 'Validate it against the schema'), 2),
  ];
  scripts.forEach((scriptId, i) =>
    store.addScriptAssignment({ Id: DEMO_ASSIGNMENTS.payments[i], ScriptId: scriptId, PackageId: DEMO_PACKAGES.paymentsRegression, AssignedToId: [DEMO_USERS.joeb, DEMO_USERS.annak, DEMO_USERS.rajp][i % 3] }),
  );
  store.addScriptAssignment({ Id: DEMO_ASSIGNMENTS.paymentsSmokeNeverRun, ScriptId: scripts[0], PackageId: DEMO_PACKAGES.paymentsSmoke, AssignedToId: DEMO_USERS.demo });

  const cycle = ['Passed', 'Passed', 'Failed', 'Passed', 'Blocked', 'Passed', 'Undetermined', 'Passed', 'Passed', 'Not Run', 'Passed'];
  const testers = [DEMO_USERS.joeb, DEMO_USERS.annak, DEMO_USERS.rajp, DEMO_USERS.demo];
  const start = Date.parse('2026-10-01T08:00:00Z');
  let previous = 0;
  for (let k = 0; k < DEMO_PAYMENTS_RUN_COUNT; k += 1) {
    const assignment = DEMO_ASSIGNMENTS.payments[k % 6];
    const count = store.scripts.get(scripts[k % 6])!.Steps.length;
    // Runs 30 and 31 share a CreatedAt on purpose: clients must not assume unique sort keys.
    const created = k === 31 ? previous : start + k * 20 * 3_600_000 + ((k * 7) % 60) * 60_000 + (k % 13) * 1000;
    previous = created;
    const last = k === DEMO_PAYMENTS_RUN_COUNT - 1;
    const status = cycle[k % cycle.length];
    run(store, assignment, last ? DEMO_RUNS.paymentsOpen : guidFrom(`seed:run:payments:${k}`), {
      CreatedAt: new Date(created),
      LastUpdatedAt: new Date(created + (10 + (k % 30)) * 60_000),
      RunById: testers[k % testers.length],
      ScriptVersion: k < 33 ? 1 : 2,
      Completed: !last,
      Outcomes: last ? [P, F] : outcomesFor(status, count),
      ActualResults: last ? [null, 'Settlement job timed out after 300 s'] : undefined,
      ActualDuration: last ? '' : `${5 + (k % 20)} minutes`,
    });
  }
}

function seedMobile(store: EnterpriseTesterStore): void {
  const pkg = DEMO_PACKAGES.mobileSprint;
  const p = DEMO_PROJECTS.mobile;
  const add = (n: string, scriptName: string, stepList: ReturnType<typeof steps>, tester: string) => {
    const scriptId = script(store, n, p, scriptName, stepList);
    return store.addScriptAssignment({ Id: assignmentId(n), ScriptId: scriptId, PackageId: pkg, AssignedToId: tester }).Id;
  };
  const A = DEMO_ASSIGNMENTS;
  add('11', 'Login with biometrics', steps('Enable Face ID', 'Log out', 'Log in with Face ID'), DEMO_USERS.annak);
  add('12', 'Transfer between own accounts', steps('Open Transfers', 'Pick source and target', 'Enter 25.00', 'Confirm'), DEMO_USERS.rajp);
  add('13', 'Pay a saved payee', steps('Open Payees', 'Pick a payee', 'Confirm with PIN'), DEMO_USERS.joeb);
  add('14', 'Download statement PDF', steps('Open Statements', 'Pick October', 'Open the PDF'), DEMO_USERS.annak);
  add('15', 'Notification preferences', steps('Open Settings', 'Toggle push', 'Receive a test push'), DEMO_USERS.rajp);
  add('16', 'Change PIN', steps('Open Security', 'Enter the old PIN', 'Enter the new PIN twice'), DEMO_USERS.demo);
  add('17', 'Exploratory session: onboarding', [], DEMO_USERS.demo);
  add('18', 'Freeze and unfreeze card', steps('Open Cards', 'Freeze the card', 'Try a payment', 'Unfreeze the card'), DEMO_USERS.joeb);
  add('19', 'Card spending limits', steps('Open Limits', 'Set 200.00 per day', 'Check the limit banner'), DEMO_USERS.annak);

  const done = (assignment: string, id: string, createdAt: string, outcomes: Outcome[], by: string, duration: string) =>
    run(store, assignment, id, { CreatedAt: at(createdAt), LastUpdatedAt: at(createdAt.replace(/T(\d\d)/, (_, h: string) => `T${String(+h + 1).padStart(2, '0')}`)), Completed: true, Outcomes: outcomes, RunById: by, ActualDuration: duration });
  done(A.mobilePassed, DEMO_RUNS.earlierFailed, '2026-10-12T09:15:00Z', [P, F, N], DEMO_USERS.annak, '7 minutes');
  done(A.mobilePassed, DEMO_RUNS.completedPassed, '2026-10-19T10:30:00Z', [P, P, P], DEMO_USERS.annak, '6 minutes');
  done(A.mobileFailed, DEMO_RUNS.completedFailed, '2026-10-27T14:02:33Z', [F, N, N, N], DEMO_USERS.rajp, '3 minutes');
  done(A.mobileBlocked, DEMO_RUNS.completedBlocked, '2026-11-03T11:45:10Z', [P, B, N], DEMO_USERS.joeb, '12 minutes');
  done(A.mobileUndetermined, DEMO_RUNS.completedUndetermined, '2026-11-09T16:20:00Z', [P, U, P], DEMO_USERS.annak, '9 minutes');
  done(A.mobileNotRun, DEMO_RUNS.completedNotRun, '2026-11-12T08:05:45Z', [N, N, N], DEMO_USERS.rajp, '');

  run(store, A.mobileQueued, DEMO_RUNS.openAllNotRun, { CreatedAt: at('2026-11-20T09:00:00Z'), RunById: DEMO_USERS.demo });
  run(store, A.mobileNoSteps, DEMO_RUNS.openNoSteps, { CreatedAt: at('2026-11-21T13:30:00Z'), RunById: DEMO_USERS.demo });
  run(store, A.mobileInProgress, DEMO_RUNS.openSomeOutcomes, {
    CreatedAt: at('2026-11-23T10:10:10Z'),
    LastUpdatedAt: at('2026-11-23T10:25:42Z'),
    RunById: DEMO_USERS.joeb,
    Outcomes: [P, F],
    ActualResults: ['Card frozen', 'Payment went through while frozen'],
  });
  run(store, A.mobileAllRecorded, DEMO_RUNS.openAllRecorded, { CreatedAt: at('2026-11-26T15:00:00Z'), LastUpdatedAt: at('2026-11-26T15:12:00Z'), RunById: DEMO_USERS.annak, Outcomes: [P, P, P] });
}

function seedWarehouse(store: EnterpriseTesterStore): void {
  const reconcile = script(store, '21', DEMO_PROJECTS.warehouse, 'Row counts reconcile', steps('Run the nightly load', 'Compare source and target row counts'));
  const late = script(store, '22', DEMO_PROJECTS.warehouse, 'Late-arriving facts', steps('Insert a fact dated yesterday', 'Check it lands in the right partition'));
  store.addScriptAssignment({ Id: DEMO_ASSIGNMENTS.warehouseReconcile, ScriptId: reconcile, PackageId: DEMO_PACKAGES.warehouseNightly, AssignedToId: DEMO_USERS.rajp });
  store.addScriptAssignment({ Id: DEMO_ASSIGNMENTS.warehouseNeverRun, ScriptId: late, PackageId: DEMO_PACKAGES.warehouseNightly, AssignedToId: null });
  run(store, DEMO_ASSIGNMENTS.warehouseReconcile, DEMO_RUNS.warehouseFailed, { CreatedAt: at('2026-10-03T02:10:00Z'), LastUpdatedAt: at('2026-10-03T02:40:00Z'), Completed: true, Outcomes: [P, F], RunById: DEMO_USERS.rajp, ActualDuration: '30 minutes' });
  run(store, DEMO_ASSIGNMENTS.warehouseReconcile, DEMO_RUNS.warehousePassed, { CreatedAt: at('2026-10-20T02:10:00Z'), LastUpdatedAt: at('2026-10-20T02:31:00Z'), Completed: true, Outcomes: [P, P], RunById: DEMO_USERS.rajp, ActualDuration: '21 minutes' });
}
