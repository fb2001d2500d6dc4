/**
 * The simulator's state, shared by the HTTP handlers and by tests that arrange or inspect it
 * directly. Arrange methods trust their caller (they bypass the API's rules, e.g. a test may add
 * a result to a closed run); the handlers enforce the vendor's rules before calling them.
 * Counters are never stored: they are computed from the tests' current statuses on every read,
 * so no code path can leave them stale (§9 "keep run counters derived").
 */
import type { CaseRecord, Counters, MilestoneRecord, PlanEntryRecord, PlanRecord, ProjectRecord, ResultRecord, RunRecord, StatusRecord, SuiteRecord, TestRecord, UserRecord } from './model';
import { COUNTER_FIELDS, UNTESTED, counterOf, defaultStatuses, zeroCounters } from './model';
import type { CaseInput, MilestoneInput, PlanEntryInput, PlanInput, ProjectInput, ResultInput, RunInput, SuiteInput, UserInput } from './model';
import { GuidSource, Table } from './ids';

export type { CaseInput, MilestoneInput, PlanEntryInput, PlanInput, ProjectInput, ResultInput, RunInput, SuiteInput, UserInput } from './model';

const DAY = 86_400;

export class TestRailStore {
  /** Seconds since the epoch for everything the API creates; replace it to freeze time in a test. */
  clock: () => number = () => Math.floor(Date.now() / 1000);
  readonly statuses: StatusRecord[] = defaultStatuses();

  private readonly projects = new Table<ProjectRecord>('project');
  private readonly suites = new Table<SuiteRecord>('suite');
  private readonly cases = new Table<CaseRecord>('case');
  private readonly milestones = new Table<MilestoneRecord>('milestone');
  private readonly users = new Table<UserRecord>('user');
  private readonly runs = new Table<RunRecord>('run');
  private readonly tests = new Table<TestRecord>('test');
  private readonly results = new Table<ResultRecord>('result');
  private readonly plans = new Table<PlanRecord>('plan');
  private readonly testsByRun = new Map<number, number[]>();
  private readonly resultsByTest = new Map<number, number[]>();
  private readonly guids = new GuidSource();

  // ------------------------------------------------------------------------------------ arrange

  addProject(input: ProjectInput): ProjectRecord {
    const project: ProjectRecord = {
      id: this.projects.take(input.id),
      name: input.name,
      announcement: input.announcement ?? null,
      show_announcement: input.show_announcement ?? false,
      is_completed: input.is_completed ?? false,
      completed_on: input.completed_on ?? (input.is_completed ? this.clock() : null),
      suite_mode: input.suite_mode ?? 1,
    };
    this.projects.set(project.id, project);
    // Single-suite projects always own exactly one master suite (§3.6).
    if (project.suite_mode !== 3) this.addSuite(project.id, { name: 'Master', is_master: true });
    return project;
  }

  addSuite(projectId: number, input: SuiteInput): SuiteRecord {
    const project = this.projects.must(projectId);
    if (project.suite_mode !== 3 && this.suitesOf(projectId).length > 0) {
      throw new Error(`project ${projectId} is single-suite (suite_mode ${project.suite_mode}); add cases to its master suite instead`);
    }
    const suite: SuiteRecord = {
      id: this.suites.take(input.id),
      project_id: projectId,
      name: input.name,
      description: input.description ?? null,
      is_master: input.is_master ?? false,
      is_baseline: input.is_baseline ?? false,
      is_completed: input.is_completed ?? false,
      completed_on: input.completed_on ?? null,
    };
    this.suites.set(suite.id, suite);
    return suite;
  }

  addCase(suiteId: number, input: CaseInput): CaseRecord {
    this.suites.must(suiteId);
    const testCase: CaseRecord = {
      id: this.cases.take(input.id),
      suite_id: suiteId,
      title: input.title,
      template_id: input.template_id ?? 1,
      type_id: input.type_id ?? 7,
      priority_id: input.priority_id ?? 2,
      milestone_id: input.milestone_id ?? null,
      refs: input.refs ?? null,
      estimate: input.estimate ?? null,
    };
    this.cases.set(testCase.id, testCase);
    // TestRail adds new cases to active runs that include all cases of their suite.
    for (const run of this.runs.values()) {
      if (run.suite_id === suiteId && run.include_all && !run.is_completed) this.addTest(run, testCase.id);
    }
    return testCase;
  }

  addMilestone(projectId: number, input: MilestoneInput): MilestoneRecord {
    this.projects.must(projectId);
    const milestone: MilestoneRecord = {
      id: this.milestones.take(input.id),
      project_id: projectId,
      name: input.name,
      description: input.description ?? null,
      due_on: input.due_on ?? null,
      start_on: input.start_on ?? null,
      started_on: input.started_on ?? null,
      is_started: input.is_started ?? false,
      is_completed: input.is_completed ?? false,
      completed_on: input.completed_on ?? null,
      parent_id: input.parent_id ?? null,
      refs: input.refs ?? null,
    };
    this.milestones.set(milestone.id, milestone);
    return milestone;
  }

