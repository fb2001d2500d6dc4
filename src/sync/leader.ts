/**
 * One sync per source across every replica (issue #15): a leader per source, elected through
 * PostgreSQL with a session-level advisory lock per source, all held on one dedicated connection
 * of each replica (`application_name` "rungraph-leader <replica>").
 *
 * - Every `pollMs` (1 s) each replica tries `pg_try_advisory_lock(RGLD, hash(source))` for the
 *   sources it does not lead; the query doubles as the heartbeat of the locks it holds. Whoever
 *   gets a lock first leads that source; the others serve reads from the shared view.
 * - Before announcing that it leads, a replica catches its view up (`beforeLead`: the store's
 *   `catchUp`), so its first cycle starts from the stored watermarks — a refresh, not a backfill.
 * - The locks live exactly as long as the session: a leader that exits or is killed (kill -9: the
 *   kernel closes its socket) or whose connection is terminated loses them at once, and another
 *   replica takes over at its next poll. A leader whose host vanishes is dropped by PostgreSQL's
 *   TCP keepalives, set on the session to 5 s idle + 3 probes 2 s apart (about 11 s); the
 *   replica itself gives up leading when a heartbeat fails or takes over 3 s, so it stops before
 *   another can start. Takeover is therefore within about 13 s in the worst case.
 * - A replica that lost its connection waits `3 × pollMs` before contending again, so a healthy
 *   replica normally takes over. Stopping releases the locks, handing over within one poll.
 * - A cycle already under way when leadership is lost runs to its end; what it writes is vendor
 *   data (harmless twice), and the new leader's next sync record supersedes its watermarks.
 */
import { Client } from 'pg';
import type { Logger } from '../model/source';
import { PostgresStore, type PostgresStoreOptions } from '../store/postgres';
import { PostgresBudgets } from '../store/postgres-budget';
import { describeConnection, isConnectionError, LOCK_CLASS_LEADER, reasonOf } from '../store/postgres-schema';

/** What a SourceSync asks before it runs a cycle (sync.ts). */
export interface SyncGate {
  /** Whether this replica runs this source's cycles now. */
  leads(sourceId: string): boolean;
  /** The replica that leads the source, as far as this replica knows (null: none now). */
  leaderOf(sourceId: string): string | null;
  /** Called with a source id when this replica gains or loses its lead, or another replica changed its shared record. */
  watch(listener: (sourceId: string) => void): () => void;
}

export interface LeaderOptions {
  url: string;
  replicaId: string;
  log: Logger;
  pollMs?: number;
  /** Runs after the lock is taken and before the lead is announced; a failure gives the lock back. */
  beforeLead?: (sourceId: string) => Promise<void>;
}

/** The lock's second key: a 31-bit FNV-1a of the source id (a collision only makes two sources share a leader). */
export function lockKey(sourceId: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(`rungraph:${sourceId}`)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h & 0x7fffffff;
}

export class LeaderElector implements SyncGate {
  private readonly held = new Set<string>();
  private readonly holders = new Map<string, string | null>();
  private readonly listeners = new Set<(sourceId: string) => void>();
  private sources: string[] = [];
  private client: Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = true;
  private notBefore = 0;
  private lastProblem: string | undefined;

  constructor(private readonly options: LeaderOptions) {}

  private get pollMs(): number {
    return this.options.pollMs ?? 1_000;
  }

  get replicaId(): string {
    return this.options.replicaId;
  }

  leads(sourceId: string): boolean {
    return this.held.has(sourceId);
  }

  leaderOf(sourceId: string): string | null {
    return this.held.has(sourceId) ? this.options.replicaId : (this.holders.get(sourceId) ?? null);
  }

