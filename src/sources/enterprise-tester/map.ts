/**
 * Enterprise Tester JSON → model (enterprise-tester.md §2, §4). Status follows
 * ../shared/contract/status.md, Enterprise Tester rows: counts from the step outcomes, `Completed`
 * closes, and a completed run's `Status` is its conclusion. Keys:
 *   Project [projectGuid]
 *   Run     [runGuid]   (GET /api/scriptrun/{id} fetches it again; nothing more is needed)
 * GUIDs are kept lower-case, as ET emits them (§2), so keys and ids compare as plain strings.
 */
import { makeCounts } from '../../model/status';
import type { EnterpriseTesterAssignmentOption, EnterpriseTesterTesterOption, Project, Run, RunCounts } from '../../model/types';
import { array, bool, object, optStr, PayloadError, str, type Json } from '../payload';
import { normalizeEnterpriseTester } from './status';

/** The step outcomes of status.md's Enterprise Tester row, in one table the README prints. */
export const ET_OUTCOME_COUNTS: ReadonlyArray<[string, Exclude<keyof RunCounts, 'total'>]> = [
  ['Passed', 'passed'],
  ['Failed', 'failed'],
  ['Blocked', 'blocked'],
  ['NotRun', 'untested'],
  ['Undetermined', 'other'],
];

const OUTCOME_KEY = new Map(ET_OUTCOME_COUNTS.map(([outcome, part]) => [squash(outcome), part]));

/** `NotRun`, `Not Run` and `notrun` are one outcome: only the letters count. */
function squash(text: string): string {
  return text.replace(/[\s_-]/g, '').toLowerCase();
}

export function guid(o: Json, field: string, where: string): string {
  const v = str(o, field, where);
  if (v.length === 0 || v.length > 100) throw new PayloadError(`${where}.${field}`, 'is not an id');
  return v.toLowerCase();
}

export function optGuid(o: Json, field: string, where: string): string | null {
  const v = optStr(o, field, where);
  if (v === null || v === '' || /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(v)) return null;
  return v.toLowerCase();
}

/** ISO-8601, UTC with `Z` (§2); a time without a zone is read as UTC (decisions.md). Epoch seconds. */
export function timestamp(o: Json, field: string, where: string): number {
  const text = str(o, field, where);
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  if (!Number.isFinite(ms)) throw new PayloadError(`${where}.${field}`, 'is not a date');
  return Math.floor(ms / 1000);
}

/** A timestamp that may be absent or null (then null). */
export function optTimestamp(o: Json, field: string, where: string): number | null {
  return o[field] === undefined || o[field] === null ? null : timestamp(o, field, where);
}

export function countOutcomes(outcomes: readonly string[]): RunCounts {
  const parts = { passed: 0, failed: 0, blocked: 0, untested: 0, retest: 0, other: 0 };
  for (const outcome of outcomes) parts[OUTCOME_KEY.get(squash(outcome)) ?? 'other'] += 1;
  return makeCounts(parts);
}

/** The bits of a ScriptAssignment a run needs: its name (the run's name) and its package. */
export interface EtAssignment {
  id: string;
  name: string;
  packageId: string;
}

export function parseAssignment(value: unknown): EtAssignment {
  const where = 'Enterprise Tester script assignment';
  const o = object(value, where);
  return { id: guid(o, 'Id', where), name: str(o, 'Name', where), packageId: guid(o, 'PackageId', where) };
}

/** An execution package's place: its project, or (for a child whose ProjectId is not filled in) its parent. */
export interface EtPackage {
  id: string;
  projectId: string | null;
  parentId: string | null;
}

export function parsePackage(value: unknown): EtPackage {
  const where = 'Enterprise Tester execution package';
  const o = object(value, where);
  return { id: guid(o, 'Id', where), projectId: optGuid(o, 'ProjectId', where), parentId: optGuid(o, 'ParentId', where) };
}

/** A ScriptRun as read, before its name and project are known. */
export interface EtRun {
  id: string;
  assignmentId: string;
  /** Inlined with `$expand=Assignment`; null when the server did not expand it. */
  assignment: EtAssignment | null;
  createdAt: number;
  /** `LastUpdatedAt`: it moves on every change, completion included, and after it (§7.4). */
  updatedAt: number | null;
  status: string;
  completed: boolean;
  outcomes: string[];
}

