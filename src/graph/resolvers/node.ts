import type { Host, Project, Run } from '../../model/types';
import type { Resolvers } from '../__generated__/resolvers';
import { decodeId } from '../ids';
import { loadHost } from './host';
import { loadProject } from './project';
import { loadRun } from './run';

const SOURCE_KINDS = { testrail: 'TESTRAIL', qacomplete: 'QACOMPLETE', 'enterprise-tester': 'ENTERPRISE_TESTER' } as const;

export const nodeResolvers: Resolvers = {
  Query: {
    node: (_parent, { id }, ctx) => {
      const { type } = decodeId(id);
      if (type === 'Run') return loadRun(ctx, id);
      if (type === 'Project') return loadProject(ctx, id);
      return loadHost(ctx, id);
    },
    sources: (_parent, _args, ctx) => ctx.sources.all.map((s) => s.info),
  },
  Node: {
    // Records carry no type tag; each type has a field only it has.
    __resolveType: (node) => {
      const record = node as Run | Project | Host;
      if ('vendorStatus' in record) return 'Run';
      if ('isCompleted' in record) return 'Project';
      return 'Host';
    },
  },
  Source: {
    kind: (source) => SOURCE_KINDS[source.kind],
    sync: (source, _args, ctx) => ctx.reads.syncStatus(source.id),
  },
  SourceSync: {
    lagSeconds: (sync) => (sync.syncedAt === null ? null : Math.max(0, Math.floor(Date.now() / 1000 - sync.syncedAt))),
  },
  SourceAnswer: {
    source: (answer, _args, ctx) => ctx.sources.ofId(answer.sourceId).info,
    mode: (answer) => answer.mode,
  },
};
