/**
 * QAComplete's state as the simulator keeps it: departments, users, projects, the test library
 * (tests, test sets, configurations, releases), test hosts and test runs with their items.
 *
 * A run's `status_code` and `nbr_*` counters are never written directly — the vendor derives them
 * from item statuses (qacomplete.md §4.1, quirk 14), so every item change goes through
 * `updateItem`, which recomputes the run. Only seeds and tests may pin a status the items cannot
 * produce (`Paused`, or an undocumented code such as `Running`); the next item change replaces it.
 *
 * Times are kept as instants (Date); json.ts renders them in the server's local time, whose offset
 * from UTC is `timeZoneOffsetMinutes`.
 */

import { randomUUID } from 'node:crypto';
import type {
  ConfigurationInput, DeptInput, HostInput, ItemChange, ProjectInput, QACConfiguration, QACDept, QACHost, QACProject, QACRelease, QACRun,
  QACRunItem, QACTest, QACTestSet, QACUser, ReleaseInput, RunInput, TestInput, TestSetInput, UserInput,
} from './types';

export const RUN_STATUS = {
  awaiting: 'Awaiting Run',
  inProgress: 'In Progress',
  paused: 'Paused',
  passed: 'Passed',
  failed: 'Failed',
  blocked: 'Blocked',
  incomplete: 'Incomplete',
} as const;

/** Item statuses of §6 (`NA` comes from the automation API). Others are kept as sent (custom choice lists). */
export const ITEM_STATUSES = ['Awaiting Run', 'Passed', 'Failed', 'Blocked', 'Skipped', 'NA'] as const;

/** Run statuses that mean the run is over; currentruns leaves these out. */
export const FINAL_RUN_STATUSES: readonly string[] = ['Passed', 'Failed', 'Blocked', 'Incomplete'];

/** The derivation rule of §6 (the reference calls the precise algorithm unverified; this is its suggestion). */
export function deriveRunStatus(items: ReadonlyArray<{ statusCode: string }>): string {
  const done = items.filter((item) => item.statusCode !== RUN_STATUS.awaiting);
  if (done.length === 0) return RUN_STATUS.awaiting;
  if (done.length < items.length) return RUN_STATUS.inProgress;
  const any = (status: string) => items.some((item) => item.statusCode === status);
  if (any('Failed')) return RUN_STATUS.failed;
  if (any('Blocked')) return RUN_STATUS.blocked;
  if (any('Skipped')) return RUN_STATUS.incomplete;
  return RUN_STATUS.passed;
}

/** Known statuses in their canonical spelling; the vendor's choice lists are case-insensitive. */
export function canonicalItemStatus(value: string): string {
  const known = ITEM_STATUSES.find((status) => status.toLowerCase() === value.trim().toLowerCase());
  return known ?? value.trim();
}

/** Drops keys given as undefined, so `{ defaults, ...given(input) }` keeps the defaults for them. */
const given = <T extends object>(input: T): T => Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as T;

const toDate = (value: Date | string): Date => (value instanceof Date ? new Date(value.getTime()) : new Date(value));

export class QACompleteStore {
  /** Minutes the server's local time is ahead of UTC; main-API dates are rendered in it. */
  timeZoneOffsetMinutes = 0;
  /**
   * Whether test runs show `date_created`. The reference's run table (§3.1) has no such field, so a
   * real server may well leave it out; the simulator sends it by default (json.ts runJson), and
   * tests turn it off to be the server the reference describes (createdAt then comes from
   * `date_started`, and a `DateCreated` filter names an unknown field).
   */
  runDateCreated = true;
  /** The simulator's clock, replaceable by tests. */
  clock: () => Date = () => new Date();

  readonly depts = new Map<number, QACDept>();
  readonly users = new Map<number, QACUser>();
  readonly projects = new Map<number, QACProject>();
  readonly tests = new Map<number, QACTest>();
  readonly testSets = new Map<number, QACTestSet>();
  readonly configurations = new Map<number, QACConfiguration>();
  readonly releases = new Map<number, QACRelease>();
  readonly hosts = new Map<number, QACHost>();
  private readonly runMap = new Map<number, QACRun>();

  // Vendor-looking id ranges (from the reference's samples), one sequence per kind.
  private readonly next = { dept: 2001, user: 130457, project: 11873, test: 3218450, testSet: 40100, configuration: 7001, release: 183121, host: 143, run: 831200, item: 5120000, step: 9300000 };

