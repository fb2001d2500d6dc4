/**
 * rungraph as a Federation v2 subgraph: composed with a second subgraph that references Run,
 * Project and Host by key, served by @apollo/gateway, answering a query that crosses both.
 */
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { encodeId } from '../../src/graph/ids';
import { subgraphTypeDefs } from '../../src/graph';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { startStack, type Stack } from '../support/stack';

const RELEASES_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Release { name: String! runs: [Run!]! project: Project! }
  type Run @key(fields: "id") { id: ID! release: Release }
  type Project @key(fields: "id") { id: ID! }
  type Host @key(fields: "id") { id: ID! }
  type Query { releases: [Release!]! pinnedRuns(count: Int!): [Run!]! }
`;

describe('federation', () => {
  let stack: Stack;
  let releases: ApolloServer;
  let gatewayServer: ApolloServer;
  let gatewayUrl: string;
  let runIds: string[];

  beforeAll(async () => {
    stack = await startStack();
    const store = stack.testrail!.store;
    runIds = store.runsOf(DEMO_IDS.projects.nightly).slice(0, 50).map((r) => encodeId('Run', 'tr', [String(r.id), String(r.project_id)]));
    const release = { name: 'Release 3.0', runIds: runIds.slice(0, 3), projectId: encodeId('Project', 'tr', [String(DEMO_IDS.projects.nightly)]) };
    releases = new ApolloServer({
      plugins: [ApolloServerPluginInlineTraceDisabled()],
      schema: buildSubgraphSchema({
        typeDefs: parse(RELEASES_SDL),
        resolvers: {
          Query: {
            releases: () => [release],
            pinnedRuns: (_: unknown, { count }: { count: number }) => runIds.slice(0, count).map((id) => ({ id })),
          },
          Release: { runs: (r: typeof release) => r.runIds.map((id) => ({ id })), project: (r: typeof release) => ({ id: r.projectId }) },
          Run: { release: (run: { id: string }) => (release.runIds.includes(run.id) ? release : null) },
        } as never,
      }),
    });
    const { url: releasesUrl } = await startStandaloneServer(releases, { listen: { port: 0, host: '127.0.0.1' } });

    const composed = composeServices([
      { name: 'rungraph', typeDefs: subgraphTypeDefs(), url: stack.gateway.graphqlUrl },
      { name: 'releases', typeDefs: parse(RELEASES_SDL), url: releasesUrl },
    ]);
    expect(composed.errors ?? []).toEqual([]);
    gatewayServer = new ApolloServer({ gateway: new ApolloGateway({ supergraphSdl: composed.supergraphSdl! }) });
    ({ url: gatewayUrl } = await startStandaloneServer(gatewayServer, { listen: { port: 0, host: '127.0.0.1' } }));
  });

  afterAll(async () => {
    await gatewayServer?.stop();
    await releases?.stop();
    await stack?.stop();
  });

  const query = async (q: string, variables?: object) => {
    const res = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q, variables }) });
    return (await res.json()) as { data?: any; errors?: any[] };
  };

  test('a query crosses both subgraphs: releases → rungraph runs and projects, and back', async () => {
    const res = await query(`{
      releases { name project { name } runs { name status release { name } } }
      runs(first: 3) { nodes { id name release { name } } }
    }`);
    expect(res.errors).toBeUndefined();
    const store = stack.testrail!.store;
    const release = res.data.releases[0];
    expect(release.project.name).toBe(store.project(DEMO_IDS.projects.nightly)!.name);
    expect(release.runs.map((r: any) => r.name)).toEqual(store.runsOf(DEMO_IDS.projects.nightly).slice(0, 3).map((r) => r.name));
    expect(release.runs.every((r: any) => r.release.name === 'Release 3.0')).toBe(true);
    expect(res.data.runs.nodes).toHaveLength(3);
  });

  test('_entities for 50 Run representations costs a fixed number of upstream calls, not 50', async () => {
    const cost = async (count: number) => {
      stack.testrail!.server.resetCounts();
      const res = await query(`query($n: Int!) { pinnedRuns(count: $n) { id name counts { total } project { name } } }`, { n: count });
      expect(res.errors).toBeUndefined();
      expect(res.data.pinnedRuns).toHaveLength(count);
      expect(res.data.pinnedRuns.map((r: any) => r.id)).toEqual(runIds.slice(0, count));
      return stack.testrail!.server.count();
    };
    const ten = await cost(10);
    const fifty = await cost(50);
    expect(fifty).toBe(ten);
    expect(fifty).toBeLessThan(10);
  });

  test('_service serves the SDL with the federation keys', async () => {
    const res = await stack.gql('{ _service { sdl } }');
    expect(res.body.data._service.sdl).toMatch(/type Run implements Node\s+@key\(fields: "id"\)/);
  });
});
