/**
 * `npm run bench:index` (not part of `npm test`): the run index against live reads, on TestRail
 * instances of growing size (issue #9, "Done when" 1, 6). Everything on 127.0.0.1, bounded in
 * count and time.
 *
 *   npm run bench:index -- [--latency 20] [--queries 40] [--concurrency 20] [--seconds 3]
 *
 * Scenarios, in one run:
 *   scale   10, 50 and 200 projects × 20 runs, `--latency` ms per vendor call: after the backfill,
 *           the issue's query (`runs(first: 20) { … project { name } }`) — vendor calls per query
 *           and p50 (each request computed, as another caller), INDEXED; target 0 calls at every
 *           size and p50(200) ≤ 1.5 × p50(10).
 *   peers   one project, 10 rows with their project name, `--latency` ms: INDEXED p50 ≤ 0.25 × LIVE
 *           p50, and INDEXED req/s at `--concurrency` connections ≥ 0.7 × `{ __typename }` on the
 *           same server, all computed every time (each request names another caller); the same
 *           query repeated ≥ 1.5 × `{ __typename }` (kept answers, server/answers.ts).
 * Prints a table per scenario and the targets; exits 1 when one is missed.
 */
import '../src/env';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Agent, request } from 'undici';
import { startGateway, type Gateway } from '../src/server/app';
import { DEFAULT_INDEX } from '../src/server/config';
import { feedOf, identities } from '../src/server/feeds';
import { silentLogger } from '../src/server/log';
import { SOURCE_KINDS } from '../src/sources/registry';
import type { SourceConfig } from '../src/sources/config';
import { TestRailSimulator, TESTRAIL_DEMO_USER } from '../src/simulators/testrail';
import { mirrorSchema, numberFlag, percentile, printTargets, round, runBench, table, writeArtifact, type Target } from './stack';

const ISSUE_QUERY = '{ runs(first: 20) { nodes { id name status conclusion createdAt counts { total passed failed } project { name } } } }';
const PEER_QUERY = '{ runs(first: 10) { nodes { id name project { name } } } }';
const T0 = Math.floor(Date.UTC(2026, 0, 1) / 1000);

interface Instance {
  sim: TestRailSimulator;
  gateway: Gateway;
  url: string;
  stop(): Promise<void>;
}

async function instance(projects: number, runsPerProject: number, latency: number, indexed: boolean, postgres?: string): Promise<Instance> {
  const sim = new TestRailSimulator({ seed: 'empty' });
  for (let p = 0; p < projects; p++) {
    const project = sim.store.addProject({ name: `Project ${p + 1}`, suite_mode: 1 });
    for (let r = 0; r < runsPerProject; r++) sim.store.addRun(project.id, { name: `Run ${p + 1}.${r + 1}`, created_on: T0 + (p * runsPerProject + r) * 37 });
  }
  const baseUrl = await sim.start();
  const config: SourceConfig = { id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl, auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password } };
  const source = SOURCE_KINDS.testrail!.create(config, silentLogger);
  const gateway = await startGateway({
    sources: [source],
    log: silentLogger,
    host: '127.0.0.1',
    port: 0,
    index: indexed
      ? { ...DEFAULT_INDEX, path: mkdtempSync(join(tmpdir(), 'rungraph-bench-index-')), refreshSeconds: 3600, ...(postgres ? { postgres } : {}), feedOf, identityOf: identities([config]) }
      : undefined,
  });
  await Promise.all([...gateway.syncs.values()].map((s) => s.ready()));
  sim.server.latencyMs = latency;
  return { sim, gateway, url: gateway.graphqlUrl, stop: async () => (await gateway.stop(1000), await sim.stop()) };
}

const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

