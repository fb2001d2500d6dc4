/**
 * QAComplete JSON → model (qacomplete.md §3). Status follows ../shared/contract/status.md,
 * QAComplete rows: `status_code` is the vendor's word, unknown codes fall back to the counts rule
 * (status.ts). Keys:
 *   Project [project_id]
 *   Run     [run_id, project_id]   (every run call is addressed under its project)
 *   Host    [host_id]
 */
import { makeCounts } from '../../model/status';
import type { Host, Project, QACompleteConfigurationOption, QACompleteReleaseOption, QACompleteTestOption, QACompleteTestSetOption, Run, RunCounts } from '../../model/types';
import { count, object, optStr, PayloadError, str, type Json } from '../payload';
import { parseVendorDate } from './dates';
import { normalizeQAComplete } from './status';

/** The counters of status.md's QAComplete row, in one table the README prints. */
export const QACOMPLETE_COUNTS_TABLE: ReadonlyArray<[keyof RunCounts, string]> = [
  ['passed', 'nbr_passed'],
  ['failed', 'nbr_failed'],
  ['blocked', 'nbr_blocked'],
  ['untested', 'nbr_awaiting_run'],
  ['retest', '(none: 0)'],
  ['other', 'nbr_tests − the four above (Skipped and other item states)'],
];

/** Ids are ints in v2 and strings in v1 (quirk 4): either way, digits, returned as text. */
export function numericId(o: Json, field: string, where: string): string {
  const v = o[field];
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim())) return String(Number(v.trim()));
  throw new PayloadError(`${where}.${field}`, 'is not an id');
}

/**
 * v1 booleans: the samples show JSON booleans; whether v1 (which writes ids as strings) ever
 * writes "true"/"false" or 0/1 is unverified, so all three are read.
 */
function flag(o: Json, field: string, where: string): boolean {
  const v = o[field];
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string' && /^(true|false)$/i.test(v.trim())) return v.trim().toLowerCase() === 'true';
  throw new PayloadError(`${where}.${field}`, 'is not a boolean');
}

export function mapCounts(o: Json, where: string): RunCounts {
  const passed = count(o, 'nbr_passed', where);
  const failed = count(o, 'nbr_failed', where);
  const blocked = count(o, 'nbr_blocked', where);
  const untested = count(o, 'nbr_awaiting_run', where);
  const total = count(o, 'nbr_tests', where);
  return makeCounts({ passed, failed, blocked, untested, retest: 0, other: total - (passed + failed + blocked + untested) });
}

/**
 * When the run was created. `date_created` is not in the reference's run table (the simulator
 * sends it; real servers may not): it is used when present and set, else `date_started`, which
 * the vendor fills at creation (the create sample of seed 001 already carries it).
 */
export function createdAtOf(o: Json, zone: string, where: string): { at: number | null; fromDateCreated: boolean } {
  const created = parseVendorDate(o.date_created, zone, `${where}.date_created`);
  if (created !== null) return { at: created, fromDateCreated: true };
  return { at: parseVendorDate(o.date_started, zone, `${where}.date_started`), fromDateCreated: false };
}

export function mapRun(sourceId: string, value: unknown, zone: string): Run {
  const where = 'QAComplete test run';
  const o = object(value, where);
  const id = numericId(o, 'id', where);
  const projectId = numericId(o, 'project_id', where);
  const statusCode = str(o, 'status_code', where);
  const counts = mapCounts(o, where);
  const normalized = normalizeQAComplete(statusCode, counts);
  const testHost = optStr(o, 'test_host', where)?.trim() ?? '';
  const testSet = optStr(o, 'test_set_name', where)?.trim() ?? '';
  return {
    sourceId,
    key: [id, projectId],
    nativeId: id,
    // Runs have no name of their own: a test-set run is named after its set; a single-test run
    // (test_set_id 0) carries no test name in the run object, so it gets its id.
    name: testSet !== '' ? testSet : `Test run ${id}`,
    projectKey: [projectId],
    // The vendor names the host (quirk 6); Run.host matches the name among the configured hosts.
    host: testHost === '' ? null : { name: testHost },
    ...normalized,
    counts,
    vendorStatus: statusCode,
    createdAt: createdAtOf(o, zone, where).at,
    // `date_finished` is filled even for an `Awaiting Run` run (quirk 10): it means something only
    // once the vendor calls the run final.
    completedAt: normalized.isClosed ? parseVendorDate(o.date_finished, zone, `${where}.date_finished`) : null,
    // The reference documents no update time on test runs (§3.1; other entities have
    // `date_updated`): change detection has to go by status and dates instead.
    updatedAt: null,
    // The reference documents no web-UI link for a run.
    url: null,
  };
}

