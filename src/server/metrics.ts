/**
 * Prometheus metrics (README, Operations): one Registry per gateway — tests run several gateways in
 * one process, and each must count only its own traffic — with prom-client's process metrics on it.
 * What happens once per event (a GraphQL request, a vendor call, a retry, a sync cycle) is counted
 * as it happens; what is a state (breaker, rate budget, the index's freshness) is read when
 * Prometheus scrapes, so nothing is pushed on a timer and a scrape always sees the state of now.
 *
 * Every label value comes from a bounded set whatever the traffic: sources and states from the
 * config and the code, vendor routes from the clients' route templates (`get_run/{run_id}`, never a
 * path with an id), operation names from the first `metrics.operationNames` distinct names, the
 * rest `other`. No label holds a credential, a URL or an id.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { GraphContext } from '../graph/context';
import type { TrafficControl } from '../http/traffic';
import type { UpstreamCall, UpstreamObserver } from '../http/upstream';
import type { SourceSync, SyncCycle } from '../sync/sync';
import { apiKeyCheck } from './auth';
import type { MetricsConfig } from './config';

/** The label value every operation name shares once the cap is reached, and every unnamed or unparsable operation. */
export const OTHER = 'other';

export type GraphqlResult = 'ok' | 'partial' | 'error';

/** What one request is counted as; the handler fills it in as it learns. */
export interface GraphqlObservation {
  operation: string;
  result: GraphqlResult;
  /** Set once the request turns out to be a GraphQL request; others are not counted. */
  graphql: boolean;
  started: number;
}

/** Seconds; a request's budget is 30 s by default, a vendor call's 10 s. */
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds; a refresh takes a second or two, a backfill of a large instance up to hours. */
const CYCLE_BUCKETS = [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600];
const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
const INDEX_STATES = ['BACKFILLING', 'FRESH', 'STALE', 'FAILING'] as const;
/** Route templates are the clients' own (a few dozen); the cap only guards against a client that puts an id in one. */
const MAX_ROUTES = 200;

/**
 * Label values from input nobody bounds (operation names): the first `max` distinct values that
 * look like `valid` keep their own; every other value is `other`. Kept names are never forgotten,
 * so a series never changes its meaning.
 */
export class BoundedLabel {
  private readonly kept = new Set<string>();

  constructor(
    private readonly max: number,
    private readonly valid: RegExp,
  ) {}

  of(value: string | undefined): string {
    if (!value) return OTHER;
    if (this.kept.has(value)) return value;
    if (this.kept.size >= this.max || !this.valid.test(value)) return OTHER;
    this.kept.add(value);
    return value;
  }
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly operations: BoundedLabel;
  private readonly routes = new BoundedLabel(MAX_ROUTES, /^[^\n]{1,200}$/);
  private readonly traffic: TrafficControl[] = [];
  private readonly syncs: SourceSync[] = [];
  /** What Apollo made of each request, keyed by the request's `operation` record (the object the HTTP layer keeps). */
  private readonly outcomes = new WeakMap<object, Pick<GraphqlObservation, 'operation' | 'result'>>();
  private readonly authorized: ReturnType<typeof apiKeyCheck>;
  /** The series of each operation and result, looked up once: a request then costs two increments. */
  private readonly requestSeries = new Map<string, { count: Counter.Internal; seconds: Histogram.Internal<'operation'> }>();

  private readonly requests: Counter<'operation' | 'result'>;
  private readonly requestSeconds: Histogram<'operation'>;
  private readonly vendorCalls: Counter<'source' | 'route' | 'method' | 'status_class' | 'error'>;
  private readonly vendorSeconds: Histogram<'source' | 'route' | 'method'>;
  private readonly retries: Counter<'source' | 'reason'>;
  private readonly rateLimited: Counter<'source'>;
  private readonly retryAfterSeconds: Counter<'source'>;
  private readonly cycleSeconds: Histogram<'source' | 'kind' | 'result'>;
  private readonly cycleCalls: Counter<'source'>;
  private readonly cycleFailures: Counter<'source'>;

