/**
 * Records → the JSON TestRail sends (../../../../shared/vendors/testrail.md §3). Every documented
 * field is always present, null where unset (§3.1 "all listed fields always present"), and the
 * newer fields a live 2026 Cloud instance sends are included too, so clients meet the full shape.
 * Key order follows the doc examples and the live fixture, which makes captured bodies diffable.
 */
import type { CaseRecord, MilestoneRecord, PlanEntryRecord, PlanRecord, ProjectRecord, ResultRecord, RunRecord, StatusRecord, SuiteRecord, TestRecord, UserRecord } from './model';
import type { TestRailStore } from './store';

export type Json = Record<string, unknown>;

export class TestRailJson {
  /** `base` is the instance URL without a trailing slash, e.g. http://127.0.0.1:4711. */
  constructor(private readonly store: TestRailStore, private readonly base: string) {}

  private url(path: string): string {
    return `${this.base}/index.php?/${path}`;
  }

  /**
   * `inPlan` = the run as listed inside get_plan's entries, which adds entry_id and entry_index.
   * get_run omits them even for plan runs (§3.1: "standalone get_run omits them").
   */
  run(run: RunRecord, inPlan = false): Json {
    const placement = inPlan ? this.store.entryOf(run) : undefined;
    return {
      id: run.id,
      suite_id: run.suite_id,
      name: run.name,
      description: run.description,
      milestone_id: run.milestone_id,
      assignedto_id: run.assignedto_id,
      include_all: run.include_all,
      is_completed: run.is_completed,
      completed_on: run.completed_on,
      is_archived: false,
      archived_on: null,
      ...this.store.countersOf(run.id),
      project_id: run.project_id,
      plan_id: run.plan_id,
      ...(placement ? { entry_index: placement.entry_index, entry_id: placement.entry.id } : {}),
      config: run.config,
      config_ids: run.config_ids,
      created_on: run.created_on,
      refs: run.refs,
      created_by: run.created_by,
      updated_on: run.updated_on,
      start_on: run.start_on,
      due_on: run.due_on,
      dynamic_filters: null,
      url: this.url(`runs/view/${run.id}`),
    };
  }

  /** get_plans items carry no `entries`; get_plan adds them (§3.2). */
  plan(plan: PlanRecord, withEntries: boolean): Json {
    return {
      id: plan.id,
      name: plan.name,
      description: plan.description,
      milestone_id: plan.milestone_id,
      assignedto_id: plan.assignedto_id,
      is_completed: plan.is_completed,
      completed_on: plan.completed_on,
      is_archived: false,
      archived_on: null,
      ...this.store.planCounters(plan.id),
      project_id: plan.project_id,
      created_on: plan.created_on,
      created_by: plan.created_by,
      refs: plan.refs,
      start_on: plan.start_on,
      due_on: plan.due_on,
      url: this.url(`plans/view/${plan.id}`),
      ...(withEntries ? { entries: plan.entries.map((entry) => this.entry(entry)) } : {}),
    };
  }

  entry(entry: PlanEntryRecord): Json {
    return {
      id: entry.id,
      suite_id: entry.suite_id,
      name: entry.name,
      refs: entry.refs,
      description: entry.description,
      include_all: entry.include_all,
      dynamic_filters: null,
      runs: entry.run_ids.map((id) => this.run(this.store.run(id)!, true)),
    };
  }

  /** Case fields are copied from the case, as TestRail flattens them onto the test (§3.3). */
  test(test: TestRecord): Json {
    const testCase = this.store.case(test.case_id);
    return {
      id: test.id,
      case_id: test.case_id,
      status_id: test.status_id,
      assignedto_id: test.assignedto_id,
      run_id: test.run_id,
      title: testCase?.title ?? '',
      template_id: testCase?.template_id ?? 1,
      type_id: testCase?.type_id ?? 7,
      priority_id: testCase?.priority_id ?? 2,
      estimate: testCase?.estimate ?? null,
      estimate_forecast: null,
      refs: testCase?.refs ?? null,
      milestone_id: testCase?.milestone_id ?? null,
      labels: [],
    };
  }

