import type { Project } from '../../model/types';
import type { Consistency } from '../../model/reads';
import type { GraphContext } from '../context';
import type { Resolvers } from '../__generated__/resolvers';
import { decodeId, encodeId } from '../ids';
import { offsetConnection, runConnection } from '../lists';

export async function loadProject(ctx: GraphContext, id: string, consistency: Consistency = 'INDEXED'): Promise<Project> {
  const { sourceId, key } = decodeId(id, ['Project']);
  ctx.sources.ofId(sourceId);
  return (consistency === 'LIVE' ? ctx.liveLoaders() : ctx.loaders).project.load({ sourceId, key });
}

export const projectResolvers: Resolvers = {
  Query: {
    project: (_parent, { id, consistency }, ctx) => loadProject(ctx, id, consistency),
    projects: (_parent, args, ctx, info) =>
      offsetConnection(ctx, info, 'projects', args, (query) => ctx.reads.pageProjects(ctx.scope, query), ctx.loaders.project),
  },
  Project: {
    __resolveReference: (ref, ctx) => loadProject(ctx, ref.id),
    id: (project) => encodeId('Project', project.sourceId, project.key),
    source: (project, _args, ctx) => ctx.sources.ofId(project.sourceId).info,
    runs: (project, args, ctx, info) => runConnection(ctx, info, args, { sourceId: project.sourceId, projectKey: project.key }),
  },
};
