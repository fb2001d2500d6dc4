/**
 * One sync per source across replicas (issue #15): three gateways (three sets of store, leader
 * election and syncs, started with startGateway in this process) on one PostgreSQL database and
 * one set of simulators. The simulators see the calls of exactly one backfill per source — the
 * same count as a lone gateway's backfill — and one refresh schedule, not three; every replica
 * serves the same index. Terminating the leader's connection (pg_terminate_backend: what
 * PostgreSQL sees when a leader is killed) makes another replica lead within 15 s, and it resumes
 * with a refresh from the stored watermarks, not a second backfill; a run added at the vendor
 * meanwhile reaches every replica once. A leader that stops hands over within a couple of polls.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type Gateway } from '../../src/server/app';
import { DEFAULT_INDEX } from '../../src/server/config';
import { feedOf, identities } from '../../src/server/feeds';
import { SOURCE_KINDS, type SourceConfig } from '../../src/sources/registry';
import { EnterpriseTesterSimulator, ET_DEMO_USER } from '../../src/simulators/enterprise-tester';
import { DEMO_IDS, TestRailSimulator, TESTRAIL_DEMO_USER } from '../../src/simulators/testrail';
import { lockKey } from '../../src/sync/leader';
import { LOCK_CLASS_LEADER } from '../../src/store/postgres-schema';
import { describePostgres, jsonLog, freshDatabase, sql, terminate, until } from './postgres-helpers';

interface Replica {
  gateway: Gateway;
  logs: Array<{ msg: string; [k: string]: unknown }>;
}

const REFRESH_SECONDS = 2;

async function gql(gateway: Gateway, query: string, variables?: Record<string, unknown>): Promise<any> {
  const res = await fetch(gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return res.json();
}

async function replica(configs: SourceConfig[], index: { postgres?: string; path?: string; refreshSeconds: number }): Promise<Replica> {
  const { log, logs } = jsonLog();
  const sources = configs.map((c) => SOURCE_KINDS[c.kind]!.create(c, log));
  const gateway = await startGateway({
    sources,
    log,
    port: 0,
    index: { ...DEFAULT_INDEX, path: index.path ?? mkdtempSync(join(tmpdir(), 'rungraph-pg-unused-')), ...index, feedOf, identityOf: identities(configs) },
  });
  return { gateway, logs };
}

const ALL_RUNS = 'query ($c: Consistency, $after: String) { runs(first: 100, after: $after, consistency: $c) { pageInfo { hasNextPage endCursor } nodes { id name status isClosed counts { total passed } } } }';

/** Every run a gateway answers, walking the pages. */
async function allRuns(gateway: Gateway, consistency: 'INDEXED' | 'LIVE'): Promise<any[]> {
  const out: any[] = [];
  let after: string | null = null;
  for (;;) {
    const body = await gql(gateway, ALL_RUNS, { c: consistency, after });
    expect(body.errors).toBeUndefined();
    out.push(...body.data.runs.nodes);
    if (!body.data.runs.pageInfo.hasNextPage) return out;
    after = body.data.runs.pageInfo.endCursor;
  }
}