  /** `withCaseId`: get_results_for_run items also name the case (§3.4 "also seen"). */
  result(result: ResultRecord, withCaseId = false): Json {
    const caseId = withCaseId ? this.store.test(result.test_id)?.case_id : undefined;
    return {
      id: result.id,
      test_id: result.test_id,
      ...(caseId !== undefined ? { case_id: caseId } : {}),
      status_id: result.status_id,
      created_on: result.created_on,
      created_by: result.created_by,
      assignedto_id: result.assignedto_id,
      comment: result.comment,
      version: result.version,
      elapsed: result.elapsed,
      defects: result.defects,
      attachment_ids: [],
      ...result.custom,
    };
  }

  project(project: ProjectRecord): Json {
    return {
      id: project.id,
      name: project.name,
      announcement: project.announcement,
      show_announcement: project.show_announcement,
      is_completed: project.is_completed,
      completed_on: project.completed_on,
      suite_mode: project.suite_mode,
      default_role_id: 3,
      default_role: 'Tester',
      url: this.url(`projects/overview/${project.id}`),
    };
  }

  suite(suite: SuiteRecord): Json {
    return {
      id: suite.id,
      name: suite.name,
      description: suite.description,
      project_id: suite.project_id,
      is_master: suite.is_master,
      is_baseline: suite.is_baseline,
      is_completed: suite.is_completed,
      completed_on: suite.completed_on,
      url: this.url(`suites/view/${suite.id}`),
    };
  }

  /**
   * The reference has no field table for cases (get_cases is only named among the paged lists,
   * §5.1); these are the case fields a test copies from its case (§3.3), plus its suite. Sections
   * are not modelled, so no `section_id` is sent.
   */
  case(testCase: CaseRecord): Json {
    return {
      id: testCase.id,
      title: testCase.title,
      template_id: testCase.template_id,
      type_id: testCase.type_id,
      priority_id: testCase.priority_id,
      milestone_id: testCase.milestone_id,
      refs: testCase.refs,
      estimate: testCase.estimate,
      estimate_forecast: null,
      suite_id: testCase.suite_id,
      labels: [],
    };
  }

  milestone(milestone: MilestoneRecord): Json {
    const children = this.store.milestonesOf(milestone.project_id).filter((m) => m.parent_id === milestone.id);
    return {
      id: milestone.id,
      name: milestone.name,
      description: milestone.description,
      project_id: milestone.project_id,
      due_on: milestone.due_on,
      start_on: milestone.start_on,
      started_on: milestone.started_on,
      is_started: milestone.is_started,
      is_completed: milestone.is_completed,
      completed_on: milestone.completed_on,
      parent_id: milestone.parent_id,
      refs: milestone.refs,
      url: this.url(`milestones/view/${milestone.id}`),
      milestones: children.map((child) => this.milestone(child)),
    };
  }

  /** mfa_required is an integer because a live Cloud instance sends 0/1 although the docs say bool (§3.9). */
  user(user: UserRecord): Json {
    return {
      id: user.id,
      name: user.name,
      email: user.email,
      is_active: user.is_active,
      role_id: user.role_id,
      role: user.role,
      is_admin: user.is_admin,
      email_notifications: true,
      group_ids: [],
      mfa_required: 0,
    };
  }

  status(status: StatusRecord): Json {
    return {
      id: status.id,
      name: status.name,
      label: status.label,
      color_dark: status.color_dark,
      color_medium: status.color_medium,
      color_bright: status.color_bright,
      is_system: status.is_system,
      is_untested: status.is_untested,
      is_final: status.is_final,
      // The live fixture redacts the system statuses' value; null is what custom ones send.
      i18n_custom_id: null,
    };
  }
}