async function post(url: string, query: string, consistency?: 'LIVE', caller?: string): Promise<number> {
  const started = performance.now();
  const body = consistency ? { query: query.replace('runs(first', 'runs(consistency: LIVE, first') } : { query };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (caller) headers.authorization = `Bearer ${caller}`;
  const res = await request(url, { method: 'POST', headers, body: JSON.stringify(body), dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`query failed: ${res.statusCode} ${text.slice(0, 300)}`);
  return performance.now() - started;
}

/**
 * p50 over `n` sequential requests, each naming another caller: computed every time. Repeating the
 * same request would measure kept answers (server/answers.ts) from the third one on, not the index.
 */
async function p50(url: string, query: string, n: number, consistency?: 'LIVE'): Promise<number> {
  for (let i = 0; i < 5; i++) await post(url, query, consistency, `p50-warm-${i}-${Math.random()}`);
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push(await post(url, query, consistency, `p50-${i}-${Math.random()}`));
  return percentile(times, 50);
}

/**
 * Requests per second at `concurrency` connections for `seconds`, every request checked. With
 * `unique`, each request names another caller (the gateway has no API keys, so the header changes
 * nothing but the kept-answer key): the same query text, computed every time; without, the same
 * request repeats.
 */
async function throughput(url: string, query: string, concurrency: number, seconds: number, unique: boolean): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        await post(url, query, undefined, unique ? `caller-${done}-${Math.random()}` : undefined);
        done += 1;
      }
    }),
  );
  return done / seconds;
}

