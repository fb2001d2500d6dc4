/**
 * TestRail JSON → model (testrail.md §3). Status follows ../shared/contract/status.md, TestRail
 * rows: the counters decide, `is_completed` closes. Keys:
 *   Project [project_id]
 *   Run     [run_id, project_id]           (standalone)
 *           [run_id, project_id, plan_id]  (inside a plan: changes go through the plan)
 */
import { makeCounts } from '../../model/status';
import type { Project, Run, RunCounts, TestRailCaseOption, TestRailMilestoneOption, TestRailSuiteOption } from '../../model/types';
import { bool, count, int, object, optInt, optStr, str, type Json } from '../payload';
import { normalizeTestRail } from './status';

/** Statuses 6…12 are custom_status1…7 (testrail.md §3.7: inferred from the seven counters). */
export const TESTRAIL_CUSTOM_COUNTERS = [1, 2, 3, 4, 5, 6, 7].map((n) => `custom_status${n}_count`);

/** The counters of status.md's TestRail row, in one table the README prints. */
export const TESTRAIL_COUNTS_TABLE: ReadonlyArray<[keyof RunCounts, string]> = [
  ['passed', 'passed_count'],
  ['failed', 'failed_count'],
  ['blocked', 'blocked_count'],
  ['untested', 'untested_count'],
  ['retest', 'retest_count'],
  ['other', TESTRAIL_CUSTOM_COUNTERS.join(' + ')],
];

export function mapCounts(o: Json, where: string): RunCounts {
  return makeCounts({
    passed: count(o, 'passed_count', where),
    failed: count(o, 'failed_count', where),
    blocked: count(o, 'blocked_count', where),
    untested: count(o, 'untested_count', where),
    retest: count(o, 'retest_count', where),
    other: TESTRAIL_CUSTOM_COUNTERS.reduce((sum, field) => sum + count(o, field, where), 0),
  });
}

export function mapRun(sourceId: string, value: unknown): Run {
  const where = 'TestRail run';
  const o = object(value, where);
  const id = int(o, 'id', where);
  const projectId = int(o, 'project_id', where);
  const planId = optInt(o, 'plan_id', where);
  const isCompleted = bool(o, 'is_completed', where);
  const counts = mapCounts(o, where);
  const normalized = normalizeTestRail(isCompleted, counts);
  const key = planId === null ? [String(id), String(projectId)] : [String(id), String(projectId), String(planId)];
  return {
    sourceId,
    key,
    nativeId: String(id),
    name: str(o, 'name', where),
    projectKey: [String(projectId)],
    host: null,
    ...normalized,
    counts,
    createdAt: optInt(o, 'created_on', where),
    completedAt: optInt(o, 'completed_on', where),
    // TestRail 6.5.2 and later (§3.1); absent on older servers.
    updatedAt: optInt(o, 'updated_on', where),
    url: optStr(o, 'url', where),
  };
}

export function mapProject(sourceId: string, value: unknown): Project {
  const where = 'TestRail project';
  const o = object(value, where);
  const id = int(o, 'id', where);
  return {
    sourceId,
    key: [String(id)],
    nativeId: String(id),
    name: str(o, 'name', where),
    isCompleted: bool(o, 'is_completed', where),
    url: optStr(o, 'url', where),
  };
}

/** What restartRun copies from the old run (decisions.md, Mutations). */
export interface RunTemplate {
  name: string;
  description: string | null;
  suiteId: number | null;
  milestoneId: number | null;
  assignedToId: number | null;
  refs: string | null;
  isCompleted: boolean;
}

export function runTemplate(value: unknown): RunTemplate {
  const where = 'TestRail run';
  const o = object(value, where);
  return {
    name: str(o, 'name', where),
    description: optStr(o, 'description', where),
    suiteId: optInt(o, 'suite_id', where),
    milestoneId: optInt(o, 'milestone_id', where),
    assignedToId: optInt(o, 'assignedto_id', where),
    refs: optStr(o, 'refs', where),
    isCompleted: bool(o, 'is_completed', where),
  };
}

export function caseIdOfTest(value: unknown): number {
  return int(object(value, 'TestRail test'), 'case_id', 'TestRail test');
}

/** Plan (get_plan) → its runs, each tagged with the plan (entries[].runs[] already carry plan_id). */
export function runsOfPlan(value: unknown): unknown[] {
  const where = 'TestRail plan';
  const plan = object(value, where);
  const entries = plan.entries ?? [];
  if (!Array.isArray(entries)) return [];
  const planId = int(plan, 'id', where);
  return entries.flatMap((entry) => {
    const runs = object(entry, `${where}.entries[]`).runs ?? [];
    if (!Array.isArray(runs)) return [];
    return runs.map((run) => ({ ...object(run, `${where}.entries[].runs[]`), plan_id: planId }));
  });
}

export const planIdOf = (value: unknown) => int(object(value, 'TestRail plan'), 'id', 'TestRail plan');
export const planCreatedOn = (value: unknown) => optInt(object(value, 'TestRail plan'), 'created_on', 'TestRail plan');
/**
 * When a closed plan was closed; null for an open plan, and for a plan whose flags do not read
 * cleanly (it is then treated as open: opened, never skipped).
 */
export function planClosedOn(value: unknown): number | null {
  const plan = object(value, 'TestRail plan');
  const closed = plan.is_completed === true || plan.is_completed === 1;
  const on = plan.completed_on;
  return closed && typeof on === 'number' && Number.isSafeInteger(on) ? on : null;
}

export function mapSuiteOption(value: unknown): TestRailSuiteOption {
  const where = 'TestRail suite';
  const o = object(value, where);
  return {
    id: String(int(o, 'id', where)),
    name: str(o, 'name', where),
    description: optStr(o, 'description', where),
    // Absent on servers older than the field (§3.6): a suite is then neither master nor completed.
    isMaster: o.is_master === undefined || o.is_master === null ? false : bool(o, 'is_master', where),
    isCompleted: o.is_completed === undefined || o.is_completed === null ? false : bool(o, 'is_completed', where),
  };
}

export function mapCaseOption(value: unknown): TestRailCaseOption {
  const where = 'TestRail case';
  const o = object(value, where);
  return { id: String(int(o, 'id', where)), title: str(o, 'title', where), refs: optStr(o, 'refs', where) };
}

export function mapMilestoneOption(value: unknown): TestRailMilestoneOption {
  const where = 'TestRail milestone';
  const o = object(value, where);
  const parent = optInt(o, 'parent_id', where);
  return {
    id: String(int(o, 'id', where)),
    name: str(o, 'name', where),
    isStarted: o.is_started === undefined || o.is_started === null ? false : bool(o, 'is_started', where),
    isCompleted: bool(o, 'is_completed', where),
    dueOn: optInt(o, 'due_on', where),
    parentId: parent === null ? null : String(parent),
  };
}
