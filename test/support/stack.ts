/**
 * A real stack for tests: vendor simulators on ephemeral loopback ports, a gateway in front of
 * them, a GraphQL client over HTTP, and every log line the gateway wrote (to prove no secret
 * leaks). Nothing is mocked.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startGateway, type Gateway } from '../../src/server/app';
import { DEFAULT_INDEX, DEFAULT_METRICS, type IndexConfig, type MetricsConfig, type ServerSettings } from '../../src/server/config';
import { GatewayMetrics } from '../../src/server/metrics';
import { feedOf, identities } from '../../src/server/feeds';
import type { TracingOptions } from '../../src/server/telemetry';
import { createLogger } from '../../src/server/log';
import { SOURCE_KINDS, type SourceConfig } from '../../src/sources/registry';
import { SharedBudgets } from '../../src/http/traffic';
import { TestRailSimulator, TESTRAIL_DEMO_USER, type TestRailSimulatorOptions } from '../../src/simulators/testrail';
import { QACompleteSimulator, QACOMPLETE_DEMO_HOSTS, QACOMPLETE_DEMO_USER, type QACompleteSimulatorOptions } from '../../src/simulators/qacomplete';
import { EnterpriseTesterSimulator, ET_DEMO_USER, type EnterpriseTesterSimulatorOptions } from '../../src/simulators/enterprise-tester';

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  /** `errors` is loose on purpose: tests index into it after asserting what they expect. */
  body: { data?: T; errors?: any; extensions?: any };
  text: string;
}

export interface Stack {
  gateway: Gateway;
  testrail?: TestRailSimulator;
  /** Source id `qac`, when started. */
  qacomplete?: QACompleteSimulator;
  /** Source id `et`, when started. */
  enterpriseTester?: EnterpriseTesterSimulator;
  /** The source configs the gateway was started with. */
  configs: SourceConfig[];
  /** Every JSON log line the gateway wrote. */
  logs: string[];
  /** Every response body text the tests received. */
  responses: string[];
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** GET of the gateway's metricsUrl; the text joins `responses`, so the no-secrets check reads it too. */
  scrape(headers?: Record<string, string>): Promise<{ status: number; headers: Headers; text: string }>;
  stop(): Promise<void>;
}