  setTimeZoneOffset(minutes: number): void {
    this.timeZoneOffsetMinutes = minutes;
  }

  now(): Date {
    return this.clock();
  }

  private take(kind: keyof QACompleteStore['next'], wanted?: number, existing?: Map<number, unknown>): number {
    if (wanted !== undefined && existing?.has(wanted)) throw new Error(`a ${kind} with id ${wanted} already exists`);
    const id = wanted ?? this.next[kind];
    this.next[kind] = Math.max(this.next[kind], id + 1);
    return id;
  }

  addDept(input: DeptInput): QACDept {
    const dept: QACDept = { company: 'Rungraph Demo Co', dateCreated: this.now(), ...given(input), id: this.take('dept', input.id, this.depts) };
    this.depts.set(dept.id, dept);
    return dept;
  }

  addUser(input: UserInput): QACUser {
    const local = input.email.split('@')[0] ?? input.email;
    const user: QACUser = { firstName: 'Test', lastName: local.charAt(0).toUpperCase() + local.slice(1), ...given(input), id: this.take('user', input.id, this.users) };
    this.users.set(user.id, user);
    return user;
  }

  addProject(input: ProjectInput): QACProject {
    const created = input.dateCreated ?? this.now();
    const project: QACProject = { deptId: this.defaultDeptId(), isActive: true, dateCreated: created, dateUpdated: created, ...given(input), id: this.take('project', input.id, this.projects) };
    this.projects.set(project.id, project);
    return project;
  }

  addTest(input: TestInput): QACTest {
    this.requireProject(input.projectId);
    const test: QACTest = { description: '', folderName: 'Tests', version: 1, executionType: 'Manual', steps: [], dateCreated: this.now(), ...given(input), id: this.take('test', input.id, this.tests) };
    this.tests.set(test.id, test);
    return test;
  }

  addTestSet(input: TestSetInput): QACTestSet {
    this.requireProject(input.projectId);
    for (const testId of input.testIds) if (this.tests.get(testId)?.projectId !== input.projectId) throw new Error(`test ${testId} is not in project ${input.projectId}`);
    const set: QACTestSet = { description: '', folderName: 'Test Sets', isSequential: false, executionType: 'Manual', dateCreated: this.now(), ...given(input), id: this.take('testSet', input.id, this.testSets) };
    this.testSets.set(set.id, set);
    return set;
  }

  addConfiguration(input: ConfigurationInput): QACConfiguration {
    this.requireProject(input.projectId);
    const configuration: QACConfiguration = { isActive: true, dateCreated: this.now(), ...given(input), id: this.take('configuration', input.id, this.configurations) };
    this.configurations.set(configuration.id, configuration);
    return configuration;
  }

  addRelease(input: ReleaseInput): QACRelease {
    this.requireProject(input.projectId);
    const release: QACRelease = { releaseType: 'Release', parentId: 0, statusCode: 'In Progress', isActive: true, dateCreated: this.now(), ...given(input), id: this.take('release', input.id, this.releases) };
    this.releases.set(release.id, release);
    return release;
  }

  addHost(input: HostInput): QACHost {
    const host: QACHost = {
      token: randomUUID(), deptId: this.defaultDeptId(), configuration: '', agents: ['TestComplete/TestExecute'],
      os: 'Windows Server 2022', isActive: true, agentVersion: '14.40.1200', ...given(input), id: this.take('host', input.id, this.hosts),
    };
    this.hosts.set(host.id, host);
    return host;
  }

  userByEmail(email: string): QACUser | undefined {
    const wanted = email.toLowerCase();
    for (const user of this.users.values()) if (user.email.toLowerCase() === wanted) return user;
    return undefined;
  }

  /** "Last, First " — the vendor's sample keeps a trailing space (quirk 7). */
  userName(userId: number): string {
    const user = this.users.get(userId);
    return user ? `${user.lastName}, ${user.firstName} ` : '';
  }

  canAccess(user: QACUser, projectId: number): boolean {
    return this.projects.has(projectId) && (user.projectIds === undefined || user.projectIds.includes(projectId));
  }

  /** Departments a user works in: those of the projects they can access (every dept when unrestricted). */
  deptsOf(user: QACUser): QACDept[] {
    if (user.projectIds === undefined) return [...this.depts.values()].sort((a, b) => a.id - b.id);
    const ids = new Set(user.projectIds.map((id) => this.projects.get(id)?.deptId).filter((id): id is number => id !== undefined));
    return [...this.depts.values()].filter((dept) => ids.has(dept.id)).sort((a, b) => a.id - b.id);
  }

