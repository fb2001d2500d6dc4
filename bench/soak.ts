/**
 * `npm run soak` (not part of `npm test`): concurrent Dashboard queries against the demo stack for a
 * bounded time while ONE simulator flaps between healthy and failing (every route answering 500, or
 * dropping the connection). It reports requests served, the error rate per source (from
 * `errors[].extensions.source`), p50/p99 latency, what the circuit breaker did, and memory growth.
 * It fails (exit 1) when any error names another source than the flapping one, names none, or a
 * response comes back without the healthy sources' runs.
 *
 *   npm run soak -- [--seconds 60] [--concurrency 8] [--latency 5] [--first 50]
 *                   [--source qac|tr|et] [--healthy 7] [--failing 5] [--fault both|500|reset]
 *
 * The default phases (7 s healthy, 5 s failing) are deliberately not a divisor of the breaker's
 * 10 s cooldown: with 5 s / 5 s every probe after a cooldown lands in a failing phase again, and
 * the source never comes back for the whole run (try `--healthy 5 --failing 5`).
 *
 * Run with `node --expose-gc` (the npm script does) for heapUsed after a forced GC.
 */
// First, as in main.ts: graphql-js reads NODE_ENV once; the soak runs the gateway as shipped.
import '../src/env';
import { performance } from 'node:perf_hooks';
import { DEFAULT_POLICY } from '../src/http/traffic';
import { dashboardQuery, GraphQLClient, numberFlag, percentile, round, sleep, startRungraph, startStack, stringFlag, table, writeArtifact, type GraphQLAnswer } from './stack';

interface Phase {
  index: number;
  state: 'healthy' | 'failing';
  fault: 'none' | '500' | 'reset';
  startedMs: number;
  endedMs: number;
  requests: number;
  /** Responses with an error from the flapping source. */
  flappingFailed: number;
  /** Of those, failed fast by the open circuit (no call reached the vendor). */
  circuitOpen: number;
  /** Calls that reached the flapping simulator. */
  upstreamCalls: number;
  latencies: number[];
  /** Memory when the phase ended (no forced GC). */
  rssMB: number;
  heapUsedMB: number;
}

