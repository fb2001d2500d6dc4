/**
 * The POST routes for runs and results (§4.1, §4.2). Each handler validates the whole request
 * before it changes anything, so a 400 never leaves half a write behind (TestRail rejects a bulk
 * call entirely when one result is invalid, §7.8).
 */
import { JSON_HEADERS, badRequest, idArg, ok, toBool, toId } from './http';
import { type Ctx, type Handler, INVALID, closedRun, planArg, planRun, projectArg, runArg, testArg } from './lookups';
import type { ProjectRecord, RunRecord, SuiteRecord, TestRecord } from './model';
import type { ResultInput } from './store';

type Body = Record<string, unknown>;

/** undefined = absent; null = explicitly cleared; numbers are accepted where text is expected (PHP). */
function optText(body: Body, key: string): string | null | undefined {
  const value = body[key];
  if (value === undefined || value === null) return value;
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw badRequest(`Field :${key} is not a valid string.`);
}

function optTimestamp(body: Body, key: string): number | null | undefined {
  const value = body[key];
  if (value === undefined || value === null) return value;
  const ts = toId(value);
  if (ts === undefined) throw badRequest(`Field :${key} is not a valid timestamp.`);
  return ts;
}

function optBool(body: Body, key: string): boolean | undefined {
  if (body[key] === undefined || body[key] === null) return undefined;
  const value = toBool(body[key]);
  if (value === undefined) throw badRequest(`Field :${key} is not a valid boolean.`);
  return value;
}

function optMilestone(ctx: Ctx, project: ProjectRecord): number | null | undefined {
  const value = ctx.body.milestone_id;
  if (value === undefined || value === null) return value;
  const milestone = ctx.store.milestone(toId(value) ?? 0);
  if (!milestone || milestone.project_id !== project.id) throw badRequest(INVALID.milestone);
  return milestone.id;
}

/** `prefix` names the field inside a bulk body (`results.`), as TestRail's messages do. */
function optAssignee(ctx: Ctx, body: Body, prefix = ''): number | null | undefined {
  const value = body.assignedto_id;
  if (value === undefined || value === null) return value;
  const user = ctx.store.user(toId(value) ?? 0);
  if (!user || !user.is_active) throw badRequest(prefix ? `Field :${prefix}assignedto_id is not a valid user.` : INVALID.assignee);
  return user.id;
}

/** case_ids must all be cases of the run's suite (observed: `Field :case_ids is not a valid ID.`). */
function caseIdsOf(ctx: Ctx, suite: SuiteRecord): number[] | undefined {
  const value = ctx.body.case_ids;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw badRequest(INVALID.caseIds);
  const ids = value.map((v) => toId(v));
  if (ids.some((id) => id === undefined || ctx.store.case(id)?.suite_id !== suite.id)) throw badRequest(INVALID.caseIds);
  return [...new Set(ids as number[])];
}

/**
 * In single-suite projects (mode 1) suite_id may be omitted and means the master suite; modes 2
 * and 3 require it (§4.1, observed wording).
 */
function suiteFor(ctx: Ctx, project: ProjectRecord): SuiteRecord {
  const value = ctx.body.suite_id;
  if (value === undefined || value === null) {
    if (project.suite_mode !== 1) throw badRequest(INVALID.suiteRequired);
    return ctx.store.suitesOf(project.id)[0];
  }
  const suite = ctx.store.suite(toId(value) ?? 0);
  if (!suite || suite.project_id !== project.id) throw badRequest(INVALID.suite);
  return suite;
}

/**
 * A result body (§4.2). Status 3 (Untested) cannot be submitted and inactive custom statuses are
 * unknown to the installation; both get the same 400 (wording unverified). A body that records
 * nothing at all is refused too — the reference leaves that unverified; an empty result would only
 * add noise to the test's history.
 */
function resultInput(ctx: Ctx, body: Body, prefix = ''): ResultInput {
  const input: ResultInput = { created_on: ctx.store.clock(), created_by: ctx.user.id, custom: {} };
  if (body.status_id !== undefined && body.status_id !== null) {
    const status = ctx.store.status(toId(body.status_id) ?? 0);
    if (!status || !status.is_active || status.is_untested) throw badRequest(`Field :${prefix}status_id is not a valid status.`);
    input.status_id = status.id;
  }
  for (const key of ['comment', 'version', 'elapsed', 'defects'] as const) {
    const value = optText(body, key);
    if (value !== undefined) input[key] = value;
  }
  // TestRail timespans: "30s", "1m 45s", "2h 5m", "1w 2d" (seconds as a bare number also work).
  if (input.elapsed && !/^\s*(\d+\s*|(\d+(\.\d+)?\s*[wdhms]\s*)+)$/i.test(input.elapsed)) {
    throw badRequest(`Field :${prefix}elapsed is not in a valid time span format.`);
  }
  const assignee = optAssignee(ctx, body, prefix);
  if (assignee !== undefined) input.assignedto_id = assignee;
  for (const [key, value] of Object.entries(body)) if (key.startsWith('custom_')) input.custom![key] = value;
  const recordsSomething = input.status_id !== undefined || input.assignedto_id !== undefined || Object.keys(input.custom!).length > 0 ||
    (['comment', 'version', 'elapsed', 'defects'] as const).some((key) => input[key]);
  if (!recordsSomething) throw badRequest(`Field :${prefix}status_id is a required field (or send a comment, defects, elapsed or version).`);
  return input;
}

