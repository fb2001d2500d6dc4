/**
 * `npm run bench:ops` (not part of `npm test`): what metrics and tracing cost (issue 16, "Done
 * when" 6). Two gateways over the same demo simulators, run index on: one with metrics and tracing
 * off, one with both on (Prometheus scraped once per round, as a scraper would); each round
 * measures both, in alternating order, so drift on a shared machine falls on both alike.
 *
 *   npm run bench:ops -- [--rounds 8] [--seconds 2] [--concurrency 32] [--no-tracing]
 *
 * Scenarios, each at `--concurrency` connections:
 *   computed  the Dashboard operation (25 runs from three sources, with project and host), INDEXED,
 *             each request naming another caller, so every answer is computed;
 *   kept      the same request repeated: answers kept from the unchanged index (server/answers.ts),
 *             the cheapest request the gateway serves, where a fixed cost per request shows most.
 * Target, per scenario: req/s with both on ≥ 0.9 × req/s with both off, totals over all rounds.
 * Prints a table per scenario and the targets; exits 1 when one is missed.
 */
import '../src/env';
import { ExportResultCode } from '@opentelemetry/core';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { startGateway, type Gateway, type GatewayOptions } from '../src/server/app';
import { DEFAULT_INDEX, DEFAULT_METRICS } from '../src/server/config';
import { feedOf, identities } from '../src/server/feeds';
import { silentLogger } from '../src/server/log';
import { GatewayMetrics } from '../src/server/metrics';
import { startDemo, type Demo } from '../src/simulators/demo';
import { SOURCE_KINDS } from '../src/sources/registry';
import { dashboardQuery, mirrorSchema, numberFlag, printTargets, round, runBench, table, writeArtifact, type Target } from './stack';

/**
 * TRACING — the TRACES branch plugs in here. Return what the "on" gateway needs for OpenTelemetry
 * tracing with an in-memory (or no-network) exporter: extra startGateway options, and, if the
 * tracer provider is process-wide, `enter`/`leave` to switch it on for the "on" rounds only (the
 * "off" gateway runs in the same process). Undefined: this run measures metrics alone, and the
 * table says so.
 */
interface TracingHook {
  options?: Partial<GatewayOptions>;
  enter?(): void;
  leave?(): void;
  /** Spans finished so far, to show tracing really ran. */
  spans?(): number;
  stop?(): Promise<void>;
}
async function startTracing(): Promise<TracingHook | undefined> {
  // The SDK's batch processor in front of an exporter that counts the spans instead of sending
  // them: what tracing costs the gateway, without a collector's share of these two cores
  // (`npm run bench:tracing` measures export over OTLP/HTTP to a collector in a child process).
  let spans = 0;
  const exporter: SpanExporter = {
    export: (batch: ReadableSpan[], done) => {
      spans += batch.length;
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async () => undefined,
  };
  return { options: { telemetry: { spanProcessors: [new BatchSpanProcessor(exporter)] } }, spans: () => spans };
}

interface Contender {
  name: 'off' | 'on';
  gateway: Gateway;
  metrics?: GatewayMetrics;
  tracing?: TracingHook;
}

async function contender(demo: Demo, on: boolean, tracing: TracingHook | undefined): Promise<Contender> {
  const metrics = on ? new GatewayMetrics(DEFAULT_METRICS) : undefined;
  const sources = demo.sources.map((s) => SOURCE_KINDS[s.kind]!.create({ ...s, observer: metrics?.vendor }, silentLogger));
  const gateway = await startGateway({
    sources,
    log: silentLogger,
    host: '127.0.0.1',
    port: 0,
    metrics,
    index: { ...DEFAULT_INDEX, path: mkdtempSync(join(tmpdir(), 'rungraph-bench-ops-')), refreshSeconds: 3600, feedOf, identityOf: identities(demo.sources) },
    ...(on ? tracing?.options : {}),
  });
  await Promise.all([...gateway.syncs.values()].map((s) => s.ready()));
  return { name: on ? 'on' : 'off', gateway, metrics, tracing: on ? tracing : undefined };
}

const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

async function post(url: string, body: string, caller: string | undefined): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // The gateway has no API keys: the header changes nothing but the kept-answer key.
  if (caller) headers.authorization = `Bearer ${caller}`;
  const res = await request(url, { method: 'POST', headers, body, dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode !== 200 || text.includes('"errors"')) throw new Error(`query failed: ${res.statusCode} ${text.slice(0, 300)}`);
}

/** Requests answered at `concurrency` connections in `seconds`, every answer checked. */
async function load(url: string, body: string, concurrency: number, seconds: number, unique: boolean): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (performance.now() < until) {
        await post(url, body, unique ? `caller-${lane}-${done}-${Math.random()}` : undefined);
        done += 1;
      }
    }),
  );
  return done;
}