  hostByName(name: string, deptIds: readonly number[]): QACHost | undefined {
    const wanted = name.toLowerCase();
    return [...this.hosts.values()].find((host) => host.name.toLowerCase() === wanted && deptIds.includes(host.deptId));
  }

  run(id: number): QACRun | undefined {
    return this.runMap.get(id);
  }

  /** Runs in id order (the order the simulator lists them in), optionally of one project. */
  runs(projectId?: number): QACRun[] {
    const all = [...this.runMap.values()].filter((run) => projectId === undefined || run.projectId === projectId);
    return all.sort((a, b) => a.id - b.id);
  }

  items(runId: number): QACRunItem[] {
    return this.runMap.get(runId)?.items ?? [];
  }

  addRun(input: RunInput): QACRun {
    const project = this.requireProject(input.projectId);
    const { testIds, testSetId } = this.testsForRun(input);
    const created = input.dateCreated !== undefined ? toDate(input.dateCreated) : this.now();
    const host = input.hostId ? this.hosts.get(input.hostId) : undefined;
    if (input.hostId && !host) throw new Error(`host ${input.hostId} does not exist`);
    const specs = input.items ?? testIds.map(() => 'Awaiting Run');
    if (specs.length !== testIds.length) throw new Error(`run has ${testIds.length} tests but ${specs.length} item statuses were given`);
    const runByUserId = input.runByUserId ?? this.defaultUserId();
    const run: QACRun = {
      id: this.take('run', input.id, this.runMap),
      projectId: project.id,
      testId: testSetId ? 0 : testIds[0],
      testSetId,
      testConfigId: input.testConfigId ?? 0,
      releaseId: input.releaseId ?? 0,
      hostId: host?.id ?? 0,
      testHost: input.testHost ?? host?.name ?? '',
      runByUserId,
      isSequential: input.isSequential ?? this.testSets.get(testSetId)?.isSequential ?? false,
      statusCode: RUN_STATUS.awaiting,
      executionType: input.executionType ?? (host || input.testHost ? 'Automated' : 'Manual'),
      scheduleId: input.scheduleId ?? '0',
      dateCreated: created,
      dateStarted: input.dateStarted === undefined ? created : input.dateStarted === null ? null : toDate(input.dateStarted),
      dateFinished: null,
      items: [],
    };
    testIds.forEach((testId, index) => {
      const spec = specs[index];
      const status = canonicalItemStatus(typeof spec === 'string' ? spec : spec.status);
      const runTime = typeof spec === 'string' ? (status === 'Awaiting Run' ? 0 : 30 + index * 7) : spec.runTime ?? 0;
      const done = status !== 'Awaiting Run';
      const at = new Date(created.getTime() + (index + 1) * 60_000);
      run.items.push(this.newItem(run, testId, index + 1, { statusCode: status, runTime, dateStarted: done ? at : null, dateUpdated: done ? at : null, updatedByUserId: done ? runByUserId : 0 }));
    });
    run.statusCode = input.statusCode ?? deriveRunStatus(run.items);
    if (input.dateFinished !== undefined) run.dateFinished = input.dateFinished === null ? null : toDate(input.dateFinished);
    else if (FINAL_RUN_STATUSES.includes(run.statusCode)) run.dateFinished = this.lastResultAt(run) ?? created;
    this.runMap.set(run.id, run);
    return run;
  }

  /** The vendor's restart: a new run of the same tests, configuration, release and host; the old run is untouched. */
  restartRun(old: QACRun, userId: number): QACRun {
    return this.addRun({
      projectId: old.projectId,
      testId: old.testSetId ? undefined : old.testId,
      testSetId: old.testSetId || undefined,
      testConfigId: old.testConfigId,
      releaseId: old.releaseId,
      hostId: old.hostId || undefined,
      testHost: old.hostId ? undefined : old.testHost || undefined,
      runByUserId: userId,
      isSequential: old.isSequential,
      executionType: old.executionType,
      dateCreated: this.now(),
    });
  }

  deleteRun(id: number): boolean {
    return this.runMap.delete(id);
  }

