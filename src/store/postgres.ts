/**
 * The shared run index on PostgreSQL (issue #15): the same IndexStore as the embedded store, for
 * several gateway replicas on one database.
 *
 * Every replica keeps the in-memory view (memory.ts) that all its reads are answered from, so an
 * indexed page costs what it costs with the embedded store. The view is filled from PostgreSQL at
 * open and kept current with LISTEN/NOTIFY:
 * - A mutating call (a sync's batch, a write-through) applies to the local view at once and is
 *   queued (postgres-queue.ts); one writer commits the queue in order, one transaction at a time.
 *   Each transaction takes the next change number (`rungraph_meta.seq`, whose row lock makes
 *   writers commit in seq order), stamps every row it writes with it, and NOTIFYs `rungraph_index`
 *   with `{v, o: replica, q: seq, c: changes}` (the changes left out when they exceed 7,900 bytes).
 * - Every replica LISTENs, and applies another replica's notice when it is the next seq after the
 *   last it applied; a notice without its changes, a gap, or a heartbeat that sees a newer seq
 *   makes it read everything with a newer seq (one REPEATABLE READ snapshot) instead. The same
 *   read is the catch-up after a lost connection. Deletions are tombstones (run NULL) for an hour
 *   so a catch-up sees them; a replica that fell behind the purged tombstones reloads whole.
 * - `flush()` resolves once everything queued before it is committed and this replica's listener
 *   has received it back, i.e. PostgreSQL has delivered it to every listening replica.
 *
 * PostgreSQL trouble never stops the gateway: unreachable at open, the views start empty (reads go
 * live, since no source is usable yet) and the store connects in the background with backoff;
 * lost while running, the views keep serving, changes stay queued, one warning is logged, and the
 * store reconnects and catches up by itself (one info line when it is back). A schema newer than
 * this code is a start-up error (postgres-schema.ts). The password never reaches a log.
 *
 * Here: connections, the writer and the public API; postgres-queue.ts: the queue, the notices and
 * the rows a transaction writes; postgres-view.ts: applying notices, catch-ups and loads to the
 * view; postgres-schema.ts: migrations and error classes.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Client, Pool, type PoolClient } from 'pg';
import type { Logger } from '../model/source';
import type { Host, Key, Project, Run } from '../model/types';
import type { IndexStore, SourceIdentity, StoreSource, SyncRecord } from './store';
import { SourceIndex } from './memory';
import { encodeNotice, writeChanges, WriteQueue, type Notice, type TxChanges } from './postgres-queue';
import { ReplicaView } from './postgres-view';
import { CHANNEL, describeConnection, isConnectionError, migrate, reasonOf } from './postgres-schema';

export interface PostgresStoreOptions {
  /** A postgres:// connection URL (index.postgres). */
  url: string;
  log: Logger;
  /** Names this replica in PostgreSQL (application_name) and in notices; default host:pid:random. */
  replicaId?: string;
  /** Reconnect delays: from this, doubling, up to `retryMaxMs`. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** How often the listener's connection is checked (and a missed notice noticed). */
  heartbeatMs?: number;
}

/** Most runs one write transaction carries. */
const TX_RUNS = 2_000;
/** Deletion tombstones are kept this long, so a replica that reconnects within it catches up without a reload. */
const TOMBSTONE_SECONDS = 3_600;
const PURGE_EVERY_MS = 10 * 60_000;

type Status = 'new' | 'connecting' | 'up' | 'down' | 'closed';

export class PostgresStore implements IndexStore {
  readonly replicaId: string;
  private readonly identities = new Map<string, SourceIdentity>();
  private readonly pool: Pool;
  private readonly where: string;
  private readonly queue = new WriteQueue();
  /** The views every read answers from, and their seq. */
  private readonly state: ReplicaView;
  private listener: Client | undefined;
  private status: Status = 'new';
  private loaded = false;
  /** Loads, catch-ups and notices apply one after another. */
  private chain: Promise<unknown> = Promise.resolve();
  private writing: Promise<void> | undefined;
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastPurge = Date.now();
  private downSince: number | undefined;
  private lastProblem: string | undefined;
  private lastWriteProblem: string | undefined;
  private readonly changeListeners = new Set<(sourceId: string) => void>();

