/**
 * One rate budget per source for every replica (issue #15): a token bucket per source kept in
 * PostgreSQL (`rungraph_budgets`, postgres-schema.ts), which every replica's live reads, writes and
 * the sync leader's calls take from, so the vendor sees one budget however many replicas there are.
 *
 * - A take is one statement, `rungraph_budget_take(source, wanted)`, on the database's clock (so
 *   the replicas' clocks do not matter): it refills the bucket for the time since the last take,
 *   hands out up to `wanted` whole tokens and says how long until the next one. Each replica keeps
 *   a FIFO queue per source and has at most one take in flight per source, asking for as many
 *   tokens as it has requests waiting; when the bucket is empty it waits the time the statement
 *   said and asks again.
 * - The bucket's rule is http/traffic.ts's windowedBucket (capacity B, refilled at budget − B a
 *   minute), so no 60 s window holds more than the budget.
 * - Every `heartbeatMs` (2 s) each replica writes, per source, the budget its config gives and the
 *   time (`rungraph_budget_replicas`), and sets the bucket from the replicas seen in the last
 *   `LIVE_BEATS` heartbeats: the smallest configured budget wins (a replica configured lower is
 *   obeyed at once; a raise takes effect once no live replica is configured lower), and a replica
 *   that stopped heartbeating without leaving (killed, or cut off from PostgreSQL while still
 *   calling the vendor on its fallback share) keeps its share reserved for RESERVE_SECONDS: the
 *   bucket then refills at budget × live ÷ (live + silent). A replica that stops deletes its rows.
 * - PostgreSQL unreachable or lost (a take or heartbeat fails, or takes over `takeTimeoutMs`):
 *   each source falls back to a local bucket of budget ÷ (the replicas seen sharing it at the last
 *   heartbeat; 1 when none was ever seen), starting empty since the shared bucket may just have
 *   been spent; one warning names the shares. Requests keep flowing at that share, their deadlines
 *   still apply, and the replica reconnects by itself with backoff; once back (one info line), it
 *   empties the shared bucket once, because its fallback share was being spent meanwhile, and takes
 *   from it again. A replica that never reached PostgreSQL since it started cannot know how many
 *   replicas there are and takes its whole budget locally until it does.
 */
import { Pool } from 'pg';
import { TokenBucket, windowedBucket, type BudgetProvider, type BudgetRule, type RateBudget } from '../http/traffic';
import type { Logger } from '../model/source';
import { describeConnection, isConnectionError, migrate, reasonOf } from './postgres-schema';

export interface PostgresBudgetOptions {
  /** A postgres:// connection URL (index.postgres). */
  url: string;
  log: Logger;
  /** This replica's id (the store's), in `rungraph_budget_replicas` and application_name. */
  replicaId: string;
  /** How often this replica says which budgets it shares; default 2 s. */
  heartbeatMs?: number;
  /** A take or heartbeat slower than this counts as PostgreSQL lost; default 2 s. */
  takeTimeoutMs?: number;
  /** Reconnect delays: from this, doubling, up to `retryMaxMs`. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** A replica counts as sharing while it was seen within this many heartbeats (plus a second). */
const LIVE_BEATS = 3;
/** How long a replica that went silent without leaving keeps its share reserved. */
const RESERVE_SECONDS = 120;
/** Rows of replicas gone longer than this are deleted. */
const FORGET_SECONDS = 3_600;
/** Most tokens one take asks for (a replica's waiters are at most its concurrency per source). */
const MAX_WANTED = 32;

type Status = 'idle' | 'connecting' | 'up' | 'down' | 'closed';

interface Waiter {
  resolve(ok: boolean): void;
  deadline: number | undefined;
  timer?: NodeJS.Timeout;
}

export class PostgresBudgets implements BudgetProvider {
  private readonly buckets = new Map<string, SharedBucket>();
  private readonly pool: Pool;
  private readonly where: string;
  private status: Status = 'idle';
  private retryMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastProblem: string | undefined;
  /** Whether a fallback share was in use since the last connection, so the shared bucket is emptied once on return. */
  private fellBack = false;