  watch(listener: (sourceId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Another replica changed the source's shared record (the store says so): watchers re-read it. */
  changed(sourceId: string): void {
    this.emit(sourceId);
  }

  /** Starts contending for every source (in the background: PostgreSQL may be down). */
  start(sourceIds: readonly string[]): void {
    this.sources = [...sourceIds];
    this.stopped = false;
    this.schedule(0);
  }

  /** Gives every lead back (another replica takes over at its next poll) and closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    const client = this.client;
    this.client = undefined;
    const had = [...this.held];
    this.held.clear();
    had.forEach((id) => this.emit(id));
    if (!client) return;
    const bounded = <T>(p: Promise<T>) => Promise.race([p, new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref())]);
    await bounded(client.query('SELECT pg_advisory_unlock_all()').catch(() => undefined));
    await bounded(client.end().catch(() => undefined));
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => {
        this.ticking = undefined;
        this.schedule(this.pollMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (this.stopped || Date.now() < this.notBefore) return;
    try {
      const client = this.client ?? (await this.connect());
      const ids = this.sources;
      const { rows } = await client.query(
        `WITH tried AS (
           SELECT u.id, u.k, CASE WHEN u.id = ANY($4::text[]) THEN true ELSE pg_try_advisory_lock($1, u.k) END AS mine
           FROM unnest($2::text[], $3::int[]) AS u(id, k))
         SELECT t.id, t.mine,
           (SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.classid = $1::int::oid AND l.objid = t.k::oid AND l.objsubid = 2 AND l.granted LIMIT 1) AS holder
         FROM tried t`,
        [LOCK_CLASS_LEADER, ids, ids.map(lockKey), [...this.held]],
      );
      this.lastProblem = undefined;
      for (const row of rows as Array<{ id: string; mine: boolean; holder: string | null }>) {
        const holder = row.holder?.startsWith('rungraph-leader ') ? row.holder.slice('rungraph-leader '.length) : null;
        this.holders.set(row.id, holder);
        if (!row.mine || this.held.has(row.id) || this.stopped) continue;
        try {
          await this.options.beforeLead?.(row.id);
        } catch (error) {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS_LEADER, lockKey(row.id)]);
          // The store not connected (yet) is the store's to say; it catches up and the next poll leads.
          if (!isConnectionError(error)) this.options.log.warn({ source: row.id, reason: reasonOf(error) }, `run index: not leading ${row.id} yet: the view could not catch up (${reasonOf(error)})`);
          continue;
        }
        this.held.add(row.id);
        this.options.log.info({ source: row.id, replica: this.options.replicaId }, `run index: this replica (${this.options.replicaId}) now leads the sync of ${row.id}`);
        this.emit(row.id);
      }
    } catch (error) {
      this.lose(error);
    }
  }

  private async connect(): Promise<Client> {
    const client = new Client({
      connectionString: this.options.url,
      application_name: `rungraph-leader ${this.options.replicaId}`,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5_000,
      connectionTimeoutMillis: 5_000,
      // A heartbeat that takes longer than this means the lead is no longer safe to assume.
      query_timeout: 3_000,
    });
    client.on('error', (error) => {
      if (this.client === client) this.lose(error);
    });
    client.on('end', () => {
      if (this.client === client) this.lose(new Error('Connection terminated'));
    });
    try {
      await client.connect();
      // PostgreSQL drops this session (and so its locks) about 11 s after this replica's host goes silent.
      await client.query('SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3');
    } catch (error) {
      client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    return client;
  }

  /** The connection broke: every lead is gone with it; contend again after a pause. */
  private lose(error: unknown): void {
    const client = this.client;
    this.client = undefined;
    client?.end().catch(() => undefined);
    const had = [...this.held];
    // A replica that just lost its lead steps back, so a healthy one normally takes over; one that never led retries at the next poll.
    this.notBefore = had.length > 0 ? Date.now() + 3 * this.pollMs : 0;
    this.held.clear();
    for (const id of this.sources) this.holders.set(id, null);
    const reason = reasonOf(error);
    if (had.length > 0) this.options.log.warn({ sources: had, reason }, `run index: this replica no longer leads the sync of ${had.join(', ')} (${reason}); another replica takes over`);
    // PostgreSQL being down is the store's to say (once); anything else is said here, once per reason.
    else if (reason !== this.lastProblem && !this.stopped && !isConnectionError(error)) this.options.log.warn({ postgres: describeConnection(this.options.url), reason }, `run index: cannot contend for sync leadership (${reason}); retrying`);
    this.lastProblem = reason;
    had.forEach((id) => this.emit(id));
  }

  private emit(sourceId: string): void {
    for (const listener of this.listeners) {
      try {
        listener(sourceId);
      } catch {
        // A watcher's failure is its own.
      }
    }
  }
}

/**
 * The shared parts of one replica: the PostgreSQL store, the leader election and the rate budgets
 * every replica takes from (postgres-budget.ts), wired together under one replica id.
 */
export function sharedIndex(options: Omit<PostgresStoreOptions, 'replicaId'> & { replicaId?: string; pollMs?: number }): { store: PostgresStore; gate: LeaderElector; budgets: PostgresBudgets } {
  const store = new PostgresStore(options);
  const gate = new LeaderElector({ url: options.url, replicaId: store.replicaId, log: options.log, pollMs: options.pollMs, beforeLead: () => store.catchUp() });
  store.onRemoteChange((sourceId) => gate.changed(sourceId));
  return { store, gate, budgets: new PostgresBudgets({ url: options.url, log: options.log, replicaId: store.replicaId }) };
}
