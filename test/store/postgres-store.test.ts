/**
 * The PostgreSQL store (issue #15) against a real server: replicas on one database, each with its
 * own in-memory view. A change through A is in B's view once A's `flush()` has resolved (B is
 * polled with a bound, and the delay is reported); small changes travel in the NOTIFY payload,
 * large ones are read by seq; writes keep their order; concurrent writers converge on what the
 * database holds; a replica whose listener was cut catches up by itself (and one that fell behind
 * the purged tombstones reloads); a later replica is filled at open; a source whose identity
 * changed starts over everywhere.
 */
import { PostgresStore } from '../../src/store/postgres';
import type { SyncRecord } from '../../src/store/store';
import type { Run } from '../../src/model/types';
import { describePostgres, freshDatabase, recordingLog, run, sql, TcpProxy, terminate, until } from './postgres-helpers';

const SOURCES = [
  { id: 's', identity: { kind: 'testrail', baseUrl: 'https://tr.example' } },
  { id: 't', identity: { kind: 'qacomplete', baseUrl: 'https://qac.example' } },
];
const ALL = { filter: {}, limit: 100_000 };
const page = (store: PostgresStore, source = 's') => store.view(source).slice(ALL).runs;
const stored = async (url: string, source = 's') =>
  (await sql<{ run: Run }>(url, 'SELECT run FROM rungraph_runs WHERE source = $1 AND run IS NOT NULL', [source])).map((r) => r.run).sort((a, b) => Number(a.nativeId) - Number(b.nativeId));
const sorted = (runs: Run[]) => [...runs].sort((a, b) => Number(a.nativeId) - Number(b.nativeId));

