/**
 * `npm run probe` (tsc -p tsconfig.bench.json && node .build/bench/probe.js; not part of `npm test`):
 * does the gateway stay responsive (issue #12)? Two scenarios against the demo stack, with targets:
 *
 *   (a) the deeply nested query below (NESTED_QUERY) must be refused within 100 ms, with an error
 *       that has an `extensions.code` and whose message names the cost and the limit;
 *   (b) while the heaviest query the gateway accepts runs (HEAVY_ACCEPTED_QUERY, several times in a
 *       row), GET /healthz, polled every 10 ms, must answer within 50 ms every time (max; p99 shown).
 *
 * The gateway has its own thread (the main one) and nothing else: the vendor simulators run in one
 * worker thread, the GraphQL client in another and the /healthz poller in a third, so a stall the
 * probe measures is the gateway's, not a simulator's or the client's JSON parsing, and the poller's
 * own clock keeps running while the gateway's event loop is blocked. Everything is on 127.0.0.1;
 * every request has a timeout and every loop a bound.
 *
 *   npm run probe -- [--latency 0] [--runs 10] [--interval 10] [--timeout 120]
 *
 *   --latency   ms every simulator adds to each vendor call (0: idle vendors, the gateway's worst case)
 *   --runs      how many times the heavy query runs back to back while /healthz is polled
 *   --interval  ms between the starts of two /healthz polls (one in flight at a time)
 *   --timeout   s to wait for one GraphQL answer before calling it unanswered
 */
// First, as in main.ts: graphql-js reads NODE_ENV once, and the probe measures the gateway as shipped.
import '../src/env';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { buildSchema } from '../src/graph';
import { startGateway, type Gateway } from '../src/server/app';
import { operationCost } from '../src/server/cost';
import { DEFAULT_SERVER } from '../src/server/config';
import { startDemo, type Demo } from '../src/simulators/demo';
import { silentLogger } from '../src/server/log';
import { SOURCE_KINDS, type SourceConfig } from '../src/sources/registry';
import { mirrorSchema, numberFlag, percentile, round, sleep, table, writeArtifact } from './stack';

/**
 * The heaviest query the gateway should still accept, close to its cost limit: (b) measures
 * /healthz while it runs. Change it here when the limit moves; the probe fails loudly if the
 * gateway refuses it (then it is over the limit, and (b) would measure nothing) or if it costs
 * less than HEAVY_SHARE of the limit (then (b) would measure something lighter than allowed).
 * Cost: 1 + 100 × (1 + 4 scalars + counts 4 + project (1 + name + runs (1 + 30 × 5))) = 16,201.
 */
export const HEAVY_ACCEPTED_QUERY =
  '{ runs(first: 100) { nodes { id name status createdAt counts { total passed failed } project { name runs(first: 30) { nodes { id name status createdAt } } } } } }';
const HEAVY_SHARE = 0.75;

/** Issue #12, item 1: four levels deep, no aliases, under the depth limit — and a million fields. */
export const NESTED_QUERY =
  '{ runs(first:100) { nodes { project { runs(first:100) { nodes { project { runs(first:100) { nodes { id } } } } } } } } }';

const REFUSE_WITHIN_MS = 100;
const HEALTHZ_WITHIN_MS = 50;

type Role = 'simulators' | 'client' | 'poller';

interface Answer {
  ms: number;
  status: number;
  bytes: number;
  hasData: boolean;
  errors: Array<{ code: string | null; message: string }>;
  /** Set when no (complete) answer came: timeout, reset, unparsable body. */
  failure: string | null;
}

interface Polls {
  latencies: number[];
  failures: number;
  /** Polls that were due but waited for the one before (it took longer than the interval). */
  late: number;
}

const MB = 1024 * 1024;

