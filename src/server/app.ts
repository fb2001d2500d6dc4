/**
 * The composition root: builds the parts of a gateway from its sources and settings — the source
 * set, the change stream, the read and write services, Apollo, the HTTP listener — and owns their
 * lifecycle (lifecycle.ts): everything long-running starts here and stops here, in reverse. New
 * parts (the run index and its sync jobs, metrics) are added here and nowhere else.
 */
import type { Server } from 'node:http';
import type { Tracer } from '@opentelemetry/api';
import type { SharedBudgets } from '../http/traffic';
import { createContext } from '../graph/context';
import { ChangeStream } from '../model/changes';
import { LiveReads } from '../model/live';
import type { ReadService } from '../model/reads';
import type { Logger, Source } from '../model/source';
import { SourceSet } from '../model/sources';
import { RunWrites } from '../model/writes';
import type { RunFeed } from '../model/feed';
import { EmbeddedStore, type SourceIdentity } from '../store/store';
import { IndexedReads } from '../sync/reads';
import { sharedIndex } from '../sync/leader';
import { SourceSync } from '../sync/sync';
import { AnswerCache } from './answers';
import { createApollo } from './apollo';
import { DEFAULT_SERVER, type IndexConfig, type ServerConfig, type ServerSettings } from './config';
import { createHandler, HttpListener } from './http';
import { Lifecycle } from './lifecycle';
import type { GatewayMetrics } from './metrics';
import { createTracing, type TracingOptions } from './telemetry';

export interface GatewayOptions {
  sources: Source[];
  log: Logger;
  /** Server settings; host and port here win over `server`'s. */
  server?: ServerSettings;
  host?: string;
  port?: number;
  /** Off only for the benchmark's naive contender. */
  batching?: boolean;
  /**
   * The sources' rate budgets (each source's policy `budgets`): with index.postgres every replica
   * takes from one budget per source kept in PostgreSQL; otherwise each keeps its local bucket.
   */
  budgets?: SharedBudgets;
  /** The run index; absent or `enabled: false`: every read is live. */
  index?: IndexConfig & {
    /** Sources configured with `index: false`. */
    off?: readonly string[];
    /** Each source's change detection; a source without one is not indexed. */
    feedOf(source: Source): RunFeed | undefined;
    /** What the store recognises a source's data by (its kind and base URL, never a credential). */
    identityOf(source: Source): SourceIdentity;
  };
  /**
   * Prometheus metrics (metrics.ts); absent: none, and no /metrics. Vendor calls are counted only
   * for sources created with `observer: metrics.vendor` in their config.
   */
  metrics?: GatewayMetrics;
  /** OpenTelemetry traces (telemetry.ts); absent, or without a destination: off. */
  telemetry?: TracingOptions;
}

export interface Gateway {
  /** e.g. http://127.0.0.1:4000 */
  origin: string;
  graphqlUrl: string;
  server: Server;
  sources: SourceSet;
  reads: ReadService;
  /** Every write the gateway makes, as the vendor answered it. */
  changes: ChangeStream;
  /** The run index's sync per indexed source (empty with the index off). */
  syncs: ReadonlyMap<string, SourceSync>;
  /** Where Prometheus scrapes (metrics.path on the gateway's port or on metrics.port); absent with metrics off. */
  metricsUrl?: string;
  /** Stops accepting, waits for in-flight requests up to `graceMs`, then stops every part. */
  stop(graceMs?: number): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { log } = options;
  const settings: ServerConfig = { ...DEFAULT_SERVER, ...options.server, limits: { ...DEFAULT_SERVER.limits, ...options.server?.limits } };
  const sources = new SourceSet(options.sources);
  const changes = new ChangeStream(log);
  const tracing = await createTracing(options.telemetry, log);
  const lifecycle = new Lifecycle(log);
  // Added first, stopped last: the final requests' and sync cycles' spans are flushed.
  if (tracing) lifecycle.add(tracing);
  lifecycle.add({ name: 'sources', stop: () => Promise.all(sources.all.map((s) => s.close())).then(() => undefined) });
  const { reads, syncs, generation, settle } = indexParts(options, sources, changes, lifecycle, tracing?.tracer);
  const writes = new RunWrites(sources, changes, settle);
  const { metrics } = options;
  metrics?.watchSyncs(syncs.values());
  const unobserved = metrics ? sources.all.map((s) => s.info.id).filter((id) => !metrics.observedSources.includes(id)) : [];
  if (unobserved.length > 0) log.warn({ sources: unobserved }, 'metrics: these sources were created without observer: metrics.vendor, so their vendor calls are not counted');
  const apollo = createApollo(settings, log, sources.all.length, [...(tracing ? [tracing.plugin] : []), ...(metrics ? [metrics.plugin] : [])]);

