/**
 * The live read service: every read fans out to the vendors now. Merged, newest-first run pages
 * across sources, paged project and host lists, and per-source lookups. It knows nothing of
 * GraphQL, cursors as text, or vendor URLs.
 *
 * A run page keeps one position per source. Each source is asked for `first` runs after its own
 * position (plus whether it has more: the look-ahead), the answers are merged in the one run order,
 * and every edge records where each source stands after it, so any edge can be resumed from.
 * A failing source keeps its position and is reported; the others still answer.
 */
import { asGatewayError, type GatewayError } from './errors';
import type { ListPage, OffsetListQuery, ReadService, RunListQuery, RunPage, SourceAnswer, SyncStatus } from './reads';
import { compareRuns, positionOf, type RunPosition, type RunQuery, type RunSlice } from './runs';
import type { Batch, RequestScope, RunOptionRequest, Source } from './source';
import type { SourceSet } from './sources';
import type { Host, Key, Project, Run, RunOptionList, RunOptionLists, RunOptionPage } from './types';

export class LiveReads implements ReadService {
  constructor(private readonly sources: SourceSet) {}

  syncStatus(): SyncStatus {
    return { state: 'OFF', syncedAt: null, indexedRuns: 0, backfillProgress: null, lastError: null, leader: null };
  }

  pageRuns(scope: RequestScope, query: RunListQuery): RunPage | Promise<RunPage> {
    const participants = this.sources.all
      .filter((s) => query.filters.has(s.info.id))
      .map((source) => ({ sourceId: source.info.id, mode: 'LIVE' as const, syncedAt: null, slice: (q: RunQuery) => source.listRuns(scope, q) }));
    return mergeRunPages(scope, query, participants);
  }

