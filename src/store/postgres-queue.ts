/**
 * The PostgreSQL store's write queue and its bookkeeping of this replica's own changes.
 *
 * Every mutating call applies to the replica's view at once and is queued here; the store's writer
 * takes it out in order, one transaction at a time. The queue is coalesced per key: within one
 * batch a run, a project list, a host list or a sync record holds only its latest value, so the
 * database ends in the same state as if every call had been written one by one, and a long outage
 * holds at most one pending value per key. `barrier()` (the store's `flush`) closes the batch being
 * filled; it resolves once that batch and every earlier one is committed.
 *
 * While a change of ours is queued, being written, or committed but not yet seen back through
 * LISTEN, a change of another replica to the same key that committed before ours must not
 * overwrite our value in the view (ours commits later, so ours is what the database ends with):
 * `protects(ck, at)` says so. `ck` is a change key: the source id, \u0001, and `r`+run key, `p`
 * (projects), `h` (hosts), `s` (sync record) or `*` (a reset, which protects the whole source).
 */
import type { PoolClient } from 'pg';
import type { Host, Key, Project, Run } from '../model/types';
import type { SyncRecord } from './file';
import { keyString } from './memory';

export interface SourceChanges {
  /** Everything of the source is dropped first. */
  reset: boolean;
  /** By keyString: the run, or null for a deletion. */
  runs: Map<string, { key: Key; run: Run | null }>;
  projects?: Project[];
  hosts?: Host[];
  sync?: SyncRecord;
}

/** What one write transaction carries. */
export interface TxChanges {
  sources: Map<string, SourceChanges>;
  /** The change keys it holds. */
  cks: string[];
}

export const ck = (sourceId: string, field: string) => `${sourceId}\u0001${field}`;
export const runCk = (sourceId: string, key: Key) => ck(sourceId, `r${keyString(key)}`);

class Batch {
  readonly sources = new Map<string, SourceChanges>();
  readonly waiters: Array<() => void> = [];
  size = 0;

  of(sourceId: string): SourceChanges {
    let changes = this.sources.get(sourceId);
    if (!changes) this.sources.set(sourceId, (changes = { reset: false, runs: new Map() }));
    return changes;
  }
}

const emptyChanges = (c: SourceChanges) => !c.reset && c.runs.size === 0 && c.projects === undefined && c.hosts === undefined && c.sync === undefined;

export class WriteQueue {
  /** Oldest first; the last one is open (new changes go there). */
  private batches: Batch[] = [new Batch()];
  /** Change keys queued or being written, with how many copies (one per batch holding it). */
  private readonly pending = new Map<string, number>();
  /** Change keys of our transactions that have a seq, by key: the highest such seq. */
  private readonly ownSeq = new Map<string, number>();
  /** Our transactions not yet seen back: seq → change keys. */
  private readonly unechoed = new Map<number, string[]>();
  private inflight: TxChanges | undefined;
  /** The highest seq of a transaction of ours that committed. */
  highestCommitted = 0;

  get queuedRuns(): number {
    let n = 0;
    for (const b of this.batches) n += b.size;
    return n;
  }

  hasWork(): boolean {
    return this.batches[0].sources.size > 0 || this.batches.length > 1;
  }

  putRun(sourceId: string, key: Key, run: Run | null): void {
    const changes = this.open.of(sourceId);
    const k = keyString(key);
    if (!changes.runs.has(k)) {
      this.count(runCk(sourceId, key), 1);
      this.open.size += 1;
    }
    changes.runs.set(k, { key, run });
  }

  setField(sourceId: string, field: 'projects' | 'hosts' | 'sync', value: Project[] | Host[] | SyncRecord): void {
    const changes = this.open.of(sourceId);
    if (changes[field] === undefined) this.count(ck(sourceId, field[0]), 1);
    (changes as unknown as Record<string, unknown>)[field] = value;
  }

  reset(sourceId: string): void {
    const changes = this.open.of(sourceId);
    this.release(sourceId, changes);
    this.open.size -= changes.runs.size;
    changes.runs.clear();
    changes.projects = changes.hosts = changes.sync = undefined;
    if (!changes.reset) this.count(ck(sourceId, '*'), 1);
    changes.reset = true;
  }

