/**
 * What the PostgreSQL store's tests share: the server they need (RUNGRAPH_TEST_POSTGRES, which
 * .ci/run sets after starting a throwaway PostgreSQL 15), a fresh database per test file, a TCP
 * proxy that can cut and restore a replica's connection, runs to store, a log to read, and a
 * bounded poll.
 *
 * Without RUNGRAPH_TEST_POSTGRES the tests are skipped with a name that says why on a developer
 * machine; under CI=true they fail instead, so CI can never pass without having run them.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Client } from 'pg';
import { Writable } from 'node:stream';
import type { Logger } from '../../src/model/source';
import { createLogger } from '../../src/server/log';
import type { Run } from '../../src/model/types';

export const PG_URL = process.env.RUNGRAPH_TEST_POSTGRES;

const SKIP_REASON = 'needs PostgreSQL: set RUNGRAPH_TEST_POSTGRES=postgres://user@127.0.0.1:5432/postgres (a role that may CREATE DATABASE) to run';

/** `describe` when PostgreSQL is configured; a clearly named skip on a developer machine; a failure under CI=true. */
export function describePostgres(name: string, body: () => void): void {
  if (PG_URL) return describe(name, body);
  if (process.env.CI === 'true') {
    describe(name, () => {
      test('RUNGRAPH_TEST_POSTGRES is set (CI never skips the PostgreSQL tests)', () => {
        throw new Error(`CI=true but RUNGRAPH_TEST_POSTGRES is unset: .ci/run starts a throwaway PostgreSQL and exports it; ${name} did not run`);
      });
    });
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`skipped "${name}": it ${SKIP_REASON}`);
  describe.skip(`${name} [skipped: ${SKIP_REASON}]`, body);
}

/** A database of its own for one test file (dropped at the end), and its URL. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `rungraph_test_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** One query on a short-lived connection. */
export async function sql<T = any>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Ends the backends of one database whose application_name matches (a leader's, a listener's connection). */
export async function terminate(url: string, applicationName: string): Promise<number> {
  const db = new URL(url).pathname.slice(1);
  const rows = await sql(url, 'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [db, applicationName]);
  return rows.filter((r) => r.ok).length;
}

/** A TCP proxy to PostgreSQL: `stop()` cuts every connection through it and refuses new ones until `start()` again (same port). */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: string) {}

  /** The target URL, pointed at the proxy. */
  url(): string {
    const u = new URL(this.target);
    u.host = `127.0.0.1:${this.port}`;
    return u.toString();
  }

  async start(): Promise<void> {
    const target = new URL(this.target);
    const server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

/** A logger that keeps every line, to assert on. */
/** A gateway's own JSON logger (pino, as in production), every line it writes parsed into `logs`. */
export function jsonLog(): { log: Logger; logs: Array<{ msg: string; level: number; [k: string]: unknown }> } {
  const logs: Array<{ msg: string; level: number; [k: string]: unknown }> = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    }) as never,
  });
  return { log, logs };
}

export function recordingLog(): Logger & { lines: Array<{ level: string; fields: Record<string, unknown>; message: string }>; messages(level?: string): string[] } {
  const lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), messages: (level) => lines.filter((l) => !level || l.level === level).map((l) => l.message) };
}

/** Polls until `check` is true, at most `timeoutMs`; returns the milliseconds it took. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5_000, everyMs = 5): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const T0 = 1_780_000_000;

export function run(i: number, changes: Partial<Run> = {}, sourceId = 's'): Run {
  return {
    sourceId,
    key: [String(i)],
    nativeId: String(i),
    name: `run ${i}`,
    projectKey: ['p1'],
    host: null,
    status: 'IN_PROGRESS',
    conclusion: null,
    isClosed: false,
    vendorStatus: 'Active',
    counts: { total: 10, passed: 3, failed: 1, blocked: 0, untested: 6, retest: 0, other: 0 },
    createdAt: T0 + i * 60,
    completedAt: null,
    updatedAt: null,
    url: `https://vendor.example/runs/${i}`,
    ...changes,
  };
}
