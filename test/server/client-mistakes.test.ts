/**
 * A client's mistake gets a client's answer: a 4xx or a coded error whose message says what to
 * change, and an info log line without a stack — never "Internal server error" and an error log.
 */
import { createHash } from 'node:crypto';
import { startStack, type Stack } from '../support/stack';

describe('client mistakes', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.stop());

  const post = (body: string, contentType = 'application/json') =>
    fetch(stack.gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': contentType }, body });

  function expectNoServerFaultLogged(): void {
    const faults = stack.logs.map((l) => JSON.parse(l)).filter((l) => l.level >= 50 || JSON.stringify(l).includes('"stack"'));
    expect(faults).toEqual([]);
  }

  test('a subscription on a schema without subscriptions is a 400 validation error that says what to send', async () => {
    const res = await stack.gql('subscription { runs { nodes { id } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/has no subscriptions: send a query or a mutation/),
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      }),
    ]);
    expectNoServerFaultLogged();
  });

  test('a persisted query whose hash is not the query\'s SHA-256 is a 400 that names both hashes', async () => {
    const query = '{ sources { id } }';
    const res = await post(JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash: 'abc123' } } }));
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    const actual = createHash('sha256').update(query).digest('hex');
    expect(body.errors[0].extensions).toEqual({ code: 'PERSISTED_QUERY_HASH_MISMATCH' });
    expect(body.errors[0].message).toContain('abc123');
    expect(body.errors[0].message).toContain(actual);
    expectNoServerFaultLogged();
  });

  test('a persisted query with the right hash runs, and is then found by its hash alone (APQ)', async () => {
    const query = '{ sources { id kind } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const first = await post(JSON.stringify({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } }));
    expect(await first.json()).toEqual({ data: { sources: [{ id: 'tr', kind: 'TESTRAIL' }] } });
    const second = await post(JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash } } }));
    expect(await second.json()).toEqual({ data: { sources: [{ id: 'tr', kind: 'TESTRAIL' }] } });
  });

  test('a GET with a mismatched persisted-query hash is refused the same way', async () => {
    const params = new URLSearchParams({ query: '{ sources { id } }', extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: 'f00' } }) });
    const res = await fetch(`${stack.gateway.graphqlUrl}?${params}`, { headers: { 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
  });

  test.each([
    ['{"query": ', /not valid JSON \(.+\)\. Send \{"query"/],
    ['', /not valid JSON \(the body is empty\)/],
    ["{'query': '{ sources { id } }'}", /not valid JSON/],
  ])('a JSON body that does not parse (%j) is a 400 that says so', async (body, message) => {
    const before = stack.testrail!.server.count();
    const res = await post(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as any;
    expect(json.errors[0].extensions).toEqual({ code: 'BAD_REQUEST' });
    expect(json.errors[0].message).toMatch(message);
    expect(stack.testrail!.server.count()).toBe(before);
  });

  test('runs(first: 0) gives no rows and a cursor that starts the walk: hasNextPage with a null endCursor would loop', async () => {
    const res = await stack.gql('{ runs(first: 0) { pageInfo { hasNextPage endCursor } nodes { id } } }');
    expect(res.body.errors).toBeUndefined();
    const { pageInfo, nodes } = res.body.data.runs;
    expect(nodes).toEqual([]);
    expect(pageInfo.hasNextPage).toBe(true);
    expect(typeof pageInfo.endCursor).toBe('string');
    const next = await stack.gql('query ($after: String) { runs(first: 3, after: $after) { nodes { id } } }', { after: pageInfo.endCursor });
    const first = await stack.gql('{ runs(first: 3) { nodes { id } } }');
    expect(next.body.data.runs.nodes).toEqual(first.body.data.runs.nodes);
    expect(next.body.data.runs.nodes).toHaveLength(3);

    const projects = await stack.gql('{ projects(first: 0) { pageInfo { hasNextPage endCursor } } }');
    const { endCursor } = projects.body.data.projects.pageInfo;
    expect(projects.body.data.projects.pageInfo.hasNextPage).toBe(true);
    const fromThere = await stack.gql('query ($after: String) { projects(first: 2, after: $after) { nodes { id } } }', { after: endCursor });
    expect(fromThere.body.data.projects.nodes).toEqual((await stack.gql('{ projects(first: 2) { nodes { id } } }')).body.data.projects.nodes);
  });
});
