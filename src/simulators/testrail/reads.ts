/**
 * The GET routes (§4). Lists are filtered in memory and handed to `paged`, which owns limits,
 * offsets and links. Orders: runs and plans by ascending id — the vendor documents no order
 * (§4.2), so we pick one and say it; the demo seed makes created_on disagree with it on purpose.
 * Tests follow their run's case order; results are newest first, as the docs' "latest results"
 * example implies (§4.2, inferred).
 */
import { ApiError, badRequest, boolParam, idArg, idListParam, ok, paged, timestampParam, toId } from './http';
import { type Ctx, type Handler, INVALID, canSee, planArg, projectArg, projectById, runArg, suiteArg, testArg } from './lookups';
import type { ResultRecord, RunRecord, UserRecord } from './model';

/** created_after / created_before are strict ("after" / "before" this date); inclusiveness is unverified. */
function createdWithin(ctx: Ctx): (createdOn: number) => boolean {
  const after = timestampParam(ctx.call, 'created_after');
  const before = timestampParam(ctx.call, 'created_before');
  return (createdOn) => (after === undefined || createdOn > after) && (before === undefined || createdOn < before);
}

function inList(list: number[] | undefined, value: number | null): boolean {
  return list === undefined || (value !== null && list.includes(value));
}

const newestFirst = (a: ResultRecord, b: ResultRecord) => b.created_on - a.created_on || b.id - a.id;

/** Shared result filters of get_results, get_results_for_case and get_results_for_run. */
function filterResults(ctx: Ctx, results: ResultRecord[], withCreation: boolean): ResultRecord[] {
  const statusIds = idListParam(ctx.call, 'status_id');
  const defect = ctx.call.params.get('defects_filter');
  const created = withCreation ? createdWithin(ctx) : () => true;
  const createdBy = withCreation ? idListParam(ctx.call, 'created_by') : undefined;
  return results
    .filter((r) => inList(statusIds, r.status_id) && created(r.created_on) && inList(createdBy, r.created_by))
    .filter((r) => !defect || (r.defects ?? '').split(',').map((d) => d.trim()).includes(defect))
    .sort(newestFirst);
}

function usersOfProject(ctx: Ctx, projectId: number): UserRecord[] {
  return ctx.store.allUsers().filter((user) => canSee(user, projectId));
}

