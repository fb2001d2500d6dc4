import type { Run } from '../../model/types';
import type { Consistency } from '../../model/reads';
import type { GraphContext } from '../context';
import type { Resolvers } from '../__generated__/resolvers';
import { decodeId, encodeId } from '../ids';
import { runConnection } from '../lists';

export async function loadRun(ctx: GraphContext, id: string, consistency: Consistency = 'INDEXED'): Promise<Run> {
  const { sourceId, key } = decodeId(id, ['Run']);
  ctx.sources.ofId(sourceId);
  return (consistency === 'LIVE' ? ctx.liveLoaders() : ctx.loaders).run.load({ sourceId, key });
}

export const runResolvers: Resolvers = {
  Query: {
    run: (_parent, { id, consistency }, ctx) => loadRun(ctx, id, consistency),
    runs: (_parent, args, ctx, info) => runConnection(ctx, info, args),
  },
  Run: {
    __resolveReference: (ref, ctx) => loadRun(ctx, ref.id),
    id: (run) => encodeId('Run', run.sourceId, run.key),
    source: (run, _args, ctx) => ctx.sources.ofId(run.sourceId).info,
    project: (run, _args, ctx) => {
      if (!run.projectKey) return null;
      return ctx.reads.peekProject?.(ctx.scope, run.sourceId, run.projectKey) ?? ctx.loaders.project.load({ sourceId: run.sourceId, key: run.projectKey });
    },
    host: async (run, _args, ctx) => {
      const ref = run.host;
      if (!ref) return null;
      if ('key' in ref) return ctx.loaders.host.load({ sourceId: run.sourceId, key: ref.key });
      // The vendor only names the host: match it among the source's configured hosts. A host
      // rungraph has no token for is not one of ours, so the run has no Host object.
      try {
        const hosts = await ctx.loaders.hostsOfSource.load(run.sourceId);
        return hosts.find((h) => h.name === ref.name) ?? null;
      } catch (error) {
        ctx.loaders.hostsOfSource.clear(run.sourceId);
        throw error;
      }
    },
  },
};
