/**
 * A source's change detection, as the run index's sync uses it (issue #9). Each vendor implements
 * it in its own folder (`src/sources/<vendor>/changes.ts`) with what its reference documents —
 * TestRail `is_completed` and `created_after`, QAComplete and Enterprise Tester their update
 * dates and sort order — and nothing here knows which. The sync (src/sync/) calls it inside a
 * scope of its own, so every vendor call goes through the source's usual client: its rate budget,
 * retries, breaker and timeouts.
 *
 * Watermarks are the feed's own, opaque to everyone else and persisted with the index as JSON:
 * whatever a feed needs to read only what can have changed since its last cycle.
 */
import { isDeepStrictEqual } from 'node:util';
import type { RequestScope } from './source';
import type { Key, Run } from './types';

/** Where a feed hands what it read; the sync writes it into the index as it arrives. */
export interface FeedSink {
  /** New or changed runs, as the vendor reports them now. */
  runs(runs: readonly Run[]): void;
  /** Runs the vendor no longer has (confirmed, not guessed). */
  deleted(keys: readonly Key[]): void;
  /** How far a backfill is: `done` of `total` in the feed's own unit (projects, pages); `total` null while unknown. */
  progress(done: number, total: number | null): void;
}

/** The index's view of one source, for feeds that must compare (TestRail: an open run that left the open list). */
export interface KnownRuns {
  get(key: Key): Run | undefined;
  /** Runs the index holds as not closed. */
  open(): Iterable<Run>;
}

export interface RunFeed {
  /**
   * Reads every run the source has, newest first where the vendor can sort, handing them to the
   * sink in batches as they arrive. Returns the watermarks the first refresh starts from: they must
   * cover everything created or changed from the moment the backfill started.
   */
  backfill(scope: RequestScope, sink: FeedSink): Promise<unknown>;
  /**
   * One refresh cycle: every run that can have changed since `watermarks` — new runs, and changes
   * to open runs (status, counts, closing) — and runs confirmed gone. Returns the next watermarks.
   */
  refresh(scope: RequestScope, watermarks: unknown, known: KnownRuns, sink: FeedSink): Promise<unknown>;
}

/**
 * Whether the index already holds `fresh` as it is, field by field (a field that is absent and one
 * that is null are the same): a feed hands on only runs that changed, so an idle cycle writes nothing.
 */
export function sameRun(held: Run | undefined, fresh: Run): boolean {
  if (!held) return false;
  const a = held as unknown as Record<string, unknown>;
  const b = fresh as unknown as Record<string, unknown>;
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const field of fields) if (!isDeepStrictEqual(a[field] ?? null, b[field] ?? null)) return false;
  return true;
}
