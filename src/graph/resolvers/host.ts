import { badInput } from '../../model/errors';
import type { Host } from '../../model/types';
import type { GraphContext } from '../../server/context';
import type { Resolvers } from '../__generated__/resolvers';
import { checkFirst, decodeOffsetCursor, encodeOffsetCursor } from '../connections';
import { decodeId, encodeId } from '../ids';
import { recordFailures, runConnection } from '../runs';

export async function loadHost(ctx: GraphContext, id: string): Promise<Host> {
  const { sourceId, key } = decodeId(id, ['Host']);
  const source = ctx.catalog.sourceOfId(sourceId);
  if (!source.info.capabilities.hosts) throw badInput(`Source "${sourceId}" has no hosts.`, sourceId);
  return ctx.loaders.host.load({ sourceId, key });
}

export const hostResolvers: Resolvers = {
  Query: {
    host: (_parent, { id }, ctx) => loadHost(ctx, id),
    hosts: async (_parent, args, ctx, info) => {
      const first = checkFirst(args.first);
      const offset = decodeOffsetCursor('hosts', args.after);
      const page = await ctx.catalog.pageHosts(ctx.scope, ctx.catalog.selectSources(args.sourceIds), first, offset);
      recordFailures(ctx, info, page.failures);
      for (const { item } of page.items) ctx.loaders.host.prime({ sourceId: item.sourceId, key: item.key }, item);
      const edges = page.items.map(({ item, offset: at }) => ({ cursor: encodeOffsetCursor('hosts', at), node: item }));
      return { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? args.after ?? null } };
    },
  },
  Host: {
    __resolveReference: (ref, ctx) => loadHost(ctx, ref.id),
    id: (host) => encodeId('Host', host.sourceId, host.key),
    source: (host, _args, ctx) => ctx.catalog.sourceOfId(host.sourceId).info,
    runs: (host, args, ctx, info) => runConnection(ctx, info, args, { sourceId: host.sourceId, hostKey: host.key }),
  },
};
