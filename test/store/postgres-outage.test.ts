/**
 * PostgreSQL trouble is survivable (issue #15). The gateways reach PostgreSQL through a TCP proxy
 * the test can cut (every connection reset, new ones refused) and restore, as if the database had
 * stopped and started again:
 * - unreachable at start: the gateway starts anyway with one clear log line, /healthz is up,
 *   reads answer LIVE; when PostgreSQL comes up the store connects by itself, a leader backfills,
 *   and reads turn INDEXED;
 * - unreachable for 20 s while two replicas serve steady read load: every request is answered
 *   from the last view, a mutation still answers and shows on its replica, each replica logs the
 *   loss once and the recovery once, and afterwards the queued change reaches PostgreSQL and the
 *   other replica, the sync resumes, and both replicas equal the vendor.
 */
import { startGateway, type Gateway } from '../../src/server/app';
import { DEFAULT_INDEX } from '../../src/server/config';
import { feedOf, identities } from '../../src/server/feeds';
import { SOURCE_KINDS, type SourceConfig } from '../../src/sources/registry';
import { TestRailSimulator, TESTRAIL_DEMO_USER } from '../../src/simulators/testrail';
import { SCHEMA_VERSION } from '../../src/store/postgres-schema';
import { describePostgres, jsonLog, freshDatabase, sql, TcpProxy, until } from './postgres-helpers';

interface Replica {
  gateway: Gateway;
  logs: Array<{ msg: string; level: number; [k: string]: unknown }>;
}

async function replica(config: SourceConfig, postgres: string, refreshSeconds = 2): Promise<Replica> {
  const { log, logs } = jsonLog();
  const gateway = await startGateway({
    sources: [SOURCE_KINDS[config.kind]!.create(config, log)],
    log,
    port: 0,
    index: { ...DEFAULT_INDEX, postgres, refreshSeconds, feedOf, identityOf: identities([config]) },
  });
  return { gateway, logs };
}