// ------------------------------------------------------------------------------------ main thread

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const latency = numberFlag(argv, 'latency', 0, 0, 1000);
  const runs = numberFlag(argv, 'runs', 10, 1, 50);
  const interval = numberFlag(argv, 'interval', 10, 1, 1000);
  const timeoutS = numberFlag(argv, 'timeout', 120, 5, 600);

  mirrorSchema();
  const simulators = spawn('simulators');
  const client = spawn('client');
  const poller = spawn('poller');
  let gateway: Gateway | undefined;
  try {
    const sources = (await simulators.call('start', { latency })) as SourceConfig[];
    await Promise.all([client.call('ready'), poller.call('ready')]);
    // The gateway as `npm start` runs it: default server settings and limits.
    gateway = await startGateway({ sources: sources.map((s) => SOURCE_KINDS[s.kind]!.create(s, silentLogger)), log: silentLogger, host: '127.0.0.1', port: 0 });
    const graphqlUrl = gateway.graphqlUrl;
    const healthzUrl = `${gateway.origin}/healthz`;
    const maxCost = DEFAULT_SERVER.limits.maxCost;
    const heavyCost = costOf(HEAVY_ACCEPTED_QUERY, sources.length);
    console.log(
      `rungraph responsiveness probe: demo stack, ${latency} ms per vendor call, gateway alone on its thread; ` +
        `limits ${JSON.stringify(DEFAULT_SERVER.limits)}`,
    );

    const loop = monitorEventLoopDelay({ resolution: 5 });
    const query = (text: string) => client.call('query', { url: graphqlUrl, query: text, timeoutMs: timeoutS * 1000 }) as Promise<Answer>;
    /** Runs `work` with /healthz polled throughout; the gateway thread's event-loop delay on the side. */
    const polled = async <T>(work: () => Promise<T>) => {
      await poller.call('start', { url: healthzUrl, intervalMs: interval });
      loop.reset();
      loop.enable();
      const rssBefore = process.memoryUsage().rss;
      try {
        const result = await work();
        return { result, rssBefore, rssAfter: process.memoryUsage().rss, loopMaxMs: loop.max / 1e6 };
      } finally {
        loop.disable();
        await sleep(interval * 2); // one more poll after the work, to see the loop recover
        pollsOf.push((await poller.call('stop')) as Polls);
      }
    };
    const pollsOf: Polls[] = [];

    // 0. /healthz while nothing runs: the floor of what the poller can see.
    const idle = await polled(() => sleep(1000));
    const idlePolls = pollsOf.at(-1)!;

    // (b) The heaviest accepted query, back to back, with /healthz polled. One warm-up first, which
    //     also checks the gateway accepts it.
    const warm = await query(HEAVY_ACCEPTED_QUERY);
    const heavyRuns: Answer[] = [];
    const heavy = await polled(async () => {
      for (let i = 0; i < runs; i++) heavyRuns.push(await query(HEAVY_ACCEPTED_QUERY));
    });
    const heavyPolls = pollsOf.at(-1)!;
    const refusedHeavy = [warm, ...heavyRuns].find((a) => !accepted(a));

    // (a) The nested query, once (it can take seconds and hundreds of MB before a cost limit).
    const nested = await polled(() => query(NESTED_QUERY));
    const nestedPolls = pollsOf.at(-1)!;
    const n = nested.result;

    // Report.
    const firstError = n.errors[0];
    const named = firstError ? namesCostAndLimit(firstError.message, maxCost) : { pass: false, why: 'no error' };
    const aPass = n.failure === null && n.ms <= REFUSE_WITHIN_MS && !!firstError?.code && named.pass;
    const aWhy = [
      n.failure ? `no answer: ${n.failure}` : n.ms > REFUSE_WITHIN_MS ? `answered after ${fmtMs(n.ms)}` : null,
      !firstError ? 'no error in the answer (it was executed)' : !firstError.code ? 'the error has no extensions.code' : null,
      firstError && !named.pass ? `the message does not name ${named.why}` : null,
    ].filter(Boolean);
    const hz = stats(heavyPolls);
    const heavyEnough = heavyCost >= HEAVY_SHARE * maxCost;
    const bPass = heavyEnough && !refusedHeavy && heavyPolls.latencies.length > 0 && heavyPolls.failures === 0 && hz.max <= HEALTHZ_WITHIN_MS;
    const bWhy = [
      refusedHeavy ? `the heavy query was not accepted (${describe(refusedHeavy)}): make HEAVY_ACCEPTED_QUERY lighter` : null,
      heavyEnough ? null : `the heavy query costs ${heavyCost}, under ${HEAVY_SHARE} × maxCost ${maxCost}: make HEAVY_ACCEPTED_QUERY heavier`,
      heavyPolls.failures > 0 ? `${heavyPolls.failures} /healthz polls failed` : null,
      hz.max > HEALTHZ_WITHIN_MS ? `max ${fmtMs(hz.max)}` : null,
    ].filter(Boolean);
    const nz = stats(nestedPolls);
    const iz = stats(idlePolls);

    console.log(
      '\n' +
        table(
          ['probe', 'measured', 'target', 'result'],
          [
            [
              '(a) nested query, time to answer',
              `${fmtMs(n.ms)}: ${describe(n)}`,
              `≤ ${REFUSE_WITHIN_MS} ms, coded error naming cost and limit`,
              aPass ? 'PASS' : 'FAIL',
            ],
            [
              '(b) /healthz during the heavy query',
              `max ${fmtMs(hz.max)}, p99 ${fmtMs(hz.p99)}, p50 ${fmtMs(hz.p50)} (${hz.count} polls, ${heavyPolls.failures} failed)`,
              `≤ ${HEALTHZ_WITHIN_MS} ms`,
              bPass ? 'PASS' : 'FAIL',
            ],
          ],
        ),
    );
    console.log('\ndetails:');
    console.log(`  (a) ${NESTED_QUERY}`);
    console.log(`      HTTP ${n.status}, ${fmtBytes(n.bytes)}, data ${n.hasData ? 'present' : 'absent'}, ${summarizeErrors(n.errors)}`);
    console.log(`      /healthz meanwhile: max ${fmtMs(nz.max)}, p99 ${fmtMs(nz.p99)} (${nz.count} polls, ${nestedPolls.failures} failed); gateway event-loop delay max ${fmtMs(nested.loopMaxMs)}`);
    console.log(`      process RSS ${fmtBytes(nested.rssBefore)} → ${fmtBytes(nested.rssAfter)}`);
    if (!aPass) console.log(`      FAIL: ${aWhy.join('; ')}`);
    console.log(`  (b) ${HEAVY_ACCEPTED_QUERY}`);
    console.log(`      estimated cost ${heavyCost} of maxCost ${maxCost} (${round((100 * heavyCost) / maxCost, 0)}%)`);
    console.log(
      `      ${runs} runs after a warm-up: ${heavyRuns.map((a) => fmtMs(a.ms)).join(', ')}; each HTTP ${[...new Set(heavyRuns.map((a) => a.status))].join('/')}, ` +
        `${fmtBytes(heavyRuns[0]?.bytes ?? 0)}, ${summarizeErrors(heavyRuns.flatMap((a) => a.errors))}`,
    );
    console.log(`      gateway event-loop delay max ${fmtMs(heavy.loopMaxMs)}; ${heavyPolls.late} polls started late (the one before took > ${interval} ms)`);
    if (!bPass) console.log(`      FAIL: ${bWhy.join('; ')}`);
    console.log(`  idle: /healthz with nothing running: max ${fmtMs(iz.max)}, p99 ${fmtMs(iz.p99)} (${iz.count} polls); event-loop delay max ${fmtMs(idle.loopMaxMs)}`);

    const path = writeArtifact('probe.json', {
      at: new Date().toISOString(),
      node: process.version,
      settings: { latencyMs: latency, runs, intervalMs: interval, timeoutS, limits: DEFAULT_SERVER.limits },
      nested: { query: NESTED_QUERY, answer: n, healthz: nz, loopMaxMs: nested.loopMaxMs, rssBefore: nested.rssBefore, rssAfter: nested.rssAfter, pass: aPass },
      heavy: { query: HEAVY_ACCEPTED_QUERY, warmUp: warm, runs: heavyRuns, healthz: hz, loopMaxMs: heavy.loopMaxMs, pass: bPass },
      idle: { healthz: iz, loopMaxMs: idle.loopMaxMs },
    });
    const missed = [aPass ? null : '(a) nested query refused fast', bPass ? null : '(b) /healthz ≤ 50 ms during the heaviest accepted query'].filter(Boolean);
    console.log(missed.length === 0 ? '\nall targets met' : `\nFAIL: ${missed.length} target(s) not met: ${missed.join('; ')}`);
    console.log(`results: ${path}`);
    return missed.length === 0 ? 0 : 1;
  } finally {
    await gateway?.stop(1_000);
    await Promise.allSettled([simulators.call('stop'), client.call('stop'), poller.call('stop')]);
    await Promise.all([simulators.worker.terminate(), client.worker.terminate(), poller.worker.terminate()]);
  }
}