  constructor(readonly settings: MetricsConfig) {
    const registers = [this.registry];
    // GraphQL names are [_A-Za-z][_0-9A-Za-z]*; a very long one is no dashboard's name.
    this.operations = new BoundedLabel(settings.operationNames, /^[_A-Za-z][_0-9A-Za-z]{0,99}$/);
    this.authorized = apiKeyCheck(settings.apiKey ? [settings.apiKey] : []);
    collectDefaultMetrics({ register: this.registry });

    this.requests = new Counter({
      name: 'rungraph_graphql_requests_total',
      help: `GraphQL requests by operation name (the first ${settings.operationNames} names seen; the rest, and unnamed operations, are "other") and result: ok, partial (data and errors), error (errors only, or refused before execution).`,
      labelNames: ['operation', 'result'],
      registers,
    });
    this.requestSeconds = new Histogram({
      name: 'rungraph_graphql_request_duration_seconds',
      help: 'Time from receiving a GraphQL request to the end of its answer, by operation name.',
      labelNames: ['operation'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.vendorCalls = new Counter({
      name: 'rungraph_vendor_calls_total',
      help: 'Vendor API calls (after their retries) by source, route template, method, HTTP status class of the last attempt (2xx … 5xx; no_answer: connection failure or timeout; not_sent: breaker open or no time left) and contract error code (none on success).',
      labelNames: ['source', 'route', 'method', 'status_class', 'error'],
      registers,
    });
    this.vendorSeconds = new Histogram({
      name: 'rungraph_vendor_call_duration_seconds',
      help: 'Vendor API call time, retries and their waits included, by source, route template and method.',
      labelNames: ['source', 'route', 'method'],
      buckets: REQUEST_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'rungraph_vendor_retries_total',
      help: 'Retried vendor reads by source and reason (the HTTP status retried, or connection).',
      labelNames: ['source', 'reason'],
      registers,
    });
    this.rateLimited = new Counter({ name: 'rungraph_vendor_rate_limited_total', help: '429 answers from the vendor, retried or not, by source.', labelNames: ['source'], registers });
    this.retryAfterSeconds = new Counter({
      name: 'rungraph_vendor_retry_after_seconds_total',
      help: 'Seconds waited before retries because the vendor asked for it with Retry-After, by source.',
      labelNames: ['source'],
      registers,
    });

    const traffic = this.traffic;
    new Gauge({
      name: 'rungraph_vendor_breaker_state',
      help: 'The circuit breaker per source: 1 for the state it is in (closed, open, half-open), 0 for the others.',
      labelNames: ['source', 'state'],
      registers,
      collect() {
        this.reset();
        for (const t of traffic) for (const state of BREAKER_STATES) this.labels(t.sourceId, state).set(t.breaker.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'rungraph_vendor_rate_tokens',
      help: 'Requests the rate budget allows at once now (tokens left in the bucket), per source with a budget.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const t of traffic) {
          const budget = t.rateBudget;
          if (budget && budget.tokens !== null) this.labels(t.sourceId).set(budget.tokens);
        }
      },
    });
    new Gauge({
      name: 'rungraph_vendor_rate_waiting',
      help: 'Calls waiting for the rate budget now, per source with a budget.',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const t of traffic) {
          const budget = t.rateBudget;
          if (budget) this.labels(t.sourceId).set(budget.waiting);
        }
      },
    });

    const syncs = this.syncs;
    const eachSync = (gauge: Gauge<string>, value: (s: SourceSync, id: string) => void) => {
      gauge.reset();
      for (const s of syncs) value(s, s.source.info.id);
    };
    new Gauge({
      name: 'rungraph_index_state',
      help: "The run index's state per source: 1 for the state it is in (BACKFILLING, FRESH, STALE, FAILING), 0 for the others.",
      labelNames: ['source', 'state'],
      registers,
      collect() {
        eachSync(this, (s, id) => {
          const now = s.state();
          for (const state of INDEX_STATES) this.labels(id, state).set(now === state ? 1 : 0);
        });
      },
    });
    new Gauge({
      name: 'rungraph_index_lag_seconds',
      help: "Seconds since the newest completed sync cycle began, per source (absent until the first one completes): how old the index's answers may be.",
      labelNames: ['source'],
      registers,
      collect() {
        const now = Date.now() / 1000;
        eachSync(this, (s, id) => {
          const at = s.syncedAt;
          if (at !== null) this.labels(id).set(Math.max(0, now - at));
        });
      },
    });
    new Gauge({
      name: 'rungraph_index_runs',
      help: 'Runs in the index per source.',
      labelNames: ['source'],
      registers,
      collect() {
        eachSync(this, (s, id) => this.labels(id).set(s.status().indexedRuns));
      },
    });
    new Gauge({
      name: 'rungraph_index_backfill_progress',
      help: 'The backfill per source, 0 to 1: its progress while it runs, 1 once the source has a backfilled copy.',
      labelNames: ['source'],
      registers,
      collect() {
        eachSync(this, (s, id) => this.labels(id).set(s.status().backfillProgress ?? (s.usable ? 1 : 0)));
      },
    });
    this.cycleSeconds = new Histogram({
      name: 'rungraph_index_cycle_duration_seconds',
      help: 'Sync cycles this replica ran, by source, kind (backfill, refresh, sweep) and result (ok, failed).',
      labelNames: ['source', 'kind', 'result'],
      buckets: CYCLE_BUCKETS,
      registers,
    });
    this.cycleCalls = new Counter({ name: 'rungraph_index_cycle_calls_total', help: 'Vendor calls made by sync cycles, by source.', labelNames: ['source'], registers });
    this.cycleFailures = new Counter({ name: 'rungraph_index_cycle_failures_total', help: 'Sync cycles that failed, by source.', labelNames: ['source'], registers });
  }

  /** Handed to every source's connection (SourceConfig.observer). */
  readonly vendor: UpstreamObserver = {
    connected: (traffic) => void this.traffic.push(traffic),
    called: (call: UpstreamCall) => {
      const route = this.routes.of(call.route);
      const statusClass = call.status !== undefined ? `${Math.floor(call.status / 100)}xx` : call.notSent ? 'not_sent' : 'no_answer';
      this.vendorCalls.labels(call.source, route, call.method, statusClass, call.error ?? 'none').inc();
      this.vendorSeconds.labels(call.source, route, call.method).observe(call.seconds);
    },
    retrying: (source, reason, retryAfterSeconds) => {
      this.retries.labels(source, reason).inc();
      if (retryAfterSeconds > 0) this.retryAfterSeconds.labels(source).inc(retryAfterSeconds);
    },
    rateLimited: (source) => this.rateLimited.labels(source).inc(),
  };

  /** The sources whose connection reports here (SourceConfig.observer). */
  get observedSources(): string[] {
    return this.traffic.map((t) => t.sourceId);
  }

  /** The run index's syncs, read at each scrape; their cycles are counted as they end. */
  watchSyncs(syncs: Iterable<SourceSync>): void {
    for (const sync of syncs) {
      this.syncs.push(sync);
      const id = sync.source.info.id;
      // Zero from the start, so rate() sees the first failure.
      this.cycleFailures.labels(id).inc(0);
      this.cycleCalls.labels(id).inc(0);
      sync.watchCycles((cycle: SyncCycle) => {
        this.cycleSeconds.labels(id, cycle.kind, cycle.failed ? 'failed' : 'ok').observe(cycle.seconds);
        this.cycleCalls.labels(id).inc(cycle.calls);
        if (cycle.failed) this.cycleFailures.labels(id).inc();
      });
    }
  }

  /**
   * Records each request's operation name and result, for the HTTP layer to count when the answer
   * is sent. Listed after the plugin that adds the partial-failure errors, so it sees them.
   */
  readonly plugin: ApolloServerPlugin<GraphContext> = (() => {
    const listener: GraphQLRequestListener<GraphContext> = {
      willSendResponse: async ({ response, contextValue, operation }) => {
        let result: GraphqlResult = 'ok';
        if (response.body.kind === 'single') {
          const { data, errors } = response.body.singleResult;
          if (errors && errors.length > 0) result = data ? 'partial' : 'error';
        }
        this.outcomes.set(contextValue.operation, { operation: this.operations.of(operation?.name?.value), result });
      },
    };
    return { requestDidStart: async () => listener };
  })();

  /** Starts timing a request; until the handler says otherwise it is an error of no operation. */
  startRequest(): GraphqlObservation {
    return { operation: OTHER, result: 'error', graphql: false, started: performance.now() };
  }

  /** Counts a request the handler has finished (its answer written), if it was a GraphQL request. */
  finishRequest(observation: GraphqlObservation): void {
    if (!observation.graphql) return;
    const key = `${observation.operation}\n${observation.result}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      series = { count: this.requests.labels(observation.operation, observation.result), seconds: this.requestSeconds.labels(observation.operation) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.seconds.observe((performance.now() - observation.started) / 1000);
  }

  /** What the plugin recorded for the request whose context holds `operation`; undefined if Apollo never answered it. */
  outcome(operation: object): Pick<GraphqlObservation, 'operation' | 'result'> | undefined {
    return this.outcomes.get(operation);
  }

  /** Answers a scrape of `settings.path`. */
  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.authorized && !this.authorized(req.headers)) {
      res.setHeader('www-authenticate', 'Bearer realm="rungraph metrics"');
      return send(res, 401, 'text/plain; charset=utf-8', 'The metrics need metrics.apiKey: send Authorization: Bearer <key>.\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'Metrics are read with GET.\n');
    }
    const text = await this.registry.metrics();
    send(res, 200, this.registry.contentType, req.method === 'HEAD' ? '' : text, Buffer.byteLength(text));
  }

  /** The handler of metrics.port's own listener: the scrape path and nothing else. */
  listener(): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
    return async (req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === this.settings.path) return this.serve(req, res);
      send(res, 404, 'text/plain; charset=utf-8', `Nothing at ${path}; metrics are at ${this.settings.path}.\n`);
    };
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string, length = Buffer.byteLength(body)): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': length });
  res.end(body);
}