describePostgres('PostgresStore: replicas on one database', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let a: PostgresStore;
  let b: PostgresStore;
  const logB = recordingLog();
  const delays: number[] = [];

  beforeAll(async () => {
    db = await freshDatabase();
    a = new PostgresStore({ url: db.url, log: recordingLog(), replicaId: 'A' });
    b = new PostgresStore({ url: db.url, log: logB, replicaId: 'B', heartbeatMs: 500 });
    await Promise.all([a.open(SOURCES), b.open(SOURCES)]);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    // eslint-disable-next-line no-console
    if (delays.length > 0) console.log(`B saw A's flushed change after ${Math.max(...delays)} ms at most [${delays.join(", ")}] (${delays.length} changes; median ${delays.sort((x, y) => x - y)[delays.length >> 1]} ms)`);
  });

  /** A change through A, flushed; then how long until B's view shows it. */
  async function throughA(change: () => void, seen: () => boolean): Promise<number> {
    change();
    expect(await a.flush()).toBe(true);
    const ms = await until(seen, 2_000, 1);
    delays.push(ms);
    return ms;
  }

  test('a put and a delete through A are in B\'s view once A\'s flush() resolves', async () => {
    await throughA(() => a.putRuns('s', [run(1), run(2), run(3)]), () => b.view('s').size === 3);
    expect(page(b)).toEqual(page(a));
    const gen = b.generation;
    await throughA(() => a.putRuns('s', [run(2, { name: 'renamed', isClosed: true, status: 'COMPLETED' })]), () => b.view('s').run(['2'])?.name === 'renamed');
    expect(b.view('s').run(['2'])).toEqual(run(2, { name: 'renamed', isClosed: true, status: 'COMPLETED' }));
    expect(b.generation).toBeGreaterThan(gen);
    await throughA(() => a.deleteRuns('s', [['1']]), () => b.view('s').run(['1']) === undefined);
    expect(page(b)).toEqual(page(a));
    expect(await stored(db.url)).toEqual(sorted(page(a)));
  });

  test('projects, hosts and the sync record (watermarks) reach B too; B writes and A sees', async () => {
    const projects = [{ sourceId: 's', key: ['p1'], nativeId: 'p1', name: 'Webshop', isCompleted: false, url: null }];
    const hosts = [{ sourceId: 's', key: ['h1'], nativeId: 'h1', name: 'agent-1' }];
    const record: SyncRecord = { backfilled: true, syncedAt: 1_780_000_000, sweptAt: 1_780_000_000, watermarks: { mark: 42, projects: { p1: 'x' } } };
    await throughA(() => {
      a.setProjects('s', projects);
      a.setHosts('s', hosts);
      a.setSync('s', record);
    }, () => b.sync('s')?.syncedAt === record.syncedAt);
    expect(b.view('s').projects).toEqual(projects);
    expect(b.view('s').hosts).toEqual(hosts);
    expect(b.sync('s')).toEqual(record);

    b.putRuns('t', [run(7, {}, 't')]);
    expect(await b.flush()).toBe(true);
    await until(() => a.view('t').run(['7']) !== undefined, 2_000, 1);
    expect(a.view('s').size).toBe(2);
  });

  test('a change too large for a NOTIFY payload (600 runs) is read by its seq', async () => {
    const many = Array.from({ length: 600 }, (_, i) => run(1_000 + i, { name: `bulk ${i} ${'x'.repeat(40)}` }));
    await throughA(() => a.putRuns('s', many), () => b.view('s').size === 602);
    expect(page(b)).toEqual(page(a));
    await throughA(() => a.deleteRuns('s', many.slice(0, 300).map((r) => r.key)), () => b.view('s').size === 302);
    expect(page(b)).toEqual(page(a));
  });

  test('writes keep their order: 50 quick versions of one run end as the last, in the database and in B', async () => {
    for (let v = 1; v <= 50; v++) a.putRuns('s', [run(5, { name: `v${v}` })]);
    a.deleteRuns('s', [['3']]);
    a.putRuns('s', [run(3, { name: 'back' })]);
    expect(await a.flush()).toBe(true);
    await until(() => b.view('s').run(['5'])?.name === 'v50' && b.view('s').run(['3'])?.name === 'back', 2_000, 1);
    const rows = await sql(db.url, `SELECT key, run->>'name' AS name FROM rungraph_runs WHERE source = 's' AND key IN ('["5"]', '["3"]') ORDER BY key`);
    expect(rows).toEqual([{ key: '["3"]', name: 'back' }, { key: '["5"]', name: 'v50' }]);
  });

  test('two replicas writing the same runs at once converge on what the database holds', async () => {
    for (let i = 0; i < 40; i++) {
      a.putRuns('s', [run(9, { name: `a${i}` }), run(10 + (i % 3), { name: `a${i}` })]);
      b.putRuns('s', [run(9, { name: `b${i}` }), run(10 + ((i + 1) % 3), { name: `b${i}` })]);
      if (i % 7 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await Promise.all([a.flush(), b.flush()])).toEqual([true, true]);
    const truth = await stored(db.url);
    await until(() => JSON.stringify(sorted(page(a))) === JSON.stringify(truth) && JSON.stringify(sorted(page(b))) === JSON.stringify(truth), 3_000);
  });

  test('B\'s listener cut: B keeps serving, catches up by itself, and says so once each way', async () => {
    const before = logB.lines.length;
    expect(await terminate(db.url, 'rungraph-listen B')).toBe(1);
    await until(() => !b.health().connected, 2_000);
    // Serving the last view meanwhile.
    expect(b.view('s').run(['2'])).toBeDefined();
    a.putRuns('s', [run(50), run(51)]);
    a.deleteRuns('s', [['2']]);
    a.setSync('s', { backfilled: true, syncedAt: 1_780_000_500, sweptAt: 1_780_000_000, watermarks: { mark: 43 } });
    expect(await a.flush()).toBe(true);
    await until(() => b.health().connected && b.view('s').run(['51']) !== undefined && b.view('s').run(['2']) === undefined && b.sync('s')?.syncedAt === 1_780_000_500, 10_000);
    expect(page(b)).toEqual(page(a));
    const said = logB.lines.slice(before);
    expect(said.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringMatching(/^run index: lost PostgreSQL at rungraph@127\.0\.0\.1:\d+\/rungraph_test_\w+ \(57P01: terminating connection due to administrator command\); serving the last view/)]);
    expect(said.filter((l) => l.level === 'info').map((l) => l.message)).toEqual([expect.stringMatching(/^run index: PostgreSQL at .* is back; the view caught up to change \d+$/)]);
  });

  test('a replica opened later is filled at open, sync records included', async () => {
    const c = new PostgresStore({ url: db.url, log: recordingLog(), replicaId: 'C' });
    try {
      await c.open(SOURCES);
      expect(page(c)).toEqual(page(a));
      expect(page(c, 't')).toEqual(page(a, 't'));
      expect(c.sync('s')).toEqual(a.sync('s'));
      expect(c.view('s').projects).toEqual(a.view('s').projects);
    } finally {
      await c.close();
    }
  });

  test('a replica away past the purged tombstones reloads whole when it reconnects', async () => {
    const proxy = new TcpProxy(db.url);
    await proxy.start();
    const log = recordingLog();
    const d = new PostgresStore({ url: proxy.url(), log, replicaId: 'D', retryMinMs: 100, retryMaxMs: 300 });
    try {
      await d.open(SOURCES);
      expect(d.view('s').run(['50'])).toBeDefined();
      await proxy.stop();
      await until(() => !d.health().connected, 3_000);
      a.deleteRuns('s', [['50']]);
      a.putRuns('s', [run(60)]);
      expect(await a.flush()).toBe(true);
      expect(await a.purgeTombstones(0)).toBeGreaterThan(0);
      await proxy.start();
      await until(() => d.health().connected, 5_000);
      expect(d.view('s').run(['50'])).toBeUndefined();
      expect(page(d)).toEqual(page(a));
    } finally {
      await d.close();
      await proxy.stop();
    }
  });

  test('a source whose base URL changed starts over on every replica, with one warning', async () => {
    expect(a.view('t').size).toBeGreaterThan(0);
    const log = recordingLog();
    const e = new PostgresStore({ url: db.url, log, replicaId: 'E' });
    try {
      await e.open([SOURCES[0], { id: 't', identity: { kind: 'qacomplete', baseUrl: 'https://qac2.example' } }]);
      expect(e.view('t').size).toBe(0);
      expect(e.view('s').size).toBe(a.view('s').size);
      expect(log.messages('warn')).toEqual(['the run index holds source t for another base URL; its part is rebuilt from the vendor']);
      await until(() => a.view('t').size === 0 && b.view('t').size === 0, 2_000);
      expect(await sql(db.url, `SELECT count(*)::int AS n FROM rungraph_runs WHERE source = 't'`)).toEqual([{ n: 0 }]);
    } finally {
      await e.close();
    }
  });
});
