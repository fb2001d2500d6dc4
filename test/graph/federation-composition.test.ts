/**
 * rungraph's subgraph SDL as composers read it: `_service { sdl }` holds one `type Query` and one
 * `type Mutation` (the SDL files extend Query per domain; src/graph/index.ts folds them), and both
 * Apollo's composition and The Guild's keep every root field, next to a subgraph that extends Run
 * and references Project, with no error and no hint. With `server.federation.node: false` rungraph
 * composes next to a subgraph that owns `Query.node`.
 */
import { composeServices as composeApollo } from '@apollo/composition';
import { composeServices as composeGuild } from '@theguild/federation-composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { buildASTSchema, graphql, Kind, parse, visit, type DocumentNode, type GraphQLObjectType } from 'graphql';
import { buildSchema, foldTypeExtensions, loadTypeDefs } from '../../src/graph';
import { ConfigError, DEFAULT_SERVER, parseConfig } from '../../src/server/config';
import { startStack } from '../support/stack';

/** A CI subgraph: builds that point at rungraph's runs, a CI job link on Run, Project by reference. */
const CI_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Build @key(fields: "id") { id: ID! number: Int! run: Run project: Project }
  type CiJob { name: String! url: String! }
  type Run @key(fields: "id") { id: ID! ciJob: CiJob }
  type Project @key(fields: "id", resolvable: false) { id: ID! }
  type Query { builds(count: Int!): [Build!]! build(id: ID!): Build }
  type Mutation { triggerBuild(runId: ID!): Build }
`;

/** A Relay-style subgraph that owns `Query.node` for its own types. */
const CATALOG_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  interface Node { id: ID! }
  type Product implements Node @key(fields: "id") { id: ID! title: String! }
  type Query { node(id: ID!): Node products: [Product!]! }
`;

const ROOT_FIELDS = ['host', 'hosts', 'node', 'project', 'projects', 'run', 'runs', 'sources'];
const MUTATIONS = ['addRun', 'closeRun', 'deleteRun', 'restartRun'];

async function serviceSdl(options?: { node?: boolean }): Promise<string> {
  const res = await graphql({ schema: buildSchema(options), source: '{ _service { sdl } }' });
  expect(res.errors).toBeUndefined();
  return (res.data as any)._service.sdl;
}

/**
 * How Mesh Compose 1.8 reads a federation subgraph (compose-cli's loadGraphQLHTTPSubgraph with
 * `federation: true`, not installed here: it needs Node 22): it fetches `_service { sdl }`, turns
 * every `extend type X` into `type X @extends`, and builds a schema from that, in which a later
 * definition of a name replaces an earlier one.
 */
function meshReads(sdl: string) {
  const asDefinitions = visit(parse(sdl), {
    [Kind.OBJECT_TYPE_EXTENSION]: (node) => ({
      ...node,
      kind: Kind.OBJECT_TYPE_DEFINITION,
      directives: [...(node.directives ?? []), { kind: Kind.DIRECTIVE, name: { kind: Kind.NAME, value: 'extends' } }],
    }),
  }) as DocumentNode;
  return buildASTSchema(asDefinitions, { assumeValidSDL: true, assumeValid: true });
}

const fieldsOf = (sdl: string, type: string) => Object.keys((buildASTSchema(parse(sdl), { assumeValidSDL: true }).getType(type) as GraphQLObjectType).getFields()).sort();
const messages = (list: readonly { message: string }[] | undefined) => (list ?? []).map((e) => e.message);

