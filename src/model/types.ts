/**
 * The vendor-neutral domain. Sources map vendor JSON into these records; the graph layer turns
 * them into GraphQL objects, and the run index (issue #9) keeps them. Every record knows its
 * source and its `key`: the vendor key parts the source needs to fetch the object again (they go
 * into the global ID, opaque to everyone but the source that made them).
 *
 * A record holds everything a reader needs to filter and order it without asking its source:
 * keys in the source's canonical form (Source.canonicalKey), so they compare as plain strings;
 * the host as the vendor links it (HostRef, matched by model/runs.ts runOnHost); and times as
 * whole epoch seconds.
 */
export type SourceKind = 'testrail' | 'qacomplete' | 'enterprise-tester';

export type RunStatus = 'QUEUED' | 'IN_PROGRESS' | 'COMPLETED';
export type RunConclusion = 'PASSED' | 'FAILED' | 'BLOCKED' | 'RETEST' | 'INCOMPLETE';
export const RUN_STATUSES: readonly RunStatus[] = ['QUEUED', 'IN_PROGRESS', 'COMPLETED'];
export const RUN_CONCLUSIONS: readonly RunConclusion[] = ['PASSED', 'FAILED', 'BLOCKED', 'RETEST', 'INCOMPLETE'];

/** Vendor key parts, as text. Only the source that produced a key interprets it. */
export type Key = readonly string[];

export interface Capabilities {
  addRun: boolean;
  restartRun: boolean;
  closeRun: boolean;
  deleteRun: boolean;
  hosts: boolean;
}

export interface SourceInfo {
  id: string;
  kind: SourceKind;
  name: string;
  capabilities: Capabilities;
}

export interface Project {
  sourceId: string;
  key: Key;
  nativeId: string;
  name: string;
  isCompleted: boolean;
  url: string | null;
}

export interface Host {
  sourceId: string;
  key: Key;
  nativeId: string;
  name: string;
}

export interface RunCounts {
  total: number;
  passed: number;
  failed: number;
  blocked: number;
  untested: number;
  retest: number;
  other: number;
}

/**
 * How a run names its host: by key where the vendor links it, by name where it only says the name
 * (QAComplete's `test_host`). A run is on a host when the key is the host's, or the name is the
 * host's name (runOnHost in model/runs.ts, the one rule a source and a store both apply).
 */
export type HostRef = { key: Key } | { name: string };

export interface Run {
  sourceId: string;
  key: Key;
  nativeId: string;
  name: string;
  projectKey: Key | null;
  host: HostRef | null;
  status: RunStatus;
  conclusion: RunConclusion | null;
  isClosed: boolean;
  vendorStatus: string;
  counts: RunCounts;
  /** Seconds since the epoch (UTC); DateTime is whole seconds. */
  createdAt: number | null;
  completedAt: number | null;
  /**
   * When the vendor last changed the run (epoch seconds), where the vendor says: TestRail
   * `updated_on` (6.5.2 and later), Enterprise Tester `LastUpdatedAt`. Null where it does not:
   * QAComplete documents no update time on test runs, and older TestRail servers send none. For
   * change detection (issue #9): nothing is ordered or filtered by it.
   */
  updatedAt: number | null;
  url: string | null;
}

// ------------------------------------------------------------------ what addRun can start from
// Each vendor's lists of the ids its AddRunRequest block takes (issue #12: valid inputs must be
// discoverable through the API). `id` is the vendor's own id as text, exactly what the block takes
// (TestRail suiteId "3"), unique within one source only. Times are seconds since the epoch (UTC).

export interface TestRailSuiteOption {
  id: string;
  name: string;
  description: string | null;
  /** The master suite of a single-suite project. */
  isMaster: boolean;
  isCompleted: boolean;
}

export interface TestRailCaseOption {
  id: string;
  title: string;
  refs: string | null;
}

export interface TestRailMilestoneOption {
  id: string;
  name: string;
  isStarted: boolean;
  isCompleted: boolean;
  dueOn: number | null;
  /** The milestone a sub-milestone belongs to. */
  parentId: string | null;
}

export interface QACompleteTestOption {
  id: string;
  title: string;
  isActive: boolean;
  executionType: string | null;
  folderName: string | null;
}

export interface QACompleteTestSetOption {
  id: string;
  title: string;
  isActive: boolean;
  isSequential: boolean;
  executionType: string | null;
  folderName: string | null;
}

export interface QACompleteReleaseOption {
  id: string;
  title: string;
  /** `Release`, `Iteration` or `Build`. */
  releaseType: string | null;
  statusCode: string | null;
  isActive: boolean;
  parentId: string | null;
}

export interface QACompleteConfigurationOption {
  id: string;
  title: string;
  isActive: boolean;
}

export interface EnterpriseTesterAssignmentOption {
  id: string;
  name: string;
  /** The vendor's text: `Not Run` before any run, else the latest run's (`In Progress` while one is unfinished). */
  status: string;
  packageName: string | null;
  assignedTo: string | null;
}

export interface EnterpriseTesterTesterOption {
  id: string;
  userName: string;
  name: string | null;
}

/** Every list, by name, with its item type. `testrail.cases` lists one suite's cases (RunOptionRequest.parentId). */
export interface RunOptionLists {
  'testrail.suites': TestRailSuiteOption;
  'testrail.cases': TestRailCaseOption;
  'testrail.milestones': TestRailMilestoneOption;
  'qacomplete.tests': QACompleteTestOption;
  'qacomplete.testSets': QACompleteTestSetOption;
  'qacomplete.releases': QACompleteReleaseOption;
  'qacomplete.configurations': QACompleteConfigurationOption;
  'enterpriseTester.scriptAssignments': EnterpriseTesterAssignmentOption;
  'enterpriseTester.testers': EnterpriseTesterTesterOption;
}
export type RunOptionList = keyof RunOptionLists;

/** One page of a list: `hasMore` says whether items follow the page. */
export interface RunOptionPage<T> {
  items: T[];
  hasMore: boolean;
}
