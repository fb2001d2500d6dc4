/**
 * The run index in memory: per source, its runs in the one run order (model/runs.ts), its
 * projects and hosts. Every read a page needs is a binary search to the cursor's position and a
 * forward scan that stops at `limit + 1` matches, so a page costs the same at 2,000 runs as at
 * 200,000; nothing on that path copies the run list. Counts scan, and are asked only when a client
 * selects `totalCount`.
 *
 * This is the hot path of every indexed read, shared by the embedded store (file.ts) and, for
 * replicas, whatever keeps a view of a shared store current.
 */
import { compareRunPositions, compareRuns, matchesFilter, positionOf, type RunFilter, type RunPosition, type RunQuery, type RunSlice } from '../model/runs';
import type { Host, Key, Project, Run } from '../model/types';

export const keyString = (key: Key) => key.join('\u0000');

/** One source's part of the index. */
export class SourceIndex {
  private readonly byKey = new Map<string, Run>();
  /** In run order; rebuilt from byKey after bulk loads, kept in order by single changes afterwards. */
  private ordered: Run[] = [];
  private sorted = true;
  projects: Project[] = [];
  hosts: Host[] = [];

  constructor(readonly sourceId: string) {}

  private projectsIndexed: Project[] | undefined;
  private projectsByKey = new Map<string, Project>();

  /** One project by key, without copying the list (the map is rebuilt when the list is replaced). */
  project(key: Key): Project | undefined {
    if (this.projectsIndexed !== this.projects) {
      this.projectsByKey = new Map(this.projects.map((p) => [keyString(p.key), p]));
      this.projectsIndexed = this.projects;
    }
    return this.projectsByKey.get(keyString(key));
  }

  get size(): number {
    return this.byKey.size;
  }

  run(key: Key): Run | undefined {
    return this.byKey.get(keyString(key));
  }

  /** Every run, in no particular order (for persistence and the sweep). */
  runs(): IterableIterator<Run> {
    return this.byKey.values();
  }

  /** Many runs at once (a backfill batch): cheaper than one `put` each, the order is rebuilt once. */
  putMany(runs: readonly Run[]): void {
    for (const run of runs) this.byKey.set(keyString(run.key), run);
    if (runs.length > 0) this.sorted = false;
  }

  /** One changed or new run; keeps the order without a full sort. */
  put(run: Run): void {
    if (!this.sorted) return this.putMany([run]);
    const k = keyString(run.key);
    const old = this.byKey.get(k);
    if (old) this.removeOrdered(old);
    this.byKey.set(k, run);
    this.ordered.splice(this.firstAfter(positionOf(run), true), 0, run);
  }

  delete(key: Key): boolean {
    const k = keyString(key);
    const old = this.byKey.get(k);
    if (!old) return false;
    this.byKey.delete(k);
    if (this.sorted) this.removeOrdered(old);
    return true;
  }

  clear(): void {
    this.byKey.clear();
    this.ordered = [];
    this.sorted = true;
    this.projects = [];
    this.hosts = [];
  }

  /** Matching runs strictly after `query.after`, at most `query.limit`, and whether more follow. */
  slice(query: RunQuery): RunSlice {
    const order = this.inOrder();
    const { filter, limit } = query;
    const runs: Run[] = [];
    let i = this.startIndex(query.after, filter);
    for (; i < order.length; i++) {
      const run = order[i];
      // Newest first: once below createdAfter, nothing later can match (undated runs come last and never match it).
      if (filter.createdAfter !== undefined && (run.createdAt === null || run.createdAt < filter.createdAfter)) break;
      if (!this.matches(run, filter)) continue;
      if (runs.length === limit) return { runs, hasMore: true };
      runs.push(run);
    }
    return { runs, hasMore: false };
  }

  /** How many runs match, over every page. */
  count(filter: RunFilter): number {
    if (isEmptyFilter(filter)) return this.byKey.size;
    let n = 0;
    for (const run of this.byKey.values()) if (this.matches(run, filter)) n += 1;
    return n;
  }

  private matches(run: Run, filter: RunFilter): boolean {
    return matchesFilter(run, filter, filter.hostKeys ? (r) => this.onHost(r, filter.hostKeys!) : undefined);
  }

  /**
   * A run links its host by key, or (QAComplete) only names it: then it is on a host of the filter
   * when one of those hosts, as the index holds them, has that name — the live source's rule.
   */
  private onHost(run: Run, hostKeys: readonly Key[]): boolean {
    const ref = run.host;
    if (!ref) return false;
    const wanted = new Set(hostKeys.map(keyString));
    if ('key' in ref) return wanted.has(keyString(ref.key));
    return this.hosts.some((h) => h.name === ref.name && wanted.has(keyString(h.key)));
  }

  private inOrder(): Run[] {
    if (!this.sorted) {
      this.ordered = [...this.byKey.values()].sort(compareRuns);
      this.sorted = true;
    }
    return this.ordered;
  }

  /** Where a scan starts: after the cursor, and not before the first run created before `createdBefore`. */
  private startIndex(after: RunPosition | undefined, filter: RunFilter): number {
    let start = after ? this.firstAfter(after, false) : 0;
    if (filter.createdBefore !== undefined) {
      // The first run with createdAt < createdBefore: the position just after (createdBefore, every source, every id).
      const bound = this.firstWhere((run) => run.createdAt === null || run.createdAt < filter.createdBefore!);
      start = Math.max(start, bound);
    }
    return start;
  }

  /** Index of the first run strictly after `position` (or, with `orEqual`, at or after it). */
  private firstAfter(position: RunPosition, orEqual: boolean): number {
    return this.firstWhere((run) => {
      const c = compareRunPositions(positionOf(run), position);
      return orEqual ? c >= 0 : c > 0;
    });
  }

  /** Binary search for the first index whose run satisfies a predicate that is monotone over the order. */
  private firstWhere(predicate: (run: Run) => boolean): number {
    const order = this.inOrder();
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (predicate(order[mid])) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Only while sorted: a bulk load rebuilds the order from byKey anyway. */
  private removeOrdered(run: Run): void {
    let i = this.firstAfter(positionOf(run), true);
    while (i < this.ordered.length && this.ordered[i] !== run) i++;
    if (i < this.ordered.length) this.ordered.splice(i, 1);
  }
}


function isEmptyFilter(filter: RunFilter): boolean {
  for (const value of Object.values(filter)) if (value !== undefined) return false;
  return true;
}
