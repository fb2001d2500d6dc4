/**
 * The four mutations, the same on every vendor (status.md, "Mutations"). Everything that can be
 * checked without the vendor is checked here first, so a bad request sends nothing upstream:
 * the ID's type and source, the source's capability, and which vendor block the input carries.
 * The writes themselves go through model/writes.ts, which announces each on the change stream.
 */
import { badInput, unsupported } from '../../model/errors';
import type { AddRunRequest, Source } from '../../model/source';
import type { Capabilities, SourceKind } from '../../model/types';
import type { GraphContext } from '../context';
import type { AddRunInput, Resolvers } from '../__generated__/resolvers';
import { decodeId } from '../ids';

const BLOCK_OF_KIND: Record<SourceKind, 'testrail' | 'qacomplete' | 'enterpriseTester'> = {
  testrail: 'testrail',
  qacomplete: 'qacomplete',
  'enterprise-tester': 'enterpriseTester',
};

function runTarget(ctx: GraphContext, id: string, capability: keyof Capabilities, verb: string) {
  const { sourceId, key } = decodeId(id, ['Run']);
  requireCapability(ctx.sources.ofId(sourceId), capability, verb);
  return { sourceId, key };
}

function requireCapability(source: Source, capability: keyof Capabilities, verb: string): void {
  if (!source.info.capabilities[capability]) {
    throw unsupported(`${source.info.name} (${source.info.id}) cannot ${verb} (see Source.capabilities).`, source.info.id);
  }
}

/** GraphQL gives null for omitted optional fields; the sources only know "absent". */
function defined<T extends object>(value: T | null | undefined): { [K in keyof T]: Exclude<T[K], null> } | undefined {
  if (value === null || value === undefined) return undefined;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined)) as never;
}

export function addRunRequest(ctx: GraphContext, input: AddRunInput): { source: Source; request: AddRunRequest } {
  const project = decodeId(input.projectId, ['Project']);
  const source = ctx.sources.ofId(project.sourceId);
  requireCapability(source, 'addRun', 'add runs');
  const own = BLOCK_OF_KIND[source.info.kind];
  for (const block of Object.values(BLOCK_OF_KIND)) {
    if (block !== own && input[block] !== null && input[block] !== undefined) {
      throw badInput(`input.${block} is for another vendor; project ${input.projectId} is on ${source.info.name}, which takes input.${own}.`, source.info.id);
    }
  }
  const request: AddRunRequest = { projectKey: project.key };
  if (input.name !== null && input.name !== undefined) request.name = input.name;
  if (input.description !== null && input.description !== undefined) request.description = input.description;
  if (input.hostId !== null && input.hostId !== undefined) {
    if (!source.info.capabilities.hosts) throw badInput(`input.hostId: ${source.info.name} has no test hosts.`, source.info.id);
    const host = decodeId(input.hostId, ['Host']);
    if (host.sourceId !== source.info.id) throw badInput('input.hostId names a host of another source than the project.', source.info.id);
    request.hostKey = host.key;
  }
  if (own === 'testrail') request.testrail = defined(input.testrail);
  if (own === 'qacomplete') request.qacomplete = defined(input.qacomplete);
  if (own === 'enterpriseTester') request.enterpriseTester = defined(input.enterpriseTester);
  return { source, request };
}

export const mutationResolvers: Resolvers = {
  Mutation: {
    addRun: (_parent, { input }, ctx) => {
      const { source, request } = addRunRequest(ctx, input);
      return ctx.writes.addRun(ctx.scope, source.info.id, request);
    },
    restartRun: (_parent, { id }, ctx) => {
      const { sourceId, key } = runTarget(ctx, id, 'restartRun', 'restart runs');
      return ctx.writes.restartRun(ctx.scope, sourceId, key);
    },
    closeRun: (_parent, { id }, ctx) => {
      const { sourceId, key } = runTarget(ctx, id, 'closeRun', 'close runs');
      return ctx.writes.closeRun(ctx.scope, sourceId, key);
    },
    deleteRun: async (_parent, { id, dryRun }, ctx) => {
      const { sourceId, key } = runTarget(ctx, id, 'deleteRun', 'delete runs');
      const outcome = await ctx.writes.deleteRun(ctx.scope, sourceId, key, dryRun === true);
      return { id, ...outcome };
    },
  },
};