  addUser(input: UserInput): UserRecord {
    const user: UserRecord = {
      id: this.users.take(input.id),
      name: input.name ?? input.email.split('@')[0],
      email: input.email,
      password: input.password ?? null,
      is_active: input.is_active ?? true,
      role_id: input.role_id ?? 3,
      role: input.role ?? 'Tester',
      is_admin: input.is_admin ?? false,
      project_ids: input.project_ids ?? null,
    };
    this.users.set(user.id, user);
    return user;
  }

  /** A standalone run, or a run inside a plan entry when `plan_id` and `entry_id` are given. */
  addRun(projectId: number, input: RunInput = {}): RunRecord {
    const project = this.projects.must(projectId);
    let suiteId = input.suite_id ?? this.suitesOf(projectId)[0]?.id;
    if (input.plan_id !== undefined && input.plan_id !== null) {
      const plan = this.plans.must(input.plan_id);
      if (plan.project_id !== project.id) throw new Error(`plan ${plan.id} belongs to project ${plan.project_id}, not ${project.id}`);
      const entry = plan.entries.find((e) => e.id === input.entry_id);
      if (!entry) throw new Error(`plan ${plan.id} has no entry ${String(input.entry_id)}; add it with addPlanEntry first`);
      suiteId = entry.suite_id;
    }
    if (suiteId === undefined) throw new Error(`project ${project.id} has no suite; add one with addSuite first`);
    const suite = this.suites.must(suiteId);
    if (suite.project_id !== project.id) throw new Error(`suite ${suite.id} belongs to project ${suite.project_id}, not ${project.id}`);

    const suiteCases = this.casesOf(suite.id).map((c) => c.id);
    const statuses = input.statuses ?? [];
    let caseIds = input.case_ids;
    if (!caseIds && statuses.length > 0 && input.include_all !== true) caseIds = suiteCases.slice(0, statuses.length);
    const includeAll = input.include_all ?? !caseIds;
    const selected = includeAll ? suiteCases : caseIds ?? [];
    if (statuses.length > selected.length) {
      throw new Error(`run asks for ${statuses.length} test statuses but selects only ${selected.length} cases of suite ${suite.id}; add cases with addCase`);
    }
    for (const caseId of selected) {
      if (this.cases.get(caseId)?.suite_id !== suite.id) throw new Error(`case ${caseId} is not in suite ${suite.id}`);
    }

    const createdOn = input.created_on ?? this.clock();
    const isCompleted = input.is_completed ?? false;
    const run: RunRecord = {
      id: this.runs.take(input.id),
      project_id: project.id,
      suite_id: suite.id,
      name: input.name ?? `Test Run ${new Date(createdOn * 1000).toISOString().slice(0, 10)}`,
      description: input.description ?? null,
      milestone_id: input.milestone_id ?? null,
      assignedto_id: input.assignedto_id ?? null,
      include_all: includeAll,
      is_completed: isCompleted,
      completed_on: input.completed_on ?? (isCompleted ? createdOn + DAY : null),
      config: input.config ?? null,
      config_ids: input.config_ids ?? [],
      plan_id: input.plan_id ?? null,
      entry_id: input.plan_id ? input.entry_id ?? null : null,
      created_on: createdOn,
      created_by: input.created_by ?? 1,
      updated_on: input.updated_on ?? null,
      refs: input.refs ?? null,
      start_on: input.start_on ?? null,
      due_on: input.due_on ?? null,
    };
    this.runs.set(run.id, run);
    this.testsByRun.set(run.id, []);
    if (run.plan_id !== null) {
      this.plans.get(run.plan_id)!.entries.find((e) => e.id === run.entry_id)!.run_ids.push(run.id);
    }
    selected.forEach((caseId, index) => {
      const test = this.addTest(run, caseId);
      const status = statuses[index];
      if (status !== undefined && status !== UNTESTED) {
        this.addResult(test.id, { status_id: status, created_on: createdOn + 60 * (index + 1), created_by: run.created_by });
      }
    });
    return run;
  }

