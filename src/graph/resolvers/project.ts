import type { Project } from '../../model/types';
import type { GraphContext } from '../../server/context';
import type { Resolvers } from '../__generated__/resolvers';
import { checkFirst, decodeOffsetCursor, encodeOffsetCursor } from '../connections';
import { decodeId, encodeId } from '../ids';
import { recordFailures, runConnection } from '../runs';

export async function loadProject(ctx: GraphContext, id: string): Promise<Project> {
  const { sourceId, key } = decodeId(id, ['Project']);
  ctx.catalog.sourceOfId(sourceId);
  return ctx.loaders.project.load({ sourceId, key });
}

export const projectResolvers: Resolvers = {
  Query: {
    project: (_parent, { id }, ctx) => loadProject(ctx, id),
    projects: async (_parent, args, ctx, info) => {
      const first = checkFirst(args.first);
      const offset = decodeOffsetCursor('projects', args.after);
      const page = await ctx.catalog.pageProjects(ctx.scope, ctx.catalog.selectSources(args.sourceIds), first, offset);
      recordFailures(ctx, info, page.failures);
      for (const { item } of page.items) ctx.loaders.project.prime({ sourceId: item.sourceId, key: item.key }, item);
      const edges = page.items.map(({ item, offset: at }) => ({ cursor: encodeOffsetCursor('projects', at), node: item }));
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? args.after ?? null } };
    },
  },
  Project: {
    __resolveReference: (ref, ctx) => loadProject(ctx, ref.id),
    id: (project) => encodeId('Project', project.sourceId, project.key),
    source: (project, _args, ctx) => ctx.catalog.sourceOfId(project.sourceId).info,
    runs: (project, args, ctx, info) => runConnection(ctx, info, args, { sourceId: project.sourceId, projectKey: project.key }),
  },
};
