/**
 * The PostgreSQL store's schema (issue #15): versioned migrations, run at every start inside one
 * transaction that holds a transaction-level advisory lock, so several replicas starting at the
 * same moment apply each migration exactly once and the others then find nothing to do. A
 * database whose schema is newer than this code knows is refused with a clear error before
 * anything is written (the transaction is rolled back).
 *
 * Tables (all prefixed `rungraph_`, in the connection's default schema):
 * - `rungraph_migrations`: one row per applied version.
 * - `rungraph_meta`: one row; `seq` numbers every committed change (one per write transaction;
 *   the row's lock makes writers commit in `seq` order, so "everything after seq N" is exact) and
 *   `purged_seq` says up to where deletion tombstones were purged.
 * - `rungraph_sources`: per source its identity (kind, base URL), projects, hosts and sync record
 *   (watermarks included), the `seq` of its last change and the `seq` of its last reset.
 * - `rungraph_runs`: per source and key the run as JSON, or NULL for a deleted run (a tombstone,
 *   purged after an hour), with the `seq` of its last change; indexed by `seq` for catch-up.
 *   Reads never query runs by page (every replica answers from its memory view), so there is no
 *   index on the run order; a direct page query would need one on (source, created_at DESC, …).
 * - `rungraph_budgets` (version 2): per source the rate budget every replica takes from
 *   (postgres-budget.ts): its token bucket (capacity, refill per minute, tokens at `at`), and
 *   `rungraph_budget_take(source, wanted)`, which takes up to `wanted` tokens in one statement on
 *   the database's clock. `rungraph_budget_replicas`: per source and replica the budget its config
 *   gives and when it was last seen, from which the bucket's size and the fallback share are set.
 */
import type { Pool } from 'pg';
import type { Logger } from '../model/source';

export const SCHEMA_VERSION = 2;
/** Advisory lock keys (two int4s): the first names rungraph's use, the second the object. */
export const LOCK_CLASS_MIGRATE = 0x52474d47; // 'RGMG'
export const LOCK_CLASS_LEADER = 0x52474c44; // 'RGLD'
export const CHANNEL = 'rungraph_index';

const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'run index: meta, sources, runs',
    sql: `
      CREATE TABLE rungraph_meta (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        seq bigint NOT NULL DEFAULT 0,
        purged_seq bigint NOT NULL DEFAULT 0
      );
      INSERT INTO rungraph_meta (id) VALUES (true);
      CREATE TABLE rungraph_sources (
        source text PRIMARY KEY,
        kind text NOT NULL,
        base_url text NOT NULL,
        projects json NOT NULL DEFAULT '[]',
        hosts json NOT NULL DEFAULT '[]',
        sync json,
        seq bigint NOT NULL DEFAULT 0,
        reset_seq bigint NOT NULL DEFAULT 0,
        changed_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE rungraph_runs (
        source text NOT NULL,
        key text NOT NULL,
        run json,
        seq bigint NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source, key)
      );
      CREATE INDEX rungraph_runs_seq ON rungraph_runs (seq, source, key);
    `,
  },
  {
    version: 2,
    name: 'rate budget shared by every replica',
    sql: `
      CREATE TABLE rungraph_budgets (
        source text PRIMARY KEY,
        requests_per_minute double precision NOT NULL,
        capacity double precision NOT NULL,
        per_minute double precision NOT NULL,
        tokens double precision NOT NULL,
        at timestamptz NOT NULL
      );
      CREATE TABLE rungraph_budget_replicas (
        source text NOT NULL,
        replica text NOT NULL,
        requests_per_minute double precision NOT NULL,
        burst integer,
        seen_at timestamptz NOT NULL,
        PRIMARY KEY (source, replica)
      );
      -- One statement per take, so it is atomic on its own: the row lock orders replicas taking at
      -- once, and the clock is read after the lock is held (clock_timestamp, not the statement's now()).
      -- granted -1: the source has no bucket yet.
      CREATE FUNCTION rungraph_budget_take(p_source text, p_wanted integer, OUT granted integer, OUT wait_ms integer) AS $$
      DECLARE
        b rungraph_budgets%ROWTYPE;
        t timestamptz;
        level double precision;
      BEGIN
        SELECT * INTO b FROM rungraph_budgets WHERE source = p_source FOR UPDATE;
        IF NOT FOUND THEN
          granted := -1;
          wait_ms := 0;
          RETURN;
        END IF;
        t := clock_timestamp();
        level := least(b.capacity, b.tokens + greatest(0, extract(epoch FROM t - b.at)::double precision) * b.per_minute / 60);
        granted := greatest(0, least(p_wanted, floor(level)))::integer;
        level := level - granted;
        UPDATE rungraph_budgets SET tokens = level, at = greatest(b.at, t) WHERE source = p_source;
        wait_ms := CASE WHEN level >= 1 THEN 0 ELSE ceil((1 - level) * 60000 / b.per_minute)::integer END;
      END
      $$ LANGUAGE plpgsql;
    `,
  },
];