async function scrape(c: Contender): Promise<number> {
  const res = await request(c.gateway.metricsUrl!, { dispatcher: agent });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`scrape failed: ${res.statusCode}`);
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const rounds = numberFlag(argv, 'rounds', 8, 1, 50);
  const seconds = numberFlag(argv, 'seconds', 2, 1, 30);
  const concurrency = numberFlag(argv, 'concurrency', 32, 1, 64);
  mirrorSchema();
  const demo = await startDemo();
  // --no-tracing: metrics alone, to tell the two costs apart.
  const tracing = process.argv.includes('--no-tracing') ? undefined : await startTracing();
  const off = await contender(demo, false, undefined);
  const on = await contender(demo, true, tracing);
  const measured = tracing ? 'metrics and tracing' : 'metrics only (--no-tracing)';
  const body = JSON.stringify({ query: dashboardQuery(), variables: { first: 25 } });
  const targets: Target[] = [];
  const results: Record<string, unknown> = {};

  for (const [scenario, unique] of [['computed', true], ['kept', false]] as const) {
    // Warm-up: JIT, connection pools, the kept answers.
    for (const c of [off, on]) await load(c.gateway.graphqlUrl, body, concurrency, 1, unique);
    const rows: Array<(string | number)[]> = [];
    const totals = { off: 0, on: 0 };
    let series = 0;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [off, on] : [on, off];
      const perRound: Record<string, number> = {};
      for (const c of order) {
        c.tracing?.enter?.();
        try {
          perRound[c.name] = await load(c.gateway.graphqlUrl, body, concurrency, seconds, unique);
          if (c.metrics) series = await scrape(c);
        } finally {
          c.tracing?.leave?.();
        }
        totals[c.name] += perRound[c.name];
      }
      rows.push([r + 1, order.map((c) => c.name).join(' → '), round(perRound.off / seconds, 0), round(perRound.on / seconds, 0), round(perRound.on / perRound.off, 3)]);
    }
    const ratio = totals.on / totals.off;
    rows.push(['all', '', round(totals.off / (rounds * seconds), 0), round(totals.on / (rounds * seconds), 0), round(ratio, 3)]);
    console.log(`\n${scenario}: Dashboard (first: 25), INDEXED, ${unique ? 'each request another caller (computed)' : 'the same request repeated (kept answers)'}; ${concurrency} connections, ${rounds} rounds × ${seconds} s per contender; "on" = ${measured}\n`);
    console.log(table(['round', 'order', 'off req/s', 'on req/s', 'on/off'], rows));
    console.log(`  the "on" gateway's scrape: ${series} samples${tracing?.spans ? `; spans finished: ${tracing.spans()}` : ''}`);
    targets.push([`${scenario}: req/s with ${measured} on ≥ 0.9 × off: ${round(ratio, 3)}×`, ratio >= 0.9]);
    results[scenario] = { rows, ratio, series };
  }

  const held = printTargets(targets);
  const path = writeArtifact('bench-observability.json', { at: new Date().toISOString(), rounds, seconds, concurrency, measured, results, targets });
  console.log(`\nresults: ${path}`);
  await Promise.all([off.gateway.stop(1000), on.gateway.stop(1000)]);
  await tracing?.stop?.();
  await demo.stop();
  await agent.close();
  return held ? 0 : 1;
}

runBench(main);