async function gql(gateway: Gateway, query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const res = await fetch(gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  return { status: res.status, body: await res.json() };
}

const PAGE = '{ runs(first: 20) { answeredBy { mode } nodes { id name } } }';
const ALL = '{ runs(first: 100) { nodes { id name status isClosed } } }';
const ALL_LIVE = '{ runs(first: 100, consistency: LIVE) { nodes { id name status isClosed } } }';

describePostgres('PostgreSQL unreachable', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let tr: TestRailSimulator;
  let config: SourceConfig;
  const proxy = { current: undefined as TcpProxy | undefined };

  beforeAll(async () => {
    db = await freshDatabase();
    tr = new TestRailSimulator({ seed: 'demo' });
    config = { id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl: await tr.start(), auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password } };
  });
  afterAll(async () => {
    await proxy.current?.stop();
    await tr?.stop();
    await db?.drop();
  });

  test('at start: the gateway starts and reads go LIVE, with one clear log line; when PostgreSQL answers, the index fills and reads turn INDEXED', async () => {
    const p = (proxy.current = new TcpProxy(db.url));
    await p.start();
    await p.stop(); // its port now refuses connections
    const started = Date.now();
    const r = await replica(config, p.url(), 3600);
    try {
      expect(Date.now() - started).toBeLessThan(5_000);
      expect((await fetch(`${r.gateway.origin}/healthz`)).status).toBe(200);
      expect((await fetch(`${r.gateway.origin}/readyz`)).status).toBe(503);
      const live = await gql(r.gateway, PAGE);
      expect(live.body.errors).toBeUndefined();
      expect(live.body.data.runs.answeredBy).toEqual([{ mode: 'LIVE' }]);
      expect(live.body.data.runs.nodes).toHaveLength(20);
      const lines = r.logs.filter((l) => /PostgreSQL/.test(l.msg));
      expect(lines.map((l) => l.msg)).toEqual([
        expect.stringMatching(/^run index: PostgreSQL at rungraph@127\.0\.0\.1:\d+\/rungraph_test_\w+ cannot be reached \(ECONNREFUSED: .*\); reads go live until it answers, retrying with backoff from 250 ms$/),
      ]);

      await p.start();
      const waited = await until(async () => (await fetch(`${r.gateway.origin}/readyz`)).status === 200, 20_000, 100);
      // eslint-disable-next-line no-console
      console.log(`PostgreSQL up again: the index was usable ${waited} ms later`);
      const indexed = await gql(r.gateway, PAGE);
      expect(indexed.body.data.runs.answeredBy).toEqual([{ mode: 'INDEXED' }]);
      expect(indexed.body.data.runs.nodes).toEqual(live.body.data.runs.nodes);
      expect(r.logs.filter((l) => /PostgreSQL/.test(l.msg)).map((l) => l.msg)).toEqual([lines[0].msg, `run index: PostgreSQL schema migrated from version 0 to ${SCHEMA_VERSION}`, expect.stringMatching(/^run index: connected to PostgreSQL at /)]);
    } finally {
      await r.gateway.stop(500);
    }
  });

  test('for 20 s under steady read load on two replicas: every request answered from the last view, a write queued, and everything recovers by itself', async () => {
    const p = proxy.current!;
    const replicas = [await replica(config, p.url()), await replica(config, p.url())];
    try {
      await Promise.all(replicas.map((r) => r.gateway.syncs.get('tr')!.ready()));
      const before = await Promise.all(replicas.map(async (r) => (await gql(r.gateway, ALL)).body.data.runs.nodes));
      expect(before[1]).toEqual(before[0]);
      const marks = replicas.map((r) => r.logs.length);

      let loading = true;
      const answers: Array<{ status: number; ok: boolean; mode?: string }> = [];
      const load = replicas.map(async (r) => {
        while (loading) {
          const res = await gql(r.gateway, PAGE).catch((error) => ({ status: 0, body: { errors: [String(error)] } }));
          answers.push({ status: res.status, ok: !res.body.errors && res.body.data?.runs?.nodes?.length === 20, mode: res.body.data?.runs?.answeredBy?.[0]?.mode });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      });

      await p.stop();
      const outage = Date.now();
      await until(() => replicas.every((r) => r.logs.slice(marks[replicas.indexOf(r)]).some((l) => /^run index: lost PostgreSQL/.test(l.msg))), 10_000, 50);
      // A mutation during the outage: the vendor answers, and the replica that wrote it shows it at once.
      const project = (await gql(replicas[0].gateway, '{ projects(first: 1) { nodes { id } } }')).body.data.projects.nodes[0].id;
      const added = await gql(replicas[0].gateway, 'mutation ($p: ID!) { addRun(input: { projectId: $p, name: "Written while PostgreSQL was down", testrail: { suiteId: "1", caseIds: ["1"] } }) { id } }', { p: project });
      expect(added.body.errors).toBeUndefined();
      const id = added.body.data.addRun.id;
      expect((await gql(replicas[0].gateway, 'query ($id: ID!) { run(id: $id) { name } }', { id })).body.data.run.name).toBe('Written while PostgreSQL was down');
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 20_000 - (Date.now() - outage))));
      await p.start();
      const back = Date.now();

      // The queued write reaches PostgreSQL and the other replica; the sync resumes (a new cycle after the outage).
      const syncedAt = replicas[0].gateway.syncs.get('tr')!.syncedAt!;
      await until(async () => {
        const other = (await gql(replicas[1].gateway, ALL)).body.data.runs.nodes;
        return other.some((n: any) => n.id === id) && replicas.every((r) => (r.gateway.syncs.get('tr')!.syncedAt ?? 0) > syncedAt);
      }, 20_000, 100);
      const recovered = Date.now() - back;
      loading = false;
      await Promise.all(load);
      // eslint-disable-next-line no-console
      console.log(`${answers.length} requests over the outage and recovery, ${answers.filter((a) => a.mode === 'INDEXED').length} INDEXED; recovered ${recovered} ms after PostgreSQL returned`);

      expect(answers.length).toBeGreaterThan(100);
      expect(answers.filter((a) => a.status !== 200 || !a.ok)).toEqual([]);
      expect(answers.every((a) => a.mode === 'INDEXED')).toBe(true);
      expect((await sql(db.url, `SELECT run->>'name' AS name FROM rungraph_runs WHERE run->>'name' = 'Written while PostgreSQL was down'`)).length).toBe(1);
      for (const [i, r] of replicas.entries()) {
        const said = r.logs.slice(marks[i]).filter((l) => /PostgreSQL/.test(l.msg)).map((l) => l.msg);
        expect(said).toEqual([expect.stringMatching(/^run index: lost PostgreSQL at .*; serving the last view, changes are queued, reconnecting by itself$/), expect.stringMatching(/^run index: PostgreSQL at .* is back; the view caught up to change \d+$/)]);
      }
      const live = (await gql(replicas[0].gateway, ALL_LIVE)).body.data.runs.nodes;
      for (const r of replicas) expect((await gql(r.gateway, ALL)).body.data.runs.nodes).toEqual(live);
    } finally {
      await Promise.all(replicas.map((r) => r.gateway.stop(500)));
    }
  }, 90_000);
});