/** The replica id that holds a source's leader lock now, read from PostgreSQL itself. */
async function holder(url: string, sourceId: string): Promise<string | null> {
  const rows = await sql(
    url,
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2 AND l.granted`,
    [LOCK_CLASS_LEADER, lockKey(sourceId)],
  );
  return rows.length === 1 ? String(rows[0].application_name).replace(/^rungraph-leader /, '') : null;
}

describePostgres('one sync per source across three replicas on one PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let tr: TestRailSimulator;
  let et: EnterpriseTesterSimulator;
  let configs: SourceConfig[];
  let replicas: Replica[] = [];
  /** A lone gateway's backfill on the same seeds, per simulator. */
  const lone = { tr: 0, et: 0 };

  beforeAll(async () => {
    db = await freshDatabase();
    const configOf = (trUrl: string, etUrl: string): SourceConfig[] => [
      { id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl: trUrl, auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password } },
      { id: 'et', kind: 'enterprise-tester', name: 'Enterprise Tester', baseUrl: etUrl, auth: { username: ET_DEMO_USER.username, password: ET_DEMO_USER.password } },
    ];
    // The reference: one gateway with the embedded store, on simulators of the same seed.
    const refTr = new TestRailSimulator({ seed: 'demo' });
    const refEt = new EnterpriseTesterSimulator({ seed: 'demo' });
    const ref = await replica(configOf(await refTr.start(), await refEt.start()), { refreshSeconds: 3600 });
    await Promise.all([...ref.gateway.syncs.values()].map((s) => s.ready()));
    lone.tr = refTr.server.count();
    lone.et = refEt.server.count();
    await ref.gateway.stop();
    await Promise.all([refTr.stop(), refEt.stop()]);

    tr = new TestRailSimulator({ seed: 'demo' });
    et = new EnterpriseTesterSimulator({ seed: 'demo' });
    configs = configOf(await tr.start(), await et.start());
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.gateway.stop(500)));
    await Promise.all([tr?.stop(), et?.stop()]);
    await db?.drop();
  });

  test('started together, the simulators see exactly one backfill per source, and every replica serves the same index', async () => {
    replicas = await Promise.all([0, 1, 2].map(() => replica(configs, { postgres: db.url, refreshSeconds: REFRESH_SECONDS })));
    const started = Date.now();
    await Promise.all(replicas.flatMap((r) => [...r.gateway.syncs.values()].map((s) => s.ready())));
    const backfill = { tr: tr.server.count(), et: et.server.count() };
    expect(lone.tr).toBeGreaterThan(0);
    expect(backfill).toEqual(lone);
    // eslint-disable-next-line no-console
    console.log(`three replicas usable ${Date.now() - started} ms after start; vendor calls ${JSON.stringify(backfill)}, a lone gateway's backfill ${JSON.stringify(lone)}`);

    const readyLines = replicas.flatMap((r) => r.logs.filter((l) => /^run index ready for /.test(l.msg)).map((l) => l.source));
    expect(readyLines.sort()).toEqual(['et', 'tr']);
    const leadLines = replicas.flatMap((r) => r.logs.filter((l) => /now leads the sync of/.test(l.msg)).map((l) => l.source));
    expect(leadLines.sort()).toEqual(['et', 'tr']);

    tr.server.resetCounts();
    et.server.resetCounts();
    const answers = await Promise.all(replicas.map((r) => allRuns(r.gateway, 'INDEXED')));
    expect(tr.server.count() + et.server.count()).toBe(0);
    const live = await allRuns(replicas[0].gateway, 'LIVE');
    for (const answer of answers) expect(answer).toEqual(live);
    expect(new Set(live.map((r) => r.id)).size).toBe(live.length);
    for (const r of replicas) {
      const sync = (await gql(r.gateway, '{ sources { id sync { state syncedAt indexedRuns } } }')).data.sources;
      expect(sync.map((s: any) => [s.id, s.sync.state])).toEqual([['tr', 'FRESH'], ['et', 'FRESH']]);
    }
  });

  test('one refresh schedule per source, not three: a cycle every refreshSeconds, and the same shared state everywhere', async () => {
    tr.server.resetCounts();
    et.server.resetCounts();
    const seconds = 7;
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    // Each cycle reads the project list once; one schedule makes about seconds / refreshSeconds cycles, three would make three times as many.
    const cycles = { tr: tr.server.count(/get_projects/), et: et.server.count(/projects/i) };
    // eslint-disable-next-line no-console
    console.log(`in ${seconds} s at refreshSeconds ${REFRESH_SECONDS}: project list reads ${JSON.stringify(cycles)} (one schedule: at most ${Math.ceil(seconds / REFRESH_SECONDS)})`);
    for (const n of Object.values(cycles)) {
      expect(n).toBeGreaterThanOrEqual(2);
      expect(n).toBeLessThanOrEqual(Math.ceil(seconds / REFRESH_SECONDS));
    }
    const states = await Promise.all(replicas.map(async (r) => (await gql(r.gateway, '{ sources { id sync { state syncedAt leader } } }')).data.sources));
    for (const s of states) expect(s.map((x: any) => x.sync.state)).toEqual(['FRESH', 'FRESH']);
    // The same leader named by every replica, in Source.sync and in extensions.sync: the replica holding the lock.
    for (const [i, id] of ['tr', 'et'].entries()) {
      const leader = await holder(db.url, id);
      expect(leader).toEqual(expect.any(String));
      expect(states.map((s) => s[i].sync.leader)).toEqual(replicas.map(() => leader));
      const ext = await Promise.all(replicas.map(async (r) => (await gql(r.gateway, `{ runs(first: 1, filter: { sourceIds: ["${id}"] }) { nodes { id } } }`)).extensions.sync));
      expect(ext.map((e) => e[0].leader)).toEqual(replicas.map(() => leader));
    }
  });

  test('the leader\'s failing cycle is reported by every replica (FAILING, its lastError), and its recovery too', async () => {
    const sync = '{ sources { id sync { state lastError leader } } }';
    const trOn = async (r: Replica) => (await gql(r.gateway, sync)).data.sources.find((s: any) => s.id === 'tr').sync;
    tr.server.injectFault({ status: 500, times: 1_000 });
    try {
      await until(async () => (await Promise.all(replicas.map(trOn))).every((s) => s.state === 'FAILING'), 15_000, 100);
      const seen = await Promise.all(replicas.map(trOn));
      expect(new Set(seen.map((s) => s.lastError)).size).toBe(1);
      expect(seen[0].lastError).toMatch(/^UPSTREAM_UNAVAILABLE: /);
      expect(new Set(seen.map((s) => s.leader)).size).toBe(1);
    } finally {
      tr.server.clearFaults();
    }
    // The breaker's cooldown (5 s) and a refresh later, every replica reports the recovery.
    await until(async () => (await Promise.all(replicas.map(trOn))).every((s) => s.state === 'FRESH' && s.lastError === null), 20_000, 200);
  });

  test('the leader\'s connection terminated: another replica leads within 15 s and resumes with a refresh, no second backfill; a new vendor run reaches every replica once', async () => {
    const old = await holder(db.url, 'tr');
    expect(old).not.toBeNull();
    // One connection holds all of a replica's locks: the sources it leads besides tr go with it.
    const held = [];
    for (const s of ['tr', 'et']) if ((await holder(db.url, s)) === old) held.push(s);
    const marks = replicas.map((r) => r.logs.length);
    const since = () => replicas.flatMap((r, i) => r.logs.slice(marks[i]));
    const added = tr.store.addRun(DEMO_IDS.projects.webshop, { name: 'Added while the leader died' });
    const started = Date.now();
    expect(await terminate(db.url, `rungraph-leader ${old}`)).toBe(1);
    tr.server.resetCounts();
    const tookMs = await until(async () => {
      const now = await holder(db.url, 'tr');
      return now !== null && now !== old;
    }, 15_000, 100);
    // eslint-disable-next-line no-console
    console.log(`another replica leads tr ${tookMs} ms after the leader's connection was terminated`);
    expect(Date.now() - started).toBeLessThan(15_000);
    // Its first cycle is a refresh from the stored watermarks: the new run arrives, everywhere, and nothing was backfilled again.
    const id = (r: Replica) => r.gateway.syncs.get('tr')!;
    await until(async () => {
      const found = await Promise.all(replicas.map(async (r) => (await allRuns(r.gateway, 'INDEXED')).filter((n) => n.name === 'Added while the leader died').length));
      return found.every((n) => n === 1);
    }, 15_000, 200);
    expect(since().filter((l) => /^run index ready for /.test(l.msg) || l.cycle === 'backfill' || l.cycle === 'sweep')).toEqual([]);
    expect(since().filter((l) => /no longer leads the sync of/.test(l.msg)).map((l) => l.sources)).toEqual([held]);
    const leads = since().filter((l) => /now leads the sync of/.test(l.msg)).map((l) => [l.source, l.replica]);
    expect(leads.sort()).toEqual((await Promise.all(held.map(async (s) => [s, await holder(db.url, s)]))).sort());
    expect(leads.every(([, r]) => r !== old)).toBe(true);
    // What the new leader's cycles cost since the takeover: refreshes (14 calls each on the demo at most), never a backfill's plan reads.
    // eslint-disable-next-line no-console
    console.log(`TestRail calls from the takeover until the new run was everywhere: ${tr.server.count()} ${JSON.stringify(tr.server.countsByRoute())}`);
    expect(replicas.map(id).every((s) => s.usable)).toBe(true);
    // No run lost or duplicated: every replica equals the vendor read live.
    const live = await allRuns(replicas[0].gateway, 'LIVE');
    expect(live.filter((n) => n.name === 'Added while the leader died')).toHaveLength(1);
    for (const r of replicas) expect(await allRuns(r.gateway, 'INDEXED')).toEqual(live);
    expect(added.id).toBeGreaterThan(0);
  });

  test('a leader that stops hands over at once (its locks are given back)', async () => {
    const leaderId = await holder(db.url, 'et');
    const leaving = replicas.find((r) => r.logs.some((l) => /now leads the sync of et/.test(l.msg) && l.replica === leaderId))!;
    expect(leaving).toBeDefined();
    const started = Date.now();
    await leaving.gateway.stop(500);
    replicas = replicas.filter((r) => r !== leaving);
    const tookMs = await until(async () => {
      const now = await holder(db.url, 'et');
      return now !== null && now !== leaderId;
    }, 15_000, 50);
    // eslint-disable-next-line no-console
    console.log(`et handed over ${tookMs} ms after its leader began to stop (${Date.now() - started} ms including the stop)`);
    expect(tookMs).toBeLessThan(3_000);
  });
});