  constructor(private readonly options: PostgresStoreOptions) {
    this.replicaId = options.replicaId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.where = describeConnection(options.url);
    this.retryMs = this.retryMin;
    this.state = new ReplicaView(this.queue, (id) => this.emit(id));
    this.pool = new Pool({
      connectionString: options.url,
      application_name: `rungraph ${this.replicaId}`,
      max: 3,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      query_timeout: 60_000,
    });
    // An idle client that breaks must not crash the process: the next query finds out.
    this.pool.on('error', () => undefined);
  }

  /** Bumped by every change, local or another replica's. */
  get generation(): number {
    return this.state.generation;
  }

  private get views(): Map<string, SourceIndex> {
    return this.state.views;
  }
  private get syncs(): Map<string, SyncRecord> {
    return this.state.syncs;
  }

  private get log(): Logger {
    return this.options.log;
  }
  private get retryMin(): number {
    return this.options.retryMinMs ?? 250;
  }

  /** Whether the store is connected to PostgreSQL now, and since when it is not. */
  health(): { connected: boolean; downSince: number | null; queuedRuns: number; seq: number } {
    return { connected: this.status === 'up', downSince: this.status === 'up' ? null : (this.downSince ?? null), queuedRuns: this.queue.queuedRuns, seq: this.state.lastSeq };
  }

