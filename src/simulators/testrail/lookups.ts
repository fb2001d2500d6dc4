/**
 * What every handler needs: the request context and the id lookups with TestRail's exact 400
 * wordings for unknown entities (§6: TestRail answers 400, not 404, for a missing entity).
 */
import type { SimResponse } from '../harness';
import { type ApiCall, type TestRailCompat, ApiError, badRequest, idArg } from './http';
import type { TestRailJson } from './json';
import type { PlanRecord, ProjectRecord, RunRecord, SuiteRecord, TestRecord, UserRecord } from './model';
import type { TestRailStore } from './store';

export interface Ctx {
  store: TestRailStore;
  json: TestRailJson;
  /** The authenticated user. */
  user: UserRecord;
  call: ApiCall;
  /** The parsed JSON body of a POST (`{}` when empty). */
  body: Record<string, unknown>;
  compat: TestRailCompat;
}

export type Handler = (ctx: Ctx) => SimResponse;

/** Observed wordings (§6, §4.1). The run one is the newer `:run_id` form the reference expects. */
export const INVALID = {
  project: 'Field :project_id is not a valid or accessible project.',
  suite: 'Field :suite_id is not a valid test suite.',
  run: 'Field :run_id is not a valid test run.',
  plan: 'Field :plan_id is not a valid test plan.',
  test: 'Field :test_id is not a valid test.',
  case: 'Field :case_id is not a valid test case.',
  milestone: 'Field :milestone_id is not a valid milestone.',
  caseIds: 'Field :case_ids is not a valid ID.',
  suiteRequired: 'Field :suite_id is a required field.',
  // Not in the reference: the same pattern applied to users.
  user: 'Field :user_id is not a valid user.',
  assignee: 'Field :assignedto_id is not a valid user.',
  // A case that exists but has no test in the run. Quoted from memory of TestRail's answers to
  // add_result_for_case, not from the reference — unverified.
  noTestForCase: 'No (active) test found for the run/case combination.',
} as const;

/**
 * Runs are read-only once closed (§4.1); the exact message is unverified, so this one says what
 * happened and what still works, in TestRail's `Field :x` style.
 */
export const closedRun = (field: 'run_id' | 'test_id') =>
  badRequest(`Field :${field} refers to a test run that is already closed (completed); closed test runs cannot be changed.`);

/**
 * Plan runs change only through the plan routes (§4.1, docs say so for update/delete); what
 * update_run/close_run/delete_run answer for a plan run is unverified — a 400 naming the route to use.
 */
export const planRun = (route: string) =>
  badRequest(`Field :run_id refers to a test run that is part of a test plan; use ${route} to change runs in test plans.`);

/** 403 for an entity in a project the user may not see (§4.1 "403 no access to the project"); wording unverified. */
const noAccess = () => new ApiError(403, 'You are not allowed to access this project (no access to the project).');

export function canSee(user: UserRecord, projectId: number): boolean {
  return user.project_ids === null || user.project_ids.includes(projectId);
}

/** A project the user cannot see is "not a valid or accessible project", as TestRail words it. */
export function projectById(ctx: Ctx, id: number): ProjectRecord {
  const project = ctx.store.project(id);
  if (!project || !canSee(ctx.user, project.id)) throw badRequest(INVALID.project);
  return project;
}

export function projectArg(ctx: Ctx, index = 0): ProjectRecord {
  return projectById(ctx, idArg(ctx.call, index, 'project_id'));
}

export function runArg(ctx: Ctx, index = 0): RunRecord {
  const run = ctx.store.run(idArg(ctx.call, index, 'run_id'));
  if (!run) throw badRequest(INVALID.run);
  if (!canSee(ctx.user, run.project_id)) throw noAccess();
  return run;
}

export function planArg(ctx: Ctx, index = 0): PlanRecord {
  const plan = ctx.store.plan(idArg(ctx.call, index, 'plan_id'));
  if (!plan) throw badRequest(INVALID.plan);
  if (!canSee(ctx.user, plan.project_id)) throw noAccess();
  return plan;
}

export function suiteArg(ctx: Ctx, index = 0): SuiteRecord {
  const suite = ctx.store.suite(idArg(ctx.call, index, 'suite_id'));
  if (!suite) throw badRequest(INVALID.suite);
  if (!canSee(ctx.user, suite.project_id)) throw noAccess();
  return suite;
}

export function testArg(ctx: Ctx, index = 0): { test: TestRecord; run: RunRecord } {
  const test = ctx.store.test(idArg(ctx.call, index, 'test_id'));
  if (!test) throw badRequest(INVALID.test);
  const run = ctx.store.run(test.run_id)!;
  if (!canSee(ctx.user, run.project_id)) throw noAccess();
  return { test, run };
}
