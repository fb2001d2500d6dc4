/**
 * The composition root: builds the parts of a gateway from its sources and settings — the source
 * set, the change stream, the read and write services, Apollo, the HTTP listener — and owns their
 * lifecycle (lifecycle.ts): everything long-running starts here and stops here, in reverse. New
 * parts (the run index and its sync jobs, metrics) are added here and nowhere else.
 */
import type { Server } from 'node:http';
import { createContext } from '../graph/context';
import { ChangeStream } from '../model/changes';
import { LiveReads } from '../model/live';
import type { ReadService } from '../model/reads';
import type { Logger, Source } from '../model/source';
import { SourceSet } from '../model/sources';
import { RunWrites } from '../model/writes';
import { createApollo } from './apollo';
import { DEFAULT_SERVER, type ServerConfig, type ServerSettings } from './config';
import { createHandler, HttpListener } from './http';
import { Lifecycle } from './lifecycle';

export interface GatewayOptions {
  sources: Source[];
  log: Logger;
  /** Server settings; host and port here win over `server`'s. */
  server?: ServerSettings;
  host?: string;
  port?: number;
  /** Off only for the benchmark's naive contender. */
  batching?: boolean;
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
  /** Stops accepting, waits for in-flight requests up to `graceMs`, then stops every part. */
  stop(graceMs?: number): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { log } = options;
  const settings: ServerConfig = { ...DEFAULT_SERVER, ...options.server, limits: { ...DEFAULT_SERVER.limits, ...options.server?.limits } };
  const sources = new SourceSet(options.sources);
  const changes = new ChangeStream(log);
  const reads = new LiveReads(sources);
  const writes = new RunWrites(sources, changes);
  const apollo = createApollo(settings, log, sources.all.length);

  let listener: HttpListener | undefined;
  const handler = createHandler({
    apollo,
    settings,
    log,
    newContext: (requestId) => createContext({ sources, reads, writes, log, requestId, batching: options.batching }),
    draining: () => listener?.draining ?? false,
  });
  listener = new HttpListener(handler, log, options.host ?? settings.host, options.port ?? settings.port);

  const lifecycle = new Lifecycle(log)
    .add({ name: 'sources', stop: () => Promise.all(sources.all.map((s) => s.close())).then(() => undefined) })
    .add({ name: 'apollo', start: () => apollo.start(), stop: () => apollo.stop() })
    .add(listener);
  await lifecycle.start();
  log.info({ origin: listener.origin, sources: sources.all.map((s) => s.info.id) }, 'rungraph listening');

  return {
    origin: listener.origin,
    graphqlUrl: `${listener.origin}/graphql`,
    server: listener.server,
    sources,
    reads,
    changes,
    stop: (graceMs = settings.shutdownGraceMs) => lifecycle.stop(graceMs),
  };
}
