import { badInput } from '../../model/errors';
import type { Host } from '../../model/types';
import type { Consistency } from '../../model/reads';
import type { GraphContext } from '../context';
import type { Resolvers } from '../__generated__/resolvers';
import { decodeId, encodeId } from '../ids';
import { offsetConnection, runConnection } from '../lists';

export async function loadHost(ctx: GraphContext, id: string, consistency: Consistency = 'INDEXED'): Promise<Host> {
  const { sourceId, key } = decodeId(id, ['Host']);
  const source = ctx.sources.ofId(sourceId);
  if (!source.info.capabilities.hosts) throw badInput(`Source "${sourceId}" has no hosts.`, sourceId);
  return (consistency === 'LIVE' ? ctx.liveLoaders() : ctx.loaders).host.load({ sourceId, key });
}

export const hostResolvers: Resolvers = {
  Query: {
    host: (_parent, { id, consistency }, ctx) => loadHost(ctx, id, consistency),
    hosts: (_parent, args, ctx, info) =>
      offsetConnection(ctx, info, 'hosts', args, (query) => ctx.reads.pageHosts(ctx.scope, query), ctx.loaders.host),
  },
  Host: {
    __resolveReference: (ref, ctx) => loadHost(ctx, ref.id),
    id: (host) => encodeId('Host', host.sourceId, host.key),
    source: (host, _args, ctx) => ctx.sources.ofId(host.sourceId).info,
    runs: (host, args, ctx, info) => runConnection(ctx, info, args, { sourceId: host.sourceId, hostKey: host.key }),
  },
};
