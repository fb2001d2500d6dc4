/**
 * The configured sources as one collection: merged, newest-first run pages across sources, and
 * paged project and host lists. This is the service the graph layer calls; it knows nothing of
 * GraphQL, cursors as text, or vendor URLs.
 *
 * A run page keeps one position per source. Each source is asked for `first` runs after its own
 * position (plus whether it has more: the look-ahead), the answers are merged in the one run order,
 * and every edge records where each source stands after it, so any edge can be resumed from.
 * A failing source keeps its position and is reported; the others still answer.
 */
import { asGatewayError, badInput, GatewayError, notFound } from './errors';
import { compareRuns, positionOf, type RunFilter, type RunPosition } from './runs';
import type { RequestScope, Source } from './source';
import type { Host, Project, Run } from './types';

/** Where each source stands in a walk; a source that is absent has not started. */
export type RunPositions = Readonly<Record<string, RunPosition>>;

export interface RunPageEdge {
  run: Run;
  positions: RunPositions;
}

export interface RunPage {
  edges: RunPageEdge[];
  hasNextPage: boolean;
  endPositions: RunPositions;
  failures: GatewayError[];
}

export interface ListPage<T> {
  items: Array<{ item: T; offset: number }>;
  hasNextPage: boolean;
  failures: GatewayError[];
}

export class Catalog {
  private readonly byId: ReadonlyMap<string, Source>;

  constructor(readonly sources: readonly Source[]) {
    this.byId = new Map(sources.map((s) => [s.info.id, s]));
  }

  /** A source named by the caller; an unknown id is the caller's mistake. */
  source(id: string): Source {
    const source = this.byId.get(id);
    if (!source) throw badInput(`No source with id "${id}" is configured (known: ${[...this.byId.keys()].join(', ')}).`);
    return source;
  }

  /** A source named inside a global ID: an ID for an unconfigured source is not one of ours. */
  sourceOfId(id: string): Source {
    const source = this.byId.get(id);
    if (!source) throw notFound(`This gateway has no source "${id}"; the ID is not one of ours.`);
    return source;
  }

  selectSources(sourceIds: readonly string[] | null | undefined): Source[] {
    if (!sourceIds) return [...this.sources];
    const wanted = new Set(sourceIds.map((id) => this.source(id).info.id));
    return this.sources.filter((s) => wanted.has(s.info.id));
  }

  /**
   * `onSlice` sees each source's runs as soon as that source answers, before the slowest one has:
   * the graph layer starts the lookups those runs need (projects, hosts) there, so they overlap
   * the other sources' reads instead of waiting for the merged page.
   */
  async pageRuns(
    scope: RequestScope,
    filters: ReadonlyMap<string, RunFilter>,
    first: number,
    after: RunPositions,
    onSlice?: (runs: readonly Run[]) => void,
  ): Promise<RunPage> {
    const participants = this.sources.filter((s) => filters.has(s.info.id));
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

  pageProjects(scope: RequestScope, sources: readonly Source[], first: number, offset: number): Promise<ListPage<Project>> {
    return pageLists(sources, first, offset, (s) => s.listProjects(scope));
  }

  pageHosts(scope: RequestScope, sources: readonly Source[], first: number, offset: number): Promise<ListPage<Host>> {
    return pageLists(
      sources.filter((s) => s.info.capabilities.hosts),
      first,
      offset,
      (s) => s.listHosts(scope),
    );
  }
}

/**
 * Projects and hosts are short lists each vendor returns whole: concatenate them in config order
 * and page by offset. A failed source contributes nothing and one failure.
 */
async function pageLists<T>(
  sources: readonly Source[],
  first: number,
  offset: number,
  list: (source: Source) => Promise<T[]>,
): Promise<ListPage<T>> {
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