const MB = 1024 * 1024;

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const seconds = numberFlag(argv, 'seconds', 60, 5, 600);
  const concurrency = numberFlag(argv, 'concurrency', 8, 1, 32);
  const latency = numberFlag(argv, 'latency', 5, 0, 200);
  const first = numberFlag(argv, 'first', 50, 1, 100);
  const healthyS = numberFlag(argv, 'healthy', 7, 1, 120);
  const failingS = numberFlag(argv, 'failing', 5, 1, 120);
  const flapping = stringFlag(argv, 'source', 'qac', ['tr', 'qac', 'et'] as const);
  const faultMode = stringFlag(argv, 'fault', 'both', ['both', '500', 'reset'] as const);
  const maxRequests = Math.ceil(seconds * 500);
  const gc = (globalThis as { gc?: () => void }).gc;

  const query = dashboardQuery();
  const stack = await startStack(latency);
  const gateway = await startRungraph(stack.demo, true);
  const client = new GraphQLClient(gateway.graphqlUrl);
  const simulator = stack.demo.simulators.find((s) => s.sourceId === flapping)!.server;

  try {
    console.log(
      `rungraph soak: ${seconds} s of Dashboard(first: ${first}) at ${concurrency} concurrent, ${latency} ms per upstream call; ` +
        `${flapping} flaps ${healthyS} s healthy / ${failingS} s failing (${faultMode === 'both' ? '500 and connection resets, alternately' : faultMode})`,
    );
    // Warm up at the soak's concurrency (JIT, connection pools, the heap a loaded process settles
    // at), so the growth below is what the run added, not the first seconds' ramp.
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let i = 0; i < 5; i++) await client.post(query, { first });
    }));
    // The healthy sources whose runs a healthy page holds: every answer during the soak must still have them.
    const healthyPage = await client.post(query, { first });
    if (healthyPage.body.errors?.length) throw new Error(`the stack is not healthy before the soak: ${healthyPage.body.errors[0].message}`);
    const otherSources = [...new Set(sourcesOf(healthyPage))].filter((id) => id !== flapping);
    // Each simulator keeps a log of its last 5,000 requests (about a megabyte); it is emptied right
    // before both measurements so the growth reported is the gateway's (and the client's), not the log filling up.
    stack.resetCounts();
    gc?.();
    const memoryStart = process.memoryUsage();

    const started = performance.now();
    const deadline = started + seconds * 1000;
    const phases: Phase[] = [];
    const latencies: number[] = [];
    const responses = { total: 0, complete: 0, partial: 0, httpErrors: 0 };
    const errorsBySource = new Map<string, { responses: number; errors: number; codes: Record<string, number> }>();
    const violations: string[] = [];
    let rssPeak = memoryStart.rss;
    let issued = 0;

    // The flapping: healthy first, then alternate; each phase's calls to the simulator are counted.
    let phase: Phase | undefined;
    let failingCount = 0;
    const endPhase = () => {
      if (!phase) return;
      phase.endedMs = performance.now() - started;
      phase.upstreamCalls = simulator.count() - phase.upstreamCalls;
      const memory = process.memoryUsage();
      phase.rssMB = memory.rss / MB;
      phase.heapUsedMB = memory.heapUsed / MB;
    };
    const beginPhase = (state: Phase['state']) => {
      endPhase();
      const now = performance.now() - started;
      simulator.clearFaults();
      let fault: Phase['fault'] = 'none';
      if (state === 'failing') {
        fault = faultMode === 'both' ? (failingCount % 2 === 0 ? '500' : 'reset') : faultMode;
        failingCount += 1;
        simulator.injectFault(fault === '500' ? { status: 500, body: { error: 'soak: failing on purpose' }, times: Number.MAX_SAFE_INTEGER } : { reset: true, times: Number.MAX_SAFE_INTEGER });
      }
      phase = { index: phases.length, state, fault, startedMs: now, endedMs: now, requests: 0, flappingFailed: 0, circuitOpen: 0, upstreamCalls: simulator.count(), latencies: [], rssMB: 0, heapUsedMB: 0 };
      phases.push(phase);
    };
    const flapper = (async () => {
      let state: Phase['state'] = 'healthy';
      // Phase boundaries on a fixed schedule; no sliver of a phase at the very end.
      for (let next = started; deadline - performance.now() > 250; state = state === 'healthy' ? 'failing' : 'healthy') {
        beginPhase(state);
        next += (state === 'healthy' ? healthyS : failingS) * 1000;
        await sleep(Math.max(0, Math.min(next, deadline) - performance.now()));
      }
    })();
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 500);

    const record = (answer: GraphQLAnswer | Error, ms: number, during: Phase) => {
      responses.total += 1;
      during.requests += 1;
      if (answer instanceof Error || answer.status !== 200) {
        responses.httpErrors += 1;
        violations.push(answer instanceof Error ? `request failed: ${answer.message}` : `HTTP ${answer.status}`);
        return;
      }
      latencies.push(ms);
      during.latencies.push(ms);
      const errors = answer.body.errors ?? [];
      if (errors.length === 0) responses.complete += 1;
      else responses.partial += 1;
      const sources = new Set<string>();
      for (const error of errors) {
        const source = typeof error.extensions?.source === 'string' ? error.extensions.source : '(none)';
        const code = String(error.extensions?.code ?? '(no code)');
        const entry = errorsBySource.get(source) ?? { responses: 0, errors: 0, codes: {} };
        entry.errors += 1;
        entry.codes[code] = (entry.codes[code] ?? 0) + 1;
        errorsBySource.set(source, entry);
        sources.add(source);
        if (source !== flapping) violations.push(`an error from ${source}: ${code} ${error.message} at ${JSON.stringify(error.path)}`);
      }
      for (const source of sources) errorsBySource.get(source)!.responses += 1;
      if (sources.has(flapping)) {
        during.flappingFailed += 1;
        if (errors.some((e) => e.extensions?.source === flapping && /circuit open/.test(e.message))) during.circuitOpen += 1;
      }
      // The healthy sources' runs must still be there.
      const present = sourcesOf(answer);
      if (!present) violations.push('a response without data.runs');
      else {
        const missing = otherSources.filter((id) => !present.includes(id));
        if (missing.length > 0) violations.push(`runs of healthy source(s) ${missing.join(', ')} missing`);
      }
    };

    const worker = async () => {
      while (performance.now() < deadline && issued < maxRequests) {
        issued += 1;
        const t = performance.now();
        let answer: GraphQLAnswer | Error;
        try {
          answer = await client.post(query, { first });
        } catch (error) {
          answer = error as Error;
        }
        // Counted in the phase it ends in: its vendor calls come late in a request.
        record(answer, performance.now() - t, phase!);
      }
    };
    await sleep(0);
    await Promise.all(Array.from({ length: concurrency }, worker));
    await flapper;
    endPhase();
    clearInterval(sampler);
    simulator.clearFaults();
    const elapsedS = (performance.now() - started) / 1000;

    stack.resetCounts();
    gc?.();
    const memoryEnd = process.memoryUsage();

    // Report.
    const served = responses.complete + responses.partial;
    console.log(
      `\n${served} requests served in ${round(elapsedS)} s (${round(served / elapsedS)} req/s): ${responses.complete} complete, ${responses.partial} partial, ${responses.httpErrors} failed outright`,
    );
    console.log(`latency: p50 ${round(percentile(latencies, 50))} ms, p99 ${round(percentile(latencies, 99))} ms, max ${round(Math.max(...latencies))} ms\n`);

    const allSources = stack.demo.simulators.map((s) => s.sourceId);
    console.log(
      table(
        ['source', 'role', 'responses with its error', 'error rate', 'errors', 'codes'],
        [...allSources, ...[...errorsBySource.keys()].filter((s) => !allSources.includes(s))].map((id) => {
          const e = errorsBySource.get(id);
          return [
            id,
            id === flapping ? 'flapping' : allSources.includes(id) ? 'healthy' : '?',
            e?.responses ?? 0,
            `${round((100 * (e?.responses ?? 0)) / Math.max(1, served), 2)}%`,
            e?.errors ?? 0,
            e ? Object.entries(e.codes).map(([c, n]) => `${c} ${n}`).join(', ') : '-',
          ];
        }),
      ),
    );

    console.log(`\nphases (${flapping}; circuit open = failed fast by rungraph's breaker, no call sent):`);
    console.log(
      table(
        ['phase', 'state', 'from s', 'to s', 'requests', `${flapping} failed`, 'circuit open', `calls to ${flapping}`, 'p50 ms', 'p99 ms', 'RSS MB', 'heap MB'],
        phases.map((p) => [
          p.index,
          p.fault === 'none' ? p.state : `${p.state} (${p.fault})`,
          round(p.startedMs / 1000),
          round(p.endedMs / 1000),
          p.requests,
          p.flappingFailed,
          p.circuitOpen,
          p.upstreamCalls,
          round(percentile(p.latencies, 50)),
          round(percentile(p.latencies, 99)),
          round(p.rssMB),
          round(p.heapUsedMB),
        ]),
      ),
    );

    const heap = (m: NodeJS.MemoryUsage) => round(m.heapUsed / MB);
    console.log(
      `\nmemory: RSS ${round(memoryStart.rss / MB)} MB at start, ${round(memoryEnd.rss / MB)} MB at end (${round((memoryEnd.rss - memoryStart.rss) / MB)} MB), peak ${round(rssPeak / MB)} MB; ` +
        (gc ? `heapUsed after GC ${heap(memoryStart)} MB → ${heap(memoryEnd)} MB (${round((memoryEnd.heapUsed - memoryStart.heapUsed) / MB)} MB)` : 'heapUsed: run node with --expose-gc') +
        `; heapTotal ${round(memoryStart.heapTotal / MB)} → ${round(memoryEnd.heapTotal / MB)} MB, external ${round(memoryStart.external / MB)} → ${round(memoryEnd.external / MB)} MB`,
    );

    const healthyFailures = phases.filter((p) => p.state === 'healthy').reduce((n, p) => n + p.flappingFailed, 0);
    const healthyRequests = phases.filter((p) => p.state === 'healthy').reduce((n, p) => n + p.requests, 0);
    const failingRequests = phases.filter((p) => p.state === 'failing').reduce((n, p) => n + p.requests, 0);
    const failingCircuit = phases.filter((p) => p.state === 'failing').reduce((n, p) => n + p.circuitOpen, 0);
    console.log(
      `breaker: in failing phases ${failingCircuit} of ${failingRequests} requests were failed fast (circuit open); ` +
        `in healthy phases ${healthyFailures} of ${healthyRequests} still failed for ${flapping} (an open breaker waits out its cooldown, ${DEFAULT_POLICY.breakerCooldownMs / 1000} s by default, before one probe call)`,
    );

    const checks = [
      { name: `only the flapping source (${flapping}) fails`, pass: violations.length === 0, detail: violations.length === 0 ? 'no error from another source, every response has the healthy sources\' runs' : `${violations.length} violation(s), first: ${violations[0]}` },
      {
        name: 'requests were served in every phase',
        pass: served > 0 && phases.every((p) => p.requests > 0),
        detail: `${served} served; requests per phase: ${phases.map((p) => p.requests).join(', ')}`,
      },
    ];
    console.log('\nchecks:');
    for (const c of checks) console.log(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);

    const path = writeArtifact('soak.json', {
      at: new Date().toISOString(),
      node: process.version,
      settings: { seconds, concurrency, latencyMs: latency, first, flapping, healthyS, failingS, fault: faultMode },
      elapsedS,
      responses: { ...responses, served, perSecond: served / elapsedS },
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies) },
      errorsBySource: Object.fromEntries(
        [...errorsBySource].map(([id, e]) => [id, { ...e, errorRate: e.responses / Math.max(1, served) }]),
      ),
      phases: phases.map(({ latencies: ms, ...p }) => ({ ...p, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) })),
      memory: {
        start: memoryStart,
        end: memoryEnd,
        rssGrowthMB: (memoryEnd.rss - memoryStart.rss) / MB,
        rssPeakMB: rssPeak / MB,
        heapUsedAfterGcGrowthMB: gc ? (memoryEnd.heapUsed - memoryStart.heapUsed) / MB : null,
      },
      violations: violations.slice(0, 50),
      checks,
    });
    console.log(`\nresults: ${path}`);
    return checks.every((c) => c.pass) ? 0 : 1;
  } finally {
    simulator.clearFaults();
    await client.close();
    await gateway.stop(2_000);
    await stack.stop();
  }
}

/** The source ids of the runs on a Dashboard answer's page, or undefined without data.runs. */
function sourcesOf(answer: GraphQLAnswer): string[] | undefined {
  const edges = (answer.body.data as { runs?: { edges?: Array<{ node: { source: { id: string } } }> } } | null)?.runs?.edges;
  return edges?.map((e) => e.node.source.id);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