  /** Called with a source's id after another replica's change to it was applied (and after the first load). */
  onRemoteChange(listener: (sourceId: string) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  async open(sources: readonly StoreSource[]): Promise<void> {
    for (const s of sources) {
      this.views.set(s.id, new SourceIndex(s.id));
      this.identities.set(s.id, s.identity);
    }
    this.status = 'connecting';
    this.downSince = Date.now();
    try {
      await this.connect();
    } catch (error) {
      if (!isConnectionError(error)) {
        await this.shutdown();
        throw error;
      }
      this.log.warn(
        { postgres: this.where, reason: reasonOf(error), retryMs: this.retryMs },
        `run index: PostgreSQL at ${this.where} cannot be reached (${reasonOf(error)}); reads go live until it answers, retrying with backoff from ${this.retryMs} ms`,
      );
      this.lastProblem = reasonOf(error);
      this.retryLater();
    }
  }

  view(sourceId: string): SourceIndex {
    const view = this.views.get(sourceId);
    if (!view) throw new Error(`the run index has no source ${sourceId}`);
    return view;
  }

  sync(sourceId: string): SyncRecord | undefined {
    return this.syncs.get(sourceId);
  }

  putRuns(sourceId: string, runs: readonly Run[]): void {
    if (runs.length === 0) return;
    const view = this.view(sourceId);
    if (runs.length === 1) view.put(runs[0]);
    else view.putMany(runs);
    for (const run of runs) this.queue.putRun(sourceId, run.key, run);
    this.state.generation += 1;
    this.kick();
  }

  deleteRuns(sourceId: string, keys: readonly Key[]): void {
    if (keys.length === 0) return;
    const view = this.view(sourceId);
    let gone = 0;
    for (const key of keys) if (view.delete(key)) gone += 1;
    // Written even when this view lacked the run: another replica's put may not have reached it yet.
    for (const key of keys) this.queue.putRun(sourceId, key, null);
    if (gone > 0) this.state.generation += 1;
    this.kick();
  }

  setProjects(sourceId: string, projects: Project[]): void {
    const view = this.view(sourceId);
    if (JSON.stringify(view.projects) === JSON.stringify(projects)) return;
    view.projects = projects;
    this.queue.setField(sourceId, 'projects', projects);
    this.state.generation += 1;
    this.kick();
  }

  setHosts(sourceId: string, hosts: Host[]): void {
    const view = this.view(sourceId);
    if (JSON.stringify(view.hosts) === JSON.stringify(hosts)) return;
    view.hosts = hosts;
    this.queue.setField(sourceId, 'hosts', hosts);
    this.state.generation += 1;
    this.kick();
  }

  setSync(sourceId: string, record: SyncRecord): void {
    this.syncs.set(sourceId, record);
    // Sync bookkeeping changes no answer: no new generation.
    this.queue.setField(sourceId, 'sync', record);
    this.kick();
  }

  reset(sourceId: string): void {
    this.view(sourceId).clear();
    this.syncs.delete(sourceId);
    this.queue.reset(sourceId);
    this.state.generation += 1;
    this.kick();
  }

  /**
   * Resolves true once every change made before the call is committed and delivered back by
   * LISTEN (so PostgreSQL has handed it to every listening replica); false when that did not happen
   * within `timeoutMs` (PostgreSQL slow or unreachable: the changes stay queued and are written later).
   */
  async flush(timeoutMs = 5_000): Promise<boolean> {
    if (this.status === 'closed') return false;
    let timer: NodeJS.Timeout | undefined;
    const done = this.queue.barrier().then(() => this.state.echoed(this.queue.highestCommitted, this.status === 'up'));
    this.kick();
    const ok = await Promise.race([done.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
    clearTimeout(timer);
    return ok;
  }

  /** Reads every change newer than the view's (a leader calls this before its first cycle, so it starts from the stored watermarks). */
  catchUp(): Promise<void> {
    if (this.status !== 'up') return Promise.reject(Object.assign(new Error(`PostgreSQL at ${this.where} is not connected`), { code: '08003' }));
    return this.serial(() => this.pull());
  }

  /** Drops deletion tombstones older than `olderThanSeconds` (every 10 minutes by itself, an hour old). */
  async purgeTombstones(olderThanSeconds = TOMBSTONE_SECONDS): Promise<number> {
    const { rows } = await this.pool.query(
      `WITH gone AS (DELETE FROM rungraph_runs WHERE run IS NULL AND changed_at < now() - make_interval(secs => $1) RETURNING seq)
       UPDATE rungraph_meta SET purged_seq = greatest(purged_seq, (SELECT coalesce(max(seq), 0) FROM gone)) RETURNING (SELECT count(*) FROM gone) AS n`,
      [olderThanSeconds],
    );
    return Number(rows[0].n);
  }

  async close(): Promise<void> {
    if (this.status === 'closed') return;
    if (this.status === 'up') await this.flush(3_000);
    await this.shutdown();
  }

  // ------------------------------------------------------------------ connection

  /** Migrates, claims the configured sources, LISTENs, then loads (first time) or catches up. */
  private async connect(): Promise<void> {
    await migrate(this.pool, this.log);
    await this.claimSources();
    await this.listen();
    await this.serial(() => (this.loaded ? this.pull() : this.reload()));
    this.loaded = true;
    const wasDown = this.downSince;
    const first = this.status === 'connecting';
    const announced = this.lastProblem !== undefined;
    this.status = 'up';
    this.downSince = undefined;
    this.lastProblem = undefined;
    this.retryMs = this.retryMin;
    this.heartbeat = setInterval(() => void this.beat(), this.options.heartbeatMs ?? 5_000);
    this.heartbeat.unref();
    if (!first) this.log.info({ postgres: this.where, downMs: wasDown ? Date.now() - wasDown : 0, seq: this.state.lastSeq }, `run index: PostgreSQL at ${this.where} is back; the view caught up to change ${this.state.lastSeq}`);
    else if (announced) this.log.info({ postgres: this.where, seq: this.state.lastSeq }, `run index: connected to PostgreSQL at ${this.where}`);
    for (const id of this.views.keys()) this.emit(id);
    this.kick();
  }

  private retryLater(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().catch((error) => {
        if (this.status === 'closed') return;
        this.dropListener();
        const reason = reasonOf(error);
        // Once per distinct problem: a long outage is one line, a changed reason (now a wrong password) another.
        if (reason !== this.lastProblem && !isConnectionError(error)) this.log.error({ postgres: this.where, reason }, `run index: PostgreSQL at ${this.where} refused the store (${reason}); retrying`);
        this.lastProblem = reason;
        this.retryMs = Math.min(this.retryMs * 2, this.options.retryMaxMs ?? 5_000);
        this.retryLater();
      });
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** The connection broke while up: keep serving, say so once, reconnect. */
  private lost(error: unknown): void {
    if (this.status !== 'up') return;
    this.status = 'down';
    this.downSince = Date.now();
    this.lastProblem = reasonOf(error);
    clearInterval(this.heartbeat);
    this.dropListener();
    this.state.releaseWaiters();
    this.log.warn(
      { postgres: this.where, reason: reasonOf(error), queuedRuns: this.queue.queuedRuns },
      `run index: lost PostgreSQL at ${this.where} (${reasonOf(error)}); serving the last view, changes are queued, reconnecting by itself`,
    );
    this.retryLater();
  }

  private async listen(): Promise<void> {
    this.dropListener();
    const client = new Client({ connectionString: this.options.url, application_name: `rungraph-listen ${this.replicaId}`, keepAlive: true, connectionTimeoutMillis: 5_000, query_timeout: 10_000 });
    const broken = (error: unknown) => {
      if (this.listener !== client) return;
      this.lost(error ?? new Error('Connection terminated'));
    };
    client.on('error', broken);
    client.on('end', () => broken(new Error('Connection terminated')));
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || this.listener !== client) return;
      const payload = message.payload ?? '';
      void this.serial(() => this.onNotice(payload)).catch((error) => this.failed(error));
    });
    this.listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      this.dropListener();
      throw error;
    }
  }

