/**
 * rungraph behind two independent routers: Hive Gateway (@graphql-hive/gateway-runtime with
 * @graphql-mesh/transport-http, supergraph from The Guild's composition) and Apollo Gateway
 * (@apollo/gateway, supergraph from @apollo/composition). Each serves rungraph composed with a
 * tiny CI subgraph whose builds point at rungraph's runs (and projects) and which extends Run with
 * a CI job link. rungraph requires an API key, which each router sends as configured for it; a
 * proxy in front of rungraph records every request the router sends, so the tests count
 * `_entities` calls and see merged fetches. Everything listens on 127.0.0.1, ephemeral ports.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices as composeApollo } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices as composeGuild } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { encodeId } from '../../src/graph/ids';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { startStack, type Stack } from '../support/stack';

const API_KEY = 'router-to-rungraph-key-0123456789';

const CI_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Build @key(fields: "id") { id: ID! number: Int! run: Run project: Project }
  type CiJob { name: String! url: String! }
  type Run @key(fields: "id") { id: ID! ciJob: CiJob }
  type Project @key(fields: "id", resolvable: false) { id: ID! }
  type Query { builds(count: Int!, offset: Int = 0): [Build!]! }
`;

interface Seen {
  query: string;
  variables?: Record<string, any>;
  authorization?: string;
  response: any;
}

/** A pass-through in front of rungraph that keeps every request and answer. */
async function startRecorder(target: string): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const read = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server = createServer(async (req, res) => {
    const body = await read(req);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    const upstream = await fetch(target, { method: 'POST', headers, body });
    const text = await upstream.text();
    try {
      const parsed = JSON.parse(body);
      seen.push({ query: parsed.query, variables: parsed.variables, authorization: req.headers.authorization, response: JSON.parse(text) });
    } catch {
      // not a GraphQL body: forwarded as it is
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, seen, server };
}

interface Router {
  name: 'Hive Gateway' | 'Apollo Gateway';
  url: string;
  stop(): Promise<void>;
}

describe('rungraph behind Hive Gateway and Apollo Gateway', () => {
  let stack: Stack;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let ci: ApolloServer;
  let ciUrl: string;
  let builds: Array<{ id: string; number: number; runId: string; projectId: string }>;
  const routers: Record<string, Router> = {};
  /** Standalone TestRail runs of the nightly project, as rungraph IDs. */
  let runIds: string[];

  beforeAll(async () => {
    stack = await startStack({
      enterpriseTester: {},
      // The run index on, as by default: answers carry extensions.sync, lists answeredBy INDEXED.
      index: {},
      server: { apiKeys: [API_KEY] },
      // A failed source fails at once and keeps failing only while the test's fault lasts.
      sourceConfig: { et: { policy: { maxRetries: 0, breakerFailures: 1_000 } } },
    });
    const store = stack.testrail!.store;
    const nightly = DEMO_IDS.projects.nightly;
    runIds = store
      .runsOf(nightly)
      .filter((r) => r.plan_id === null)
      .map((r) => encodeId('Run', 'tr', [String(r.id), String(r.project_id)]));
    expect(runIds.length).toBeGreaterThanOrEqual(40);
    const projectId = encodeId('Project', 'tr', [String(nightly)]);
    builds = runIds.map((runId, i) => ({ id: `build-${i + 1}`, number: i + 1, runId, projectId }));

    ci = new ApolloServer({
      plugins: [ApolloServerPluginInlineTraceDisabled()],
      schema: buildSubgraphSchema({
        typeDefs: parse(CI_SDL),
        resolvers: {
          Query: { builds: (_: unknown, { count, offset }: { count: number; offset: number }) => builds.slice(offset, offset + count) },
          Build: {
            __resolveReference: (ref: { id: string }) => builds.find((b) => b.id === ref.id),
            run: (b: (typeof builds)[number]) => ({ id: b.runId }),
            project: (b: (typeof builds)[number]) => ({ id: b.projectId }),
          },
          Run: {
            __resolveReference: (ref: { id: string }) => ref,
            ciJob: (run: { id: string }) => {
              const build = builds.find((b) => b.runId === run.id);
              return build ? { name: `nightly #${build.number}`, url: `https://ci.example/job/nightly/${build.number}` } : null;
            },
          },
        } as never,
      }),
    });
    ({ url: ciUrl } = await startStandaloneServer(ci, { listen: { port: 0, host: '127.0.0.1' } }));

    recorder = await startRecorder(stack.gateway.graphqlUrl);
    // The SDL as a composer reads it: `_service { sdl }` from the running subgraph, with the key.
    const sdlRes = await fetch(recorder.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    const rungraphSdl = ((await sdlRes.json()) as any).data._service.sdl as string;
    const services = [
      { name: 'rungraph', typeDefs: parse(rungraphSdl), url: recorder.url },
      { name: 'ci', typeDefs: parse(CI_SDL), url: ciUrl },
    ];

    // Hive Gateway: supergraph from The Guild's composition; the key in rungraph's transport entry,
    // read from the environment per request (`{env.…}`), so it is written in no config file.
    const guild = composeGuild(services);
    expect(guild.errors ?? []).toEqual([]);
    process.env.RUNGRAPH_TEST_ROUTER_KEY = API_KEY;
    const hive = createGatewayRuntime({
      supergraph: guild.supergraphSdl!,
      transportEntries: { rungraph: { headers: [['authorization', 'Bearer {env.RUNGRAPH_TEST_ROUTER_KEY}']] } },
      logging: false,
    });
    const hiveServer = createServer(hive);
    await new Promise<void>((resolve) => hiveServer.listen(0, '127.0.0.1', resolve));
    routers.hive = {
      name: 'Hive Gateway',
      url: `http://127.0.0.1:${(hiveServer.address() as AddressInfo).port}/graphql`,
      stop: async () => {
        await new Promise<void>((resolve) => hiveServer.close(() => resolve()));
        await hive.dispose();
      },
    };

    // Apollo Gateway: supergraph from Apollo's composition; the key set on requests to rungraph.
    const apollo = composeApollo(services);
    expect(apollo.errors ?? []).toEqual([]);
    const gateway = new ApolloServer({
      gateway: new ApolloGateway({
        supergraphSdl: apollo.supergraphSdl!,
        buildService: ({ name, url }) =>
          new RemoteGraphQLDataSource({
            url,
            willSendRequest({ request }) {
              if (name === 'rungraph') request.http!.headers.set('authorization', `Bearer ${API_KEY}`);
            },
          }),
      }),
    });
    const { url } = await startStandaloneServer(gateway, { listen: { port: 0, host: '127.0.0.1' } });
    routers.apollo = { name: 'Apollo Gateway', url, stop: () => gateway.stop() };
  });

  afterAll(async () => {
    for (const router of Object.values(routers)) await router.stop();
    await ci?.stop();
    await new Promise<void>((resolve) => (recorder ? recorder.server.close(() => resolve()) : resolve()));
    await stack?.stop();
    delete process.env.RUNGRAPH_TEST_ROUTER_KEY;
  });

  afterEach(() => {
    stack.enterpriseTester?.server.clearFaults();
    stack.testrail?.server.clearFaults();
  });

  const ask = async (router: Router, query: string, variables?: object) => {
    const res = await fetch(router.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return { status: res.status, body: (await res.json()) as { data?: any; errors?: any[]; extensions?: any } };
  };
  /** rungraph's own answer, asked directly. */
  const direct = async (query: string, variables?: Record<string, unknown>) => {
    const res = await stack.gql(query, variables, { authorization: `Bearer ${API_KEY}` });
    expect(res.body.errors).toBeUndefined();
    return res.body.data;
  };
  const entityCalls = (since: number) => recorder.seen.slice(since).filter((s) => /\b_entities\b/.test(s.query));

  describe.each(['hive', 'apollo'])('%s', (key) => {
    const router = () => routers[key]!;

    test('every call to rungraph carries the API key; rungraph refuses the router without it', async () => {
      const since = recorder.seen.length;
      const res = await ask(router(), '{ sources { id } }');
      expect(res.body.errors).toBeUndefined();
      const calls = recorder.seen.slice(since);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((c) => c.authorization === `Bearer ${API_KEY}`)).toBe(true);
      const without = await fetch(stack.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ sources { id } }"}' });
      expect(without.status).toBe(401);
      expect(((await without.json()) as any).errors[0].message).toBe('rungraph needs an API key: send Authorization: Bearer <key>.');
    });

    test('a join from rungraph: runs with the CI subgraph\'s job link equal rungraph\'s own rows', async () => {
      const own = await direct('{ runs(first: 30, filter: { sourceIds: ["tr"] }) { nodes { id name status counts { total } } } }');
      const res = await ask(router(), '{ runs(first: 30, filter: { sourceIds: ["tr"] }) { nodes { id name status counts { total } ciJob { name } } } }');
      expect(res.body.errors).toBeUndefined();
      const nodes = res.body.data.runs.nodes;
      expect(nodes.map(({ ciJob, ...row }: any) => row)).toEqual(own.runs.nodes);
      for (const node of nodes) {
        const build = builds.find((b) => b.runId === node.id);
        expect(node.ciJob).toEqual(build ? { name: `nightly #${build.number}` } : null);
      }
      expect(nodes.some((n: any) => n.ciJob !== null)).toBe(true);
    });

    test('a join from the CI subgraph: builds resolve their runs and projects in rungraph', async () => {
      const res = await ask(router(), '{ builds(count: 5) { number run { id name status project { name } } project { id name } } }');
      expect(res.body.errors).toBeUndefined();
      for (const [i, build] of res.body.data.builds.entries()) {
        const own = await direct('query($id: ID!) { run(id: $id) { id name status project { name } } }', { id: builds[i]!.runId });
        expect(build.run).toEqual(own.run);
        expect(build.project.name).toBe(own.run.project.name);
      }
    });

    test('25 builds resolve to 25 runs with one _entities call to rungraph (and 40 with one too)', async () => {
      for (const count of [25, 40]) {
        const since = recorder.seen.length;
        const res = await ask(router(), `{ builds(count: ${count}) { number run { id name counts { total } } } }`);
        expect(res.body.errors).toBeUndefined();
        expect(res.body.data.builds.map((b: any) => b.run.id)).toEqual(builds.slice(0, count).map((b) => b.runId));
        const calls = entityCalls(since);
        expect(calls).toHaveLength(1);
        expect(recorder.seen.length - since).toBe(1);
        const representations = Object.values(calls[0]!.variables ?? {}).find(Array.isArray) as unknown[];
        expect(representations).toHaveLength(count);
      }
    });

    test('two parallel entity fetches of 15 aliases each pass', async () => {
      const aliases = (p: string) => Array.from({ length: 15 }, (_, i) => `${p}${i}: name`).join(' ');
      const since = recorder.seen.length;
      const res = await ask(router(), `{ a: builds(count: 2) { run { id ${aliases('a')} } } b: builds(count: 2, offset: 2) { run { id ${aliases('b')} } } }`);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.a[1].run.a14).toBe(res.body.data.a[1].run.a0);
      expect(res.body.data.b.map((b: any) => b.run.id)).toEqual(builds.slice(2, 4).map((b) => b.runId));
      const calls = entityCalls(since);
      const aliased = calls.map((c) => (c.query.match(/\b[ab]\d+\s*:\s*name\b/g) ?? []).length);
      expect(aliased.reduce((x, y) => x + y, 0)).toBe(30);
      if (key === 'hive') {
        expect(calls).toHaveLength(1);
        // Hive merged the two fetches into one document: `_v0__entities`, `_v1__entities`, 32
        // aliased fields in all, which the alias limit of 30 refused before it judged each fetch.
        expect(calls[0]!.query).toMatch(/_v0__entities\s*:\s*_entities\(representations\s*:\s*\$_v0_representations\)/);
        expect(calls[0]!.query).toMatch(/_v1__entities\s*:\s*_entities\(representations\s*:\s*\$_v1_representations\)/);
        expect(calls[0]!.query.match(/\w+\s*:\s*\w+(?=[\s({}])/g)!.filter((m) => !m.startsWith('representations')).length).toBe(32);
      } else {
        // Apollo Gateway sends them apart.
        expect(calls).toHaveLength(2);
      }
    });

    test('a failing source reaches the client in answeredBy (FAILED with its code) and in errors, with the router\'s serviceName', async () => {
      stack.enterpriseTester!.server.injectFault({ status: 503, times: 1_000 });
      const since = recorder.seen.length;
      const res = await ask(router(), '{ runs(first: 50, consistency: LIVE) { nodes { id ciJob { name } } answeredBy { source { id } mode errorCode } } }');
      const fromRungraph = recorder.seen.slice(since).find((s) => /\bruns\b/.test(s.query))!;
      // rungraph itself answered with the rows it had, the error at the list's path and FAILED.
      expect(fromRungraph.response.errors).toEqual([expect.objectContaining({ path: ['runs'], extensions: expect.objectContaining({ code: 'UPSTREAM_UNAVAILABLE', source: 'et' }) })]);
      expect(res.body.data.runs.nodes.length).toBeGreaterThan(0);
      expect(res.body.data.runs.answeredBy).toEqual([
        { source: { id: 'tr' }, mode: 'LIVE', errorCode: null },
        { source: { id: 'et' }, mode: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE' },
      ]);
      expect(res.body.errors).toEqual([
        {
          message: expect.stringMatching(/^et is unavailable/),
          path: ['runs'],
          extensions: { code: 'UPSTREAM_UNAVAILABLE', source: 'et', status: 503, serviceName: 'rungraph' },
        },
      ]);
    });

    // What each router does with rungraph's errors where they differ (README, Federation): the
    // data, answeredBy included, arrives the same through both.
    test('errors of an aliased list, of a list two sources failed, and inside an entity fetch', async () => {
      stack.enterpriseTester!.server.injectFault({ status: 503, times: 1_000 });
      const aliased = await ask(router(), '{ builds(count: 1) { number } a: runs(first: 3, consistency: LIVE) { nodes { id } answeredBy { mode errorCode } } }');
      expect(aliased.body.data.a.answeredBy[1]).toEqual({ mode: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE' });
      // Apollo Gateway keeps the client's alias in the path; Hive Gateway names the field.
      expect(aliased.body.errors!.map((e) => e.path)).toEqual(key === 'apollo' ? [['a']] : [['runs']]);

      stack.testrail!.server.injectFault({ route: 'GET get_runs', status: 500, times: 1_000 });
      const both = await ask(router(), '{ runs(first: 3, consistency: LIVE) { nodes { id } answeredBy { source { id } mode errorCode } } }');
      expect(both.body.data.runs).toEqual({
        nodes: [],
        answeredBy: [
          { source: { id: 'tr' }, mode: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE' },
          { source: { id: 'et' }, mode: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE' },
        ],
      });
      // Two errors at one path: Apollo Gateway passes both, Hive Gateway 2.12 drops them.
      expect((both.body.errors ?? []).map((e) => e.extensions.source)).toEqual(key === 'apollo' ? ['tr', 'et'] : []);

      const nested = await ask(router(), '{ builds(count: 2) { number project { name runs(first: 2, consistency: LIVE) { nodes { id } } } } }');
      expect(nested.body.data.builds.map((b: any) => b.project.runs)).toEqual([null, null]);
      // Apollo Gateway maps each entity's error to its build; Hive Gateway puts both at the first.
      expect(nested.body.errors!.map((e) => e.path)).toEqual(
        key === 'apollo'
          ? [
              ['builds', 0, 'project', 'runs'],
              ['builds', 1, 'project', 'runs'],
            ]
          : [
              ['builds', 0, 'project', 'runs'],
              ['builds', 0, 'project', 'runs'],
            ],
      );
    });

    test("rungraph's response extensions (extensions.sync) stop at the router", async () => {
      const query = '{ runs(first: 3) { nodes { id } answeredBy { source { id } mode syncedAt } } }';
      const own = await stack.gql(query, undefined, { authorization: `Bearer ${API_KEY}` });
      expect(own.body.extensions.sync).toBeDefined();
      const res = await ask(router(), query);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data).toEqual(own.body.data);
      expect(res.body.extensions?.sync).toBeUndefined();
    });

    test('a mutation passes through, once', async () => {
      const store = stack.testrail!.store;
      const open = store.runsOf(DEMO_IDS.projects.nightly).filter((r) => r.plan_id === null && !r.is_completed);
      const run = open[key === 'hive' ? 0 : 1]!;
      const id = encodeId('Run', 'tr', [String(run.id), String(run.project_id)]);
      stack.testrail!.server.resetCounts();
      const res = await ask(router(), 'mutation($id: ID!) { closeRun(id: $id) { id isClosed ciJob { name } } }', { id });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.closeRun).toMatchObject({ id, isClosed: true });
      expect(store.run(run.id)!.is_completed).toBe(true);
      expect(stack.testrail!.server.count('POST close_run')).toBe(1);
    });
  });
});