export interface StackOptions {
  testrail?: TestRailSimulatorOptions | false;
  /** Not started unless given (`{}` for the demo seed); its source id is `qac`, with the demo hosts. */
  qacomplete?: QACompleteSimulatorOptions | false;
  /** Not started unless given (`{}` for the demo seed); its source id is `et`. */
  enterpriseTester?: EnterpriseTesterSimulatorOptions | false;
  /** Extra keys per source config (e.g. timeoutMs), by source id. */
  sourceConfig?: Record<string, Partial<SourceConfig>>;
  batching?: boolean;
  /** Gateway server settings (API keys, limits, …). */
  server?: ServerSettings;
  /**
   * The run index: on with these settings (a fresh temp directory unless `path` is given), and the
   * stack waits until every indexed source is backfilled. Off when absent: every read is live.
   */
  index?: Partial<IndexConfig> & { off?: string[]; waitForBackfill?: boolean };
  /** Tracing on with these destinations (e.g. an in-memory exporter's processor); off when absent. */
  telemetry?: TracingOptions;
  /**
   * Another gateway in front of that stack's simulators (a replica): no simulator of its own, the
   * same source configs; its `stop()` stops only this gateway.
   */
  sameSimulatorsAs?: Stack;
  /** Prometheus metrics: on by default (metrics.path on the gateway's port); false turns them off. */
  metrics?: Partial<MetricsConfig> | false;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const logs: string[] = [];
  const responses: string[] = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _enc, done) {
        logs.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }) as never,
  });
  const stops: Array<() => Promise<void>> = [];
  const configs: SourceConfig[] = [];
  const shared = options.sameSimulatorsAs;
  if (shared) configs.push(...shared.configs);
  let testrail: TestRailSimulator | undefined = shared?.testrail;
  if (!shared && options.testrail !== false) {
    testrail = new TestRailSimulator(options.testrail ?? {});
    const baseUrl = await testrail.start();
    stops.push(() => testrail!.stop());
    configs.push({
      id: 'tr',
      kind: 'testrail',
      name: 'TestRail',
      baseUrl,
      auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password },
      ...options.sourceConfig?.tr,
    });
  }
  let qacomplete: QACompleteSimulator | undefined = shared?.qacomplete;
  if (!shared && options.qacomplete !== undefined && options.qacomplete !== false) {
    const sim = new QACompleteSimulator(options.qacomplete);
    qacomplete = sim;
    const baseUrl = await sim.start();
    stops.push(() => sim.stop());
    configs.push({
      id: 'qac',
      kind: 'qacomplete',
      name: 'QAComplete',
      baseUrl,
      auth: { username: QACOMPLETE_DEMO_USER.email, password: QACOMPLETE_DEMO_USER.password },
      hosts: QACOMPLETE_DEMO_HOSTS.map(({ id, token }) => ({ id, token })),
      ...options.sourceConfig?.qac,
    });
  }
  let enterpriseTester: EnterpriseTesterSimulator | undefined = shared?.enterpriseTester;
  if (!shared && options.enterpriseTester !== undefined && options.enterpriseTester !== false) {
    const sim = new EnterpriseTesterSimulator(options.enterpriseTester);
    enterpriseTester = sim;
    const baseUrl = await sim.start();
    stops.push(() => sim.stop());
    configs.push({
      id: 'et',
      kind: 'enterprise-tester',
      name: 'Enterprise Tester',
      baseUrl,
      auth: { username: ET_DEMO_USER.username, password: ET_DEMO_USER.password },
      ...options.sourceConfig?.et,
    });
  }
  const index = options.index ? { ...DEFAULT_INDEX, path: mkdtempSync(join(tmpdir(), 'rungraph-test-index-')), ...options.index } : undefined;
  const budgets = new SharedBudgets();
  const metrics = options.metrics === false ? undefined : new GatewayMetrics({ ...DEFAULT_METRICS, ...options.metrics });
  const sources = configs.map((c) => SOURCE_KINDS[c.kind]!.create({ ...c, policy: { ...c.policy, budgets, ...(index ? { syncShare: index.budgetShare } : {}) }, observer: metrics?.vendor }, log));
  watched.push({ secrets: configs.flatMap(secretsOf), logs, responses });
  const gateway = await startGateway({
    sources,
    log,
    port: 0,
    budgets,
    batching: options.batching,
    server: options.server,
    metrics,
    index: index && { ...index, feedOf, identityOf: identities(configs) },
    telemetry: options.telemetry,
  });
  if (index && index.waitForBackfill !== false) await Promise.all([...gateway.syncs.values()].map((s) => s.ready()));
  return {
    gateway,
    testrail,
    qacomplete,
    enterpriseTester,
    configs,
    logs,
    responses,
    async gql(query, variables, headers) {
      const res = await fetch(gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const text = await res.text();
      responses.push(text);
      return { status: res.status, headers: res.headers, body: JSON.parse(text), text };
    },
    async scrape(headers) {
      if (!gateway.metricsUrl) throw new Error('this stack has metrics off');
      const res = await fetch(gateway.metricsUrl, { headers });
      const text = await res.text();
      responses.push(text);
      return { status: res.status, headers: res.headers, text };
    },
    async stop() {
      await gateway.stop();
      await Promise.all(stops.map((s) => s()));
    },
  };
}

/**
 * Every stack a test file starts is watched: after the file's last test, test/support/no-secrets.ts
 * checks that none of the stack's configured credentials, in any form, reached a response or a log
 * line. So "no secret leaks" holds for the whole suite, not just for the tests that look for it.
 */
export interface Watched {
  secrets: string[];
  logs: string[];
  responses: string[];
}
export const watched: Watched[] = [];

function secretsOf(config: SourceConfig): string[] {
  const pairs: Array<[string, string]> = [[config.auth.username, config.auth.password]];
  for (const host of (config.hosts as Array<{ id: number | string; token: string }> | undefined) ?? []) pairs.push([String(host.id), host.token]);
  return pairs.flatMap(([user, secret]) => {
    const basic = Buffer.from(`${user}:${secret}`).toString('base64');
    return [secret, basic, encodeURIComponent(secret)];
  });
}

/** Reads a contract operation, so tests send exactly what apps send. */
export function operation(name: string): string {
  return readFileSync(join(__dirname, '..', '..', '..', 'shared', 'contract', 'operations', `${name}.graphql`), 'utf8');
}
