/**
 * A replica's view of the shared run index (postgres.ts): one SourceIndex per source and the sync
 * records, and everything that brings them up to a change number `seq` — a NOTIFY notice that is the
 * next change, a catch-up read of everything after the view's seq (one REPEATABLE READ snapshot),
 * or a whole load. Where a change of this replica's own is later than what is applied (queued, in
 * flight, or not yet seen back), its value stays (WriteQueue.protects), so the view ends equal to
 * the database.
 */
import type { PoolClient } from 'pg';
import type { Host, Key, Project, Run } from '../model/types';
import type { SyncRecord } from './file';
import { SourceIndex } from './memory';
import { ck, runCk, type Notice, type NoticeChange, type WriteQueue } from './postgres-queue';

/** Rows per read while loading. */
const PAGE = 5_000;

export class ReplicaView {
  readonly views = new Map<string, SourceIndex>();
  readonly syncs = new Map<string, SyncRecord>();
  /** Bumped by every change to what reads answer. */
  generation = 0;
  /** The newest change (seq) the views hold. */
  lastSeq = 0;
  private echoWaiters: Array<{ seq: number; resolve: () => void }> = [];

  constructor(
    private readonly queue: WriteQueue,
    /** Told the id of each source another replica's change was applied to. */
    private readonly emit: (sourceId: string) => void,
  ) {}

  /** Lets every flush waiting for its echo go (the listener is gone). */
  releaseWaiters(): void {
    for (const waiter of this.echoWaiters.splice(0)) waiter.resolve();
  }

  /** Applies a parsed notice when it is the next change (true); false when the tables must be read instead. */
  notice(notice: Notice | undefined, self: string): boolean {
    if (!notice || notice.v !== 1 || typeof notice.q !== 'number') return false;
    if (notice.q <= this.lastSeq) return true;
    if (notice.q !== this.lastSeq + 1) return false;
    if (notice.o !== self) {
      // Our own change is in our view already; another replica's is applied unless it left out its changes.
      if (!notice.c) return false;
      for (const change of notice.c) this.applyNotice(change, notice.q);
    }
    this.advance(notice.q);
    return true;
  }

  private applyNotice(change: NoticeChange, at: number): void {
    const view = this.views.get(change.s);
    if (!view) return;
    if (change.reset) this.replace(change.s, [], { projects: [], hosts: [], sync: null }, at);
    const rows: Array<{ key: Key; run: Run | null }> = [];
    for (const run of change.runs ?? []) rows.push({ key: run.key, run });
    for (const key of change.del ?? []) rows.push({ key, run: null });
    this.applyRuns(change.s, rows, at);
    this.applyFields(change.s, { projects: change.projects, hosts: change.hosts, sync: change.sync }, at);
    this.emit(change.s);
  }