  /** Resolves once everything queued before the call is committed. */
  barrier(): Promise<void> {
    const closing = this.open;
    this.batches.push(new Batch());
    const done = new Promise<void>((resolve) => closing.waiters.push(resolve));
    this.settle();
    return done;
  }

  /** The next transaction's worth (at most `maxRuns` runs), oldest first; undefined when nothing is queued. */
  take(maxRuns: number): TxChanges | undefined {
    if (this.inflight) throw new Error('one write at a time');
    this.settle();
    const batch = this.batches[0];
    if (batch.sources.size === 0) return undefined;
    const tx: TxChanges = { sources: new Map(), cks: [] };
    let room = maxRuns;
    for (const [sourceId, changes] of batch.sources) {
      if (room <= 0) break;
      const part: SourceChanges = { reset: changes.reset, runs: new Map(), projects: changes.projects, hosts: changes.hosts, sync: changes.sync };
      if (part.reset) tx.cks.push(ck(sourceId, '*'));
      if (part.projects !== undefined) tx.cks.push(ck(sourceId, 'p'));
      if (part.hosts !== undefined) tx.cks.push(ck(sourceId, 'h'));
      if (part.sync !== undefined) tx.cks.push(ck(sourceId, 's'));
      changes.reset = false;
      changes.projects = changes.hosts = changes.sync = undefined;
      for (const [k, entry] of changes.runs) {
        if (room <= 0) break;
        part.runs.set(k, entry);
        tx.cks.push(runCk(sourceId, entry.key));
        changes.runs.delete(k);
        batch.size -= 1;
        room -= 1;
      }
      if (emptyChanges(changes)) batch.sources.delete(sourceId);
      tx.sources.set(sourceId, part);
    }
    this.inflight = tx;
    return tx;
  }

  /** The transaction got its seq (before COMMIT): from now on that seq protects its keys too. */
  assign(tx: TxChanges, seq: number): void {
    for (const c of tx.cks) if ((this.ownSeq.get(c) ?? 0) < seq) this.ownSeq.set(c, seq);
    this.unechoed.set(seq, tx.cks);
  }

  committed(tx: TxChanges, seq: number): void {
    for (const c of tx.cks) this.count(c, -1);
    this.inflight = undefined;
    this.highestCommitted = Math.max(this.highestCommitted, seq);
    this.settle();
  }

  /** The transaction failed: its changes go back to the front, under anything newer queued since. */
  giveBack(tx: TxChanges): void {
    this.inflight = undefined;
    const batch = this.batches[0];
    for (const [sourceId, part] of tx.sources) {
      const target = batch.of(sourceId);
      if (target.reset) {
        // Reset again after the take: what the failed transaction held is superseded.
        this.releaseTx(sourceId, part);
        continue;
      }
      if (part.reset) target.reset = true;
      for (const field of ['projects', 'hosts', 'sync'] as const) {
        if (part[field] === undefined) continue;
        if (target[field] === undefined) (target as unknown as Record<string, unknown>)[field] = part[field];
        else this.count(ck(sourceId, field[0]), -1);
      }
      for (const [k, entry] of part.runs) {
        if (target.runs.has(k)) this.count(runCk(sourceId, entry.key), -1);
        else {
          target.runs.set(k, entry);
          batch.size += 1;
        }
      }
      if (emptyChanges(target)) batch.sources.delete(sourceId);
    }
  }

  /** Whether a change committed at `at` by another replica must leave our value of `changeKey` alone. */
  protects(sourceId: string, changeKey: string, at: number): boolean {
    return this.holds(ck(sourceId, '*'), at) || this.holds(changeKey, at);
  }

  /** The view has applied everything up to `seq`: our transactions up to there need no protection. */
  seen(seq: number): void {
    for (const [s, cks] of this.unechoed) {
      if (s > seq) continue;
      this.unechoed.delete(s);
      for (const c of cks) if (this.ownSeq.get(c) === s) this.ownSeq.delete(c);
    }
  }

  private holds(changeKey: string, at: number): boolean {
    return (this.pending.get(changeKey) ?? 0) > 0 || (this.ownSeq.get(changeKey) ?? 0) > at;
  }

  private get open(): Batch {
    return this.batches[this.batches.length - 1];
  }

  /** Resolves the waiters of batches that are written, oldest first. */
  private settle(): void {
    while (this.batches[0].sources.size === 0 && !this.inflight) {
      for (const resolve of this.batches[0].waiters.splice(0)) resolve();
      if (this.batches.length === 1) break;
      this.batches.shift();
    }
  }

