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
  return {
    project: new RefLoader((sourceId, keys) => reads.getProjects(scope, sourceId, keys, consistency), batching),
    run: new RefLoader((sourceId, keys) => reads.getRuns(scope, sourceId, keys, consistency), batching),
    host: new RefLoader((sourceId, keys) => reads.getHosts(scope, sourceId, keys, consistency), batching),
    hostsOfSource: new DataLoader<string, Host[]>(
      (ids) => Promise.all(ids.map((id) => reads.listHosts(scope, id, consistency).catch((e: unknown) => asGatewayError(e, id)))),
      { cache: batching },
    ),
  };
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
      { cacheKeyFn: (ref) => JSON.stringify([ref.sourceId, ...ref.key]), batch: batching, cache: batching },
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
