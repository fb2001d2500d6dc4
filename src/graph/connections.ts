/**
 * Connection shapes and cursors. A run cursor records each source's position in the walk
 * (model/reads.ts); a project or host cursor records an offset into the concatenated list.
 * Both are base64url JSON with a version tag, opaque to clients; one that does not decode is
 * BAD_USER_INPUT (decisions.md, "Paging").
 */
import { badInput } from '../model/errors';
import type { RunPosition } from '../model/runs';
import type { RunPositions, SourceAnswer } from '../model/reads';
import type { Host, Key, Project, Run, RunOptionList, SourceKind, TestRailSuiteOption } from '../model/types';

export interface RunEdgeModel {
  cursor: string;
  node: Run;
}
export interface RunConnectionModel {
  edges: RunEdgeModel[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  answeredBy: SourceAnswer[];
  /** Counted only when a client selects totalCount. */
  totalCount: () => number | null;
}
export interface ProjectEdgeModel {
  cursor: string;
  node: Project;
}
export interface ProjectConnectionModel {
  edges: ProjectEdgeModel[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  answeredBy: SourceAnswer[];
}
export interface HostEdgeModel {
  cursor: string;
  node: Host;
}
export interface HostConnectionModel {
  edges: HostEdgeModel[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  answeredBy: SourceAnswer[];
}
export interface DeleteRunResultModel {
  id: string;
  deleted: boolean;
  affectedTests: number | null;
}

/** The project whose addRun options are listed: what AddRunOptions and each vendor block resolve from. */
export interface RunOptionsOwner {
  sourceId: string;
  kind: SourceKind;
  projectKey: Key;
}

/** A suite knows its project, for its `cases`. */
export type TestRailSuiteNode = TestRailSuiteOption & { owner: RunOptionsOwner };

/** Lists paged by offset; the name tags the cursor, so a cursor of one list is refused by another kind. */
export type OffsetListKind = 'projects' | 'hosts' | RunOptionList;

/** The most a page may ask for (decisions.md: `first` is 0–100). */
export const MAX_FIRST = 100;
export const DEFAULT_FIRST = 50;

export function checkFirst(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_FIRST;
  if (!Number.isInteger(first) || first < 0 || first > MAX_FIRST) {
    throw badInput(`first must be between 0 and ${MAX_FIRST} (got ${first}).`);
  }
  return first;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

function decode(cursor: string, kind: string): Record<string, unknown> {
  try {
    if (!/^[A-Za-z0-9_-]{1,8000}$/.test(cursor)) throw new Error('not base64url');
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value) && (value as { k?: unknown }).k === kind) {
      return value as Record<string, unknown>;
    }
  } catch {
    // fall through to the error below
  }
  throw badInput(`"after" is not a cursor from this ${kind} list.`);
}

export function encodeRunCursor(positions: RunPositions): string {
  const p: Record<string, [number | null, string]> = {};
  for (const [sourceId, pos] of Object.entries(positions)) p[sourceId] = [pos.createdAt, pos.nativeId];
  return encode({ k: 'runs', p });
}

export function decodeRunCursor(cursor: string | null | undefined): RunPositions {
  if (cursor === null || cursor === undefined) return {};
  const value = decode(cursor, 'runs');
  const p = value.p;
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw badInput('"after" is not a cursor from this runs list.');
  const positions: Record<string, RunPosition> = {};
  for (const [sourceId, pos] of Object.entries(p as Record<string, unknown>)) {
    if (!Array.isArray(pos) || pos.length !== 2 || !(pos[0] === null || Number.isSafeInteger(pos[0])) || typeof pos[1] !== 'string') {
      throw badInput('"after" is not a cursor from this runs list.');
    }
    positions[sourceId] = { createdAt: pos[0] as number | null, sourceId, nativeId: pos[1] };
  }
  return positions;
}

export function encodeOffsetCursor(kind: OffsetListKind, offset: number): string {
  return encode({ k: kind, o: offset });
}

export function decodeOffsetCursor(kind: OffsetListKind, cursor: string | null | undefined): number {
  if (cursor === null || cursor === undefined) return 0;
  const offset = decode(cursor, kind).o;
  if (!Number.isSafeInteger(offset) || (offset as number) < 0) throw badInput(`"after" is not a cursor from this ${kind} list.`);
  return offset as number;
}
