/**
 * Lists for the graph, in three steps: decode the GraphQL arguments once into a typed query
 * (`runListQuery`, `offsetListQuery`: global IDs, DateTimes and cursors checked and turned into
 * model terms), ask the read service for the page, shape the connection. Runs are shared by
 * Query.runs, Project.runs and Host.runs, which differ only in what they pin the filter to;
 * projects and hosts are offset-paged across sources. Both report failed sources beside the data.
 */
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { badInput, type GatewayError } from '../model/errors';
import { sameKey, type RunFilter } from '../model/runs';
import type { Key, Run } from '../model/types';
import type { Consistency, ListPage, OffsetListQuery, RunListQuery, RunPage, RunPositions } from '../model/reads';
import type { GraphContext, RefLoader } from './context';
import type { RunFilter as RunFilterInput } from './__generated__/resolvers';
import { checkFirst, decodeOffsetCursor, decodeRunCursor, encodeOffsetCursor, encodeRunCursor, type RunConnectionModel } from './connections';
import { decodeId } from './ids';

export interface RunListArgs {
  filter?: RunFilterInput | null;
  first?: number | null;
  after?: string | null;
  consistency?: Consistency | null;
}

/** What a nested list is pinned to: the parent project or host. */
export interface RunListPin {
  sourceId: string;
  projectKey?: Key;
  hostKey?: Key;
}

/** The GraphQL arguments of a run list as the read service takes them; every bad input is BAD_USER_INPUT here. */
export function runListQuery(ctx: GraphContext, args: RunListArgs, pin?: RunListPin): RunListQuery {
  return {
    first: checkFirst(args.first),
    after: decodeRunCursor(args.after),
    filters: runFilters(ctx, args.filter, pin),
    consistency: args.consistency ?? 'INDEXED',
  };
}

function runFilters(ctx: GraphContext, input: RunFilterInput | null | undefined, pin?: RunListPin): Map<string, RunFilter> {
  const f = input ?? {};
  let sources = ctx.sources.select(f.sourceIds);
  if (pin) sources = sources.filter((s) => s.info.id === pin.sourceId);

  const projectKeys = groupIds(f.projectIds, 'Project', 'projectIds');
  const hostKeys = groupIds(f.hostIds, 'Host', 'hostIds');
  if (f.hostIds) sources = sources.filter((s) => s.info.capabilities.hosts);

  const base: RunFilter = {};
  if (f.statuses) base.statuses = [...f.statuses];
  if (f.conclusions) base.conclusions = [...f.conclusions];
  if (f.isClosed !== null && f.isClosed !== undefined) base.isClosed = f.isClosed;
  // Whole seconds: t ≥ 10.5 ⇔ t ≥ 11 and t < 10.5 ⇔ t < 11, so both bounds round up.
  if (f.createdAfter !== null && f.createdAfter !== undefined) base.createdAfter = Math.ceil(f.createdAfter);
  if (f.createdBefore !== null && f.createdBefore !== undefined) base.createdBefore = Math.ceil(f.createdBefore);

  const filters = new Map<string, RunFilter>();
  for (const source of sources) {
    const id = source.info.id;
    const filter: RunFilter = { ...base };
    if (projectKeys) {
      if (!projectKeys.has(id)) continue;
      filter.projectKeys = projectKeys.get(id);
    }
    if (hostKeys) {
      if (!hostKeys.has(id)) continue;
      filter.hostKeys = hostKeys.get(id);
    }
    // A nested list's own project or host, intersected with what the filter names.
    if (pin?.projectKey) {
      if (filter.projectKeys && !filter.projectKeys.some((k) => sameKey(k, pin.projectKey!))) continue;
      filter.projectKeys = [pin.projectKey];
    }
    if (pin?.hostKey) {
      if (filter.hostKeys && !filter.hostKeys.some((k) => sameKey(k, pin.hostKey!))) continue;
      filter.hostKeys = [pin.hostKey];
    }
    filters.set(id, filter);
  }
  return filters;
}

function groupIds(ids: readonly string[] | null | undefined, type: 'Project' | 'Host', field: string): Map<string, Key[]> | undefined {
  if (!ids) return undefined;
  const grouped = new Map<string, Key[]>();
  for (const id of ids) {
    let decoded;
    try {
      decoded = decodeId(id, [type]);
    } catch (error) {
      throw badInput(`filter.${field}: ${(error as Error).message}`);
    }
    grouped.set(decoded.sourceId, [...(grouped.get(decoded.sourceId) ?? []), decoded.key]);
  }
  return grouped;
}

/**
 * One page of runs. Failures of single sources are recorded on the context (the response
 * plugin adds them as errors at this field's path) unless `strict`, where the one failure is thrown.
 */
export function runConnection(ctx: GraphContext, info: GraphQLResolveInfo, args: RunListArgs, pin?: RunListPin): RunConnectionModel | Promise<RunConnectionModel> {
  const query = runListQuery(ctx, args, pin);
  const wanted = ctx.batching ? lookupsSelected(info) : { project: false, host: false };
  if (wanted.project || wanted.host) query.onSlice = (runs) => startRunLookups(ctx, runs, wanted);
  const page = ctx.reads.pageRuns(ctx.scope, query);
  return page instanceof Promise ? page.then((p) => runConnectionOf(ctx, info, p, pin)) : runConnectionOf(ctx, info, page, pin);
}

