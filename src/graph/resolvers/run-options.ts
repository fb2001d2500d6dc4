/**
 * Project.addRunOptions: what addRun can start a run from, per vendor (schema/run-options.graphql).
 * The containers need no vendor call; every list is one `listRunOptions` page of the project's
 * source, paged by offset like Query.projects. A list whose vendor read fails is null with the
 * error at its path (the fields are nullable), so one failed project costs only its own lists.
 */
import { asGatewayError } from '../../model/errors';
import type { RunOptionList, RunOptionLists } from '../../model/types';
import type { GraphContext } from '../context';
import type { Resolvers } from '../__generated__/resolvers';
import { checkFirst, decodeOffsetCursor, encodeOffsetCursor, type RunOptionsOwner } from '../connections';

interface PageArgs {
  first?: number | null;
  after?: string | null;
}

async function optionConnection<L extends RunOptionList, N>(
  ctx: GraphContext,
  owner: RunOptionsOwner,
  list: L,
  args: PageArgs,
  node: (item: RunOptionLists[L]) => N,
  parentId?: string,
) {
  const first = checkFirst(args.first);
  const offset = decodeOffsetCursor(list, args.after);
  let page;
  try {
    page = await ctx.reads.listRunOptions(ctx.scope, owner.sourceId, { projectKey: owner.projectKey, list, parentId, offset, limit: first });
  } catch (error) {
    throw asGatewayError(error, owner.sourceId);
  }
  const edges = page.items.map((item, i) => ({ cursor: encodeOffsetCursor(list, offset + i + 1), node: node(item) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    // Like every list here, an empty page's endCursor is where it started (graph/lists.ts).
    pageInfo: { hasNextPage: page.hasMore, endCursor: edges.at(-1)?.cursor ?? encodeOffsetCursor(list, offset) },
  };
}

const same = <T>(item: T) => item;
const ofKind = (kind: RunOptionsOwner['kind']) => (owner: RunOptionsOwner) => (owner.kind === kind ? owner : null);

export const runOptionResolvers: Resolvers = {
  Project: {
    addRunOptions: (project, _args, ctx) => ({ sourceId: project.sourceId, projectKey: project.key, kind: ctx.sources.ofId(project.sourceId).info.kind }),
  },
  AddRunOptions: {
    testrail: ofKind('testrail'),
    qacomplete: ofKind('qacomplete'),
    enterpriseTester: ofKind('enterprise-tester'),
  },
  TestRailRunOptions: {
    suites: (owner, args, ctx) => optionConnection(ctx, owner, 'testrail.suites', args, (suite) => ({ ...suite, owner })),
    milestones: (owner, args, ctx) => optionConnection(ctx, owner, 'testrail.milestones', args, same),
  },
  TestRailSuite: {
    cases: (suite, args, ctx) => optionConnection(ctx, suite.owner, 'testrail.cases', args, same, suite.id),
  },
  QACompleteRunOptions: {
    tests: (owner, args, ctx) => optionConnection(ctx, owner, 'qacomplete.tests', args, same),
    testSets: (owner, args, ctx) => optionConnection(ctx, owner, 'qacomplete.testSets', args, same),
    releases: (owner, args, ctx) => optionConnection(ctx, owner, 'qacomplete.releases', args, same),
    configurations: (owner, args, ctx) => optionConnection(ctx, owner, 'qacomplete.configurations', args, same),
  },
  EnterpriseTesterRunOptions: {
    scriptAssignments: (owner, args, ctx) => optionConnection(ctx, owner, 'enterpriseTester.scriptAssignments', args, same),
    testers: (owner, args, ctx) => optionConnection(ctx, owner, 'enterpriseTester.testers', args, same),
  },
};