/**
 * Needs `$expand=StepResults`: the counts come from the steps, and a run read without them would
 * look like a fresh run. A server that ignores the expansion is an UPSTREAM_ERROR, not a QUEUED run.
 */
export function parseRun(value: unknown): EtRun {
  const where = 'Enterprise Tester script run';
  const o = object(value, where);
  if (o.StepResults === undefined) throw new PayloadError(`${where}.StepResults`, 'is missing (the server did not honour $expand=StepResults)');
  const steps = o.StepResults === null ? [] : array(o.StepResults, `${where}.StepResults`);
  const outcomes = steps.map((step) => str(object(step, `${where}.StepResults[]`), 'Outcome', `${where}.StepResults[]`));
  const assignment = o.Assignment === undefined || o.Assignment === null ? null : parseAssignment(o.Assignment);
  return {
    id: guid(o, 'Id', where),
    assignmentId: guid(o, 'AssignmentId', where),
    assignment,
    createdAt: timestamp(o, 'CreatedAt', where),
    updatedAt: optTimestamp(o, 'LastUpdatedAt', where),
    status: str(o, 'Status', where),
    // `Completed` is nullable and has been seen absent (§4.1): absent means not completed.
    completed: o.Completed === undefined || o.Completed === null ? false : bool(o, 'Completed', where),
    outcomes,
  };
}

/**
 * The model's Run. `name` is the assignment's (the script's) name; `projectId` comes from the
 * assignment's execution package. `url` is null: `Self` is the API's URL, and the web UI's link to
 * a run is not documented. `completedAt` is null: ET records no completion time — `LastUpdatedAt`
 * keeps moving after completion (FieldValues and ActualDuration stay editable, §7.4).
 */
export function toRun(sourceId: string, run: EtRun, name: string, projectId: string | null): Run {
  const counts = countOutcomes(run.outcomes);
  return {
    sourceId,
    key: [run.id],
    nativeId: run.id,
    name,
    projectKey: projectId === null ? null : [projectId],
    host: null,
    ...normalizeEnterpriseTester(run.completed, run.status, counts),
    vendorStatus: run.status,
    counts,
    createdAt: run.createdAt,
    completedAt: null,
    updatedAt: run.updatedAt,
    url: null,
  };
}

/**
 * ET projects have no closed or archived flag in the reference (§4.7), so `isCompleted` is false;
 * `url` is null because `Self` is the API's URL and the web UI's project link is not documented.
 */
export function parseProject(sourceId: string, value: unknown): Project {
  const where = 'Enterprise Tester project';
  const o = object(value, where);
  const id = guid(o, 'Id', where);
  return { sourceId, key: [id], nativeId: id, name: str(o, 'Name', where), isCompleted: false, url: null };
}

/** A script assignment as addRun's options list it, with the package it was read with (`$expand=Package`). */
export interface EtAssignmentOption {
  option: EnterpriseTesterAssignmentOption;
  /** The expanded package, or null when the server did not inline it. */
  package: (EtPackage & { name: string }) | null;
  packageId: string;
}

export function parseAssignmentOption(value: unknown): EtAssignmentOption {
  const where = 'Enterprise Tester script assignment';
  const o = object(value, where);
  const inlined = o.Package === undefined || o.Package === null ? null : object(o.Package, `${where}.Package`);
  const pkg = inlined ? { ...parsePackage(inlined), name: str(inlined, 'Name', `${where}.Package`) } : null;
  return {
    option: {
      id: guid(o, 'Id', where),
      name: str(o, 'Name', where),
      status: str(o, 'Status', where),
      packageName: pkg?.name ?? null,
      assignedTo: optStr(o, 'AssignedTo', where),
    },
    package: pkg,
    packageId: guid(o, 'PackageId', where),
  };
}

/** A user as `/api/project/{id}/assignees` lists them (§4.8): `Id` is what `TesterId` takes. */
export function parseTester(value: unknown): EnterpriseTesterTesterOption {
  const where = 'Enterprise Tester user';
  const o = object(value, where);
  const name = [optStr(o, 'FirstName', where), optStr(o, 'LastName', where)].filter((part) => part !== null && part.trim() !== '').join(' ');
  return { id: guid(o, 'Id', where), userName: str(o, 'UserName', where), name: name === '' ? null : name };
}