export const READS: Record<string, Handler> = {
  get_projects(ctx) {
    const completed = boolParam(ctx.call, 'is_completed');
    const projects = ctx.store.allProjects().filter((p) => canSee(ctx.user, p.id) && (completed === undefined || p.is_completed === completed));
    return paged(ctx.call, 'projects', projects, (p) => ctx.json.project(p), ctx.compat.legacyBareArrays);
  },

  get_project: (ctx) => ok(ctx.json.project(projectArg(ctx))),

  get_suites(ctx) {
    const suites = ctx.store.suitesOf(projectArg(ctx).id);
    if (!ctx.compat.suitesEnvelope) return ok(suites.map((s) => ctx.json.suite(s)));
    return paged(ctx.call, 'suites', suites, (s) => ctx.json.suite(s), ctx.compat.legacyBareArrays);
  },

  get_suite: (ctx) => ok(ctx.json.suite(suiteArg(ctx))),

  /**
   * `suite_id` may be left out only in a single-suite project (mode 1), where it means the master
   * suite, as on add_run; modes 2 and 3 require it. A suite of another project is "not a valid
   * test suite". Paged in the envelope `cases` (§5.1), in case id order (unverified, as for runs).
   */
  get_cases(ctx) {
    const project = projectArg(ctx);
    const raw = ctx.call.params.get('suite_id');
    let suiteId: number;
    if (raw === undefined || raw === '') {
      if (project.suite_mode !== 1) throw badRequest(INVALID.suiteRequired);
      suiteId = ctx.store.suitesOf(project.id)[0].id;
    } else {
      const suite = ctx.store.suite(toId(raw) ?? 0);
      if (!suite || suite.project_id !== project.id) throw badRequest(INVALID.suite);
      suiteId = suite.id;
    }
    return paged(ctx.call, 'cases', ctx.store.casesOf(suiteId), (c) => ctx.json.case(c), ctx.compat.legacyBareArrays);
  },

  /** A bare array, never paged; only active statuses are listed (§3.7). */
  get_statuses: (ctx) => ok(ctx.store.statuses.filter((s) => s.is_active).map((s) => ctx.json.status(s))),

  /** Standalone runs only: plan runs are reachable through get_plan and get_run (§7.2). */
  get_runs(ctx) {
    const project = projectArg(ctx);
    const created = createdWithin(ctx);
    const createdBy = idListParam(ctx.call, 'created_by');
    const completed = boolParam(ctx.call, 'is_completed');
    const milestones = idListParam(ctx.call, 'milestone_id');
    const suites = idListParam(ctx.call, 'suite_id');
    const ref = ctx.call.params.get('refs_filter');
    // include_plan_runs is documented only by one client, "applied together with is_completed"
    // (≥ 6.7) — unverified; we honour it exactly under that condition.
    const withPlanRuns = boolParam(ctx.call, 'include_plan_runs') === true && completed !== undefined;
    const runs = ctx.store.runsOf(project.id).filter(
      (run: RunRecord) =>
        (run.plan_id === null || withPlanRuns) &&
        created(run.created_on) &&
        inList(createdBy, run.created_by) &&
        (completed === undefined || run.is_completed === completed) &&
        inList(milestones, run.milestone_id) &&
        inList(suites, run.suite_id) &&
        // "A single Reference ID": matched exactly against the run's comma-separated refs (unverified).
        (!ref || (run.refs ?? '').split(',').map((r) => r.trim()).includes(ref.trim())),
    );
    return paged(ctx.call, 'runs', runs, (run) => ctx.json.run(run), ctx.compat.legacyBareArrays);
  },

  get_run: (ctx) => ok(ctx.json.run(runArg(ctx))),

  get_tests(ctx) {
    const run = runArg(ctx);
    const statusIds = idListParam(ctx.call, 'status_id');
    const tests = ctx.store.testsOf(run.id).filter((t) => inList(statusIds, t.status_id));
    return paged(ctx.call, 'tests', tests, (t) => ctx.json.test(t), ctx.compat.legacyBareArrays);
  },

  get_test: (ctx) => ok(ctx.json.test(testArg(ctx).test)),

  get_results(ctx) {
    const { test } = testArg(ctx);
    const results = filterResults(ctx, ctx.store.resultsOf(test.id), false);
    return paged(ctx.call, 'results', results, (r) => ctx.json.result(r), ctx.compat.legacyBareArrays);
  },

  get_results_for_case(ctx) {
    const run = runArg(ctx);
    const caseId = idArg(ctx.call, 1, 'case_id');
    if (!ctx.store.case(caseId)) throw badRequest(INVALID.case);
    const test = ctx.store.testsOf(run.id).find((t) => t.case_id === caseId);
    if (!test) throw badRequest(INVALID.noTestForCase);
    const results = filterResults(ctx, ctx.store.resultsOf(test.id), false);
    return paged(ctx.call, 'results', results, (r) => ctx.json.result(r), ctx.compat.legacyBareArrays);
  },

  /** Only tests with results contribute; untested tests produce none (§4.2). */
  get_results_for_run(ctx) {
    const run = runArg(ctx);
    const results = filterResults(ctx, ctx.store.resultsOfRun(run.id), true);
    return paged(ctx.call, 'results', results, (r) => ctx.json.result(r, true), ctx.compat.legacyBareArrays);
  },

  /** get_plans items have no `entries` (§3.2). */
  get_plans(ctx) {
    const project = projectArg(ctx);
    const created = createdWithin(ctx);
    const createdBy = idListParam(ctx.call, 'created_by');
    const completed = boolParam(ctx.call, 'is_completed');
    const milestones = idListParam(ctx.call, 'milestone_id');
    const plans = ctx.store
      .plansOf(project.id)
      .filter((p) => created(p.created_on) && inList(createdBy, p.created_by) && (completed === undefined || p.is_completed === completed) && inList(milestones, p.milestone_id));
    return paged(ctx.call, 'plans', plans, (p) => ctx.json.plan(p, false), ctx.compat.legacyBareArrays);
  },

  get_plan: (ctx) => ok(ctx.json.plan(planArg(ctx), true)),

  get_milestones(ctx) {
    const project = projectArg(ctx);
    const completed = boolParam(ctx.call, 'is_completed');
    const started = boolParam(ctx.call, 'is_started');
    const milestones = ctx.store
      .milestonesOf(project.id)
      .filter((m) => (completed === undefined || m.is_completed === completed) && (started === undefined || m.is_started === started));
    return paged(ctx.call, 'milestones', milestones, (m) => ctx.json.milestone(m), ctx.compat.legacyBareArrays);
  },

  get_milestone(ctx) {
    const milestone = ctx.store.milestone(idArg(ctx.call, 0, 'milestone_id'));
    if (!milestone || !canSee(ctx.user, milestone.project_id)) throw badRequest(INVALID.milestone);
    return ok(ctx.json.milestone(milestone));
  },

  /**
   * Path form `get_users/7` and query form `get_users&project_id=7` both work (§4.3). Without a
   * project, only administrators may list users (since 6.4, observed 403 wording).
   */
  get_users(ctx) {
    const raw = ctx.call.args[0] ?? ctx.call.params.get('project_id');
    let users: UserRecord[];
    if (raw !== undefined && raw !== '') {
      const projectId = toId(raw);
      if (projectId === undefined) throw badRequest('Field :project_id is not a valid ID.');
      users = usersOfProject(ctx, projectById(ctx, projectId).id);
    } else if (ctx.user.is_admin) {
      users = ctx.store.allUsers();
    } else {
      throw new ApiError(403, 'Access Denied. You are not a TestRail administrator. Field:project_id is a required field.');
    }
    if (!ctx.compat.usersEnvelope) return ok(users.map((u) => ctx.json.user(u)));
    return paged(ctx.call, 'users', users, (u) => ctx.json.user(u), ctx.compat.legacyBareArrays);
  },

  /** Non-administrators may read only themselves (doc); the 403 wording reuses the observed one. */
  get_user(ctx) {
    const user = ctx.store.user(idArg(ctx.call, 0, 'user_id'));
    if (!user) throw badRequest(INVALID.user);
    if (!ctx.user.is_admin && user.id !== ctx.user.id) throw new ApiError(403, 'Access Denied. You are not a TestRail administrator.');
    return ok(ctx.json.user(user));
  },

  /** The docs render it `get_current_user/{user_id}`; clients call it bare. Any argument is ignored. */
  get_current_user: (ctx) => ok(ctx.json.user(ctx.user)),

  get_user_by_email(ctx) {
    const email = ctx.call.params.get('email');
    if (!email) throw badRequest('Field :email is a required field.');
    const user = ctx.store.userByEmail(email);
    // Wording for an unknown address is unverified.
    if (!user) throw badRequest('Field :email is not a valid user.');
    return ok(ctx.json.user(user));
  },
};

