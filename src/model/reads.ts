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
}

/** One page of an offset-paged list over several sources (projects, hosts). */
export interface OffsetListQuery {
  /** In config order, already resolved. */
  sourceIds: readonly string[];
  first: number;
  offset: number;
}

export interface ListPage<T> {
  /** `offset` is where the list continues after this item: the item's cursor. */
  items: Array<{ item: T; offset: number }>;
  hasNextPage: boolean;
  failures: GatewayError[];
}

export interface ReadService {
  pageRuns(scope: RequestScope, query: RunListQuery): Promise<RunPage>;
  pageProjects(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Project>>;
  /** Sources without hosts take no part. */
  pageHosts(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Host>>;

  /** Lookups, per source, results in key order (a missing object is a NOT_FOUND in its slot). */
  getRuns(scope: RequestScope, sourceId: string, keys: readonly Key[]): Promise<Batch<Run>>;
  getProjects(scope: RequestScope, sourceId: string, keys: readonly Key[]): Promise<Batch<Project>>;
  getHosts(scope: RequestScope, sourceId: string, keys: readonly Key[]): Promise<Batch<Host>>;
  /** Every host of one source (QAComplete runs name their host; the graph matches the name). */
  listHosts(scope: RequestScope, sourceId: string): Promise<Host[]>;

  /** What addRun can start a run from in one project. */
  listRunOptions<L extends RunOptionList>(scope: RequestScope, sourceId: string, request: RunOptionRequest<L>): Promise<RunOptionPage<RunOptionLists[L]>>;
}
