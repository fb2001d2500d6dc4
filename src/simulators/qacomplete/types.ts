/**
 * The records the QAComplete simulator keeps, in its own camelCase shape (json.ts writes the
 * vendor's snake_case), and the inputs the store accepts for them.
 */
export interface QACDept { id: number; name: string; company: string; dateCreated: Date }
export interface QACUser { id: number; email: string; password: string; firstName: string; lastName: string; projectIds?: number[] }
export interface QACProject { id: number; name: string; deptId: number; isActive: boolean; dateCreated: Date; dateUpdated: Date }
export interface QACTestStep { seq: number; step: string; expected: string }
export interface QACTest {
  id: number; projectId: number; title: string; description: string; folderName: string; version: number;
  executionType: 'Manual' | 'Automated'; steps: QACTestStep[]; dateCreated: Date;
}
export interface QACTestSet {
  id: number; projectId: number; title: string; description: string; folderName: string; testIds: number[];
  isSequential: boolean; executionType: 'Manual' | 'Automated'; dateCreated: Date;
}
export interface QACConfiguration { id: number; projectId: number; title: string; isActive: boolean; dateCreated: Date }
export interface QACRelease {
  id: number; projectId: number; title: string; releaseType: 'Release' | 'Iteration' | 'Build'; parentId: number;
  statusCode: string; isActive: boolean; dateCreated: Date;
}
export interface QACHost {
  id: number; name: string; token: string; deptId: number; configuration: string; agents: string[];
  os: string; isActive: boolean; agentVersion: string;
}
export interface QACStepResult { id: number; seq: number; statusCode: string; step: string; expectedResult: string; actualResult: string; testStepId: number }
export interface QACRunItem {
  id: number; runId: number; testId: number; sequenceNumber: number; statusCode: string; runTime: number;
  hostName: string; runByUserId: number; updatedByUserId: number; dateStarted: Date | null; dateUpdated: Date | null;
  results: QACStepResult[];
}
export interface QACRun {
  id: number; projectId: number;
  /** The single test of a test run; 0 for a test-set run (the run table itself has no test id). */
  testId: number;
  testSetId: number; testConfigId: number; releaseId: number;
  /** RunByHostId when the run was given a registered host; 0 otherwise. */
  hostId: number;
  /** What `test_host` shows: a host name, '' for none. Kept apart from hostId so tests can name unregistered hosts. */
  testHost: string;
  runByUserId: number; isSequential: boolean; statusCode: string; executionType: string; scheduleId: string;
  dateCreated: Date; dateStarted: Date | null; dateFinished: Date | null;
  items: QACRunItem[];
}

type Input<T extends { id: number }, Defaulted extends keyof T> = Omit<T, 'id' | Defaulted> & Partial<Pick<T, 'id' | Defaulted>>;

export type DeptInput = Input<QACDept, 'company' | 'dateCreated'>;
export type UserInput = Input<QACUser, 'firstName' | 'lastName'>;
export type ProjectInput = Input<QACProject, 'deptId' | 'isActive' | 'dateCreated' | 'dateUpdated'>;
export type TestInput = Input<QACTest, 'description' | 'folderName' | 'version' | 'executionType' | 'steps' | 'dateCreated'>;
export type TestSetInput = Input<QACTestSet, 'description' | 'folderName' | 'isSequential' | 'executionType' | 'dateCreated'>;
export type ConfigurationInput = Input<QACConfiguration, 'isActive' | 'dateCreated'>;
export type ReleaseInput = Input<QACRelease, 'releaseType' | 'parentId' | 'statusCode' | 'isActive' | 'dateCreated'>;
export type HostInput = Input<QACHost, 'token' | 'deptId' | 'configuration' | 'agents' | 'os' | 'isActive' | 'agentVersion'>;

/** An item as a test arranges it: a status, or a status with a run time in seconds. */
export type ItemSpec = string | { status: string; runTime?: number };

export interface RunInput {
  id?: number;
  projectId: number;
  /** One of testId / testSetId; with neither, ad-hoc tests (and a set, for several items) are created. */
  testId?: number;
  testSetId?: number;
  testConfigId?: number;
  releaseId?: number;
  /** RunByHostId: a registered host; `test_host` becomes its name. */
  hostId?: number;
  /** A host name to show as `test_host` without a registered host (wins over hostId's name). */
  testHost?: string;
  runByUserId?: number;
  isSequential?: boolean;
  executionType?: string;
  scheduleId?: string;
  /** Item statuses in sequence order; default: every item `Awaiting Run`. */
  items?: ItemSpec[];
  /** Pins a status the items cannot produce (Paused, an unknown code); default: derived from items. */
  statusCode?: string;
  dateCreated?: Date | string;
  /** Default: dateCreated (the vendor's create response already carries a start date). */
  dateStarted?: Date | string | null;
  /** Default: the last item result for a finished run, unset otherwise. */
  dateFinished?: Date | string | null;
}

export interface ItemChange {
  statusCode: string;
  runTime?: number;
  hostName?: string;
  userId: number;
  startedAt?: Date;
  /** Main API: merge by Seq. Automation API: replace the step results wholesale. */
  steps?: Array<{ seq?: number; statusCode: string; step?: string; expectedResult?: string; actualResult?: string; testStepId?: number }>;
  replaceSteps?: boolean;
}