  constructor(private readonly options: PostgresBudgetOptions) {
    this.where = describeConnection(options.url);
    this.retryMs = this.retryMin;
    this.pool = new Pool({
      connectionString: options.url,
      application_name: `rungraph-budget ${options.replicaId}`,
      max: 2,
      connectionTimeoutMillis: this.takeTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      query_timeout: this.takeTimeoutMs,
    });
    // An idle client that breaks must not crash the process: the next query finds out.
    this.pool.on('error', () => undefined);
  }

  private get takeTimeoutMs(): number {
    return this.options.takeTimeoutMs ?? 2_000;
  }
  private get heartbeatMs(): number {
    return this.options.heartbeatMs ?? 2_000;
  }
  private get retryMin(): number {
    return this.options.retryMinMs ?? 250;
  }
  private get log(): Logger {
    return this.options.log;
  }

  budget(rule: BudgetRule): RateBudget {
    const bucket = new SharedBucket(rule, this);
    this.buckets.set(rule.sourceId, bucket);
    return bucket;
  }

  /** Whether takes go to PostgreSQL now. */
  get connected(): boolean {
    return this.status === 'up';
  }

  /** Per source, the replicas seen sharing its budget at the last heartbeat (this one included). */
  sharers(sourceId: string): number {
    return this.buckets.get(sourceId)?.sharers ?? 0;
  }

  /** Connects in the background (PostgreSQL may be down); takes wait for the first attempt's outcome. */
  start(): void {
    if (this.buckets.size === 0 || this.status !== 'idle') return;
    this.status = 'connecting';
    void this.connect().catch((error) => this.unreachable(error));
  }

  /** Leaves (this replica's rows are deleted, so the others stop reserving its share) and closes; waiting requests go on locally. */
  async stop(): Promise<void> {
    if (this.status === 'closed') return;
    const was = this.status;
    this.status = 'closed';
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    for (const bucket of this.buckets.values()) bucket.fallBack();
    const bounded = <T>(p: Promise<T>) => Promise.race([p, new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref())]);
    if (was === 'up') await bounded(this.pool.query('DELETE FROM rungraph_budget_replicas WHERE replica = $1', [this.options.replicaId]).catch(() => undefined));
    await bounded(this.pool.end().catch(() => undefined));
  }

  /** One take: up to `wanted` tokens of a source's shared bucket, and the ms until the next one. */
  async takeTokens(sourceId: string, wanted: number): Promise<{ granted: number; waitMs: number }> {
    const { rows } = await this.pool.query('SELECT granted, wait_ms FROM rungraph_budget_take($1, $2)', [sourceId, wanted]);
    const granted = Number(rows[0].granted);
    // No row yet (another replica's heartbeat has not created it, nor ours): set it now and ask again.
    if (granted < 0) {
      await this.beat();
      return { granted: 0, waitMs: 0 };
    }
    return { granted, waitMs: Number(rows[0].wait_ms) };
  }

  /** A take failed or was too slow: whatever the reason, the fallback share serves until a reconnect succeeds. */
  takeFailed(error: unknown): void {
    this.lost(error);
  }

  // ------------------------------------------------------------------ connection

