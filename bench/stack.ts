/**
 * What the benchmark and the soak test share: the demo stack (three vendor simulators on loopback
 * with demo data), gateways in front of it, the Dashboard operation, a small GraphQL client over
 * undici, and the simulators' call counters. Everything listens on 127.0.0.1 only.
 *
 * The scripts run compiled from .build/ (tsconfig.bench.json), where the compiled src/ looks for
 * its SDL at .build/schema (src/graph/index.ts reads `../../schema` from its own folder), so the
 * schema is mirrored there before the first gateway starts.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Agent, request } from 'undici';
import { startDemo, type Demo } from '../src/simulators/demo';
import { startGateway, type Gateway } from '../src/server/app';
import { silentLogger } from '../src/server/log';
import type { Logger } from '../src/model/source';
import { SOURCE_KINDS } from '../src/sources/registry';
import type { TrafficPolicy } from '../src/http/traffic';

const PARENT = resolve(__dirname, '..');
/** The repository root, from bench/ (type checks) or .build/bench/ (runs). */
export const ROOT = basename(PARENT) === '.build' ? dirname(PARENT) : PARENT;

export function mirrorSchema(): void {
  if (PARENT !== ROOT) cpSync(resolve(ROOT, 'schema'), resolve(PARENT, 'schema'), { recursive: true });
}

/** The contract's Dashboard operation (src/server/explorer/dashboard.graphql is a copy of it). */
export function dashboardQuery(): string {
  return readFileSync(resolve(ROOT, 'src/server/explorer/dashboard.graphql'), 'utf8');
}

export interface Stack {
  demo: Demo;
  /** Sets the latency every simulator adds to each request. */
  setLatency(ms: number): void;
  /** Upstream calls so far, per source id (the demo's: tr, qac, et). */
  counts(): Record<string, number>;
  countsByRoute(): Record<string, Record<string, number>>;
  resetCounts(): void;
  stop(): Promise<void>;
}

export async function startStack(latencyMs: number): Promise<Stack> {
  mirrorSchema();
  const demo = await startDemo();
  const stack: Stack = {
    demo,
    setLatency(ms) {
      for (const s of demo.simulators) s.server.latencyMs = ms;
    },
    counts: () => Object.fromEntries(demo.simulators.map((s) => [s.sourceId, s.server.count()])),
    countsByRoute: () => Object.fromEntries(demo.simulators.map((s) => [s.sourceId, s.server.countsByRoute()])),
    resetCounts() {
      for (const s of demo.simulators) s.server.resetCounts();
    },
    stop: () => demo.stop(),
  };
  stack.setLatency(latencyMs);
  return stack;
}

/** A rungraph gateway over the demo's sources, on a free loopback port. */
export async function startRungraph(demo: Demo, batching: boolean, log: Logger = silentLogger, policy?: Partial<TrafficPolicy>): Promise<Gateway> {
  const sources = demo.sources.map((s) => SOURCE_KINDS[s.kind]!.create(policy ? { ...s, policy: { ...s.policy, ...policy } } : s, log));
  return startGateway({ sources, log, host: '127.0.0.1', port: 0, batching });
}

export interface GraphQLAnswer {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }> };
}

/** POSTs GraphQL to a gateway over one keep-alive pool. */
export class GraphQLClient {
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

  constructor(readonly url: string) {
    if (!/^http:\/\/127\.0\.0\.1:\d+\//.test(url)) throw new Error(`refusing a non-loopback URL: ${url}`);
  }

  async post(query: string, variables: Record<string, unknown>): Promise<GraphQLAnswer> {
    const response = await request(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
      dispatcher: this.agent,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: JSON.parse(text) as GraphQLAnswer['body'] };
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

/** `--name value` and `--name=value` flags, numbers only, each with a default and bounds. */
export function numberFlag(argv: readonly string[], name: string, fallback: number, min: number, max: number): number {
  let text: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === `--${name}`) text = argv[i + 1];
    else if (arg.startsWith(`--${name}=`)) text = arg.slice(name.length + 3);
  });
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`--${name} must be a number from ${min} to ${max} (got ${text}).`);
  }
  return value;
}

export function stringFlag<T extends string>(argv: readonly string[], name: string, fallback: T, allowed: readonly T[]): T {
  let text: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === `--${name}`) text = argv[i + 1];
    else if (arg.startsWith(`--${name}=`)) text = arg.slice(name.length + 3);
  });
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) throw new Error(`--${name} must be one of ${allowed.join(', ')} (got ${text}).`);
  return text as T;
}

export function writeArtifact(name: string, value: unknown): string {
  const path = resolve(ROOT, '.artifacts', name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  return path;
}

/** Nearest-rank percentile of a sample (ms). */
export function percentile(sample: readonly number[], p: number): number {
  if (sample.length === 0) return NaN;
  const sorted = [...sample].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A fixed-width text table; numbers right-aligned. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const cells = [header, ...rows].map((row) => row.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row.map((c, i) => (i > 0 && /^[-+]?[\d.,]+( ?[a-z/%×]*)?$/i.test(c) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bench target: what was measured against what, and whether it held. */
export type Target = [text: string, pass: boolean];

/** Prints the targets under `heading` and answers whether every one held. */
export function printTargets(targets: readonly Target[], heading = 'targets:'): boolean {
  console.log(`\n${heading}`);
  for (const [text, pass] of targets) console.log(`  ${pass ? 'PASS' : 'FAIL'}  ${text}`);
  return targets.every(([, pass]) => pass);
}

/** Runs a bench's main: exits with its code (0 every target held, 1 one missed), 2 on a crash. */
export function runBench(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(2);
    },
  );
}