/** A fresh database on the given server for one run, and its URL; dropped by `drop()`. */
async function freshDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `rungraph_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** p50s of two servers measured in alternating blocks, so drift on a noisy machine hits both alike. */
async function interleavedP50(urls: readonly string[], query: string, n: number): Promise<number[]> {
  const times = urls.map(() => [] as number[]);
  for (const url of urls) for (let i = 0; i < 5; i++) await post(url, query, undefined, `warm-${i}-${Math.random()}`);
  for (let done = 0; done < n; done += 5) {
    for (let u = 0; u < urls.length; u++) {
      for (let i = done; i < Math.min(n, done + 5); i++) times[u].push(await post(urls[u], query, undefined, `p50-${i}-${Math.random()}`));
    }
  }
  return times.map((t) => percentile(t, 50));
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const latency = numberFlag(argv, 'latency', 20, 0, 1000);
  const queries = numberFlag(argv, 'queries', 40, 5, 1000);
  const concurrency = numberFlag(argv, 'concurrency', 20, 1, 64);
  const seconds = numberFlag(argv, 'seconds', 3, 1, 30);
  const at = argv.indexOf('--postgres');
  const postgres = (at >= 0 ? argv[at + 1] : undefined) ?? process.env.RUNGRAPH_BENCH_POSTGRES ?? process.env.RUNGRAPH_TEST_POSTGRES;
  const noPostgres = argv.includes('--no-postgres');
  mirrorSchema();
  const targets: Target[] = [];

  // scale
  const scale: Array<(string | number)[]> = [];
  const p50s = new Map<number, number>();
  for (const projects of [10, 50, 200]) {
    const started = performance.now();
    const inst = await instance(projects, 20, latency, true);
    const backfillS = (performance.now() - started) / 1000;
    inst.sim.server.resetCounts();
    const median = await p50(inst.url, ISSUE_QUERY, queries);
    const calls = inst.sim.server.count() / (queries + 5);
    p50s.set(projects, median);
    scale.push([projects, projects * 20, round(backfillS, 2), round(calls, 2), round(median, 2)]);
    targets.push([`${projects} projects: 0 vendor calls per indexed query (${round(calls, 2)})`, calls === 0]);
    await inst.stop();
  }
  console.log(`\nscale: TestRail, 20 runs per project, ${latency} ms per vendor call; the issue's query, INDEXED, ${queries} sequential queries\n`);
  console.log(table(['projects', 'runs', 'backfill s (no latency)', 'calls/query', 'p50 ms'], scale));
  const ratio = p50s.get(200)! / p50s.get(10)!;
  targets.push([`p50 at 200 projects ≤ 1.5 × p50 at 10: ${round(ratio, 2)}×`, ratio <= 1.5]);

  // peers
  const indexed = await instance(1, 20, latency, true);
  const live = await instance(1, 20, latency, false);
  const indexedP50 = await p50(indexed.url, PEER_QUERY, queries);
  const liveP50 = await p50(live.url, PEER_QUERY, queries, 'LIVE');
  const trivial = await throughput(indexed.url, '{ __typename }', concurrency, seconds, true);
  const indexedRps = await throughput(indexed.url, PEER_QUERY, concurrency, seconds, true);
  const repeatedRps = await throughput(indexed.url, PEER_QUERY, concurrency, seconds, false);
  await Promise.all([indexed.stop(), live.stop()]);
  console.log(`\npeers: one TestRail project, 10 rows with their project name, ${latency} ms per vendor call, ${concurrency} connections for ${seconds} s\n`);
  console.log(
    table(
      ['contender', 'p50 ms', 'req/s'],
      [
        ['INDEXED, computed each time', round(indexedP50, 2), round(indexedRps, 0)],
        ['INDEXED, same query repeated', '-', round(repeatedRps, 0)],
        ['LIVE', round(liveP50, 2), '-'],
        ['{ __typename }, computed each time', '-', round(trivial, 0)],
      ],
    ),
  );
  targets.push([`INDEXED p50 ≤ 0.25 × LIVE p50: ${round(indexedP50 / liveP50, 3)}×`, indexedP50 <= 0.25 * liveP50]);
  targets.push([`INDEXED req/s ≥ 0.7 × { __typename }: ${round(indexedRps / trivial, 2)}×`, indexedRps >= 0.7 * trivial]);
  targets.push([`repeated query req/s ≥ 1.5 × { __typename }: ${round(repeatedRps / trivial, 2)}×`, repeatedRps >= 1.5 * trivial]);

  // stores
  let stores: Record<string, number> | undefined;
  if (postgres && !noPostgres) {
    const db = await freshDatabase(postgres);
    try {
      const embedded = await instance(50, 20, latency, true);
      const shared = await instance(50, 20, latency, true, db.url);
      shared.sim.server.resetCounts();
      const [embeddedP50, sharedP50] = await interleavedP50([embedded.url, shared.url], ISSUE_QUERY, queries);
      // req/s in the order embedded, PostgreSQL, PostgreSQL, embedded: each the mean of its two
      // rounds, after a second of the same load on each, discarded.
      await throughput(embedded.url, ISSUE_QUERY, concurrency, 1, true);
      await throughput(shared.url, ISSUE_QUERY, concurrency, 1, true);
      const e1 = await throughput(embedded.url, ISSUE_QUERY, concurrency, seconds, true);
      const s1 = await throughput(shared.url, ISSUE_QUERY, concurrency, seconds, true);
      const s2 = await throughput(shared.url, ISSUE_QUERY, concurrency, seconds, true);
      const e2 = await throughput(embedded.url, ISSUE_QUERY, concurrency, seconds, true);
      const embeddedRps = (e1 + e2) / 2;
      const sharedRps = (s1 + s2) / 2;
      const calls = shared.sim.server.count();
      await Promise.all([embedded.stop(), shared.stop()]);
      stores = { embeddedP50, sharedP50, embeddedRps, sharedRps };
      console.log(`\nstores: TestRail 50 projects × 20 runs, ${latency} ms per vendor call; the issue's query, INDEXED, computed each time; ${queries} sequential queries for p50, ${concurrency} connections for ${seconds} s for req/s\n`);
      console.log(
        table(
          ['measure', 'embedded store', 'PostgreSQL store', 'PostgreSQL ÷ embedded'],
          [
            ['p50 ms', round(embeddedP50, 2), round(sharedP50, 2), round(sharedP50 / embeddedP50, 2)],
            ['req/s', round(embeddedRps, 0), round(sharedRps, 0), round(sharedRps / embeddedRps, 2)],
          ],
        ),
      );
      targets.push([`PostgreSQL store p50 ≤ 2 × embedded store p50: ${round(sharedP50 / embeddedP50, 2)}×`, sharedP50 <= 2 * embeddedP50]);
      targets.push([`PostgreSQL store: 0 vendor calls per indexed query (${calls} in all)`, calls === 0]);
    } finally {
      await db.drop();
    }
  } else {
    console.log(`\nstores: not run (${noPostgres ? '--no-postgres' : 'no PostgreSQL: give --postgres URL or set RUNGRAPH_BENCH_POSTGRES'})`);
    if (!noPostgres) targets.push(['PostgreSQL store column: not run (no PostgreSQL URL)', false]);
  }

  const held = printTargets(targets);
  const path = writeArtifact('bench-index.json', { at: new Date().toISOString(), latency, queries, concurrency, seconds, scale, indexedP50, liveP50, trivial, indexedRps, repeatedRps, stores, targets });
  console.log(`\nresults: ${path}`);
  await agent.close();
  return held ? 0 : 1;
}

runBench(main);