describe('subgraph SDL', () => {
  let sdl: string;
  beforeAll(async () => {
    sdl = await serviceSdl();
  });

  test('the SDL files still extend Query per domain', () => {
    expect(loadTypeDefs().match(/extend type Query/g)!.length).toBeGreaterThanOrEqual(4);
  });

  test('_service { sdl } has one type Query and one type Mutation, no extension blocks', () => {
    expect(sdl.match(/^type Query\b/gm)).toHaveLength(1);
    expect(sdl.match(/^type Mutation\b/gm)).toHaveLength(1);
    expect(sdl).not.toMatch(/^extend type/m);
    expect(sdl).not.toMatch(/@extends/);
    const doc = parse(sdl);
    const query = doc.definitions.find((d: any) => d.name?.value === 'Query') as any;
    // buildSubgraphSchema adds _entities and _service to the one Query.
    expect(query.fields.map((f: any) => f.name.value).sort()).toEqual(['_entities', '_service', ...ROOT_FIELDS]);
  });

  test("Mesh Compose's reading keeps every root field (it kept only the last extension block before the fold)", async () => {
    const query = meshReads(sdl).getQueryType()!;
    expect(Object.keys(query.getFields()).filter((f) => !f.startsWith('_')).sort()).toEqual(ROOT_FIELDS);
    expect(Object.keys(meshReads(sdl).getMutationType()!.getFields()).sort()).toEqual(MUTATIONS);
    // The SDL as it was, built from the files unfolded: one extension block's fields survive.
    const unfolded = (await graphql({ schema: buildSubgraphSchema({ typeDefs: parse(loadTypeDefs()) }), source: '{ _service { sdl } }' })).data as any;
    expect(unfolded._service.sdl).toMatch(/^extend type Query/m);
    expect(Object.keys(meshReads(unfolded._service.sdl).getQueryType()!.getFields()).filter((f) => !f.startsWith('_')).sort()).toEqual(['sources']);
  });

  test('folding keeps every field, interface and directive, and leaves foreign extensions alone', () => {
    const folded = foldTypeExtensions(
      parse(`
        "The root" type Query { a: Int }
        type T @key(fields: "id") { id: ID! }
        extend type Query { b: Int }
        extend type T implements Node @shareable { c: Int }
        extend type Mutation { m: Int }
        extend type Mutation { n: Int }
        extend type Foreign @key(fields: "id") { id: ID! }
      `),
    );
    const byName = Object.fromEntries(folded.definitions.map((d: any) => [d.name.value, d]));
    expect(folded.definitions.map((d: any) => `${d.kind}:${d.name.value}`)).toEqual([
      'ObjectTypeDefinition:Query',
      'ObjectTypeDefinition:T',
      'ObjectTypeDefinition:Mutation',
      'ObjectTypeExtension:Foreign',
    ]);
    expect(byName.Query.description.value).toBe('The root');
    expect(byName.Query.fields.map((f: any) => f.name.value)).toEqual(['a', 'b']);
    expect(byName.T.fields.map((f: any) => f.name.value)).toEqual(['id', 'c']);
    expect(byName.T.interfaces.map((i: any) => i.name.value)).toEqual(['Node']);
    expect(byName.T.directives.map((d: any) => d.name.value)).toEqual(['key', 'shareable']);
    expect(byName.Mutation.fields.map((f: any) => f.name.value)).toEqual(['m', 'n']);
  });

  test("Apollo's composition: every root field, next to a CI subgraph, no errors and no hints", () => {
    const composed = composeApollo([
      { name: 'rungraph', typeDefs: parse(sdl), url: 'http://127.0.0.1:1/graphql' },
      { name: 'ci', typeDefs: parse(CI_SDL), url: 'http://127.0.0.1:2/graphql' },
    ]);
    expect(messages(composed.errors)).toEqual([]);
    expect(composed.hints!.map((h) => `${h.definition.code}: ${h.message}`)).toEqual([]);
    const api = composed.schema!.toAPISchema().toGraphQLJSSchema();
    expect(Object.keys(api.getQueryType()!.getFields()).sort()).toEqual([...ROOT_FIELDS, 'build', 'builds'].sort());
    expect(Object.keys(api.getMutationType()!.getFields()).sort()).toEqual([...MUTATIONS, 'triggerBuild'].sort());
    expect(Object.keys((api.getType('Run') as GraphQLObjectType).getFields())).toEqual(expect.arrayContaining(['name', 'status', 'ciJob']));
  });

  test("The Guild's composition: every root field, next to a CI subgraph, no errors", () => {
    const composed = composeGuild([
      { name: 'rungraph', typeDefs: parse(sdl), url: 'http://127.0.0.1:1/graphql' },
      { name: 'ci', typeDefs: parse(CI_SDL), url: 'http://127.0.0.1:2/graphql' },
    ]);
    expect(messages(composed.errors)).toEqual([]);
    expect(fieldsOf(composed.publicSdl!, 'Query')).toEqual([...ROOT_FIELDS, 'build', 'builds'].sort());
    expect(fieldsOf(composed.publicSdl!, 'Mutation')).toEqual([...MUTATIONS, 'triggerBuild'].sort());
    expect(fieldsOf(composed.publicSdl!, 'Run')).toEqual(expect.arrayContaining(['name', 'status', 'ciJob']));
  });

  test('rungraph alone composes with every root field in both composers', () => {
    const apollo = composeApollo([{ name: 'rungraph', typeDefs: parse(sdl), url: 'http://127.0.0.1:1/graphql' }]);
    expect(messages(apollo.errors)).toEqual([]);
    expect(Object.keys(apollo.schema!.toAPISchema().toGraphQLJSSchema().getQueryType()!.getFields()).sort()).toEqual(ROOT_FIELDS);
    const guild = composeGuild([{ name: 'rungraph', typeDefs: parse(sdl), url: 'http://127.0.0.1:1/graphql' }]);
    expect(messages(guild.errors)).toEqual([]);
    expect(fieldsOf(guild.publicSdl!, 'Query')).toEqual(ROOT_FIELDS);
  });
});

