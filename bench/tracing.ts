/**
 * `npm run bench:tracing` (not part of `npm test`): what OpenTelemetry tracing costs (issue 16).
 * Pairs of gateways over the same demo simulators, one with tracing off, one with tracing on as
 * production runs it — every request sampled, spans batched and sent with the OTLP/HTTP exporter
 * to a collector on loopback: a sink in a child process, as a collector is never in the gateway's
 * process, that reads and discards each export. Each round measures both, in alternating order, so
 * drift on a shared machine falls on both alike. Every request carries a W3C traceparent, as it
 * would behind a traced router.
 *
 *   npm run bench:tracing -- [--rounds 5] [--seconds 3] [--concurrency 32] [--sample 1]
 *
 * `--sample R` below 1: telemetry.sampleRatio R, and requests come without a traceparent (new
 * traces, sampled by the ratio; a sampled traceparent would be followed whatever the ratio).
 *
 * Scenarios, each at `--concurrency` connections, the Dashboard operation (first: 25):
 *   computed  run index on, each request naming another caller: every answer computed, no vendor call;
 *   kept      run index on, the same request repeated: answers kept from the index (the cheapest
 *             request, where a fixed cost per request shows most);
 *   live      run index off: every request reads the three vendors (client spans, traceparent out).
 * Target, per scenario: req/s with tracing on ≥ 0.9 × off, totals over all rounds. Prints a table
 * per scenario and the targets; exits 1 when one is missed.
 */
import '../src/env';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { startGateway, type Gateway } from '../src/server/app';
import { DEFAULT_INDEX, DEFAULT_TELEMETRY } from '../src/server/config';
import { feedOf, identities } from '../src/server/feeds';
import { silentLogger } from '../src/server/log';
import { tracingOptions } from '../src/server/telemetry';
import { startDemo, type Demo } from '../src/simulators/demo';
import { SOURCE_KINDS } from '../src/sources/registry';
import { dashboardQuery, mirrorSchema, numberFlag, printTargets, round, runBench, table, writeArtifact, type Target } from './stack';

/** The collector's stand-in, run as a child process: reads each export whole, answers 200, and tells its counts on GET /counts. */
const SINK = `
const server = require('node:http').createServer((req, res) => {
  if (req.method === 'GET') return res.end(JSON.stringify({ exports, bytes }));
  req.on('data', (chunk) => (bytes += chunk.length));
  req.on('end', () => { exports += 1; res.writeHead(200, { 'content-type': 'application/json' }).end('{}'); });
});
let exports = 0, bytes = 0;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.stdin.on('end', () => process.exit(0)).resume();
`;

interface Sink {
  endpoint: string;
  counts(): Promise<{ exports: number; bytes: number }>;
  stop(): void;
}

async function startSink(): Promise<Sink> {
  const child = spawn(process.execPath, ['-e', SINK], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    counts: async () => (await (await request(`${endpoint}/counts`, { dispatcher: agent })).body.json()) as { exports: number; bytes: number },
    stop: () => child.stdin.end(),
  };
}

async function gateway(demo: Demo, indexed: boolean, endpoint: string | undefined, sampleRatio: number): Promise<Gateway> {
  const sources = demo.sources.map((s) => SOURCE_KINDS[s.kind]!.create(s, silentLogger));
  const started = await startGateway({
    sources,
    log: silentLogger,
    host: '127.0.0.1',
    port: 0,
    index: indexed
      ? { ...DEFAULT_INDEX, path: mkdtempSync(join(tmpdir(), 'rungraph-bench-tracing-')), refreshSeconds: 3600, feedOf, identityOf: identities(demo.sources) }
      : { ...DEFAULT_INDEX, enabled: false, feedOf, identityOf: identities(demo.sources) },
    telemetry: endpoint ? tracingOptions({ ...DEFAULT_TELEMETRY, otlpEndpoint: endpoint, sampleRatio }, {}) : undefined,
  });
  await Promise.all([...started.syncs.values()].map((s) => s.ready()));
  return started;
}

const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

let withTraceparent = true;