  /** Everything after the view's seq, from one snapshot: changed sources, reset sources whole, changed runs (tombstones included). */
  async pull(client: PoolClient): Promise<void> {
    const ids = [...this.views.keys()];
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const meta = (await client.query('SELECT seq, purged_seq FROM rungraph_meta')).rows[0];
      const seq = Number(meta.seq);
      const since = this.lastSeq;
      // Fell behind the purged tombstones, or the database was replaced: read everything.
      if (since < Number(meta.purged_seq) || seq < since) {
        await this.load(client, ids, seq);
        await client.query('COMMIT');
        return;
      }
      if (seq === since) {
        await client.query('COMMIT');
        return;
      }
      const { rows: sources } = await client.query('SELECT source, projects, hosts, sync, reset_seq FROM rungraph_sources WHERE seq > $1 AND source = ANY($2)', [since, ids]);
      const whole = sources.filter((r) => Number(r.reset_seq) > since).map((r) => r.source as string);
      const changed = new Map<string, Array<{ key: Key; run: Run | null }>>();
      let after: [number, string, string] = [since, '', ''];
      for (;;) {
        const { rows } = await client.query(
          `SELECT seq, source, key, run FROM rungraph_runs WHERE (seq, source, key) > ($1, $2, $3) AND source = ANY($4) AND NOT source = ANY($5)
           ORDER BY seq, source, key LIMIT ${PAGE}`,
          [after[0], after[1], after[2], ids, whole],
        );
        for (const row of rows) {
          let list = changed.get(row.source);
          if (!list) changed.set(row.source, (list = []));
          list.push({ key: JSON.parse(row.key) as Key, run: row.run as Run | null });
        }
        if (rows.length < PAGE) break;
        const last = rows[rows.length - 1];
        after = [Number(last.seq), last.source, last.key];
      }
      const reloaded = whole.length > 0 ? await this.readSources(client, whole) : new Map();
      await client.query('COMMIT');
      for (const [source, content] of reloaded) this.replace(source, content.runs, content, seq);
      for (const row of sources) {
        if (whole.includes(row.source)) continue;
        this.applyFields(row.source, { projects: row.projects, hosts: row.hosts, sync: row.sync ?? undefined }, seq);
      }
      for (const [source, rows] of changed) this.applyRuns(source, rows, seq);
      this.advance(seq);
      for (const id of new Set([...sources.map((r) => r.source as string), ...changed.keys()])) this.emit(id);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** The first load: every configured source whole, from one snapshot. */
  async reload(client: PoolClient): Promise<void> {
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const seq = Number((await client.query('SELECT seq FROM rungraph_meta')).rows[0].seq);
      await this.load(client, [...this.views.keys()], seq);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private async load(client: PoolClient, ids: string[], seq: number): Promise<void> {
    const content = await this.readSources(client, ids);
    for (const [source, c] of content) this.replace(source, c.runs, c, seq);
    this.advance(seq);
  }

  private async readSources(client: PoolClient, ids: string[]): Promise<Map<string, { runs: Run[]; projects: Project[]; hosts: Host[]; sync: SyncRecord | null }>> {
    const out = new Map<string, { runs: Run[]; projects: Project[]; hosts: Host[]; sync: SyncRecord | null }>();
    const { rows } = await client.query('SELECT source, projects, hosts, sync FROM rungraph_sources WHERE source = ANY($1)', [ids]);
    for (const row of rows) {
      const runs: Run[] = [];
      let after = '';
      for (;;) {
        const page = await client.query(`SELECT key, run FROM rungraph_runs WHERE source = $1 AND key > $2 AND run IS NOT NULL ORDER BY key LIMIT ${PAGE}`, [row.source, after]);
        for (const r of page.rows) runs.push(r.run as Run);
        if (page.rows.length < PAGE) break;
        after = page.rows[page.rows.length - 1].key;
      }
      out.set(row.source, { runs, projects: row.projects ?? [], hosts: row.hosts ?? [], sync: row.sync ?? null });
    }
    return out;
  }

  /** A source's part replaced by what the database holds at `at`, except what our own later changes protect. */
  private replace(source: string, runs: Run[], fields: { projects: Project[]; hosts: Host[]; sync: SyncRecord | null }, at: number): void {
    const view = this.views.get(source);
    // A reset of ours is queued: it wipes this source after `at` anyway.
    if (!view || this.queue.protects(source, ck(source, '*'), at)) return;
    const protects = (key: Key) => this.queue.protects(source, runCk(source, key), at);
    // Where a change of ours to a run is later than the snapshot, our value (or its absence) stays.
    const kept = [...view.runs()].filter((run) => protects(run.key));
    const fresh = runs.filter((run) => !protects(run.key));
    const { projects, hosts } = view;
    view.clear();
    view.putMany(fresh.length === 0 ? kept : kept.length === 0 ? fresh : [...fresh, ...kept]);
    view.projects = this.queue.protects(source, ck(source, 'p'), at) ? projects : fields.projects;
    view.hosts = this.queue.protects(source, ck(source, 'h'), at) ? hosts : fields.hosts;
    if (!this.queue.protects(source, ck(source, 's'), at)) {
      if (fields.sync) this.syncs.set(source, fields.sync);
      else this.syncs.delete(source);
    }
    this.generation += 1;
  }

  private applyRuns(source: string, rows: Array<{ key: Key; run: Run | null }>, at: number): void {
    const view = this.views.get(source);
    if (!view || rows.length === 0) return;
    const puts: Run[] = [];
    let changed = false;
    for (const { key, run } of rows) {
      if (this.queue.protects(source, runCk(source, key), at)) continue;
      if (run) puts.push(run);
      else if (view.delete(key)) changed = true;
    }
    if (puts.length > 64) view.putMany(puts);
    else for (const run of puts) view.put(run);
    if (changed || puts.length > 0) this.generation += 1;
  }

  private applyFields(source: string, fields: { projects?: Project[]; hosts?: Host[]; sync?: SyncRecord }, at: number): void {
    const view = this.views.get(source);
    if (!view) return;
    if (fields.projects !== undefined && !this.queue.protects(source, ck(source, 'p'), at) && JSON.stringify(view.projects) !== JSON.stringify(fields.projects)) {
      view.projects = fields.projects;
      this.generation += 1;
    }
    if (fields.hosts !== undefined && !this.queue.protects(source, ck(source, 'h'), at) && JSON.stringify(view.hosts) !== JSON.stringify(fields.hosts)) {
      view.hosts = fields.hosts;
      this.generation += 1;
    }
    if (fields.sync !== undefined && !this.queue.protects(source, ck(source, 's'), at)) this.syncs.set(source, fields.sync);
  }

  /** The views hold every change up to `seq`. */
  advance(seq: number): void {
    this.lastSeq = seq;
    this.queue.seen(seq);
    if (this.echoWaiters.length === 0) return;
    this.echoWaiters = this.echoWaiters.filter((w) => {
      if (w.seq > seq) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once the view has seen change `seq` come back (at once when it has, or when nothing listens). */
  echoed(seq: number, listening: boolean): Promise<void> {
    if (seq <= this.lastSeq || !listening) return Promise.resolve();
    return new Promise((resolve) => this.echoWaiters.push({ seq, resolve }));
  }
}