/** The database holds a schema this code does not know; nothing was changed. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `the PostgreSQL database of the run index (index.postgres) has rungraph schema version ${found}, and this rungraph knows versions up to ${known}: ` +
        'upgrade rungraph on this replica (a newer replica migrated the database), or point index.postgres at another database. Nothing was changed.',
    );
    this.name = 'SchemaTooNewError';
  }
}

/** Brings the schema to SCHEMA_VERSION; returns the version found before. Safe to run from many replicas at once. */
export async function migrate(pool: Pool, log: Logger, migrations = MIGRATIONS): Promise<number> {
  const known = migrations.length > 0 ? migrations[migrations.length - 1].version : 0;
  const client = await pool.connect();
  // A connection that dies mid-migration must fail the migration, not end the process.
  const ignore = () => undefined;
  client.on('error', ignore);
  let failed: unknown;
  try {
    await client.query('BEGIN');
    // Held until COMMIT/ROLLBACK: a second replica waits here, then sees the migrations done.
    await client.query('SELECT pg_advisory_xact_lock($1, 0)', [LOCK_CLASS_MIGRATE]);
    const exists = (await client.query(`SELECT to_regclass('rungraph_migrations') IS NOT NULL AS e`)).rows[0].e as boolean;
    let found = 0;
    if (exists) found = Number((await client.query('SELECT coalesce(max(version), 0) AS v FROM rungraph_migrations')).rows[0].v);
    if (found > known) {
      await client.query('ROLLBACK');
      throw new SchemaTooNewError(found, known);
    }
    if (!exists) await client.query('CREATE TABLE rungraph_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const pending = migrations.filter((m) => m.version > found);
    for (const m of pending) {
      await client.query(m.sql);
      await client.query('INSERT INTO rungraph_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    await client.query('COMMIT');
    if (pending.length > 0) log.info({ from: found, to: known }, `run index: PostgreSQL schema migrated from version ${found} to ${known}`);
    return found;
  } catch (error) {
    failed = error;
    if (!(error instanceof SchemaTooNewError)) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', ignore);
    client.release(failed !== undefined && isConnectionError(failed) ? (failed as Error) : undefined);
  }
}

/**
 * Whether an error means "PostgreSQL cannot be reached right now" (retry with backoff) rather than
 * a mistake that retrying cannot fix (a wrong password, no such database, a schema too new).
 */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|ECONNABORTED)$/.test(code)) return true;
  // 08: connection exception; 57P01–57P03: admin shutdown, crash shutdown, cannot connect now; 53300: too many connections.
  if (/^(08...|57P0[1-3]|53300)$/.test(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout expired|timeout exceeded|Query read timeout|Client has encountered a connection error|not queryable|Client was closed/i.test(message);
}

/** The connection string for logs: user, host, port and database, never the password. */
export function describeConnection(url: string): string {
  try {
    const u = new URL(url);
    const db = u.pathname.replace(/^\//, '') || '(default database)';
    return `${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.hostname || u.searchParams.get('host') || 'localhost'}${u.port ? `:${u.port}` : ''}/${db}`;
  } catch {
    return '(index.postgres)';
  }
}

/** A short reason for logs: the driver's code and message, which never carry the password. */
export function reasonOf(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(error);
  return typeof e?.code === 'string' ? `${e.code}: ${message}` : message;
}