  updateItem(run: QACRun, item: QACRunItem, change: ItemChange): QACRunItem {
    const now = this.now();
    item.statusCode = canonicalItemStatus(change.statusCode);
    if (change.runTime !== undefined) item.runTime = change.runTime;
    if (change.hostName !== undefined) item.hostName = change.hostName;
    item.runByUserId = change.userId;
    item.updatedByUserId = change.userId;
    item.dateUpdated = now;
    if (item.statusCode === 'Awaiting Run') item.dateStarted = null;
    else item.dateStarted = change.startedAt ?? item.dateStarted ?? now;
    if (change.steps) this.applySteps(item, change.steps, change.replaceSteps ?? false);
    this.recompute(run, now);
    return item;
  }

  /** Re-derives status and finish date from the items (any pinned status is replaced). */
  recompute(run: QACRun, now = this.now()): void {
    run.statusCode = deriveRunStatus(run.items);
    if (!FINAL_RUN_STATUSES.includes(run.statusCode)) run.dateFinished = null;
    else run.dateFinished = now;
  }

  private applySteps(item: QACRunItem, steps: NonNullable<ItemChange['steps']>, replace: boolean): void {
    if (replace) item.results = [];
    for (const [index, change] of steps.entries()) {
      const seq = change.seq ?? (replace ? index + 1 : item.results.length + 1);
      let result = item.results.find((r) => r.seq === seq);
      if (!result) {
        result = { id: this.take('step'), seq, statusCode: 'Awaiting Run', step: '', expectedResult: '', actualResult: '', testStepId: 0 };
        item.results.push(result);
      }
      result.statusCode = canonicalItemStatus(change.statusCode);
      if (change.step !== undefined) result.step = change.step;
      if (change.expectedResult !== undefined) result.expectedResult = change.expectedResult;
      if (change.actualResult !== undefined) result.actualResult = change.actualResult;
      if (change.testStepId !== undefined) result.testStepId = change.testStepId;
    }
    item.results.sort((a, b) => a.seq - b.seq);
  }

  private newItem(run: QACRun, testId: number, sequenceNumber: number, state: Pick<QACRunItem, 'statusCode' | 'runTime' | 'dateStarted' | 'dateUpdated' | 'updatedByUserId'>): QACRunItem {
    const test = this.tests.get(testId);
    const results = (test?.steps ?? []).map((step) => ({
      id: this.take('step'), seq: step.seq, statusCode: state.statusCode === 'Skipped' ? 'Awaiting Run' : state.statusCode, // a skipped test ran no steps
      step: step.step, expectedResult: step.expected, actualResult: '', testStepId: testId * 10 + step.seq,
    }));
    return { id: this.take('item'), runId: run.id, testId, sequenceNumber, hostName: run.testHost, runByUserId: run.runByUserId, results, ...state };
  }

  private lastResultAt(run: QACRun): Date | null {
    const times = run.items.map((item) => item.dateUpdated?.getTime() ?? 0).filter((t) => t > 0);
    return times.length ? new Date(Math.max(...times)) : null;
  }

  private testsForRun(input: RunInput): { testIds: number[]; testSetId: number } {
    if (input.testSetId) {
      const set = this.testSets.get(input.testSetId);
      if (!set || set.projectId !== input.projectId) throw new Error(`test set ${input.testSetId} is not in project ${input.projectId}`);
      return { testIds: [...set.testIds], testSetId: set.id };
    }
    if (input.testId) {
      if (this.tests.get(input.testId)?.projectId !== input.projectId) throw new Error(`test ${input.testId} is not in project ${input.projectId}`);
      return { testIds: [input.testId], testSetId: 0 };
    }
    // Neither given: a convenience for tests, which then need not build a test library first.
    const count = Math.max(1, input.items?.length ?? 1);
    const testIds = Array.from({ length: count }, (_, i) => this.addTest({ projectId: input.projectId, title: `Ad-hoc test ${i + 1}` }).id);
    if (count === 1) return { testIds, testSetId: 0 };
    return { testIds, testSetId: this.addTestSet({ projectId: input.projectId, title: `Ad-hoc set of ${count} tests`, testIds }).id };
  }

  private requireProject(id: number): QACProject {
    const project = this.projects.get(id);
    if (!project) throw new Error(`project ${id} does not exist`);
    return project;
  }

  private defaultDeptId(): number {
    const first = this.depts.keys().next();
    return first.done ? this.addDept({ name: 'Default' }).id : first.value;
  }

  private defaultUserId(): number {
    const first = this.users.keys().next();
    return first.done ? 0 : first.value;
  }
}
