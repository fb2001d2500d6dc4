/**
 * A RunQuery as TQL for `/api/scriptruns` (enterprise-tester.md §3.3). Whatever is pushed down
 * may only ever select a superset of the exact answer: the source applies the whole filter again
 * with sliceRuns, so a filter gives the same runs pushed down or not (decisions.md, "Order").
 *
 * What the vendor material shows, and what rungraph relies on beyond it (unverified, §3.3, §13):
 * - `Field = value`, `AND`, `IN`, `ORDER BY … DESC` appear in vendor examples (`Project = '{guid}'`,
 *   `Id IN Packages('Cycle 1') AND Project='{guid}'`, `ORDER BY LastUpdatedAt DESC`).
 * - Unverified: `IN ("a", "b")` with a literal list, `!=` and `NOT IN`, and the `CreatedAt` field
 *   with date literals. Dates are sent as UTC instants (`"2026-11-27T10:00:00Z"`) together with the
 *   documented `timeZone=UTC` parameter, so a server that reads the literal as local time reads it
 *   in UTC too. A server that reads a coarser date (the day) only widens the selection.
 * - Only one ORDER BY key is sent: a second key is not shown anywhere, and ties on CreatedAt are
 *   ordered by the gateway (see source.ts).
 * - Open versus completed is asked through `Status`, the documented TQL field (`Status = Passed`),
 *   not through `Completed`, whose TQL name is not documented: a run reads "In Progress" until it is
 *   completed (§6, §7; "whether Status changes before completion" is itself unverified, §13).
 */
import { createdBeforeBound, type RunPosition, type RunQuery } from '../../model/runs';
import type { RunConclusion, RunStatus } from '../../model/types';
import { ET_CONCLUSION_STATUS, ET_OPEN_STATUS } from './status';

export const ET_RUN_ORDER = 'ORDER BY CreatedAt DESC';

export interface RunTql {
  /** The `tql=` text, always ending in the ORDER BY. */
  tql: string;
  /** No run can match (e.g. only RETEST, or a host filter on a vendor without hosts): ask nothing. */
  none: boolean;
  /** The server applies the whole filter and the cursor's bound: only ties force extra reads. */
  exact: boolean;
  /** `CreatedAt <= position` went to the server, so the position's own run comes back first. */
  positionPushed: boolean;
  /** One project was pushed down: every run read belongs to it, no package lookup needed. */
  knownProject: string | null;
}

export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const list = (values: readonly string[]) => `(${values.map(quote).join(', ')})`;

/** `Field = "x"` for one value, `Field IN ("x", "y")` for several. */
export function anyOf(field: string, values: readonly string[]): string {
  return values.length === 1 ? `${field} = ${quote(values[0])}` : `${field} IN ${list(values)}`;
}

/** An instant as a TQL date literal: ISO 8601 UTC, whole seconds. */
export function tqlDate(epochSeconds: number): string {
  return quote(new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z'));
}

const OPEN_STATES: readonly RunStatus[] = ['QUEUED', 'IN_PROGRESS'];

export function runTql(query: RunQuery, pushdown: boolean): RunTql {
  const filter = query.filter;
  const clauses: string[] = [];
  let exact = true;
  let none = false;
  let knownProject: string | null = null;

  // Enterprise Tester has no hosts, so no run is on one.
  if (filter.hostKeys) none = true;

  if (filter.projectKeys) {
    const ids = [...new Set(filter.projectKeys.map((k) => k[0].toLowerCase()))];
    if (ids.length === 0) none = true;
    else if (pushdown) {
      clauses.push(anyOf('Project', ids));
      if (ids.length === 1) knownProject = ids[0];
    } else exact = false;
  }

  // Completed or not: from isClosed, statuses and conclusions together.
  let closed = filter.isClosed;
  const require = (value: boolean) => {
    if (closed !== undefined && closed !== value) none = true;
    closed = value;
  };
  if (filter.statuses) {
    const statuses = new Set(filter.statuses);
    const completed = statuses.has('COMPLETED');
    const open = OPEN_STATES.filter((s) => statuses.has(s));
    if (statuses.size === 0) none = true;
    else if (completed && open.length === 0) require(true);
    else if (!completed) {
      require(false);
      // QUEUED versus IN_PROGRESS depends on the step outcomes: the gateway decides.
      if (open.length === 1) exact = false;
    } else if (open.length === 1) exact = false;
  }
  let statusClause: string | null = null;
  if (filter.conclusions) {
    require(true);
    const wanted = new Set<RunConclusion>(filter.conclusions);
    const named = (Object.keys(ET_CONCLUSION_STATUS) as Array<keyof typeof ET_CONCLUSION_STATUS>).filter((c) => wanted.has(c));
    if (wanted.has('INCOMPLETE')) {
      // INCOMPLETE is every completed Status but Passed/Failed/Blocked: exclude the ones not wanted.
      const excluded = [ET_OPEN_STATUS, ...(Object.keys(ET_CONCLUSION_STATUS) as Array<keyof typeof ET_CONCLUSION_STATUS>).filter((c) => !wanted.has(c)).map((c) => ET_CONCLUSION_STATUS[c])];
      statusClause = excluded.length === 1 ? `Status != ${quote(excluded[0])}` : `Status NOT IN ${list(excluded)}`;
    } else if (named.length === 0) {
      // Only RETEST: Enterprise Tester has no such result.
      none = true;
    } else {
      statusClause = anyOf('Status', named.map((c) => ET_CONCLUSION_STATUS[c]));
    }
  } else if (closed === true) statusClause = `Status != ${quote(ET_OPEN_STATUS)}`;
  else if (closed === false) statusClause = `Status = ${quote(ET_OPEN_STATUS)}`;
  if (statusClause) {
    if (pushdown) clauses.push(statusClause);
    else exact = false;
  }

  // Created bounds and the cursor: createdAfter ≥, and below createdBeforeBound — TQL's `<=` on
  // whole seconds, so one second less (the position's own second stays in: its ties are told
  // apart in the gateway).
  const before = createdBeforeBound(query);
  const upper = before === undefined ? undefined : before - 1;
  const lower = filter.createdAfter;
  if (upper !== undefined && lower !== undefined && lower > upper) none = true;
  let positionPushed = false;
  if (pushdown) {
    if (lower !== undefined) clauses.push(`CreatedAt >= ${tqlDate(lower)}`);
    if (upper !== undefined) clauses.push(`CreatedAt <= ${tqlDate(upper)}`);
    positionPushed = positionSecond(query.after) !== undefined;
  } else if (lower !== undefined || upper !== undefined) exact = false;

  const tql = clauses.length > 0 ? `${clauses.join(' AND ')} ${ET_RUN_ORDER}` : ET_RUN_ORDER;
  return { tql, none, exact, positionPushed, knownProject };
}

function positionSecond(after: RunPosition | undefined): number | undefined {
  return after && after.createdAt !== null ? after.createdAt : undefined;
}