  let listener: HttpListener | undefined;
  const handler = createHandler({
    apollo,
    settings,
    log,
    newContext: (requestId) => createContext({ sources, reads, writes, log, requestId, batching: options.batching }),
    draining: () => listener?.draining ?? false,
    // A source that has never been backfilled would send every read live: not ready until it has.
    notReady: () => [...syncs.values()].filter((s) => !s.usable).map((s) => `source ${s.source.info.id}: run index backfilling (${s.status().state})`),
    ...(generation ? { answers: new AnswerCache(generation), generation } : {}),
    metrics,
    tracing,
  });
  const host = options.host ?? settings.host;
  listener = new HttpListener(handler, log, host, options.port ?? settings.port, settings.readinessDelayMs);
  // metrics.port: a listener of its own, started before the gateway's and stopped after it, so the last scrapes see the drain.
  const metricsPort = metrics?.settings.port;
  const metricsListener = metricsPort !== undefined ? new HttpListener(metrics!.listener(), log, host, metricsPort) : undefined;
  if (metricsListener) lifecycle.add({ name: 'metrics', start: () => metricsListener.start(), stop: (graceMs) => metricsListener.stop(graceMs) });

  lifecycle.add({ name: 'apollo', start: () => apollo.start(), stop: () => apollo.stop() }).add(listener);
  await lifecycle.start();
  log.info({ origin: listener.origin, sources: sources.all.map((s) => s.info.id) }, 'rungraph listening');

  return {
    origin: listener.origin,
    graphqlUrl: `${listener.origin}/graphql`,
    server: listener.server,
    sources,
    reads,
    changes,
    syncs,
    ...(metrics ? { metricsUrl: `${(metricsListener ?? listener).origin}${metrics.settings.path}` } : {}),
    stop: (graceMs = settings.shutdownGraceMs) => lifecycle.stop(graceMs),
  };
}

/**
 * The run index, when configured: its store (opened before anything serves), one sync per indexed
 * source (started once the store is open, stopped before it closes), the indexed read service, and
 * the write-through that applies every accepted write to the index before the mutation answers.
 */
const SETTLE_MS = 3_000;

function indexParts(
  options: GatewayOptions,
  sources: SourceSet,
  changes: ChangeStream,
  lifecycle: Lifecycle,
  tracer: Tracer | undefined,
): { reads: ReadService; syncs: ReadonlyMap<string, SourceSync>; generation?: () => number; settle?: () => Promise<unknown> } {
  const index = options.index;
  if (!index?.enabled) return { reads: new LiveReads(sources), syncs: new Map() };
  const { log } = options;
  // index.postgres: the store shared by every replica, and one sync leader per source among them (issue #15).
  const shared = index.postgres ? sharedIndex({ url: index.postgres, log }) : undefined;
  const store = shared?.store ?? new EmbeddedStore(index.path, log);
  const budgets = options.budgets;
  if (shared && budgets && budgets.rules.length > 0) {
    budgets.plug(shared.budgets);
    lifecycle.add({
      name: 'shared rate budget',
      start: async () => shared.budgets.start(),
      stop: async () => {
        budgets.unplug();
        await shared.budgets.stop();
      },
    });
  }
  const syncs = new Map<string, SourceSync>();
  for (const source of sources.all) {
    const feed = index.off?.includes(source.info.id) ? undefined : index.feedOf(source);
    if (feed) syncs.set(source.info.id, new SourceSync(source, feed, store, index, log, shared?.gate, tracer));
  }
  changes.subscribe((change) => {
    const sync = syncs.get(change.sourceId);
    if (!sync) return;
    if (change.type === 'deleted') sync.applyWrite([], [change.key]);
    else sync.applyWrite([change.run], []);
  });
  lifecycle
    .add({
      name: 'store',
      start: () => store.open([...syncs.values()].map((s) => ({ id: s.source.info.id, identity: index.identityOf(s.source) }))),
      stop: () => store.close(),
    })
    .add({ name: 'sync leader', start: async () => shared?.gate.start([...syncs.keys()]), stop: async () => shared?.gate.stop() })
    .add({
      name: 'sync',
      start: async () => syncs.forEach((s) => s.start()),
      stop: (graceMs) => Promise.all([...syncs.values()].map((s) => s.stop(Math.min(graceMs, 2_000)))).then(() => undefined),
    });
  // A shared index answers a mutation once its write is committed and handed to every replica
  // (read-your-writes on any replica, issue #15). PostgreSQL slow or away: after 3 s the
  // mutation answers anyway, and with PostgreSQL known to be down it does not wait at all; the
  // write stays queued and this replica's view already has it.
  const settle = shared
    ? async () => {
        if (!shared.store.health().connected || (await shared.store.flush(SETTLE_MS))) return;
        log.warn({ waitedMs: SETTLE_MS }, `run index: a write was not in PostgreSQL within ${SETTLE_MS / 1000} s; the mutation answers anyway, and other replicas show the write once PostgreSQL has it`);
      }
    : undefined;
  return { reads: new IndexedReads(sources, store, syncs), syncs, generation: () => store.generation, settle };
}
