/**
 * The limits count what a client wrote, also when a router merged several fetches into one
 * document. Hive Gateway batches the parallel fetches of a plan step to one subgraph with
 * @graphql-tools/batch-execute: each fetch's root fields are aliased `_v<n>_<name>`, its variables
 * and fragments renamed `_v<n>_<name>`. Such a document is judged fetch by fetch (aliases, depth,
 * cost), and the prefix alias itself is not the client's. The merged documents here are written
 * by hand and made by batch-execute itself.
 */
import { createBatchingExecutor } from '@graphql-tools/batch-execute';
import { parse, print, type DocumentNode } from 'graphql';
import { buildSchema } from '../../src/graph';
import { encodeId } from '../../src/graph/ids';
import { operationCost } from '../../src/server/cost';
import { mergedParts, MAX_MERGED_PARTS } from '../../src/server/limits';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { startStack, type Stack } from '../support/stack';

const aliases = (prefix: string, count: number, field = 'name') => Array.from({ length: count }, (_, i) => `${prefix}${i}: ${field}`).join(' ');

/** Two entity fetches as Hive sends them merged: root aliases `_v0__entities`, variables `$_v0_representations`. */
const mergedEntities = (first: number, second: number) => `
  query($_v0_representations: [_Any!]!, $_v1_representations: [_Any!]!) {
    _v0__entities: _entities(representations: $_v0_representations) { __typename ... on Run { id ${aliases('a', first)} } }
    _v1__entities: _entities(representations: $_v1_representations) { __typename ... on Run { id ${aliases('b', second)} } }
  }`;