function runConnectionOf(ctx: GraphContext, info: GraphQLResolveInfo, page: RunPage, pin: RunListPin | undefined): RunConnectionModel {
  if (pin && page.failures.length > 0) throw page.failures[0];
  recordFailures(ctx, info, page.failures);
  // A later lookup of a listed run needs no vendor call; an indexed one needs none anyway.
  const live = new Set(page.answeredBy.filter((a) => a.mode === 'LIVE').map((a) => a.sourceId));
  for (const { run } of page.edges) if (live.has(run.sourceId)) ctx.loaders.run.prime({ sourceId: run.sourceId, key: run.key }, run);
  return {
    answeredBy: page.answeredBy,
    totalCount: page.totalCount,
    edges: page.edges.map(({ run, positions }) => new LazyRunEdge(run, positions)),
    // An empty page (first: 0) still ends somewhere: where it started. A null endCursor next to
    // hasNextPage: true would send a client that follows it back to the start, forever.
    pageInfo: { hasNextPage: page.hasNextPage, endCursor: encodeRunCursor(page.endPositions) },
  };
}

/**
 * The project and host lookups of one source's runs, started as soon as that source has answered:
 * they then overlap the slower sources' reads instead of adding a round trip after the merged page.
 * They go through the request's loaders, so Run.project and Run.host later find them there (one
 * batch per source, as before); runs that do not make the page cost at most that same batch.
 */
function startRunLookups(ctx: GraphContext, runs: readonly Run[], wanted: { project: boolean; host: boolean }): void {
  for (const run of runs) {
    if (wanted.project && run.projectKey) ctx.loaders.project.prefetch({ sourceId: run.sourceId, key: run.projectKey });
    if (wanted.host && run.host) {
      if ('key' in run.host) ctx.loaders.host.prefetch({ sourceId: run.sourceId, key: run.host.key });
      // A failure stays cached until Run.host reads and clears it (as for RefLoader.prefetch).
      else ctx.loaders.hostsOfSource.load(run.sourceId).catch(() => undefined);
    }
  }
}

/** Whether the selection under a runs connection asks its runs for `project` or `host` (edges.node.* or nodes.*). */
function lookupsSelected(info: GraphQLResolveInfo): { project: boolean; host: boolean } {
  const under = (sets: ReadonlyArray<SelectionSetNode | undefined>, field: string): SelectionSetNode[] => {
    const found: SelectionSetNode[] = [];
    const walk = (set: SelectionSetNode | undefined) => {
      for (const selection of set?.selections ?? []) {
        if (selection.kind === Kind.FIELD) {
          if (selection.name.value === field && selection.selectionSet) found.push(selection.selectionSet);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
        else walk(info.fragments[selection.name.value]?.selectionSet);
      }
    };
    sets.forEach(walk);
    return found;
  };
  const connection = info.fieldNodes.map((node) => node.selectionSet);
  const runs = [...under(under(connection, 'edges'), 'node'), ...under(connection, 'nodes')];
  return { project: under(runs, 'project').length > 0, host: under(runs, 'host').length > 0 };
}

export function recordFailures(ctx: GraphContext, info: GraphQLResolveInfo, failures: readonly GatewayError[]): void {
  const path: Array<string | number> = [];
  for (let p: GraphQLResolveInfo['path'] | undefined = info.path; p; p = p.prev) path.unshift(p.key);
  for (const error of failures) ctx.partialFailures.push({ error, path });
}

export interface OffsetListArgs {
  sourceIds?: readonly string[] | null;
  first?: number | null;
  after?: string | null;
  consistency?: Consistency | null;
}

export function offsetListQuery(ctx: GraphContext, kind: 'projects' | 'hosts', args: OffsetListArgs): OffsetListQuery {
  return {
    sourceIds: ctx.sources.select(args.sourceIds).map((s) => s.info.id),
    first: checkFirst(args.first),
    offset: decodeOffsetCursor(kind, args.after),
    consistency: args.consistency ?? 'INDEXED',
  };
}

/** Query.projects and Query.hosts: one offset-paged list over the selected sources. */
export async function offsetConnection<T extends { sourceId: string; key: Key }>(
  ctx: GraphContext,
  info: GraphQLResolveInfo,
  kind: 'projects' | 'hosts',
  args: OffsetListArgs,
  page: (query: OffsetListQuery) => Promise<ListPage<T>>,
  loader: RefLoader<T>,
) {
  const query = offsetListQuery(ctx, kind, args);
  const { offset } = query;
  const result = await page(query);
  recordFailures(ctx, info, result.failures);
  const live = new Set(result.answeredBy.filter((a) => a.mode === 'LIVE').map((a) => a.sourceId));
  for (const { item } of result.items) if (live.has(item.sourceId)) loader.prime({ sourceId: item.sourceId, key: item.key }, item);
  const edges = result.items.map(({ item, offset: at }) => ({ cursor: encodeOffsetCursor(kind, at), node: item }));
  return { edges, answeredBy: result.answeredBy, pageInfo: { hasNextPage: result.hasNextPage, endCursor: edges.at(-1)?.cursor ?? encodeOffsetCursor(kind, offset) } };
}

/** A run edge whose cursor is encoded only when a client selects it (most ask for `nodes` alone). */
class LazyRunEdge {
  constructor(
    readonly node: Run,
    private readonly positions: RunPositions,
  ) {}

  get cursor(): string {
    return encodeRunCursor(this.positions);
  }
}
