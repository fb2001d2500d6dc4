/**
 * The interface every vendor implements. A Source is created once from config and shared by all
 * requests; what belongs to one GraphQL request or background job (its id, its memo of upstream
 * reads, its logger) travels in the RequestScope passed to every call.
 *
 * What a store needs to filter and order runs without the source is in the records (model/types.ts)
 * and in canonicalKey below; how the run index reads a source's changes is its vendor's feed (model/feed.ts, wired in server/feeds.ts).
 */
import type { GatewayError } from './errors';
import type { RunQuery, RunSlice } from './runs';
import type { Host, Key, Project, Run, RunOptionList, RunOptionLists, RunOptionPage, SourceInfo } from './types';

export interface Logger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface RequestScope {
  readonly requestId: string;
  readonly log: Logger;
  /**
   * Runs `load` once per key within this request and shares the promise (request deduplication,
   * like RESTDataSource's). A rejected load is forgotten at once: failures are never cached.
   */
  memo<T>(key: string, load: () => Promise<T>): Promise<T>;
  /** What `memo` already holds for a key, without loading it. */
  peek<T>(key: string): Promise<T> | undefined;
}

/** addRun in vendor terms. The graph layer has already checked the blocks belong to this vendor. */
export interface AddRunRequest {
  projectKey: Key;
  name?: string;
  description?: string;
  hostKey?: Key;
  testrail?: {
    suiteId?: string;
    milestoneId?: string;
    assignedToId?: string;
    includeAll?: boolean;
    caseIds?: string[];
    refs?: string;
  };
  qacomplete?: {
    testId?: string;
    testSetId?: string;
    testConfigId?: string;
    releaseId?: string;
    isSequential?: boolean;
    forceNewRunCreation?: boolean;
  };
  enterpriseTester?: { scriptAssignmentId: string; testerId?: string };
}

export interface DeleteOutcome {
  deleted: boolean;
  affectedTests: number | null;
}

/** One page of a list of what addRun can start a run from in one project (model/types.ts, RunOptionLists). */
export interface RunOptionRequest<L extends RunOptionList = RunOptionList> {
  projectKey: Key;
  list: L;
  /** The item the list belongs to inside the project: the suite whose cases `testrail.cases` lists. */
  parentId?: string;
  offset: number;
  /** 0–100 (graph/connections.ts checks `first`). */
  limit: number;
}

/** A per-key batch answer: the object, or the error for that key alone (DataLoader style). */
export type Batch<T> = Array<T | GatewayError>;

export interface Source {
  readonly info: SourceInfo;

  /**
   * A key of this source in the form its records carry (model/types.ts), so a key from outside —
   * a decoded global ID, a filter's project or host — compares with the records' keys as plain
   * strings, in a store as in the source: Enterprise Tester writes its GUIDs lower-case, TestRail
   * and QAComplete their numbers without leading zeros. It checks nothing: a key that is not one
   * of the source's comes back unchanged, and looking it up fails as it would have.
   */
  canonicalKey(key: Key): Key;

  listProjects(scope: RequestScope): Promise<Project[]>;
  /** Results in key order; a missing project is a NOT_FOUND error in its slot. */
  getProjects(scope: RequestScope, keys: readonly Key[]): Promise<Batch<Project>>;

  /** Matching runs after `query.after`, in the order of model/runs.ts, at most `query.limit`. */
  listRuns(scope: RequestScope, query: RunQuery): Promise<RunSlice>;
  getRuns(scope: RequestScope, keys: readonly Key[]): Promise<Batch<Run>>;

  /** Sources without hosts answer [] and errors, and say so in `capabilities.hosts`. */
  listHosts(scope: RequestScope): Promise<Host[]>;
  getHosts(scope: RequestScope, keys: readonly Key[]): Promise<Batch<Host>>;

  /**
   * A page of ids this source's addRun takes, for one project. Only the lists of the source's own
   * vendor exist; the graph layer asks for no other. Read-only, and memoized per request.
   */
  listRunOptions<L extends RunOptionList>(scope: RequestScope, request: RunOptionRequest<L>): Promise<RunOptionPage<RunOptionLists[L]>>;

  addRun(scope: RequestScope, request: AddRunRequest): Promise<Run>;
  restartRun(scope: RequestScope, key: Key): Promise<Run>;
  closeRun(scope: RequestScope, key: Key): Promise<Run>;
  deleteRun(scope: RequestScope, key: Key, dryRun: boolean): Promise<DeleteOutcome>;

  /** Releases sockets; called on shutdown. */
  close(): Promise<void>;
}