  pageProjects(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Project>> {
    return pageLists(query, this.chosen(query).map((s) => live(s, () => s.listProjects(scope))));
  }

  pageHosts(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Host>> {
    return pageLists(query, this.chosen(query).filter((s) => s.info.capabilities.hosts).map((s) => live(s, () => s.listHosts(scope))));
  }

  getRuns(scope: RequestScope, sourceId: string, keys: readonly Key[]): Promise<Batch<Run>> {
    return this.sources.ofId(sourceId).getRuns(scope, keys);
  }

  getProjects(scope: RequestScope, sourceId: string, keys: readonly Key[]): Promise<Batch<Project>> {
    return this.sources.ofId(sourceId).getProjects(scope, keys);
  }

  getHosts(scope: RequestScope, sourceId: string, keys: readonly Key[]): Promise<Batch<Host>> {
    return this.sources.ofId(sourceId).getHosts(scope, keys);
  }

  listHosts(scope: RequestScope, sourceId: string): Promise<Host[]> {
    return this.sources.ofId(sourceId).listHosts(scope);
  }

  listRunOptions<L extends RunOptionList>(scope: RequestScope, sourceId: string, request: RunOptionRequest<L>): Promise<RunOptionPage<RunOptionLists[L]>> {
    return this.sources.ofId(sourceId).listRunOptions(scope, request);
  }

  private chosen(query: OffsetListQuery): Source[] {
    return query.sourceIds.map((id) => this.sources.ofId(id));
  }
}

/** One source's part of a run page: how it answers, and its slice. */
export interface RunPageParticipant {
  sourceId: string;
  mode: 'INDEXED' | 'LIVE';
  syncedAt: number | null;
  slice(query: RunQuery): Promise<RunSlice> | RunSlice;
  /** Indexed sources can count every match; live ones cannot without reading everything. */
  count?(): number;
}

/**
 * Asks every participant for `first` runs after its own position, merges them in the one run
 * order and records where each source stands after every edge. A failing participant keeps its
 * position, adds one failure and a FAILED answer; the others still answer.
 */
export function mergeRunPages(scope: RequestScope, query: RunListQuery, participants: readonly RunPageParticipant[]): RunPage | Promise<RunPage> {
  const { filters, first, after, onSlice } = query;
  type Answer = { p: RunPageParticipant; slice?: RunSlice; error?: GatewayError };
  const fail = (p: RunPageParticipant, error: unknown): Answer => ({ p, error: asGatewayError(error, p.sourceId) });
  const took = (p: RunPageParticipant, slice: RunSlice): Answer => {
    // Lookups for indexed runs are answered from memory when they are asked: nothing to start early.
    if (p.mode === 'LIVE') onSlice?.(slice.runs);
    return { p, slice };
  };
  // Indexed participants answer at once; only when one reads a vendor does the page wait. A page
  // with no promise in it is built synchronously, so graphql-js resolves the whole list without one.
  const answers: Array<Answer | Promise<Answer>> = participants.map((p) => {
    try {
      const slice = p.slice({ filter: filters.get(p.sourceId)!, after: after[p.sourceId], limit: first });
      return slice instanceof Promise ? slice.then((s) => took(p, s), (e: unknown) => fail(p, e)) : took(p, slice);
    } catch (error) {
      return fail(p, error);
    }
  });
  if (answers.some((a) => a instanceof Promise)) return Promise.all(answers).then((done) => buildRunPage(scope, query, participants, done));
  return buildRunPage(scope, query, participants, answers as Answer[]);
}

function buildRunPage(
  scope: RequestScope,
  { first, after }: RunListQuery,
  participants: readonly RunPageParticipant[],
  answers: ReadonlyArray<{ p: RunPageParticipant; slice?: RunSlice; error?: GatewayError }>,
): RunPage {
  const failures: GatewayError[] = [];
  const answeredBy: SourceAnswer[] = [];
  const merged: Run[] = [];
  let sourceHasMore = false;
  for (const answer of answers) {
    if (answer.error) {
      failures.push(answer.error);
      answeredBy.push({ sourceId: answer.p.sourceId, mode: 'FAILED', syncedAt: null, errorCode: answer.error.code });
      scope.log.warn({ source: answer.p.sourceId, code: answer.error.code }, 'source failed during a run page');
      continue;
    }
    answeredBy.push({ sourceId: answer.p.sourceId, mode: answer.p.mode, syncedAt: answer.p.syncedAt, errorCode: null });
    merged.push(...answer.slice!.runs);
    sourceHasMore ||= answer.slice!.hasMore;
  }
  merged.sort(compareRuns);
  const taken = merged.slice(0, first);
  const positions: Record<string, RunPosition> = { ...after };
  const edges = taken.map((run) => {
    positions[run.sourceId] = positionOf(run);
    return { run, positions: { ...positions } };
  });
  const countable = failures.length === 0 && participants.every((p) => p.count);
  return {
    edges,
    hasNextPage: merged.length > first || sourceHasMore,
    endPositions: positions,
    failures,
    answeredBy,
    totalCount: () => (countable ? participants.reduce((n, p) => n + p.count!(), 0) : null),
  };
}

/** One source's part of a project or host list. */
export interface ListParticipant<T> {
  sourceId: string;
  mode: 'INDEXED' | 'LIVE';
  syncedAt: number | null;
  items(): Promise<T[]> | T[];
}

const live = <T>(source: Source, items: () => Promise<T[]>): ListParticipant<T> => ({ sourceId: source.info.id, mode: 'LIVE', syncedAt: null, items });

/**
 * Projects and hosts are short lists each vendor returns whole: concatenate them in config order
 * and page by offset. A failed source contributes nothing, one failure and a FAILED answer.
 */
export async function pageLists<T>({ first, offset }: OffsetListQuery, participants: readonly ListParticipant<T>[]): Promise<ListPage<T>> {
  const answers = await Promise.all(
    participants.map(async (p) => {
      try {
        return { p, items: await p.items() };
      } catch (error) {
        return { p, items: [] as T[], error: asGatewayError(error, p.sourceId) };
      }
    }),
  );
  const all = answers.flatMap((a) => a.items);
  return {
    items: all.slice(offset, offset + first).map((item, i) => ({ item, offset: offset + i + 1 })),
    hasNextPage: all.length > offset + first,
    failures: answers.flatMap((a) => (a.error ? [a.error] : [])),
    answeredBy: answers.map(({ p, error }) =>
      error ? { sourceId: p.sourceId, mode: 'FAILED' as const, syncedAt: null, errorCode: error.code } : { sourceId: p.sourceId, mode: p.mode, syncedAt: p.syncedAt, errorCode: null },
    ),
  };
}