/** A worker thread running this same file in one role, with a tiny request/answer protocol. */
function spawn(role: Role) {
  const worker = new Worker(__filename, { workerData: { role } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error !== undefined) p?.reject(new Error(`${role}: ${m.error}`));
    else p?.resolve(m.result);
  });
  const failAll = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  };
  worker.on('error', (e) => failAll(e));
  worker.on('exit', (code) => failAll(new Error(`${role} thread exited (${code})`)));
  return {
    worker,
    call(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
      const id = ++next;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, cmd, args });
      });
    },
  };
}

/** The gateway's own estimate (src/server/cost.ts) of a query's cost. */
function costOf(query: string, sourceCount: number): number {
  const doc = parse(query);
  const operation = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return operationCost(buildSchema(), operation, new Map(), {}, { listSize: sourceCount });
}

function accepted(a: Answer): boolean {
  return a.failure === null && a.status === 200 && a.hasData;
}

/**
 * "Names the cost and the limit": the message speaks of a cost and a limit and carries both
 * numbers — at least two, and the configured limit among them when the config has one.
 */
function namesCostAndLimit(message: string, maxCost: number | null): { pass: boolean; why: string } {
  const numbers = (message.match(/\d(?:[\d,_\u00a0\u202f ]*\d)?/g) ?? []).map((s) => s.replace(/\D/g, ''));
  const missing = [
    /cost/i.test(message) ? null : 'the word cost',
    /limit|maximum|max\b/i.test(message) ? null : 'the word limit',
    numbers.length >= 2 ? null : 'two numbers (the cost and the limit)',
    maxCost === null || numbers.includes(String(maxCost)) ? null : `the configured limit ${maxCost}`,
  ].filter(Boolean);
  return { pass: missing.length === 0, why: missing.join(', ') };
}