describe('Query.node next to a subgraph that owns it', () => {
  test('with node on (the default) both composers refuse: Query.node is not shareable', async () => {
    const sdl = await serviceSdl();
    const services = [
      { name: 'rungraph', typeDefs: parse(sdl), url: 'http://127.0.0.1:1/graphql' },
      { name: 'catalog', typeDefs: parse(CATALOG_SDL), url: 'http://127.0.0.1:3/graphql' },
    ];
    expect(messages(composeApollo(services).errors).join('\n')).toMatch(/Non-shareable field "Query.node" is resolved from multiple subgraphs/);
    expect(composeApollo(services).errors!.map((e) => e.extensions.code)).toContain('INVALID_FIELD_SHARING');
    expect(messages(composeGuild(services).errors).join('\n')).toMatch(/Query\.node/);
  });

  test('with server.federation.node false: no Query.node in rungraph, run/project/host kept, composition clean', async () => {
    const sdl = await serviceSdl({ node: false });
    const query = parse(sdl).definitions.find((d: any) => d.name?.value === 'Query') as any;
    expect(query.fields.map((f: any) => f.name.value).sort()).toEqual(['_entities', '_service', ...ROOT_FIELDS.filter((f) => f !== 'node')]);
    const services = [
      { name: 'rungraph', typeDefs: parse(sdl), url: 'http://127.0.0.1:1/graphql' },
      { name: 'catalog', typeDefs: parse(CATALOG_SDL), url: 'http://127.0.0.1:3/graphql' },
      { name: 'ci', typeDefs: parse(CI_SDL), url: 'http://127.0.0.1:2/graphql' },
    ];
    const apollo = composeApollo(services);
    expect(messages(apollo.errors)).toEqual([]);
    expect(apollo.hints!.map((h) => `${h.definition.code}: ${h.message}`)).toEqual([]);
    const api = apollo.schema!.toAPISchema().toGraphQLJSSchema();
    expect(Object.keys(api.getQueryType()!.getFields())).toEqual(expect.arrayContaining([...ROOT_FIELDS, 'products']));
    const guild = composeGuild(services);
    expect(messages(guild.errors)).toEqual([]);
    expect(fieldsOf(guild.publicSdl!, 'Query')).toEqual(expect.arrayContaining([...ROOT_FIELDS, 'products']));
  });

  test('with node off the schema still answers run, project and host lookups (no node resolver left behind)', async () => {
    const schema = buildSchema({ node: false });
    expect(schema.getQueryType()!.getFields().node).toBeUndefined();
    expect(Object.keys(schema.getQueryType()!.getFields())).toEqual(expect.arrayContaining(['run', 'project', 'host', '_entities', '_service']));
    // Node stays an interface of Run, Project and Host, so fragments on it keep working.
    expect(schema.getPossibleTypes(schema.getType('Node') as never).map((t) => t.name).sort()).toEqual(['Host', 'Project', 'Run']);
  });

  test('a gateway started with server.federation { node: false } serves that schema; with introspection off, _service still answers', async () => {
    const stack = await startStack({ server: { federation: { node: false }, introspection: false } });
    try {
      // What Mesh Compose needs `federation: true` for: introspection is refused, _service is not.
      const introspection = await stack.gql('{ __schema { queryType { name } } }');
      expect(introspection.status).toBe(400);
      const sdl = (await stack.gql('{ _service { sdl } }')).body.data._service.sdl as string;
      expect(sdl).toMatch(/^type Query\b/m);
      expect(sdl).not.toMatch(/^\s*node\(id: ID!\): Node/m);
      const runs = (await stack.gql('{ runs(first: 1) { nodes { id name } } }')).body.data.runs.nodes;
      const run = await stack.gql('query($id: ID!) { run(id: $id) { id name } }', { id: runs[0].id });
      expect(run.body).toEqual({ data: { run: runs[0] } });
      const node = await stack.gql('query($id: ID!) { node(id: $id) { id } }', { id: runs[0].id });
      expect(node.status).toBe(400);
      expect(node.body.errors[0].message).toBe('Cannot query field "node" on type "Query".');
    } finally {
      await stack.stop();
    }
  });
});

describe('server.federation config', () => {
  const source = { id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl: 'https://example.testrail.io/', auth: { username: 'qa@example.com', password: 'p' } };
  const problems = (federation: unknown) => {
    try {
      parseConfig({ server: { federation }, sources: [source] }, 'test.json', {});
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  test('node defaults to true; false turns it off without touching the default', () => {
    expect(parseConfig({ sources: [source] }, 't', {}).server.federation).toEqual({ node: true });
    expect(parseConfig({ server: { federation: { node: false } }, sources: [source] }, 't', {}).server.federation).toEqual({ node: false });
    expect(DEFAULT_SERVER.federation).toEqual({ node: true });
    expect(parseConfig({ server: { federation: {} }, sources: [source] }, 't', {}).server.federation).toEqual({ node: true });
  });

  test('a wrong value or an unknown key is named', () => {
    expect(problems({ node: 'no' })).toEqual(['server.federation.node: must be true or false']);
    expect(problems({ nodes: false })).toEqual(['server.federation.nodes: unknown key (allowed: node)']);
    expect(problems(true)).toEqual(['server.federation: must be an object']);
  });
});
