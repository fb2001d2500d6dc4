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
import type { ListPage, OffsetListQuery, ReadService, RunListQuery, RunPage } from './reads';
import { compareRuns, positionOf, type RunPosition } from './runs';
import type { Batch, RequestScope, RunOptionRequest, Source } from './source';
import type { SourceSet } from './sources';
import type { Host, Key, Project, Run, RunOptionList, RunOptionLists, RunOptionPage } from './types';

export class LiveReads implements ReadService {
  constructor(private readonly sources: SourceSet) {}

  async pageRuns(scope: RequestScope, query: RunListQuery): Promise<RunPage> {
    const { filters, first, after, onSlice } = query;
    const participants = this.sources.all.filter((s) => filters.has(s.info.id));
    const answers = await Promise.all(
      participants.map(async (source) => {
        try {
          const slice = await source.listRuns(scope, { filter: filters.get(source.info.id)!, after: after[source.info.id], limit: first });
          onSlice?.(slice.runs);
          return { source, slice };
        } catch (error) {
          return { source, error: asGatewayError(error, source.info.id) };
        }
      }),
    );
    const failures: GatewayError[] = [];
    const merged: Run[] = [];
    let sourceHasMore = false;
    for (const answer of answers) {
      if ('error' in answer && answer.error) {
        failures.push(answer.error);
        scope.log.warn({ source: answer.source.info.id, code: answer.error.code }, 'source failed during a run page');
        continue;
      }
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
    return { edges, hasNextPage: merged.length > first || sourceHasMore, endPositions: positions, failures };
  }

  pageProjects(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Project>> {
    return pageLists(this.chosen(query), query, (s) => s.listProjects(scope));
  }

  pageHosts(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Host>> {
    return pageLists(this.chosen(query).filter((s) => s.info.capabilities.hosts), query, (s) => s.listHosts(scope));
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

/**
 * Projects and hosts are short lists each vendor returns whole: concatenate them in config order
 * and page by offset. A failed source contributes nothing and one failure.
 */
async function pageLists<T>(sources: readonly Source[], { first, offset }: OffsetListQuery, list: (source: Source) => Promise<T[]>): Promise<ListPage<T>> {
  const answers = await Promise.all(
    sources.map(async (source) => {
      try {
        return { items: await list(source) };
      } catch (error) {
        return { items: [] as T[], error: asGatewayError(error, source.info.id) };
      }
    }),
  );
  const all = answers.flatMap((a) => a.items);
  return {
    items: all.slice(offset, offset + first).map((item, i) => ({ item, offset: offset + i + 1 })),
    hasNextPage: all.length > offset + first,
    failures: answers.flatMap((a) => (a.error ? [a.error] : [])),
  };
}