describe('limits on a router\'s merged document', () => {
  let stack: Stack;
  let runIds: string[];
  const representations = (ids: string[]) => ids.map((id) => ({ __typename: 'Run', id }));

  beforeAll(async () => {
    stack = await startStack();
    runIds = stack.testrail!.store.runsOf(DEMO_IDS.projects.nightly).slice(0, 4).map((r) => encodeId('Run', 'tr', [String(r.id), String(r.project_id)]));
  });
  afterAll(() => stack?.stop());

  test('two entity fetches of 15 aliases each (32 aliased fields in all) pass, as they do apart', async () => {
    const vars = { _v0_representations: representations(runIds.slice(0, 2)), _v1_representations: representations(runIds.slice(2, 4)) };
    const res = await stack.gql(mergedEntities(15, 15), vars);
    expect(res.body.errors).toBeUndefined();
    expect(res.status).toBe(200);
    expect(res.body.data._v0__entities.map((e: any) => e.id)).toEqual(runIds.slice(0, 2));
    expect(res.body.data._v1__entities[1].b14).toBe(res.body.data._v1__entities[1].b0);
    // The same selections alone pass too; 32 aliases in a document that is not a merge do not.
    const alone = await stack.gql(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Run { id ${aliases('a', 15)} } } }`, { r: vars._v0_representations });
    expect(alone.body.errors).toBeUndefined();
    const plain = await stack.gql(`query($r: [_Any!]!) { x: _entities(representations: $r) { ... on Run { id ${aliases('a', 31)} } } }`, { r: vars._v0_representations });
    expect(plain.status).toBe(400);
    expect(plain.body.errors[0].message).toBe('Alias limit exceeded: this document has 32 aliased fields; the limit (server.limits.maxAliases) is 30.');
  });

  test('one fetch of 31 aliases is still refused, naming the fetch', async () => {
    const vars = { _v0_representations: representations(runIds.slice(0, 1)), _v1_representations: representations(runIds.slice(1, 2)) };
    const res = await stack.gql(mergedEntities(2, 31), vars);
    expect(res.status).toBe(400);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].message).toBe(
      'Alias limit exceeded: fetch 1 of this merged document (one of 2 a router sent together) has 31 aliased fields; the limit (server.limits.maxAliases) is 30.',
    );
    expect(res.body.errors[0].extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'maxAliases', part: 1 });
  });

  test('a client alias on a merged root field counts; the prefix alone does not', async () => {
    // `_v0_mine: sources` is the client's alias `mine`; `_v1_sources: sources` is only the prefix.
    const doc = (n: number) => `{ _v0_mine: sources { ${aliases('s', n, 'id')} } _v1_sources: sources { id } }`;
    expect((await stack.gql(doc(29))).body.errors).toBeUndefined();
    const over = await stack.gql(doc(30));
    expect(over.body.errors[0].message).toMatch(/fetch 0 of this merged document .* has 31 aliased fields/);
  });

  test('a merged document made by batch-execute itself, with fragments and variables, is judged per fetch', async () => {
    const schema = buildSchema();
    const sent: Array<{ document: DocumentNode; variables: any }> = [];
    const executor = createBatchingExecutor(async (request: any) => {
      sent.push({ document: request.document, variables: request.variables });
      const res = await stack.gql(print(request.document), request.variables);
      return res.body as any;
    });
    const fetchOf = (prefix: string, count: number) =>
      parse(`query Entities($representations: [_Any!]!) { _entities(representations: $representations) { ...F } }
             fragment F on Run { id ${aliases(prefix, count)} }`);
    const context = {};
    const [a, b] = await Promise.all([
      executor({ document: fetchOf('a', 15), variables: { representations: representations(runIds.slice(0, 2)) }, context, operationType: 'query' } as any),
      executor({ document: fetchOf('b', 15), variables: { representations: representations(runIds.slice(2, 4)) }, context, operationType: 'query' } as any),
    ]);
    // One document reached rungraph, with the prefixes described above.
    expect(sent).toHaveLength(1);
    const text = print(sent[0]!.document);
    expect(text).toContain('_v0__entities: _entities(representations: $_v0_representations)');
    expect(text).toContain('_v1__entities: _entities(representations: $_v1_representations)');
    expect(text).toContain('fragment _v1_F on Run');
    expect(Object.keys(sent[0]!.variables).sort()).toEqual(['_v0_representations', '_v1_representations']);
    expect((text.match(/\b[ab]\d+: name/g) ?? []).length).toBe(30);
    expect((a as any).errors).toBeUndefined();
    expect((b as any).errors).toBeUndefined();
    expect((a as any).data._entities.map((e: any) => e.id)).toEqual(runIds.slice(0, 2));
    expect((b as any).data._entities[0].b14).toBeDefined();
    // And the same merge with one fetch over the limit: that fetch is refused (the router spreads the error to both).
    sent.length = 0;
    const [c] = await Promise.all([
      executor({ document: fetchOf('a', 3), variables: { representations: representations(runIds.slice(0, 1)) }, context, operationType: 'query' } as any),
      executor({ document: fetchOf('b', 31), variables: { representations: representations(runIds.slice(1, 2)) }, context, operationType: 'query' } as any),
    ]);
    expect(sent).toHaveLength(1);
    expect((c as any).errors[0].message).toMatch(/fetch 1 of this merged document .* has 31 aliased fields/);
    expect(mergedParts(sent[0]!.document.definitions[0] as any)!.map((p) => p.index)).toEqual([0, 1]);
    expect(schema.getQueryType()!.getFields()._entities).toBeDefined();
  });

  test('depth: each fetch may be as deep as the limit (12), one deeper is refused', async () => {
    // runs > nodes > project > runs > … > id: `levels` fields deep, rooted at the part's prefixed alias.
    const chain = ['runs(first: 1)', 'nodes', 'project'];
    const part = (index: number, levels: number) => {
      let text = 'id';
      for (let i = levels - 2; i >= 0; i--) text = `${i === 0 ? `_v${index}_runs: ` : ''}${chain[i % 3]} { ${text} }`;
      return text;
    };
    const ok = await stack.gql(`{ ${part(0, 12)} ${part(1, 12)} }`);
    expect(ok.body.errors).toBeUndefined();
    const over = await stack.gql(`{ ${part(0, 12)} ${part(1, 13)} }`);
    expect(over.status).toBe(400);
    expect(over.body.errors[0].message).toBe('Query depth limit exceeded: this operation is 13 levels deep; the limit (server.limits.maxDepth) is 12.');
  });

  test('cost: two fetches under the limit pass though they add up to more; one over is refused, naming the fetch', async () => {
    const schema = buildSchema();
    const fetchOf = (first: number) => `projects(first: 100) { nodes { id runs(first: ${first}) { nodes { id } } } }`;
    const costOf = (q: string) => operationCost(schema, parse(q).definitions[0] as any, new Map(), {}, { listSize: 1 });
    expect(costOf(`{ ${fetchOf(60)} }`)).toBeLessThan(20_000);
    expect(costOf(`{ a: ${fetchOf(60)} b: ${fetchOf(60)} }`)).toBeGreaterThan(20_000);
    expect(costOf(`{ ${fetchOf(100)} }`)).toBeGreaterThan(20_000);
    const ok = await stack.gql(`{ _v0_projects: ${fetchOf(60)} _v1_projects: ${fetchOf(60)} }`);
    expect(ok.body.errors).toBeUndefined();
    expect(ok.body.data._v0_projects.nodes.length).toBeGreaterThan(0);
    // Not a merge (no prefix): the same two selections are one operation over the limit.
    const whole = await stack.gql(`{ a: ${fetchOf(60)} b: ${fetchOf(60)} }`);
    expect(whole.body.errors[0].extensions).toMatchObject({ limit: 'maxCost' });
    const over = await stack.gql(`{ _v0_projects: ${fetchOf(60)} _v1_projects: ${fetchOf(100)} }`);
    expect(over.status).toBe(400);
    expect(over.body.errors[0].message).toMatch(/^Query cost limit exceeded: fetch 1 of this merged document \(one of 2 a router sent together\) could return up to \d+ fields/);
    expect(over.body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxCost', part: 1, maxCost: 20_000 });
  });

  test(`past ${MAX_MERGED_PARTS} fetches, or with an unprefixed variable, the document is judged whole`, async () => {
    // Each fetch: a client root alias and two aliases below = 3; 16 fetches pass one by one.
    const fetches = (n: number) => Array.from({ length: n }, (_, i) => `_v${i}_x: sources { a: id b: name }`).join(' ');
    expect((await stack.gql(`{ ${fetches(MAX_MERGED_PARTS)} }`)).body.errors).toBeUndefined();
    const many = await stack.gql(`{ ${fetches(MAX_MERGED_PARTS + 1)} }`);
    expect(many.body.errors[0].message).toBe(`Alias limit exceeded: this document has ${3 * (MAX_MERGED_PARTS + 1)} aliased fields; the limit (server.limits.maxAliases) is 30.`);
    const vars = { _v0_representations: representations(runIds.slice(0, 1)), representations: representations(runIds.slice(1, 2)) };
    const unprefixed = await stack.gql(
      `query($_v0_representations: [_Any!]!, $representations: [_Any!]!) {
        _v0__entities: _entities(representations: $_v0_representations) { ... on Run { ${aliases('a', 15)} } }
        _v1__entities: _entities(representations: $representations) { ... on Run { ${aliases('b', 15)} } } }`,
      vars,
    );
    expect(unprefixed.body.errors[0].message).toMatch(/this document has 32 aliased fields/);
  });
});

describe('mergedParts', () => {
  const op = (q: string) => parse(q).definitions[0] as any;
  test('splits root fields and root inline fragments (batch-execute\'s @defer wrappers) by prefix', () => {
    const parts = mergedParts(op(`{ ... @defer(label: "batch_0") { _v0_a: run(id: "1") { id } } ... @defer(label: "batch_1") { _v1_run: run(id: "2") { id } } _v1_s: sources { id } }`));
    expect(parts!.map((p) => [p.index, p.selectionSet.selections.length])).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(mergedParts(op(`{ _0_a: sources { id } _1_b: sources { id } }`))!.map((p) => p.index)).toEqual([0, 1]);
  });
  test('is undefined for a document that is not a merge', () => {
    expect(mergedParts(op(`{ _v0_a: sources { id } }`))).toBeUndefined(); // one fetch is never merged
    expect(mergedParts(op(`{ _v0_a: sources { id } b: sources { id } }`))).toBeUndefined();
    expect(mergedParts(op(`{ _v0_a: sources { id } sources { id } }`))).toBeUndefined();
    expect(mergedParts(op(`{ _v0_a: sources { id } ...F } fragment F on Query { sources { id } }`))).toBeUndefined();
    expect(mergedParts(op(`query($_v2_x: ID!) { _v0_a: run(id: $_v2_x) { id } _v1_b: sources { id } }`))).toBeUndefined();
  });
});