  private count(changeKey: string, delta: number): void {
    const n = (this.pending.get(changeKey) ?? 0) + delta;
    if (n > 0) this.pending.set(changeKey, n);
    else this.pending.delete(changeKey);
  }

  private release(sourceId: string, changes: SourceChanges): void {
    for (const entry of changes.runs.values()) this.count(runCk(sourceId, entry.key), -1);
    if (changes.projects !== undefined) this.count(ck(sourceId, 'p'), -1);
    if (changes.hosts !== undefined) this.count(ck(sourceId, 'h'), -1);
    if (changes.sync !== undefined) this.count(ck(sourceId, 's'), -1);
  }

  private releaseTx(sourceId: string, part: SourceChanges): void {
    this.release(sourceId, part);
    if (part.reset) this.count(ck(sourceId, '*'), -1);
  }
}

/** NOTIFY payloads must stay under 8000 bytes; a change that does not fit is announced by its seq alone, and read. */
export const MAX_PAYLOAD_BYTES = 7900;

export interface Notice {
  v: 1;
  /** The replica that wrote it. */
  o: string;
  /** The transaction's seq. */
  q: number;
  /** The changes, when they fit; absent: read them (everything after the reader's last seq). */
  c?: NoticeChange[];
}

export interface NoticeChange {
  s: string;
  reset?: true;
  runs?: Run[];
  del?: Key[];
  projects?: Project[];
  hosts?: Host[];
  sync?: SyncRecord;
}

export function encodeNotice(origin: string, seq: number, tx: TxChanges): string {
  const c: NoticeChange[] = [];
  for (const [s, part] of tx.sources) {
    const change: NoticeChange = { s };
    if (part.reset) change.reset = true;
    const runs: Run[] = [];
    const del: Key[] = [];
    for (const { key, run } of part.runs.values()) {
      if (run) runs.push(run);
      else del.push(key);
    }
    if (runs.length > 0) change.runs = runs;
    if (del.length > 0) change.del = del;
    if (part.projects !== undefined) change.projects = part.projects;
    if (part.hosts !== undefined) change.hosts = part.hosts;
    if (part.sync !== undefined) change.sync = part.sync;
    c.push(change);
  }
  const full = JSON.stringify({ v: 1, o: origin, q: seq, c } satisfies Notice);
  return Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES ? full : JSON.stringify({ v: 1, o: origin, q: seq } satisfies Notice);
}

/** The rows of one transaction, stamped with its seq: a reset first, then runs (NULL for a deletion: a tombstone), then the source's fields. */
export async function writeChanges(client: PoolClient, seq: number, tx: TxChanges): Promise<void> {
  for (const [source, part] of tx.sources) {
    if (part.reset) {
      await client.query('DELETE FROM rungraph_runs WHERE source = $1', [source]);
      await client.query(`UPDATE rungraph_sources SET projects = '[]', hosts = '[]', sync = NULL, reset_seq = $2, seq = $2, changed_at = now() WHERE source = $1`, [source, seq]);
    }
    if (part.runs.size > 0) {
      const keys: string[] = [];
      const runs: Array<string | null> = [];
      for (const { key, run } of part.runs.values()) {
        keys.push(JSON.stringify(key));
        runs.push(run ? JSON.stringify(run) : null);
      }
      await client.query(
        `INSERT INTO rungraph_runs (source, key, run, seq) SELECT $1, k, r, $2 FROM unnest($3::text[], $4::json[]) AS u(k, r)
         ON CONFLICT (source, key) DO UPDATE SET run = excluded.run, seq = excluded.seq, changed_at = now()`,
        [source, seq, keys, runs],
      );
    }
    if (part.projects !== undefined || part.hosts !== undefined || part.sync !== undefined) {
      await client.query(
        `UPDATE rungraph_sources SET projects = coalesce($3::json, projects), hosts = coalesce($4::json, hosts),
           sync = CASE WHEN $5::boolean THEN $6::json ELSE sync END, seq = $2, changed_at = now() WHERE source = $1`,
        [source, seq, part.projects === undefined ? null : JSON.stringify(part.projects), part.hosts === undefined ? null : JSON.stringify(part.hosts), part.sync !== undefined, part.sync === undefined ? null : JSON.stringify(part.sync)],
      );
    }
  }
}
