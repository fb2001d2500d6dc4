/**
 * The vendor-neutral domain. Sources map vendor JSON into these records; the graph layer turns
 * them into GraphQL objects. Every record knows its source and its `key`: the vendor key parts
 * the source needs to fetch the object again (they go into the global ID, opaque to everyone
 * but the source that made them).
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

/** How a run names its host: by key where the vendor links it, by name where it only says the name. */
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
  url: string | null;
}