export function mapProject(sourceId: string, value: unknown): Project {
  const where = 'QAComplete project';
  const o = object(value, where);
  const id = numericId(o, 'id', where);
  return {
    sourceId,
    key: [id],
    nativeId: id,
    name: str(o, 'proj_name', where),
    isCompleted: !flag(o, 'is_active', where),
    // The reference documents no web-UI link for a project.
    url: null,
  };
}

/** A host read with its own token; only `id` and `host_name` are kept (never `security_token`). */
export function mapHost(sourceId: string, value: unknown): Host {
  const where = 'QAComplete test host';
  const o = object(value, where);
  const id = numericId(o, 'id', where);
  return { sourceId, key: [id], nativeId: id, name: str(o, 'host_name', where) };
}

/** A run item's id and status (§3.2), for closeRun. */
export function mapItem(value: unknown): { id: string; statusCode: string } {
  const where = 'QAComplete test run item';
  const o = object(value, where);
  return { id: numericId(o, 'id', where), statusCode: str(o, 'status_code', where) };
}

/** An optional id where the vendor writes 0 for "none" (a release's parent_id): null then. */
function optId(o: Json, field: string, where: string): string | null {
  if (o[field] === undefined || o[field] === null) return null;
  const id = numericId(o, field, where);
  return id === '0' ? null : id;
}

/** A flag that older payloads may lack: absent means true for `active`-style flags, as the item is listed. */
function optFlag(o: Json, field: string, where: string, absent: boolean): boolean {
  return o[field] === undefined || o[field] === null ? absent : flag(o, field, where);
}

/** A test (v2, §3.9): its activity flag is `active`, unlike the other entities' `is_active`. */
export function mapTestOption(value: unknown): QACompleteTestOption {
  const where = 'QAComplete test';
  const o = object(value, where);
  return {
    id: numericId(o, 'id', where),
    title: str(o, 'title', where),
    isActive: optFlag(o, 'active', where, true),
    executionType: optStr(o, 'execution_type', where),
    folderName: optStr(o, 'folder_name', where),
  };
}

export function mapTestSetOption(value: unknown): QACompleteTestSetOption {
  const where = 'QAComplete test set';
  const o = object(value, where);
  return {
    id: numericId(o, 'id', where),
    title: str(o, 'title', where),
    isActive: optFlag(o, 'is_active', where, true),
    isSequential: optFlag(o, 'is_sequential', where, false),
    executionType: optStr(o, 'execution_type', where),
    folderName: optStr(o, 'folder_name', where),
  };
}

/** A release, iteration or build (v1, §3.9); v1 may write ids as strings (quirk 4). */
export function mapReleaseOption(value: unknown): QACompleteReleaseOption {
  const where = 'QAComplete release';
  const o = object(value, where);
  return {
    id: numericId(o, 'id', where),
    title: str(o, 'title', where),
    releaseType: optStr(o, 'release_type', where),
    statusCode: optStr(o, 'status_code', where),
    isActive: optFlag(o, 'is_active', where, true),
    parentId: optId(o, 'parent_id', where),
  };
}

export function mapConfigurationOption(value: unknown): QACompleteConfigurationOption {
  const where = 'QAComplete configuration';
  const o = object(value, where);
  return { id: numericId(o, 'id', where), title: str(o, 'title', where), isActive: optFlag(o, 'is_active', where, true) };
}