  addPlan(projectId: number, input: PlanInput = {}): PlanRecord {
    this.projects.must(projectId);
    const createdOn = input.created_on ?? this.clock();
    const isCompleted = input.is_completed ?? false;
    const plan: PlanRecord = {
      id: this.plans.take(input.id),
      project_id: projectId,
      name: input.name ?? `Test Plan ${new Date(createdOn * 1000).toISOString().slice(0, 10)}`,
      description: input.description ?? null,
      milestone_id: input.milestone_id ?? null,
      assignedto_id: input.assignedto_id ?? null,
      is_completed: isCompleted,
      completed_on: input.completed_on ?? (isCompleted ? createdOn + DAY : null),
      created_on: createdOn,
      created_by: input.created_by ?? 1,
      refs: input.refs ?? null,
      start_on: input.start_on ?? null,
      due_on: input.due_on ?? null,
      entries: [],
    };
    this.plans.set(plan.id, plan);
    for (const entry of input.entries ?? []) this.addPlanEntry(plan.id, entry);
    return plan;
  }

  /** An entry (one suite) with its runs; runs inherit the plan's creation and completion. */
  addPlanEntry(planId: number, input: PlanEntryInput = {}): PlanEntryRecord {
    const plan = this.plans.must(planId);
    const suiteId = input.suite_id ?? this.suitesOf(plan.project_id)[0]?.id;
    if (suiteId === undefined) throw new Error(`project ${plan.project_id} has no suite for the plan entry`);
    const entry: PlanEntryRecord = {
      id: input.id ?? this.guids.next(),
      suite_id: suiteId,
      name: input.name ?? this.suites.must(suiteId).name,
      description: input.description ?? null,
      include_all: input.include_all ?? !input.case_ids,
      refs: input.refs ?? null,
      run_ids: [],
    };
    plan.entries.push(entry);
    for (const run of input.runs ?? [{}]) {
      this.addRun(plan.project_id, {
        name: entry.name,
        include_all: entry.include_all,
        case_ids: input.case_ids,
        created_on: plan.created_on,
        created_by: plan.created_by,
        milestone_id: plan.milestone_id,
        is_completed: plan.is_completed,
        completed_on: plan.completed_on,
        ...run,
        plan_id: plan.id,
        entry_id: entry.id,
      });
    }
    return entry;
  }

  /** Records a result; a result with a status becomes the test's current status. */
  addResult(testId: number, input: ResultInput = {}): ResultRecord {
    const test = this.tests.must(testId);
    const custom: Record<string, unknown> = { ...input.custom };
    const result: ResultRecord = {
      id: this.results.take(input.id),
      test_id: test.id,
      status_id: input.status_id ?? null,
      created_on: input.created_on ?? this.clock(),
      created_by: input.created_by ?? 1,
      assignedto_id: input.assignedto_id ?? null,
      comment: input.comment ?? null,
      version: input.version ?? null,
      elapsed: input.elapsed ?? null,
      defects: input.defects ?? null,
      custom,
    };
    this.results.set(result.id, result);
    this.resultsByTest.get(test.id)!.push(result.id);
    if (result.status_id !== null) test.status_id = result.status_id;
    if (input.assignedto_id !== undefined) test.assignedto_id = input.assignedto_id;
    return result;
  }

  // ----------------------------------------------------------------------- changes the API makes

  /** Replaces a run's test set: kept cases keep their tests and results, new ones start untested. */
  setRunCases(runId: number, caseIds: number[]): void {
    const run = this.runs.must(runId);
    const wanted = new Set(caseIds);
    const kept: number[] = [];
    for (const testId of this.testsByRun.get(run.id)!) {
      const test = this.tests.get(testId)!;
      if (wanted.has(test.case_id)) {
        kept.push(testId);
        wanted.delete(test.case_id);
      } else this.dropTest(testId);
    }
    this.testsByRun.set(run.id, kept);
    for (const caseId of caseIds) if (wanted.has(caseId)) this.addTest(run, caseId);
  }

  closeRun(runId: number): RunRecord {
    const run = this.runs.must(runId);
    run.is_completed = true;
    run.completed_on = this.clock();
    return run;
  }

  /** Removes the run with its tests and results (TestRail's delete is irreversible). */
  deleteRun(runId: number): void {
    const run = this.runs.must(runId);
    for (const testId of this.testsByRun.get(run.id)!) this.dropTest(testId);
    this.testsByRun.delete(run.id);
    this.runs.delete(run.id);
    if (run.plan_id !== null) {
      const entry = this.plans.get(run.plan_id)?.entries.find((e) => e.id === run.entry_id);
      if (entry) entry.run_ids = entry.run_ids.filter((id) => id !== run.id);
    }
  }

  /**
   * close_plan: the plan and every run in it close at once, at one time ("closes an existing test
   * plan and archives its test runs & results", §4.3's related routes); cannot be undone.
   */
  closePlan(planId: number): PlanRecord {
    const plan = this.plans.must(planId);
    const now = this.clock();
    plan.is_completed = true;
    plan.completed_on = now;
    for (const entry of plan.entries) {
      for (const runId of entry.run_ids) {
        const run = this.runs.get(runId)!;
        if (run.is_completed) continue;
        run.is_completed = true;
        run.completed_on = now;
      }
    }
    return plan;
  }