  private async connect(): Promise<void> {
    await migrate(this.pool, this.log);
    await this.beat();
    if (this.fellBack) {
      // Our fallback share was spending while the shared bucket refilled: spend the refill instead.
      await this.pool.query('UPDATE rungraph_budgets SET tokens = 0, at = greatest(at, clock_timestamp()) WHERE source = ANY($1)', [[...this.buckets.keys()]]);
      this.fellBack = false;
    }
    if (this.status === 'closed') return;
    const announced = this.lastProblem !== undefined;
    this.status = 'up';
    this.lastProblem = undefined;
    this.retryMs = this.retryMin;
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => void this.beat().catch((error) => this.lost(error)), this.heartbeatMs);
    this.heartbeat.unref();
    if (announced) this.log.info({ postgres: this.where, sources: this.shares() }, `rate budget: PostgreSQL at ${this.where} answers; the budget of ${[...this.buckets.keys()].join(', ')} is shared by every replica again`);
    for (const bucket of this.buckets.values()) bucket.resume();
  }

  /** The first attempt failed (fall back, say so once), or a reconnect did (already on the fallback share). */
  private unreachable(error: unknown): void {
    if (this.status === 'closed') return;
    const first = this.status === 'connecting';
    const reason = reasonOf(error);
    if (first) {
      this.status = 'down';
      this.fallBackAll();
      this.log.warn(
        { postgres: this.where, reason, sources: this.shares() },
        `rate budget: PostgreSQL at ${this.where} cannot be reached (${reason}); until it answers, ${this.describeShares()}; retrying with backoff from ${this.retryMs} ms`,
      );
    } else if (reason !== this.lastProblem && !isConnectionError(error)) {
      this.log.error({ postgres: this.where, reason }, `rate budget: PostgreSQL at ${this.where} refused the shared budget (${reason}); retrying`);
    }
    this.lastProblem = reason;
    this.retryLater();
  }

  /** Lost while up: fall back, say so once, reconnect. */
  private lost(error: unknown): void {
    if (this.status !== 'up') return;
    this.status = 'down';
    clearInterval(this.heartbeat);
    this.fallBackAll();
    const reason = reasonOf(error);
    this.lastProblem = reason;
    this.log.warn(
      { postgres: this.where, reason, sources: this.shares() },
      `rate budget: lost PostgreSQL at ${this.where} (${reason}); until it is back, ${this.describeShares()}; reconnecting by itself`,
    );
    this.retryLater();
  }

  private retryLater(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.status === 'closed') return;
      this.connect().catch((error) => {
        this.retryMs = Math.min(this.retryMs * 2, this.options.retryMaxMs ?? 5_000);
        this.unreachable(error);
      });
    }, this.retryMs);
    this.retryTimer.unref();
  }

  private fallBackAll(): void {
    this.fellBack = true;
    for (const bucket of this.buckets.values()) bucket.fallBack();
  }

  private shares(): Record<string, { requestsPerMinute: number; replicas: number }> {
    return Object.fromEntries([...this.buckets.values()].map((b) => [b.rule.sourceId, { requestsPerMinute: b.fallbackRate, replicas: b.sharers }]));
  }

  private describeShares(): string {
    return [...this.buckets.values()]
      .map((b) =>
        b.sharers > 0
          ? `${b.rule.sourceId} takes from a local ${round(b.fallbackRate)}/min (its ${b.rule.requestsPerMinute}/min ÷ ${b.sharers} replica${b.sharers === 1 ? '' : 's'} last seen sharing it)`
          : `${b.rule.sourceId} takes from a local ${b.rule.requestsPerMinute}/min (no other replica known yet)`,
      )
      .join(', ');
  }

  /** Says which budgets this replica shares, and sets each bucket from the replicas seen lately. */
  private async beat(): Promise<void> {
    const buckets = [...this.buckets.values()];
    const ids = buckets.map((b) => b.rule.sourceId);
    await this.pool.query(
      `INSERT INTO rungraph_budget_replicas (source, replica, requests_per_minute, burst, seen_at)
       SELECT u.s, $2, u.r, u.b, clock_timestamp() FROM unnest($1::text[], $3::float8[], $4::int[]) AS u(s, r, b)
       ON CONFLICT (source, replica) DO UPDATE SET requests_per_minute = excluded.requests_per_minute, burst = excluded.burst, seen_at = excluded.seen_at`,
      [ids, this.options.replicaId, buckets.map((b) => b.rule.requestsPerMinute), buckets.map((b) => b.rule.burst)],
    );
    const liveSeconds = (LIVE_BEATS * this.heartbeatMs) / 1000 + 1;
    const { rows } = await this.pool.query(
      `SELECT source, min(requests_per_minute) AS rpm, min(burst) AS burst,
              count(*) FILTER (WHERE seen_at > clock_timestamp() - make_interval(secs => $2)) AS live, count(*) AS known
       FROM rungraph_budget_replicas
       WHERE source = ANY($1) AND seen_at > clock_timestamp() - make_interval(secs => $3)
       GROUP BY source`,
      [ids, liveSeconds, RESERVE_SECONDS],
    );
    for (const row of rows as Array<{ source: string; rpm: number; burst: number | null; live: string; known: string }>) {
      const bucket = this.buckets.get(row.source);
      if (!bucket) continue;
      const live = Number(row.live);
      const known = Number(row.known);
      bucket.sharers = Math.max(1, live);
      const rpm = (Number(row.rpm) * Math.max(1, live)) / Math.max(1, known);
      const { capacity, perMinute } = windowedBucket(rpm, row.burst === null ? null : Number(row.burst));
      // A changed size applies from now: the tokens are brought up to now at the old rate first.
      await this.pool.query(
        `INSERT INTO rungraph_budgets AS b (source, requests_per_minute, capacity, per_minute, tokens, at)
         VALUES ($1, $2, $3, $4, $3, clock_timestamp())
         ON CONFLICT (source) DO UPDATE SET
           requests_per_minute = excluded.requests_per_minute, capacity = excluded.capacity, per_minute = excluded.per_minute,
           tokens = least(excluded.capacity, b.capacity, b.tokens + greatest(0, extract(epoch FROM clock_timestamp() - b.at)::float8) * b.per_minute / 60),
           at = greatest(b.at, clock_timestamp())
         WHERE b.capacity <> excluded.capacity OR b.per_minute <> excluded.per_minute`,
        [row.source, rpm, capacity, perMinute],
      );
    }
    await this.pool.query('DELETE FROM rungraph_budget_replicas WHERE seen_at < clock_timestamp() - make_interval(secs => $1)', [FORGET_SECONDS]);
  }

  /** Whether takes should wait for the connection's first outcome (connecting), go to PostgreSQL (up) or stay local. */
  get mode(): 'wait' | 'shared' | 'local' {
    if (this.status === 'connecting') return 'wait';
    return this.status === 'up' ? 'shared' : 'local';
  }
}