async function post(url: string, body: string, caller: string | undefined, traced: boolean): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (withTraceparent) headers.traceparent = `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
  // The gateways have no API keys: the header changes nothing but the kept-answer key.
  if (caller) headers.authorization = `Bearer ${caller}`;
  const res = await request(url, { method: 'POST', headers, body, dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`query failed: ${res.statusCode} ${text.slice(0, 300)}`);
  if (traced !== text.includes('"traceId"')) throw new Error(`tracing ${traced ? 'on' : 'off'}, yet the answer ${traced ? 'lacks' : 'has'} extensions.traceId`);
}

/** Requests answered at `concurrency` connections in `seconds`, every answer checked. */
async function load(url: string, body: string, concurrency: number, seconds: number, unique: boolean, traced: boolean): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (performance.now() < until) {
        await post(url, body, unique ? `caller-${lane}-${done}-${Math.random()}` : undefined, traced);
        done += 1;
      }
    }),
  );
  return done;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const rounds = numberFlag(argv, 'rounds', 5, 1, 50);
  const seconds = numberFlag(argv, 'seconds', 3, 1, 30);
  const concurrency = numberFlag(argv, 'concurrency', 32, 1, 64);
  const sample = numberFlag(argv, 'sample', 1, 0, 1);
  withTraceparent = sample >= 1;
  mirrorSchema();
  const demo = await startDemo();
  const sink = await startSink();
  const indexed = { off: await gateway(demo, true, undefined, sample), on: await gateway(demo, true, sink.endpoint, sample) };
  const live = { off: await gateway(demo, false, undefined, sample), on: await gateway(demo, false, sink.endpoint, sample) };
  const body = JSON.stringify({ query: dashboardQuery(), variables: { first: 25 } });
  const targets: Target[] = [];
  const results: Record<string, unknown> = {};

  const scenarios = [
    ['computed', indexed, true, 'run index on, each request another caller (computed, no vendor call)'],
    ['kept', indexed, false, 'run index on, the same request repeated (kept answers)'],
    ['live', live, false, 'run index off: every request reads the three vendors'],
  ] as const;
  for (const [scenario, pair, unique, what] of scenarios) {
    // Warm-up: JIT, connection pools, the kept answers.
    for (const name of ['off', 'on'] as const) await load(pair[name].graphqlUrl, body, concurrency, 1, unique, name === 'on');
    const before = await sink.counts();
    const rows: Array<(string | number)[]> = [];
    const totals = { off: 0, on: 0 };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const);
      const perRound = { off: 0, on: 0 };
      for (const name of order) {
        perRound[name] = await load(pair[name].graphqlUrl, body, concurrency, seconds, unique, name === 'on');
        totals[name] += perRound[name];
      }
      rows.push([r + 1, order.join(' → '), round(perRound.off / seconds, 0), round(perRound.on / seconds, 0), round(perRound.on / perRound.off, 3)]);
    }
    const ratio = totals.on / totals.off;
    rows.push(['all', '', round(totals.off / (rounds * seconds), 0), round(totals.on / (rounds * seconds), 0), round(ratio, 3)]);
    const sampling = sample >= 1 ? 'every request sampled (traceparent sent, sampled)' : `sampleRatio ${sample}, no traceparent`;
    console.log(`\n${scenario}: Dashboard (first: 25), ${what}; ${concurrency} connections, ${rounds} rounds × ${seconds} s per contender; "on" = tracing, OTLP/HTTP to a loopback collector, ${sampling}\n`);
    console.log(table(['round', 'order', 'off req/s', 'on req/s', 'on/off'], rows));
    const after = await sink.counts();
    const exported = { exports: after.exports - before.exports, kib: round((after.bytes - before.bytes) / 1024, 0) };
    console.log(`  the collector received ${exported.exports} exports, ${exported.kib} KiB`);
    targets.push([`${scenario}: req/s with tracing on (${sample >= 1 ? 'every request sampled' : `sampleRatio ${sample}`}) ≥ 0.9 × off: ${round(ratio, 3)}×`, ratio >= 0.9 && exported.exports > 0]);
    results[scenario] = { rows, ratio, exported };
  }

  const held = printTargets(targets);
  const path = writeArtifact('bench-tracing.json', { at: new Date().toISOString(), rounds, seconds, concurrency, sample, results, targets });
  console.log(`\nresults: ${path}`);
  await Promise.all([indexed.off, indexed.on, live.off, live.on].map((g) => g.stop(1000)));
  sink.stop();
  await demo.stop();
  await agent.close();
  return held ? 0 : 1;
}

runBench(main);