  /** delete_plan: the plan goes with its entries' runs, their tests and results (irreversible). */
  deletePlan(planId: number): void {
    const plan = this.plans.must(planId);
    for (const entry of plan.entries) for (const runId of [...entry.run_ids]) this.deleteRun(runId);
    this.plans.delete(plan.id);
  }

  // --------------------------------------------------------------------------------------- read

  project(id: number): ProjectRecord | undefined { return this.projects.get(id); }
  suite(id: number): SuiteRecord | undefined { return this.suites.get(id); }
  case(id: number): CaseRecord | undefined { return this.cases.get(id); }
  milestone(id: number): MilestoneRecord | undefined { return this.milestones.get(id); }
  user(id: number): UserRecord | undefined { return this.users.get(id); }
  run(id: number): RunRecord | undefined { return this.runs.get(id); }
  hasRun(id: number): boolean { return this.runs.has(id); }
  test(id: number): TestRecord | undefined { return this.tests.get(id); }
  result(id: number): ResultRecord | undefined { return this.results.get(id); }
  plan(id: number): PlanRecord | undefined { return this.plans.get(id); }
  status(id: number): StatusRecord | undefined { return this.statuses.find((s) => s.id === id); }

  userByEmail(email: string): UserRecord | undefined {
    // TestRail logins are e-mail addresses; matching them case-insensitively is what users expect.
    const wanted = email.toLowerCase();
    return [...this.users.values()].find((u) => u.email.toLowerCase() === wanted);
  }

  allProjects(): ProjectRecord[] { return this.projects.sorted(); }
  allUsers(): UserRecord[] { return this.users.sorted(); }
  suitesOf(projectId: number): SuiteRecord[] { return this.suites.sorted().filter((s) => s.project_id === projectId); }
  casesOf(suiteId: number): CaseRecord[] { return this.cases.sorted().filter((c) => c.suite_id === suiteId); }
  milestonesOf(projectId: number): MilestoneRecord[] { return this.milestones.sorted().filter((m) => m.project_id === projectId); }
  plansOf(projectId: number): PlanRecord[] { return this.plans.sorted().filter((p) => p.project_id === projectId); }

  /** Every run of the project in ascending id, plan runs included (get_runs filters them out). */
  runsOf(projectId: number): RunRecord[] { return this.runs.sorted().filter((r) => r.project_id === projectId); }

  /** Tests of a run in creation order, which follows the case order of the selection. */
  testsOf(runId: number): TestRecord[] {
    return (this.testsByRun.get(runId) ?? []).map((id) => this.tests.get(id)!);
  }

  resultsOf(testId: number): ResultRecord[] {
    return (this.resultsByTest.get(testId) ?? []).map((id) => this.results.get(id)!);
  }

  resultsOfRun(runId: number): ResultRecord[] {
    return this.testsOf(runId).flatMap((test) => this.resultsOf(test.id));
  }

  /** The run's counters, from its tests' current statuses. */
  countersOf(runId: number): Counters {
    const counters = zeroCounters();
    for (const test of this.testsOf(runId)) {
      const field = counterOf(test.status_id);
      if (field) counters[field] += 1;
    }
    return counters;
  }

  /** A plan's counters are the sums over all runs of all its entries. */
  planCounters(planId: number): Counters {
    const counters = zeroCounters();
    for (const entry of this.plans.get(planId)?.entries ?? []) {
      for (const runId of entry.run_ids) {
        const own = this.countersOf(runId);
        for (const field of COUNTER_FIELDS) counters[field] += own[field];
      }
    }
    return counters;
  }

  /** The plan entry a run belongs to, with its 1-based position in the plan. */
  entryOf(run: RunRecord): { plan: PlanRecord; entry: PlanEntryRecord; entry_index: number } | undefined {
    if (run.plan_id === null) return undefined;
    const plan = this.plans.get(run.plan_id);
    const index = plan?.entries.findIndex((e) => e.id === run.entry_id) ?? -1;
    return plan && index >= 0 ? { plan, entry: plan.entries[index], entry_index: index + 1 } : undefined;
  }

  // ------------------------------------------------------------------------------------ private

  private addTest(run: RunRecord, caseId: number): TestRecord {
    const test: TestRecord = { id: this.tests.take(), run_id: run.id, case_id: caseId, status_id: UNTESTED, assignedto_id: run.assignedto_id };
    this.tests.set(test.id, test);
    this.testsByRun.get(run.id)!.push(test.id);
    this.resultsByTest.set(test.id, []);
    return test;
  }

  private dropTest(testId: number): void {
    for (const resultId of this.resultsByTest.get(testId) ?? []) this.results.delete(resultId);
    this.resultsByTest.delete(testId);
    this.tests.delete(testId);
  }
}