/**
 * One source's budget on one replica: a FIFO queue in front of the shared bucket, with at most one
 * take in flight, or a local fallback share while PostgreSQL is away.
 */
class SharedBucket implements RateBudget {
  private queue: Waiter[] = [];
  private asking = false;
  private timer: NodeJS.Timeout | undefined;
  private fallback: TokenBucket | undefined;
  /** Replicas seen sharing this budget at the last heartbeat (0: never seen). */
  sharers = 0;

  constructor(
    readonly rule: BudgetRule,
    private readonly owner: PostgresBudgets,
  ) {}

  /** The local share's rate while PostgreSQL is away. */
  get fallbackRate(): number {
    return this.rule.requestsPerMinute / Math.max(1, this.sharers);
  }

  take(deadline?: number): Promise<boolean> {
    if (this.owner.mode === 'local') return this.local().take(deadline);
    if (deadline !== undefined && deadline <= Date.now()) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, deadline };
      if (deadline !== undefined) {
        waiter.timer = setTimeout(() => {
          this.queue = this.queue.filter((w) => w !== waiter);
          resolve(false);
        }, deadline - Date.now());
        waiter.timer.unref();
      }
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** PostgreSQL is away: a new local share (starting empty), and every waiter moves to it. */
  fallBack(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const share = windowedBucket(this.fallbackRate, this.rule.burst === null ? null : Math.floor(this.rule.burst / Math.max(1, this.sharers)));
    this.fallback = new TokenBucket(share.perMinute, share.capacity, Date.now, 0);
    const waiting = this.queue;
    this.queue = [];
    for (const w of waiting) {
      clearTimeout(w.timer);
      void this.fallback.take(w.deadline).then(w.resolve);
    }
  }

  /** PostgreSQL answers again: waiters queued since go to the shared bucket. */
  resume(): void {
    this.pump();
  }

  private local(): TokenBucket {
    if (!this.fallback) this.fallBack();
    return this.fallback!;
  }

  private pump(): void {
    if (this.asking || this.timer || this.queue.length === 0 || this.owner.mode !== 'shared') return;
    this.asking = true;
    this.owner.takeTokens(this.rule.sourceId, Math.min(this.queue.length, MAX_WANTED)).then(
      ({ granted, waitMs }) => {
        this.asking = false;
        // Tokens granted to waiters whose deadline passed meanwhile are not kept for later: a token
        // spent later than it was taken could put more in a window than the bucket allowed.
        for (let i = 0; i < granted && this.queue.length > 0; i++) {
          const w = this.queue.shift()!;
          clearTimeout(w.timer);
          w.resolve(true);
        }
        if (this.queue.length === 0) return;
        if (granted > 0 && waitMs === 0) return this.pump();
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, Math.max(5, waitMs));
        this.timer.unref();
      },
      (error) => {
        this.asking = false;
        this.owner.takeFailed(error);
        // Normally the waiters have just moved to the fallback share; should they still be here, ask again shortly.
        if (this.owner.mode === 'shared' && this.queue.length > 0 && !this.timer) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, 250);
          this.timer.unref();
        }
      },
    );
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
