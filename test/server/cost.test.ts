/**
 * The query cost limit (src/server/cost.ts). The expected costs below are worked out by hand from
 * the rule "every field counts once per time it can be resolved; lists multiply" — written next to
 * each case — not produced by the code under test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { buildSchema } from '../../src/graph';
import { operationCost } from '../../src/server/cost';
import { DEFAULT_SERVER } from '../../src/server/config';
import { startStack, type Stack } from '../support/stack';

const schema = buildSchema();

function cost(query: string, variables: Record<string, unknown> = {}, listSize = 3): number {
  const doc = parse(query);
  const operation = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  return operationCost(schema, operation, fragments, variables, { listSize });
}

describe('the cost estimate', () => {
  test.each([
    // sources (list of 3 sources) × (1 + id) = 3 × 2
    ['{ sources { id } }', {}, 6],
    // runs 1 + nodes 10 × (1 + id + name) = 1 + 30
    ['{ runs(first: 10) { nodes { id name } } }', {}, 31],
    // the schema's default first (50): 1 + 50 × 2
    ['{ runs { nodes { id } } }', {}, 101],
    // first: null means the default
    ['{ runs(first: null) { nodes { id } } }', {}, 101],
    // a variable, and a variable's own default
    ['query ($n: Int) { runs(first: $n) { nodes { id } } }', { n: 4 }, 9],
    ['query ($n: Int = 7) { runs(first: $n) { nodes { id } } }', {}, 15],
    // edges and nodes both repeat: 1 + pageInfo (1 + 1) + edges 5 × (1 + cursor + node (1 + id)) + nodes 5 × (1 + id)
    ['{ runs(first: 5) { pageInfo { hasNextPage } edges { cursor node { id } } nodes { id } } }', {}, 1 + 2 + 5 * 4 + 5 * 2],
    // nesting multiplies: runs 1 + 10 × (nodes-item 1 + project (1 + runs (1 + 20 × (1 + id))))
    ['{ runs(first: 10) { nodes { project { runs(first: 20) { nodes { id } } } } } }', {}, 1 + 10 * (1 + 1 + 1 + 20 * 2)],
    // __typename and introspection cost nothing
    ['{ __typename __schema { types { name fields { name } } } sources { __typename id } }', {}, 6],
    // @skip and @include are honoured
    ['query ($s: Boolean!) { sources @skip(if: $s) { id } runs(first: 1) @include(if: false) { nodes { id } } }', { s: true }, 0],
    // a fragment counts where it is spread, once per spread
    ['{ runs(first: 2) { nodes { ...F } } } fragment F on Run { id name }', {}, 1 + 2 * 3],
    // an interface costs its most expensive type: Run's part (1 + id + project (1 + name)) beats Project's (name)
    ['{ node(id: "x") { id ... on Run { project { name } } ... on Project { name } } }', {}, 1 + 1 + 2],
    // federation: one per representation
    ['query ($r: [_Any!]!) { _entities(representations: $r) { ... on Run { id name } } }', { r: [{}, {}, {}, {}] }, 4 * 3],
    // first: 0 asks for no rows
    ['{ runs(first: 0) { pageInfo { hasNextPage } nodes { id } } }', {}, 1 + 2],
  ])('%s costs as counted by hand', (query, variables, expected) => {
    expect(cost(query, variables)).toBe(expected);
  });

  test('every contract operation fits the default limit at first: 100, and with room to spare at its own defaults', () => {
    const dir = join(__dirname, '..', '..', '..', 'shared', 'contract', 'operations');
    const files = readdirSync(dir).filter((f) => f.endsWith('.graphql'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const doc = parse(readFileSync(join(dir, file), 'utf8'));
      for (const def of doc.definitions) {
        if (def.kind !== Kind.OPERATION_DEFINITION) continue;
        const fragments = new Map<string, FragmentDefinitionNode>();
        for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
        const atMost = operationCost(schema, def, fragments, { first: 100 }, { listSize: 3 });
        const asWritten = operationCost(schema, def, fragments, {}, { listSize: 3 });
        expect({ file, atMost: atMost <= DEFAULT_SERVER.limits.maxCost, asWritten: asWritten <= DEFAULT_SERVER.limits.maxCost / 4 }).toEqual({ file, atMost: true, asWritten: true });
      }
    }
  });
});

describe('the cost limit over HTTP', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ qacomplete: {}, enterpriseTester: {} });
  });
  afterAll(() => stack.stop());

  test('the nested query of issue #12 is refused before anything runs, naming its cost and the limit', async () => {
    stack.testrail!.server.resetCounts();
    const res = await stack.gql('{ runs(first:100) { nodes { project { runs(first:100) { nodes { project { runs(first:100) { nodes { id } } } } } } } } }');
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    const [error] = res.body.errors;
    // runs 1 + 100 × (1 + project 1 + runs 1 + 100 × (1 + 1 + 1 + 100 × (1 + 1)))
    const expected = 1 + 100 * (3 + 100 * (3 + 100 * 2));
    expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', limit: 'maxCost', cost: expected, maxCost: DEFAULT_SERVER.limits.maxCost });
    expect(error.message).toContain(`up to ${expected} fields; the limit (server.limits.maxCost) is ${DEFAULT_SERVER.limits.maxCost}`);
    expect(stack.testrail!.server.count()).toBe(0);
    expect(stack.qacomplete!.server.count()).toBe(0);
    expect(stack.enterpriseTester!.server.count()).toBe(0);
  });

  test('variables decide: the same document passes with a small first and is refused with a large one', async () => {
    const query = 'query ($n: Int) { runs(first: $n) { nodes { project { runs(first: $n) { nodes { id name } } } } } }';
    const small = await stack.gql(query, { n: 5 });
    expect(small.status).toBe(200);
    expect(small.body.errors).toBeUndefined();
    expect(small.body.data.runs.nodes).toHaveLength(5);
    const large = await stack.gql(query, { n: 100 });
    expect(large.status).toBe(400);
    expect(large.body.errors[0].extensions.limit).toBe('maxCost');
  });

  test('the explorer\'s introspection query is never refused', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const res = await stack.gql(getIntrospectionQuery());
    expect(res.status).toBe(200);
    expect(res.body.data.__schema.queryType.name).toBe('Query');
  });
});

describe('a configured cost limit', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ server: { limits: { maxCost: 100 } } });
  });
  afterAll(() => stack.stop());

  test('an operation costing exactly maxCost runs; one more item is refused', async () => {
    const ok = await stack.gql('{ runs(first: 33) { nodes { id name } } }'); // 1 + 33 × 3 = 100
    expect(ok.body.errors).toBeUndefined();
    expect(ok.body.data.runs.nodes).toHaveLength(33);
    const over = await stack.gql('{ runs(first: 34) { nodes { id name } } }'); // 1 + 34 × 3 = 103
    expect(over.status).toBe(400);
    expect(over.body.errors[0].extensions).toMatchObject({ cost: 103, maxCost: 100 });
  });
});

describe('a configured response size cap', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ server: { limits: { maxResponseBytes: 1024 } } });
  });
  afterAll(() => stack.stop());

  test('a query answer over maxResponseBytes is replaced by an error that names the limit', async () => {
    const res = await stack.gql('{ runs(first: 24) { nodes { id name createdAt } } sources { id } }'); // 1 + 96 + 2 = 99
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors[0].extensions).toEqual({ code: 'BAD_USER_INPUT', limit: 'maxResponseBytes' });
    expect(res.body.errors[0].message).toMatch(/would be \d+ bytes, over the limit \(server\.limits\.maxResponseBytes = 1024 bytes\)/);
    expect(res.text.length).toBeLessThan(1024);
  });

  test('a mutation answer is never cut, whatever its size: it may report a write', async () => {
    const before = stack.testrail!.server.count(/add_run/);
    const res = await stack.gql(
      `mutation { a: addRun(input: { projectId: $p, name: "${'n'.repeat(2500)}" }) { id name } }`.replace(
        '$p',
        JSON.stringify((await stack.gql('{ projects(first: 1) { nodes { id } } }')).body.data.projects.nodes[0].id),
      ),
    );
    expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
    expect(stack.testrail!.server.count(/add_run/)).toBe(before + 1);
    expect(res.text.length).toBeGreaterThan(1024);
    expect(res.body.data.a.name).toHaveLength(2500);
  });
});
