/**
 * Every example in README.md runs against the demo (`npm start` without a config: the built-in
 * simulators and the gateway), so the README cannot drift from what the API does.
 *
 * The README's conventions, which this test enforces:
 * - every ```graphql block is executed, in README order, and must answer 200 with data and no
 *   errors; a block that is not meant to run on rungraph says so in its fence
 *   (```graphql-other-subgraph: another subgraph's schema), and any other `graphql…` fence fails;
 * - an operation that declares variables takes them from the ```json block right after it; every
 *   id among them (a value under a key ending in `Id` or `Ids`) must appear in the answer of an
 *   earlier block, so the README shows where each id comes from;
 * - the GraphQL body of every `curl … -d '…'` in a ```sh block is sent as it stands.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, OperationTypeNode, Kind } from 'graphql';
import { startGateway, type Gateway } from '../../src/server/app';
import { startDemo, type Demo } from '../../src/simulators/demo';
import { silentLogger } from '../../src/server/log';
import { SOURCE_KINDS } from '../../src/sources/registry';

/** Fences that hold GraphQL which is not meant to run against rungraph, and why. */
const NOT_EXECUTED: Record<string, string> = {
  'graphql-other-subgraph': "another subgraph's schema, composed with rungraph in a supergraph",
};

interface Fence {
  info: string;
  body: string;
  /** 1-based line of the opening fence, for failure messages. */
  line: number;
}

function fencesOf(markdown: string): Fence[] {
  const fences: Fence[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((line, j) => j > i && /^```\s*$/.test(line));
    if (end < 0) throw new Error(`README.md:${i + 1}: a fence that is never closed`);
    fences.push({ info: open[1], body: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return fences;
}

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const FENCES = fencesOf(README);

let demo: Demo;
let gateway: Gateway;
beforeAll(async () => {
  demo = await startDemo();
  const sources = demo.sources.map((s) => SOURCE_KINDS[s.kind]!.create(s, silentLogger));
  gateway = await startGateway({ sources, log: silentLogger, port: 0 });
});
afterAll(async () => {
  await gateway?.stop();
  await demo?.stop();
});

async function post(body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(gateway.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

/** Every string in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

/** The values under keys ending in `Id` / `Ids` (projectId, suiteId, caseIds, …). */
function ids(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(ids);
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => (/(Id|Ids)$/.test(key) ? strings(v) : ids(v)));
}

test('the README has GraphQL examples, and every graphql… fence is executed or marked as not meant to run', () => {
  const graphql = FENCES.filter((f) => f.info.startsWith('graphql'));
  expect(graphql.filter((f) => f.info === 'graphql').length).toBeGreaterThanOrEqual(3);
  for (const fence of graphql) {
    if (fence.info !== 'graphql' && !(fence.info in NOT_EXECUTED)) throw new Error(`README.md:${fence.line}: unknown fence \`${fence.info}\`; use graphql (executed) or one of ${Object.keys(NOT_EXECUTED).join(', ')}`);
  }
});

test('every ```graphql block runs on the demo without errors, in README order, with the variables after it', async () => {
  const answers: unknown[] = [];
  for (const [index, fence] of FENCES.entries()) {
    if (fence.info !== 'graphql') continue;
    const document = parse(fence.body);
    const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
    expect(operations).toHaveLength(1);
    const declared = operations[0].kind === Kind.OPERATION_DEFINITION ? (operations[0].variableDefinitions ?? []) : [];
    let variables: Record<string, unknown> | undefined;
    if (declared.length > 0) {
      const next = FENCES[index + 1];
      if (next?.info !== 'json') throw new Error(`README.md:${fence.line}: the operation declares variables but no \`\`\`json block with them follows`);
      variables = JSON.parse(next.body);
      const known = new Set(answers.flatMap(strings));
      for (const id of ids(variables)) {
        if (!known.has(id)) throw new Error(`README.md:${next.line}: the id "${id}" appears in no earlier example's answer; show where it comes from`);
      }
    }
    const { status, json } = await post({ query: fence.body, variables });
    if (json.errors) throw new Error(`README.md:${fence.line}: ${JSON.stringify(json.errors)}`);
    expect(status).toBe(200);
    expect(json.data).toBeTruthy();
    for (const value of Object.values(json.data)) expect(value).not.toBeNull();
    answers.push(json.data);
  }
  // The README shows how to find valid addRun inputs before using them.
  const kinds = FENCES.filter((f) => f.info === 'graphql').map((f) => parse(f.body).definitions[0]);
  expect(kinds.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation === OperationTypeNode.MUTATION)).toBe(true);
});

test('the GraphQL body of every curl example in the README answers without errors', async () => {
  const bodies = FENCES.filter((f) => f.info === 'sh')
    .flatMap((f) => [...f.body.replace(/\\\n\s*/g, ' ').matchAll(/curl\s[^\n]*?-d\s+'([^']*)'/g)].map((m) => ({ line: f.line, body: m[1] })));
  expect(bodies.length).toBeGreaterThanOrEqual(1);
  for (const { line, body } of bodies) {
    const { status, json } = await post(JSON.parse(body));
    if (json.errors) throw new Error(`README.md:${line}: ${JSON.stringify(json.errors)}`);
    expect(status).toBe(200);
    expect(Object.values(json.data).every((v) => v !== null)).toBe(true);
  }
});