function bulkItems(ctx: Ctx): Body[] {
  const list = ctx.body.results;
  if (!Array.isArray(list) || list.length === 0) throw badRequest('Field :results cannot be empty (one result is required)');
  if (list.some((item) => item === null || typeof item !== 'object' || Array.isArray(item))) {
    throw badRequest('Field :results contains one or more invalid results');
  }
  return list as Body[];
}

function writableRun(ctx: Ctx): RunRecord {
  const run = runArg(ctx);
  if (run.is_completed) throw closedRun('run_id');
  return run;
}

export const WRITES: Record<string, Handler> = {
  /**
   * include_all defaults to true; case_ids count only when it is false (TestRail ignores them
   * otherwise). `name` is required here: the docs do not say, and refusing a nameless run catches
   * clients that forget it (unverified). dynamic_filters is accepted but not evaluated.
   */
  add_run(ctx) {
    const project = projectArg(ctx);
    const suite = suiteFor(ctx, project);
    const name = optText(ctx.body, 'name');
    if (!name || name.trim() === '') throw badRequest('Field :name is a required field.');
    const includeAll = optBool(ctx.body, 'include_all') ?? true;
    // case_ids only matter for a custom selection; with include_all they are ignored unchecked.
    const caseIds = includeAll ? undefined : caseIdsOf(ctx, suite) ?? [];
    const run = ctx.store.addRun(project.id, {
      suite_id: suite.id,
      name,
      description: optText(ctx.body, 'description') ?? null,
      milestone_id: optMilestone(ctx, project) ?? null,
      assignedto_id: optAssignee(ctx, ctx.body) ?? null,
      include_all: includeAll,
      case_ids: caseIds,
      refs: optText(ctx.body, 'refs') ?? null,
      start_on: optTimestamp(ctx.body, 'start_on') ?? null,
      due_on: optTimestamp(ctx.body, 'due_on') ?? null,
      created_on: ctx.store.clock(),
      created_by: ctx.user.id,
    });
    return ok(ctx.json.run(run));
  },

  /**
   * Partial update; suite_id is ignored (not updatable). Changing the selection drops the tests of
   * removed cases with their results and adds new cases as Untested (TestRail UI behaviour, §4.1).
   */
  update_run(ctx) {
    const run = runArg(ctx);
    if (run.plan_id !== null) throw planRun('update_run_in_plan_entry');
    if (run.is_completed) throw closedRun('run_id');
    const project = ctx.store.project(run.project_id)!;
    const suite = ctx.store.suite(run.suite_id)!;
    const name = optText(ctx.body, 'name');
    if (name !== undefined && (name === null || name.trim() === '')) throw badRequest('Field :name is a required field.');
    const changes: Partial<RunRecord> = {};
    if (name) changes.name = name;
    for (const key of ['description', 'refs'] as const) {
      const value = optText(ctx.body, key);
      if (value !== undefined) changes[key] = value;
    }
    for (const key of ['start_on', 'due_on'] as const) {
      const value = optTimestamp(ctx.body, key);
      if (value !== undefined) changes[key] = value;
    }
    const milestone = optMilestone(ctx, project);
    if (milestone !== undefined) changes.milestone_id = milestone;
    const assignee = optAssignee(ctx, ctx.body);
    if (assignee !== undefined) changes.assignedto_id = assignee;
    const includeAll = optBool(ctx.body, 'include_all');
    const caseIds = caseIdsOf(ctx, suite);

    Object.assign(run, changes);
    if (includeAll === true) {
      ctx.store.setRunCases(run.id, ctx.store.casesOf(suite.id).map((c) => c.id));
      run.include_all = true;
    } else if (includeAll === false || (!run.include_all && caseIds !== undefined)) {
      if (caseIds !== undefined) ctx.store.setRunCases(run.id, caseIds);
      run.include_all = false;
    }
    run.updated_on = ctx.store.clock();
    return ok(ctx.json.run(run));
  },

  /**
   * Closing cannot be undone. A second close is refused with 400 — the reference leaves it
   * unverified and notes the vendor "may answer 400 to a second close" (decisions.md).
   */
  close_run(ctx) {
    const run = runArg(ctx);
    if (run.plan_id !== null) throw planRun('close_plan');
    if (run.is_completed) throw closedRun('run_id');
    ctx.store.closeRun(run.id);
    run.updated_on = run.completed_on;
    return ok(ctx.json.run(run));
  },

  /**
   * Hard delete: 200 with an empty body. `soft=1`, in the query (`delete_run/5&soft=1`) or in a JSON
   * body, deletes nothing and reports `{"affected_tests": N}` — the shape clients model; the
   * vendor's is unverified. soft=0 is a hard delete. Deleting a closed run is allowed: the
   * reference only hints that it may be refused (unverified).
   */
  delete_run(ctx) {
    const run = runArg(ctx);
    if (run.plan_id !== null) throw planRun('delete_run_from_plan_entry');
    const rawSoft = ctx.call.params.get('soft');
    const querySoft = rawSoft === undefined || rawSoft === '' ? undefined : toBool(rawSoft);
    if (rawSoft !== undefined && rawSoft !== '' && querySoft === undefined) throw badRequest('Field :soft is not a valid boolean.');
    const soft = querySoft ?? optBool(ctx.body, 'soft') ?? false;
    if (soft) return ok({ affected_tests: ctx.store.testsOf(run.id).length });
    ctx.store.deleteRun(run.id);
    return { status: 200, headers: JSON_HEADERS };
  },

  /**
   * Closes the plan and archives its runs (§4.3 names the route; the answer is the closed plan with
   * its entries, as close_run answers the closed run — unverified). A second close is refused like
   * close_run's (unverified).
   */
  close_plan(ctx) {
    const plan = planArg(ctx);
    if (plan.is_completed) throw badRequest('Field :plan_id refers to a test plan that is already closed (completed); closed test plans cannot be changed.');
    return ok(ctx.json.plan(ctx.store.closePlan(plan.id), true));
  },

  /** Deletes the plan with all its runs, tests and results: 200 with an empty body, like delete_run. */
  delete_plan(ctx) {
    const plan = planArg(ctx);
    ctx.store.deletePlan(plan.id);
    return { status: 200, headers: JSON_HEADERS };
  },

  add_result(ctx) {
    const { test, run } = testArg(ctx);
    if (run.is_completed) throw closedRun('test_id');
    const input = resultInput(ctx, ctx.body);
    return ok(ctx.json.result(ctx.store.addResult(test.id, input)));
  },

  add_result_for_case(ctx) {
    const run = runArg(ctx);
    const caseId = idArg(ctx.call, 1, 'case_id');
    if (!ctx.store.case(caseId)) throw badRequest(INVALID.case);
    if (run.is_completed) throw closedRun('run_id');
    const test = ctx.store.testsOf(run.id).find((t) => t.case_id === caseId);
    if (!test) throw badRequest(INVALID.noTestForCase);
    const input = resultInput(ctx, ctx.body);
    return ok(ctx.json.result(ctx.store.addResult(test.id, input)));
  },

  /** `{"results": [{test_id, …}]}` → a bare array of results (§4.2, §5.1). */
  add_results(ctx) {
    const run = writableRun(ctx);
    const byId = new Map(ctx.store.testsOf(run.id).map((t) => [t.id, t]));
    const planned = bulkItems(ctx).map((item): [TestRecord, ResultInput] => {
      if (item.test_id === undefined || item.test_id === null) throw badRequest('Field :results.test_id is a required field.');
      const id = toId(item.test_id);
      if (id === undefined) throw badRequest('Field :results.test_id is not a valid ID.');
      const test = byId.get(id);
      if (!test) throw badRequest(`Field :results contains one or more invalid results (test T${id} unknown or not part of the test run)`);
      return [test, resultInput(ctx, item, 'results.')];
    });
    return ok(planned.map(([test, input]) => ctx.json.result(ctx.store.addResult(test.id, input))));
  },

  /** `{"results": [{case_id, …}]}` → a bare array; the bulk call vendors recommend (§4.2). */
  add_results_for_cases(ctx) {
    const run = writableRun(ctx);
    const byCase = new Map(ctx.store.testsOf(run.id).map((t) => [t.case_id, t]));
    const planned = bulkItems(ctx).map((item): [TestRecord, ResultInput] => {
      if (item.case_id === undefined || item.case_id === null) throw badRequest('Field :results.case_id is a required field.');
      const id = toId(item.case_id);
      if (id === undefined) throw badRequest('Field :results.case_id is not a valid ID.');
      const test = byCase.get(id);
      if (!test) throw badRequest(`Field :results contains one or more invalid results (case C${id} unknown or not part of the test run)`);
      return [test, resultInput(ctx, item, 'results.')];
    });
    return ok(planned.map(([test, input]) => ctx.json.result(ctx.store.addResult(test.id, input))));
  },
};