  private dropListener(): void {
    const client = this.listener;
    this.listener = undefined;
    if (client) client.end().catch(() => undefined);
  }

  /** The listener still answers, and no change went unannounced. */
  private async beat(): Promise<void> {
    const client = this.listener;
    if (!client || this.status !== 'up') return;
    try {
      const seq = Number((await client.query('SELECT seq FROM rungraph_meta')).rows[0].seq);
      if (seq > this.state.lastSeq) await this.serial(() => (seq > this.state.lastSeq ? this.pull() : undefined));
      if (Date.now() - this.lastPurge > PURGE_EVERY_MS) {
        this.lastPurge = Date.now();
        await this.purgeTombstones();
      }
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    if (isConnectionError(error)) this.lost(error);
    else if (this.status !== 'closed') this.log.error({ postgres: this.where, reason: reasonOf(error) }, `run index: reading changes from PostgreSQL failed (${reasonOf(error)}); retrying at the next heartbeat`);
  }

  private async shutdown(): Promise<void> {
    this.status = 'closed';
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    this.state.releaseWaiters();
    this.dropListener();
    await Promise.race([this.pool.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  }

  // ------------------------------------------------------------------ sources

  /** Registers each configured source; one whose kind or base URL changed is reset (by whichever replica sees it first). */
  private async claimSources(): Promise<void> {
    const ids = [...this.identities.keys()];
    if (ids.length === 0) return;
    await this.pool.query(
      'INSERT INTO rungraph_sources (source, kind, base_url) SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (source) DO NOTHING',
      [ids, ids.map((id) => this.identities.get(id)!.kind), ids.map((id) => this.identities.get(id)!.baseUrl)],
    );
    const { rows } = await this.pool.query('SELECT source, kind, base_url FROM rungraph_sources WHERE source = ANY($1)', [ids]);
    for (const row of rows) {
      const want = this.identities.get(row.source)!;
      if (row.kind === want.kind && row.base_url === want.baseUrl) continue;
      await this.inTransaction(async (client) => {
        const seq = await this.nextSeq(client);
        const changed = await client.query(
          `UPDATE rungraph_sources SET kind = $2, base_url = $3, projects = '[]', hosts = '[]', sync = NULL, reset_seq = $4, seq = $4, changed_at = now()
           WHERE source = $1 AND (kind <> $2 OR base_url <> $3)`,
          [row.source, want.kind, want.baseUrl, seq],
        );
        if (changed.rowCount === 0) return false;
        await client.query('DELETE FROM rungraph_runs WHERE source = $1', [row.source]);
        await client.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ v: 1, o: this.replicaId, q: seq, c: [{ s: row.source, reset: true }] } satisfies Notice)]);
        this.log.warn({ source: row.source }, `the run index holds source ${row.source} for another ${row.kind !== want.kind ? 'kind' : 'base URL'}; its part is rebuilt from the vendor`);
        return true;
      });
    }
  }

  // ------------------------------------------------------------------ writing

  private kick(): void {
    if (this.writing || this.status !== 'up' || !this.queue.hasWork()) return;
    this.writing = this.drain().then((ok) => {
      this.writing = undefined;
      // Changes queued while the last transaction committed go now; after a failed write, a little later.
      if (ok) this.kick();
      else if (this.status === 'up') setTimeout(() => this.kick(), this.retryMs).unref();
    });
  }

  /** Writes until the queue is empty; false when a write failed (its changes went back to the queue). */
  private async drain(): Promise<boolean> {
    for (;;) {
      const tx = this.queue.take(TX_RUNS);
      if (!tx) return true;
      let seq: number;
      try {
        seq = await this.write(tx);
      } catch (error) {
        this.queue.giveBack(tx);
        if (isConnectionError(error)) this.lost(error);
        else {
          const reason = reasonOf(error);
          if (reason !== this.lastWriteProblem) this.log.error({ postgres: this.where, reason }, `run index: a write to PostgreSQL failed (${reason}); it stays queued and is retried`);
          this.lastWriteProblem = reason;
          this.retryMs = Math.min(this.retryMs * 2, this.options.retryMaxMs ?? 5_000);
        }
        return false;
      }
      this.lastWriteProblem = undefined;
      this.queue.committed(tx, seq);
    }
  }

  /** One transaction: the next seq, the rows, the notice; commit. */
  private async write(tx: TxChanges): Promise<number> {
    return this.inTransaction(async (client) => {
      const seq = await this.nextSeq(client);
      this.queue.assign(tx, seq);
      await writeChanges(client, seq, tx);
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, encodeNotice(this.replicaId, seq, tx)]);
      return seq;
    });
  }

  /** The next change number; its row lock is held to COMMIT, so transactions commit in seq order. */
  private async nextSeq(client: PoolClient): Promise<number> {
    return Number((await client.query('UPDATE rungraph_meta SET seq = seq + 1 RETURNING seq')).rows[0].seq);
  }

  /** Runs `body` in a transaction; commits unless it returns false. */
  private async inTransaction<T>(body: (client: PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const client = await this.pool.connect();
    client.on('error', ignore); // as in withClient
    let failure: unknown;
    try {
      await client.query(begin);
      const result = await body(client);
      await client.query(result === false ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (error) {
      failure = error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(failure !== undefined && isConnectionError(failure) ? (failure as Error) : undefined);
    }
  }

  // ------------------------------------------------------------------ reading

  private serial<T>(work: () => T | Promise<T>): Promise<T> {
    const next = this.chain.then(work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** A notice that is the next change is applied as it is; anything else is read from the tables. */
  private async onNotice(payload: string): Promise<void> {
    let notice: Notice | undefined;
    try {
      notice = JSON.parse(payload) as Notice;
    } catch {
      notice = undefined;
    }
    if (!this.state.notice(notice, this.replicaId)) await this.pull();
  }

  private pull(): Promise<void> {
    return this.withClient((client) => this.state.pull(client));
  }

  private reload(): Promise<void> {
    return this.withClient((client) => this.state.reload(client));
  }

  private async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection that dies while checked out emits 'error' on the client, which the pool does not
    // catch: without a listener it would end the process. The query under way fails on its own.
    client.on('error', ignore);
    let failure: unknown;
    try {
      return await work(client);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(failure !== undefined && isConnectionError(failure) ? (failure as Error) : undefined);
    }
  }

  private emit(sourceId: string): void {
    for (const listener of this.changeListeners) {
      try {
        listener(sourceId);
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}

function ignore(): void {}
