/**
 * The PostgreSQL store's migrations (issue #15) against a real server: versioned and idempotent,
 * safe when several replicas start at the same moment, and a database with a newer schema than
 * the code is refused at start with a clear error and nothing changed. Also the `index.postgres`
 * key: a connection URL, `${VAR}` like every string, never echoed or logged with its password.
 */
import { Pool } from 'pg';
import { parseConfig } from '../../src/server/config';
import { PostgresStore } from '../../src/store/postgres';
import { describeConnection, migrate, SCHEMA_VERSION, SchemaTooNewError } from '../../src/store/postgres-schema';
import { describePostgres, freshDatabase, recordingLog, sql } from './postgres-helpers';

/** A pool whose idle clients may be ended by the database's drop (WITH FORCE) without an unhandled error. */
function quietPool(url: string, max = 10): Pool {
  const pool = new Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}

const SOURCES = [{ id: 's', identity: { kind: 'testrail', baseUrl: 'https://tr.example' } }];

/** Every table, column and migration row of a database: what "nothing changed" is compared with. */
async function catalog(url: string): Promise<unknown> {
  const columns = await sql(url, `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`);
  const migrations = columns.some((c) => c.table_name === 'rungraph_migrations') ? await sql(url, 'SELECT version, name FROM rungraph_migrations ORDER BY version') : [];
  const meta = columns.some((c) => c.table_name === 'rungraph_meta') ? await sql(url, 'SELECT * FROM rungraph_meta') : [];
  return { columns, migrations, meta };
}

describePostgres('PostgreSQL schema migrations', () => {
  test('a fresh database gets every migration once; running again changes nothing', async () => {
    const db = await freshDatabase();
    const pool = quietPool(db.url);
    try {
      const log = recordingLog();
      expect(await migrate(pool, log)).toBe(0);
      expect(log.messages('info')).toEqual([`run index: PostgreSQL schema migrated from version 0 to ${SCHEMA_VERSION}`]);
      const after = await catalog(db.url);
      expect((after as any).migrations.map((m: any) => m.version)).toEqual([1, 2]);
      expect((after as any).columns.map((c: any) => c.table_name)).toEqual(expect.arrayContaining(['rungraph_meta', 'rungraph_sources', 'rungraph_runs', 'rungraph_budgets', 'rungraph_budget_replicas']));

      const again = recordingLog();
      expect(await migrate(pool, again)).toBe(SCHEMA_VERSION);
      expect(again.lines).toEqual([]);
      expect(await catalog(db.url)).toEqual(after);
    } finally {
      await pool.end();
      await db.drop();
    }
  });

  test('eight replicas migrating the same fresh database at the same moment: all succeed, each migration applied once', async () => {
    const db = await freshDatabase();
    const pools = Array.from({ length: 8 }, () => quietPool(db.url, 1));
    try {
      const logs = pools.map(() => recordingLog());
      const found = await Promise.all(pools.map((p, i) => migrate(p, logs[i])));
      // Exactly one of them found version 0 and migrated; the others waited for its lock and found it done.
      expect(found.filter((v) => v === 0)).toHaveLength(1);
      expect(found.filter((v) => v === SCHEMA_VERSION)).toHaveLength(7);
      expect(logs.flatMap((l) => l.messages())).toHaveLength(1);
      expect(await sql(db.url, 'SELECT version FROM rungraph_migrations ORDER BY version')).toEqual([{ version: 1 }, { version: 2 }]);
      expect(await sql(db.url, 'SELECT count(*)::int AS n FROM rungraph_meta')).toEqual([{ n: 1 }]);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
    }
  });

  test('three stores opening one fresh database at once all open and share it', async () => {
    const db = await freshDatabase();
    const stores = [0, 1, 2].map(() => new PostgresStore({ url: db.url, log: recordingLog() }));
    try {
      await Promise.all(stores.map((s) => s.open(SOURCES)));
      expect(stores.map((s) => s.health().connected)).toEqual([true, true, true]);
      expect(await sql(db.url, 'SELECT source, kind, base_url FROM rungraph_sources')).toEqual([{ source: 's', kind: 'testrail', base_url: 'https://tr.example' }]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await db.drop();
    }
  });

  test('a database migrated by a newer rungraph: open fails with a clear error naming both versions, and nothing is changed', async () => {
    const db = await freshDatabase();
    const pool = quietPool(db.url);
    try {
      await migrate(pool, recordingLog());
      await sql(db.url, `INSERT INTO rungraph_migrations (version, name) VALUES (7, 'from the future')`);
      const before = await catalog(db.url);
      const log = recordingLog();
      const store = new PostgresStore({ url: db.url, log });
      const opening = store.open(SOURCES);
      await expect(opening).rejects.toBeInstanceOf(SchemaTooNewError);
      await expect(opening).rejects.toThrow(new RegExp(`has rungraph schema version 7, and this rungraph knows versions up to ${SCHEMA_VERSION}: upgrade rungraph`));
      await expect(opening).rejects.toThrow(/Nothing was changed/);
      expect(await catalog(db.url)).toEqual(before);
      // Not retried as if PostgreSQL were down: the store is closed, and said nothing about reconnecting.
      expect(log.messages().join('\n')).not.toMatch(/retry/);
      expect(await sql(db.url, 'SELECT count(*)::int AS n FROM rungraph_sources')).toEqual([{ n: 0 }]);
    } finally {
      await pool.end();
      await db.drop();
    }
  });

  test('a database holding only a newer migrations table: refused before any rungraph table is created', async () => {
    const db = await freshDatabase();
    const pool = quietPool(db.url);
    try {
      await sql(db.url, `CREATE TABLE rungraph_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()); INSERT INTO rungraph_migrations VALUES (${SCHEMA_VERSION + 1}, 'next', now())`);
      const before = await catalog(db.url);
      await expect(migrate(pool, recordingLog())).rejects.toThrow(new RegExp(`schema version ${SCHEMA_VERSION + 1}, and this rungraph knows versions up to ${SCHEMA_VERSION}`));
      expect(await catalog(db.url)).toEqual(before);
      expect((before as any).columns.every((c: any) => c.table_name === 'rungraph_migrations')).toBe(true);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});

describe('index.postgres in the config', () => {
  const base = { sources: [{ id: 'tr', kind: 'testrail', name: 'TR', baseUrl: 'https://tr.example', auth: { username: 'u', password: 'p' } }] };

  test('a connection URL, read from ${VAR} like every string', () => {
    const config = parseConfig({ ...base, index: { postgres: '${PG}' } }, 'test', { PG: 'postgres://rungraph:s3cret-pw@db.internal:5432/rungraph' });
    expect(config.index.postgres).toBe('postgres://rungraph:s3cret-pw@db.internal:5432/rungraph');
    expect(parseConfig(base, 'test', {}).index.postgres).toBeUndefined();
  });

  test('anything else is refused without echoing the value (it may hold a password)', () => {
    for (const value of ['mysql://u:hunter2-pw@h/db', 'host=db password=hunter2-pw', 42, '']) {
      let message = '';
      try {
        parseConfig({ ...base, index: { postgres: value } }, 'test', {});
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/index\.postgres: must be a PostgreSQL connection URL/);
      expect(message).not.toMatch(/hunter2/);
    }
  });

  test('logs describe the database by user, host, port and name, never the password', () => {
    expect(describeConnection('postgres://rungraph:s3cret-pw@db.internal:5432/rungraph?sslmode=require')).toBe('rungraph@db.internal:5432/rungraph');
    expect(describeConnection('postgresql://db.internal/x')).toBe('db.internal/x');
  });
});
