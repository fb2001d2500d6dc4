/**
 * The shared run index as an operator runs it (issue #15, "kill -9 of the leader during a
 * refresh"): three gateway processes (`node main.js --config FILE`, the config naming PostgreSQL
 * through ${VAR}) on one database and one simulator. Together they cost the simulator exactly one
 * backfill. The leader is sent SIGKILL while its refresh waits on a slow vendor answer: another
 * process leads within 15 s, its first cycle is a refresh from the stored watermarks (no backfill
 * anywhere), no other process exits, and a run added at the vendor is in both survivors' indexes
 * exactly once, equal to a live read. The password-free URL and nothing else of it is logged.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '../../src/server/app';
import { DEFAULT_INDEX } from '../../src/server/config';
import { feedOf, identities } from '../../src/server/feeds';
import { createLogger } from '../../src/server/log';
import { SOURCE_KINDS } from '../../src/sources/registry';
import { DEMO_IDS, TestRailSimulator, TESTRAIL_DEMO_USER } from '../../src/simulators/testrail';
import { lockKey } from '../../src/sync/leader';
import { LOCK_CLASS_LEADER } from '../../src/store/postgres-schema';
import { describePostgres, freshDatabase, sql, until } from './postgres-helpers';

const ROOT = join(__dirname, '..', '..');
/** Built apart from dist/ (which another test builds), under the git-ignored .build/. */
const OUT = join(ROOT, '.build', 'postgres-process');

interface Proc {
  child: ChildProcess;
  url: string;
  origin: string;
  output: () => string;
  logs: () => Array<Record<string, any>>;
}

