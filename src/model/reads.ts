/**
 * The read seam: everything the graph layer reads goes through a ReadService, never straight to a
 * Source. Today's implementation is the live fan-out (live.ts); the run index (issue #9) is the
 * next, answering the same queries from its store. The graph decodes GraphQL arguments once into
 * the typed queries below, so an implementation knows nothing of GraphQL, IDs or cursors as text.
 */
import type { GatewayError } from './errors';
import type { RunFilter, RunPosition } from './runs';
import type { Batch, RequestScope, RunOptionRequest } from './source';
import type { Host, Key, Project, Run, RunOptionList, RunOptionLists, RunOptionPage } from './types';

/** How a read is answered (decisions.md, Run index): from the index once a source is backfilled, or from the vendor now. */
export type Consistency = 'INDEXED' | 'LIVE';

/** How one source took part in a list's answer; it rides in the data (SourceAnswer in the schema). */
export interface SourceAnswer {
  sourceId: string;
  mode: 'INDEXED' | 'LIVE' | 'FAILED';
  /** INDEXED: when (epoch seconds) the newest completed refresh cycle this answer reflects began. */
  syncedAt: number | null;
  /** FAILED: the code of the error raised for this source at the list's path. */
  errorCode: string | null;
}

export type SyncState = 'BACKFILLING' | 'FRESH' | 'STALE' | 'FAILING' | 'OFF';

/** How current one source's part of the run index is (Source.sync). */
export interface SyncStatus {
  state: SyncState;
  /** Epoch seconds: the start of the newest completed cycle. */
  syncedAt: number | null;
  indexedRuns: number;
  /** 0–1 while backfilling. */
  backfillProgress: number | null;
  /** Code and message, never a credential. */
  lastError: string | null;
  /** The replica that leads the source's sync, with a shared index; otherwise null. */
  leader: string | null;
}

/** Where each source stands in a walk; a source that is absent has not started. */
export type RunPositions = Readonly<Record<string, RunPosition>>;

/** One page of the merged run list, as the graph asks for it. */
export interface RunListQuery {
  /** The sources that take part, each with its own filter; a source not in the map is not asked. */
  filters: ReadonlyMap<string, RunFilter>;
  /** 0–100, already checked. */
  first: number;
  after: RunPositions;
  /**
   * Sees each source's runs as soon as that source answers, before the slowest one has: the graph
   * starts the lookups those runs need there, so they overlap the other sources' reads.
   */
  onSlice?: (runs: readonly Run[]) => void;
  /** Default INDEXED. */
  consistency?: Consistency;
}

export interface RunPageEdge {
  run: Run;
  /** Where every source stands after this edge: the edge's cursor. */
  positions: RunPositions;
}

export interface RunPage {
  edges: RunPageEdge[];
  hasNextPage: boolean;
  endPositions: RunPositions;
  /** One per source that could not answer; the page holds the others' runs. */
  failures: GatewayError[];
  /** One per source asked, in source order. */
  answeredBy: SourceAnswer[];
  /** All matching runs over every page, when every source answered from the index; else null. Computed on demand. */
  totalCount(): number | null;
}

/** One page of an offset-paged list over several sources (projects, hosts). */
export interface OffsetListQuery {
  /** In config order, already resolved. */
  sourceIds: readonly string[];
  first: number;
  offset: number;
  consistency?: Consistency;
}

export interface ListPage<T> {
  /** `offset` is where the list continues after this item: the item's cursor. */
  items: Array<{ item: T; offset: number }>;
  hasNextPage: boolean;
  failures: GatewayError[];
  answeredBy: SourceAnswer[];
}

export interface ReadService {
  /** Per source; OFF for every source of a service without an index. */
  syncStatus(sourceId: string): SyncStatus;
  /** The sources a request (by its scope) read from the index, for the response's `extensions.sync`. */
  indexedSources?(scope: RequestScope): string[];
  /** Whether a request (by its scope) read anything from a vendor; absent: every read does. */
  wentLive?(scope: RequestScope): boolean;
  /**
   * A project the service holds right now, without a promise (an index answers from memory): the
   * graph resolves `Run.project` with it and skips the loader. Undefined: ask getProjects.
   */
  peekProject?(scope: RequestScope, sourceId: string, key: Key): Project | undefined;

  /** A page built from memory alone may come back without a promise. */
  pageRuns(scope: RequestScope, query: RunListQuery): RunPage | Promise<RunPage>;
  pageProjects(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Project>>;
  /** Sources without hosts take no part. */
  pageHosts(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Host>>;

  /** Lookups, per source, results in key order (a missing object is a NOT_FOUND in its slot). */
  getRuns(scope: RequestScope, sourceId: string, keys: readonly Key[], consistency?: Consistency): Promise<Batch<Run>>;
  getProjects(scope: RequestScope, sourceId: string, keys: readonly Key[], consistency?: Consistency): Promise<Batch<Project>>;
  getHosts(scope: RequestScope, sourceId: string, keys: readonly Key[], consistency?: Consistency): Promise<Batch<Host>>;
  /** Every host of one source (QAComplete runs name their host; the graph matches the name). */
  listHosts(scope: RequestScope, sourceId: string, consistency?: Consistency): Promise<Host[]>;

  /** What addRun can start a run from in one project. */
  listRunOptions<L extends RunOptionList>(scope: RequestScope, sourceId: string, request: RunOptionRequest<L>): Promise<RunOptionPage<RunOptionLists[L]>>;
}
