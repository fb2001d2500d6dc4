/**
 * The one order every run list follows (decisions.md, "Order"): newest first by `createdAt`
 * (runs without a date last), ties broken by source id, then native id (numerically where both
 * are numbers), both ascending. A position is the last run a reader has seen; "after" it means
 * strictly later in this order, which is what lets one cursor hold a place in every source.
 */
import type { Host, Key, Run, RunConclusion, RunStatus } from './types';

export interface RunPosition {
  createdAt: number | null;
  sourceId: string;
  nativeId: string;
}

const NUMERIC = /^\d{1,15}$/;

export function compareNativeIds(a: string, b: string): number {
  if (NUMERIC.test(a) && NUMERIC.test(b)) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareRunPositions(a: RunPosition, b: RunPosition): number {
  if (a.createdAt !== b.createdAt) {
    if (a.createdAt === null) return 1;
    if (b.createdAt === null) return -1;
    return b.createdAt - a.createdAt;
  }
  if (a.sourceId !== b.sourceId) return a.sourceId < b.sourceId ? -1 : 1;
  return compareNativeIds(a.nativeId, b.nativeId);
}

export const positionOf = (run: Run): RunPosition => ({
  createdAt: run.createdAt,
  sourceId: run.sourceId,
  nativeId: run.nativeId,
});

/** The same order on runs, without a position object per comparison (an index sort makes millions). */
export function compareRuns(a: Run, b: Run): number {
  if (a.createdAt !== b.createdAt) {
    if (a.createdAt === null) return 1;
    if (b.createdAt === null) return -1;
    return b.createdAt - a.createdAt;
  }
  if (a.sourceId !== b.sourceId) return a.sourceId < b.sourceId ? -1 : 1;
  return compareNativeIds(a.nativeId, b.nativeId);
}

/** Filters in vendor terms: project and host keys of one source, times in epoch seconds. */
export interface RunFilter {
  projectKeys?: Key[];
  hostKeys?: Key[];
  statuses?: RunStatus[];
  conclusions?: RunConclusion[];
  isClosed?: boolean;
  /** Inclusive, epoch seconds. */
  createdAfter?: number;
  /** Exclusive, epoch seconds. */
  createdBefore?: number;
}

export interface RunQuery {
  filter: RunFilter;
  /** Return only runs strictly after this position. */
  after?: RunPosition;
  /** How many runs the caller wants; a source returns at most this many. */
  limit: number;
}

export interface RunSlice {
  runs: Run[];
  /** True when the source holds more matching runs after the last one returned. */
  hasMore: boolean;
}

/**
 * The exclusive upper bound on `createdAt` of what a query can still return: `createdBefore`, or
 * the position's second + 1, whichever is lower — runs created in the position's own second may
 * still follow it in the order (ties go by source id, then native id), so the position only rules
 * out the seconds after its own. Undefined when neither bounds the query. Sources push it down as
 * their vendor's "created before" (an inclusive vendor bound is this minus one second).
 */
export function createdBeforeBound(query: RunQuery): number | undefined {
  const position = query.after?.createdAt;
  const bounds = [query.filter.createdBefore, position != null ? position + 1 : undefined].filter((b): b is number => b !== undefined);
  return bounds.length === 0 ? undefined : Math.min(...bounds);
}

export const sameKey = (a: Key, b: Key) => a.length === b.length && a.every((part, i) => part === b[i]);

/** Whether a run is on a host: its HostRef is the host's key, or (where the vendor only names it) the host's name. */
export function runOnHost(run: Run, host: Host): boolean {
  const ref = run.host;
  if (ref === null || run.sourceId !== host.sourceId) return false;
  return 'key' in ref ? sameKey(ref.key, host.key) : ref.name === host.name;
}

/**
 * The host test of a filter whose `hostKeys` name `hosts`, as read from the source or its index:
 * a run matches when it is on one of them. A filter's host that could not be read (a host
 * rungraph has no token for) matches no run named after it.
 */
export function onAnyHost(hosts: readonly Host[]): (run: Run) => boolean {
  return (run) => hosts.some((host) => runOnHost(run, host));
}

/**
 * Everything in a RunFilter that does not need the vendor: sources apply it after whatever they
 * could push down, so a filter gives the same answer pushed down or not. `hostMatches` decides
 * host membership (onAnyHost over the filter's hosts, as read); without it a run matches a host
 * filter only when it links one of the filter's hosts by key.
 */
export function matchesFilter(run: Run, filter: RunFilter, hostMatches?: (run: Run) => boolean): boolean {
  if (filter.projectKeys && !(run.projectKey && filter.projectKeys.some((k) => sameKey(k, run.projectKey!)))) return false;
  if (filter.hostKeys && !(hostMatches ? hostMatches(run) : linksHost(run, filter.hostKeys))) return false;
  if (filter.statuses && !filter.statuses.includes(run.status)) return false;
  if (filter.conclusions && !(run.conclusion && filter.conclusions.includes(run.conclusion))) return false;
  if (filter.isClosed !== undefined && run.isClosed !== filter.isClosed) return false;
  if (filter.createdAfter !== undefined && (run.createdAt === null || run.createdAt < filter.createdAfter)) return false;
  if (filter.createdBefore !== undefined && (run.createdAt === null || run.createdAt >= filter.createdBefore)) return false;
  return true;
}

function linksHost(run: Run, hostKeys: readonly Key[]): boolean {
  const ref = run.host;
  return ref !== null && 'key' in ref && hostKeys.some((k) => sameKey(k, ref.key));
}

/**
 * For sources that read a candidate set and order it themselves: filter, sort, drop what is at or
 * before the position, and cut to the limit.
 */
export function sliceRuns(
  candidates: Iterable<Run>,
  query: RunQuery,
  hostMatches?: (run: Run) => boolean,
): RunSlice {
  const after = query.after;
  const matching: Run[] = [];
  const seen = new Set<string>();
  for (const run of candidates) {
    if (seen.has(run.nativeId)) continue;
    seen.add(run.nativeId);
    if (!matchesFilter(run, query.filter, hostMatches)) continue;
    if (after && compareRunPositions(positionOf(run), after) <= 0) continue;
    matching.push(run);
  }
  matching.sort(compareRuns);
  return { runs: matching.slice(0, query.limit), hasMore: matching.length > query.limit };
}

/**
 * The creation time below which no run can enter this slice, once `candidates` (any runs the
 * source already holds) prove it: the (limit + 1)-th newest matching candidate's. Every run created
 * strictly earlier ranks after limit + 1 known runs, so it is neither returned nor needed for
 * `hasMore`. Undefined while the candidates are too few (or undated) to prove anything.
 */
export function sliceHorizon(candidates: Iterable<Run>, query: RunQuery, hostMatches?: (run: Run) => boolean): number | undefined {
  const after = query.after;
  const dates: number[] = [];
  const seen = new Set<string>();
  for (const run of candidates) {
    if (run.createdAt === null || seen.has(run.nativeId)) continue;
    seen.add(run.nativeId);
    if (!matchesFilter(run, query.filter, hostMatches)) continue;
    if (after && compareRunPositions(positionOf(run), after) <= 0) continue;
    dates.push(run.createdAt);
  }
  if (dates.length <= query.limit) return undefined;
  dates.sort((a, b) => b - a);
  return dates[query.limit];
}