function describe(a: Answer): string {
  if (a.failure) return a.failure;
  const first = a.errors[0];
  return `HTTP ${a.status}, ${fmtBytes(a.bytes)}, ${first ? `${a.errors.length} error(s), first ${first.code ?? '(no code)'}: ${clip(first.message, 140)}` : 'no errors'}`;
}

function summarizeErrors(errors: Answer['errors']): string {
  if (errors.length === 0) return 'no errors';
  const byCode = new Map<string, { n: number; message: string }>();
  for (const e of errors) {
    const key = e.code ?? '(no code)';
    const seen = byCode.get(key);
    if (seen) seen.n += 1;
    else byCode.set(key, { n: 1, message: e.message });
  }
  return `errors: ${[...byCode].map(([code, { n, message }]) => `${n}× ${code} ("${clip(message, 120)}")`).join(', ')}`;
}

function stats(polls: Polls) {
  const l = polls.latencies;
  return { count: l.length, max: l.length ? Math.max(...l) : NaN, p99: percentile(l, 99), p50: percentile(l, 50) };
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const fmtMs = (ms: number) => (Number.isNaN(ms) ? 'n/a' : ms >= 1000 ? `${round(ms / 1000, 2)} s` : `${round(ms, 1)} ms`);
const fmtBytes = (b: number) => (b >= MB ? `${round(b / MB, 1)} MB` : b >= 1024 ? `${round(b / 1024, 1)} kB` : `${b} B`);

// ---------------------------------------------------------------------------------- worker threads

async function worker(role: Role): Promise<void> {
  const port = parentPort!;
  const handlers = role === 'simulators' ? await simulatorsRole() : role === 'client' ? clientRole() : pollerRole();
  port.on('message', async (m: { id: number; cmd: string; args: Record<string, unknown> }) => {
    try {
      const handler = handlers[m.cmd];
      if (!handler) throw new Error(`unknown command ${m.cmd}`);
      port.postMessage({ id: m.id, result: await handler(m.args) });
    } catch (error) {
      port.postMessage({ id: m.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}

type Handlers = Record<string, (args: Record<string, unknown>) => unknown>;

/** The three vendor simulators with demo data; answers the demo config's sources. */
async function simulatorsRole(): Promise<Handlers> {
  let demo: Demo | undefined;
  return {
    async start(args) {
      demo = await startDemo();
      for (const s of demo.simulators) s.server.latencyMs = Number(args.latency);
      return demo.sources;
    },
    async stop() {
      await demo?.stop();
      demo = undefined;
    },
  };
}

/** Sends one GraphQL POST and times it to the last byte of the body (parsing comes after). */
function clientRole(): Handlers {
  const agent = new Agent({ connections: 4, keepAliveTimeout: 10_000 });
  return {
    ready: () => true,
    async query(args): Promise<Answer> {
      const url = String(args.url);
      if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`refusing a non-loopback URL: ${url}`);
      const timeoutMs = Number(args.timeoutMs);
      const started = performance.now();
      let status = 0;
      let text: string;
      try {
        const response = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: String(args.query) }),
          dispatcher: agent,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        status = response.statusCode;
        text = await response.body.text();
      } catch (error) {
        return { ms: performance.now() - started, status, bytes: 0, hasData: false, errors: [], failure: `no answer: ${(error as Error).message}` };
      }
      const ms = performance.now() - started;
      const bytes = Buffer.byteLength(text);
      try {
        const body = JSON.parse(text) as { data?: unknown; errors?: Array<{ message?: string; extensions?: { code?: unknown } }> };
        return {
          ms,
          status,
          bytes,
          hasData: body.data !== undefined && body.data !== null,
          errors: (body.errors ?? []).map((e) => ({ code: typeof e.extensions?.code === 'string' ? e.extensions.code : null, message: String(e.message ?? '') })),
          failure: null,
        };
      } catch {
        return { ms, status, bytes, hasData: false, errors: [], failure: `HTTP ${status} with a body that is not JSON (${fmtBytes(bytes)})` };
      }
    },
    stop: () => agent.close(),
  };
}

/** GET /healthz, one at a time, starting every `intervalMs` (or at once when the last one was slower). */
function pollerRole(): Handlers {
  const agent = new Agent({ connections: 1, keepAliveTimeout: 10_000 });
  let running: Promise<Polls> | undefined;
  let stopping = false;
  const MAX_POLLS = 100_000;
  const run = async (url: string, intervalMs: number): Promise<Polls> => {
    const polls: Polls = { latencies: [], failures: 0, late: 0 };
    let due = performance.now();
    while (!stopping && polls.latencies.length + polls.failures < MAX_POLLS) {
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      else if (polls.latencies.length > 0) polls.late += 1;
      due = Math.max(due + intervalMs, performance.now());
      const started = performance.now();
      try {
        const response = await request(url, { method: 'GET', dispatcher: agent, headersTimeout: 30_000, bodyTimeout: 30_000 });
        await response.body.text();
        if (response.statusCode === 200) polls.latencies.push(performance.now() - started);
        else polls.failures += 1;
      } catch {
        polls.failures += 1;
      }
    }
    return polls;
  };
  return {
    ready: () => true,
    start(args) {
      const url = String(args.url);
      if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`refusing a non-loopback URL: ${url}`);
      if (running) throw new Error('already polling');
      stopping = false;
      running = run(url, Number(args.intervalMs));
      return true;
    },
    async stop() {
      stopping = true;
      const polls = (await running) ?? { latencies: [], failures: 0, late: 0 };
      running = undefined;
      return polls;
    },
  };
}

if (isMainThread) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  worker((workerData as { role: Role }).role).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