async function startProcess(configFile: string, env: Record<string, string>): Promise<Proc> {
  const { NODE_ENV: _jest, ...inherited } = process.env;
  const child = spawn(process.execPath, [join(OUT, 'main.js'), '--config', configFile], { cwd: ROOT, env: { ...inherited, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const started = Date.now();
  while (!/GraphQL at (\S+)/.test(out)) {
    if (child.exitCode !== null || Date.now() - started > 20_000) throw new Error(`the gateway did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const url = /GraphQL at (\S+)/.exec(out)![1];
  return {
    child,
    url,
    origin: new URL(url).origin,
    output: () => out,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
  };
}

async function runs(url: string, consistency: 'INDEXED' | 'LIVE'): Promise<any[]> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ runs(first: 100, consistency: ${consistency}) { nodes { id name status isClosed } } }` }) });
  const body = (await res.json()) as any;
  expect(body.errors).toBeUndefined();
  return body.data.runs.nodes;
}

async function holder(url: string): Promise<string | null> {
  const rows = await sql(
    url,
    `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = $1::int::oid AND l.objid = $2::int::oid AND l.objsubid = 2 AND l.granted`,
    [LOCK_CLASS_LEADER, lockKey('tr')],
  );
  return rows.length === 1 ? String(rows[0].application_name).replace(/^rungraph-leader /, '') : null;
}

describePostgres('three gateway processes on one PostgreSQL, and kill -9 of the leader during a refresh', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: TestRailSimulator;
  let simUrl = '';
  let procs: Proc[] = [];
  let lone = 0;

  beforeAll(async () => {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', OUT], { cwd: ROOT, stdio: 'inherit' });
    // The compiled graph reads its SDL two folders up from itself, as dist/graph reads schema/.
    cpSync(join(ROOT, 'schema'), join(OUT, '..', 'schema'), { recursive: true });
    db = await freshDatabase();
    // A lone gateway's backfill of the same seed, for comparison.
    const ref = new TestRailSimulator({ seed: 'demo' });
    const refConfig = { id: 'tr', kind: 'testrail' as const, name: 'TestRail', baseUrl: await ref.start(), auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password } };
    const log = createLogger({ level: 'error' });
    const gateway = await startGateway({ sources: [SOURCE_KINDS.testrail!.create(refConfig, log)], log, port: 0, index: { ...DEFAULT_INDEX, path: mkdtempSync(join(tmpdir(), 'rungraph-lone-')), refreshSeconds: 3600, feedOf, identityOf: identities([refConfig]) } });
    await gateway.syncs.get('tr')!.ready();
    lone = ref.server.count();
    await gateway.stop();
    await ref.stop();
    sim = new TestRailSimulator({ seed: 'demo' });
    simUrl = await sim.start();
  }, 90_000);
  afterAll(async () => {
    await Promise.all(
      procs
        .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
        .map((p) => new Promise((resolve) => {
          p.child.once('exit', resolve);
          p.child.kill('SIGTERM');
        })),
    );
    await sim?.stop();
    await db?.drop();
  });

  test('one backfill for three processes; SIGKILL of the leader mid-refresh: another leads within 15 s and refreshes, nothing lost or doubled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rungraph-pg-process-'));
    const file = join(dir, 'rungraph.json');
    writeFileSync(
      file,
      JSON.stringify({
        sources: [{ id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl: simUrl, auth: { username: TESTRAIL_DEMO_USER.email, password: '${TR_PASSWORD}' } }],
        index: { postgres: '${RUNGRAPH_PG}', refreshSeconds: 2, path: dir },
      }),
    );
    const env = { TR_PASSWORD: TESTRAIL_DEMO_USER.password, RUNGRAPH_PG: db.url };
    procs = await Promise.all([0, 1, 2].map(() => startProcess(file, env)));
    await until(async () => (await Promise.all(procs.map(async (p) => (await fetch(`${p.origin}/readyz`)).status))).every((s) => s === 200), 20_000, 50);
    // A lone gateway's backfill, plus the start-up check each process makes (one project list read, main.ts).
    expect(sim.server.count()).toBe(lone + procs.length);
    const backfills = procs.flatMap((p) => p.logs()).filter((l) => l.cycle === 'backfill');
    expect(backfills).toHaveLength(1);

    // The leader's next refresh waits on a slow get_runs answer; kill -9 it then.
    const leader = (await holder(db.url))!;
    const victim = procs.find((p) => leader.split(':')[1] === String(p.child.pid))!;
    expect(victim).toBeDefined();
    const runsBefore = sim.server.count(/get_runs/);
    sim.server.injectFault({ route: /get_runs/, delayMs: 2_000, times: 1 });
    await until(() => sim.server.count(/get_runs/) > runsBefore, 10_000, 10);
    const added = sim.store.addRun(DEMO_IDS.projects.webshop, { name: 'Added as the leader died' });
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    const survivors = procs.filter((p) => p !== victim);
    const marks = survivors.map((p) => p.logs().length);

    const took = await until(async () => {
      const now = await holder(db.url);
      return now !== null && now !== leader;
    }, 15_000, 50);
    // eslint-disable-next-line no-console
    console.log(`after SIGKILL of the leader mid-refresh, another process led ${took} ms later`);
    expect(Date.now() - killedAt).toBeLessThan(15_000);

    await until(async () => (await Promise.all(survivors.map(async (p) => (await runs(p.url, 'INDEXED')).filter((r) => r.name === 'Added as the leader died').length))).every((n) => n === 1), 20_000, 200);
    const after = survivors.flatMap((p, i) => p.logs().slice(marks[i]));
    expect(after.filter((l) => l.cycle === 'backfill' || l.cycle === 'sweep')).toEqual([]);
    expect(after.filter((l) => /now leads the sync of tr/.test(l.msg))).toHaveLength(1);
    expect(survivors.every((p) => p.child.exitCode === null && p.child.signalCode === null)).toBe(true);
    expect(victim.child.signalCode).toBe('SIGKILL');

    const live = await runs(survivors[0].url, 'LIVE');
    expect(live.filter((r) => r.name === 'Added as the leader died')).toHaveLength(1);
    for (const p of survivors) expect(await runs(p.url, 'INDEXED')).toEqual(live);
    expect(added.id).toBeGreaterThan(0);
    // The simulator's delayed answer to the dead leader is a timer of its own: let it end, so nothing is left running.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + 2_100 - Date.now())));
    // The connection string reached no log line with its password (the test's has none; the config's ${VAR} did expand).
    expect(procs.map((p) => p.output()).join('\n')).not.toContain(TESTRAIL_DEMO_USER.password);
  }, 90_000);
});
