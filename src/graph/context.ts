/**
 * The graph's request context: everything one GraphQL request owns — its id and scope (logger and
 * the memo of upstream reads its sources share), its DataLoaders, and the per-source errors that
 * list fields collect for the response (decisions.md, "Partial results") — and the services it
 * reads and writes through. Nothing here outlives the request, so nothing is cached across
 * requests, and no failure is cached at all.
 */
import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import { asGatewayError, type GatewayError } from '../model/errors';
import type { Consistency, ReadService } from '../model/reads';
import { createScope } from '../model/scope';
import type { Batch, Logger, RequestScope } from '../model/source';
import type { SourceSet } from '../model/sources';
import type { Host, Key, Project, Run } from '../model/types';
import type { RunWrites } from '../model/writes';

export interface Ref {
  sourceId: string;
  key: Key;
}

export interface Loaders {
  project: RefLoader<Project>;
  run: RefLoader<Run>;
  host: RefLoader<Host>;
  /** Every host of one source (QAComplete runs name their host; the name is matched here). */
  hostsOfSource: DataLoader<string, Host[]>;
}

/** A list-level failure to report beside the data, at the list field's path. */
export interface PartialFailure {
  error: GatewayError;
  path: ReadonlyArray<string | number>;
}

export interface GraphContext {
  requestId: string;
  sources: SourceSet;
  reads: ReadService;
  writes: RunWrites;
  scope: RequestScope;
  /** Lookups as INDEXED reads answer them (the default everywhere). */
  loaders: Loaders;
  /** Lookups for fields asked with `consistency: LIVE`; made on first use. */
  liveLoaders(): Loaders;
  partialFailures: PartialFailure[];
  /** Off only in the benchmark's "naive" contender: every nested field then fetches on its own. */
  batching: boolean;
  /**
   * Filled once Apollo has resolved the operation (plugins.ts), for the HTTP layer, which never
   * cuts a mutation's answer. An object of its own: Apollo hands resolvers a shallow copy of the
   * context, and the HTTP layer keeps the original.
   */
  operation: { type?: 'query' | 'mutation' | 'subscription' };
}

export interface ContextOptions {
  sources: SourceSet;
  reads: ReadService;
  writes: RunWrites;
  log: Logger;
  requestId?: string;
  batching?: boolean;
}

export function createContext(options: ContextOptions): GraphContext {
  const requestId = options.requestId ?? randomUUID();
  const batching = options.batching ?? true;
  const scope = createScope({ id: requestId, log: options.log, memoize: batching });
  const { sources, reads, writes } = options;
  let live: Loaders | undefined;
  return {
    requestId,
    sources,
    reads,
    writes,
    scope,
    partialFailures: [],
    batching,
    operation: {},
    loaders: createLoaders(reads, scope, batching, 'INDEXED'),
    liveLoaders: () => (live ??= createLoaders(reads, scope, batching, 'LIVE')),
  };
}

function createLoaders(reads: ReadService, scope: RequestScope, batching: boolean, consistency: Consistency): Loaders {
  return new RequestLoaders(reads, scope, batching, consistency);
}

/** Each loader is made when a field first needs it: most requests use one or two, and some none. */
class RequestLoaders implements Loaders {
  private projectLoader?: RefLoader<Project>;
  private runLoader?: RefLoader<Run>;
  private hostLoader?: RefLoader<Host>;
  private hostsLoader?: DataLoader<string, Host[]>;

  constructor(
    private readonly reads: ReadService,
    private readonly scope: RequestScope,
    private readonly batching: boolean,
    private readonly consistency: Consistency,
  ) {}

  get project(): RefLoader<Project> {
    return (this.projectLoader ??= new RefLoader((sourceId, keys) => this.reads.getProjects(this.scope, sourceId, keys, this.consistency), this.batching));
  }

  get run(): RefLoader<Run> {
    return (this.runLoader ??= new RefLoader((sourceId, keys) => this.reads.getRuns(this.scope, sourceId, keys, this.consistency), this.batching));
  }

  get host(): RefLoader<Host> {
    return (this.hostLoader ??= new RefLoader((sourceId, keys) => this.reads.getHosts(this.scope, sourceId, keys, this.consistency), this.batching));
  }

  get hostsOfSource(): DataLoader<string, Host[]> {
    return (this.hostsLoader ??= new DataLoader<string, Host[]>(
      (ids) => Promise.all(ids.map((id) => this.reads.listHosts(this.scope, id, this.consistency).catch((e: unknown) => asGatewayError(e, id)))),
      { cache: this.batching },
    ));
  }
}

/**
 * Loads objects by (source, key), one batch call per source per tick. Per-key errors come back
 * as that key's rejection and are cleared at once, so a retry within the request asks again.
 */
export class RefLoader<T> {
  private readonly loader: DataLoader<Ref, T, string>;

  constructor(getMany: (sourceId: string, keys: readonly Key[]) => Promise<Batch<T>>, batching: boolean) {
    this.loader = new DataLoader<Ref, T, string>(
      async (refs) => {
        const bySource = new Map<string, number[]>();
        refs.forEach((ref, i) => bySource.set(ref.sourceId, [...(bySource.get(ref.sourceId) ?? []), i]));
        const results: Array<T | Error> = new Array(refs.length);
        await Promise.all(
          [...bySource].map(async ([sourceId, indexes]) => {
            try {
              const answers = await getMany(sourceId, indexes.map((i) => refs[i].key));
              indexes.forEach((refIndex, j) => {
                const answer = answers[j];
                results[refIndex] = answer instanceof Error ? asGatewayError(answer, sourceId) : answer;
              });
            } catch (error) {
              const failure = asGatewayError(error, sourceId);
              for (const i of indexes) results[i] = failure;
            }
          }),
        );
        return results;
      },
      // Source ids and key parts never hold a NUL (config ids are [A-Za-z0-9_-]; keys are vendor ids).
      { cacheKeyFn: (ref) => `${ref.sourceId}\u0000${ref.key.join('\u0000')}`, batch: batching, cache: batching },
    );
  }

  async load(ref: Ref): Promise<T> {
    try {
      return await this.loader.load(ref);
    } catch (error) {
      this.loader.clear(ref);
      throw error;
    }
  }

  prime(ref: Ref, value: T): void {
    this.loader.prime(ref, value);
  }

  /**
   * Starts a load nobody waits for yet (graph/lists.ts starts the lookups a run page needs while
   * other sources are still reading). A failure stays put until a `load` sees it and clears it, so
   * starting early never costs a second call, and no failure outlives its first reader.
   */
  prefetch(ref: Ref): void {
    this.loader.load(ref).catch(() => undefined);
  }
}
