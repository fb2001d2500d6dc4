/**
 * The fault matrix: every vendor × every fault × {query, mutation}, each cell asserted — what the
 * client gets (data or error code), how many attempts reached the vendor, how many writes. The same
 * table is docs/fault-matrix.md, and the last test fails whenever the file says anything else, so
 * the docs cannot drift from the behaviour: after changing the table here, regenerate the file with
 * `UPDATE_FAULT_MATRIX=1 npx jest test/http/fault-matrix.test.ts` and commit it.
 * A read is `run(id)`; a write is `addRun`. The fault is injected on exactly the route the
 * operation reads or writes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeId } from '../../src/graph/ids';
import { DEMO_ASSIGNMENTS, DEMO_PROJECTS, DEMO_RUNS, ET_ROUTES } from '../../src/simulators/enterprise-tester';
import type { Fault, SimulatorServer } from '../../src/simulators/harness';
import { QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_ROUTES } from '../../src/simulators/qacomplete';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { operation, startStack, type Stack, type StackOptions } from '../support/stack';

const TIMEOUT_MS = 400;
const MAX_RESPONSE_BYTES = 256 * 1024;

interface Vendor {
  name: string;
  sourceId: string;
  options: StackOptions;
  sim(stack: Stack): SimulatorServer;
  readRoute: string;
  writeRoute: string;
  runId: string;
  addRunInput: Record<string, unknown>;
}

const VENDORS: Vendor[] = [
  {
    name: 'TestRail',
    sourceId: 'tr',
    options: {},
    sim: (s) => s.testrail!.server,
    readRoute: 'GET get_run',
    writeRoute: 'POST add_run',
    runId: encodeId('Run', 'tr', [String(DEMO_IDS.runs.completed), '1']),
    addRunInput: { projectId: encodeId('Project', 'tr', ['1']), name: 'fault matrix' },
  },
  {
    name: 'QAComplete',
    sourceId: 'qac',
    options: { testrail: false, qacomplete: {} },
    sim: (s) => s.qacomplete!.server,
    readRoute: QACOMPLETE_ROUTES.getRun,
    writeRoute: QACOMPLETE_ROUTES.createRun,
    runId: encodeId('Run', 'qac', ['831203', String(QACOMPLETE_DEMO_PROJECTS.checkoutWeb)]),
    addRunInput: { projectId: encodeId('Project', 'qac', [String(QACOMPLETE_DEMO_PROJECTS.checkoutWeb)]), qacomplete: { testSetId: '40100' } },
  },
  {
    name: 'Enterprise Tester',
    sourceId: 'et',
    options: { testrail: false, enterpriseTester: {} },
    sim: (s) => s.enterpriseTester!.server,
    readRoute: ET_ROUTES.scriptRun,
    writeRoute: ET_ROUTES.createRun,
    runId: encodeId('Run', 'et', [DEMO_RUNS.completedPassed]),
    addRunInput: { projectId: encodeId('Project', 'et', [DEMO_PROJECTS.mobile]), enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.mobilePassed } },
  },
];

interface Expectation {
  /** 'data' or the error code. */
  outcome: string;
  attempts: number;
}

interface FaultCase {
  name: string;
  fault: Fault;
  query: Expectation;
  mutation: Expectation;
}

const FAULTS: FaultCase[] = [
  { name: `latency past the timeout (${TIMEOUT_MS} ms)`, fault: { delayMs: TIMEOUT_MS * 3, times: 5 }, query: { outcome: 'UPSTREAM_UNAVAILABLE', attempts: 1 }, mutation: { outcome: 'UPSTREAM_UNAVAILABLE', attempts: 1 } },
  { name: '500', fault: { status: 500, times: 5, body: { error: 'Internal Server Error' } }, query: { outcome: 'UPSTREAM_UNAVAILABLE', attempts: 1 }, mutation: { outcome: 'UPSTREAM_UNAVAILABLE', attempts: 1 } },
  { name: '503 with Retry-After: 1, once', fault: { status: 503, headers: { 'retry-after': '1' }, body: { error: 'Service Unavailable' } }, query: { outcome: 'data', attempts: 2 }, mutation: { outcome: 'UPSTREAM_UNAVAILABLE', attempts: 1 } },
  { name: '429 that persists', fault: { status: 429, headers: { 'retry-after': '0' }, times: 5, body: { error: 'API Rate Limit Exceeded' } }, query: { outcome: 'RATE_LIMITED', attempts: 3 }, mutation: { outcome: 'RATE_LIMITED', attempts: 1 } },
  { name: 'connection reset that persists', fault: { reset: true, times: 5 }, query: { outcome: 'UPSTREAM_UNAVAILABLE', attempts: 3 }, mutation: { outcome: 'UPSTREAM_UNAVAILABLE', attempts: 1 } },
  { name: 'malformed JSON', fault: { malformed: true, times: 5 }, query: { outcome: 'UPSTREAM_ERROR', attempts: 1 }, mutation: { outcome: 'UPSTREAM_ERROR', attempts: 1 } },
  {
    name: 'wrong content type (an HTML page)',
    fault: { status: 200, times: 5, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!DOCTYPE html><html><body>Down for maintenance</body></html>' },
    query: { outcome: 'UPSTREAM_ERROR', attempts: 1 },
    mutation: { outcome: 'UPSTREAM_ERROR', attempts: 1 },
  },
  {
    name: `oversized body (over ${MAX_RESPONSE_BYTES / 1024} KiB)`,
    fault: { status: 200, times: 5, body: JSON.stringify({ padding: 'x'.repeat(MAX_RESPONSE_BYTES + 1) }) },
    query: { outcome: 'UPSTREAM_ERROR', attempts: 1 },
    mutation: { outcome: 'UPSTREAM_ERROR', attempts: 1 },
  },
  { name: '401', fault: { status: 401, times: 5, body: { error: 'Authentication failed' } }, query: { outcome: 'UNAUTHENTICATED', attempts: 1 }, mutation: { outcome: 'UNAUTHENTICATED', attempts: 1 } },
];

/** Reads never write; a write is sent exactly once whatever the fault. */
const writesOf = (op: 'query' | 'mutation') => (op === 'query' ? 0 : 1);

describe.each(VENDORS)('fault matrix: $name', (vendor) => {
  let stack: Stack;
  beforeAll(async () => {
    // A breaker that never opens here: each cell must reach the vendor to be measured.
    stack = await startStack({
      ...vendor.options,
      sourceConfig: { [vendor.sourceId]: { timeoutMs: TIMEOUT_MS, policy: { breakerFailures: 100_000, maxResponseBytes: MAX_RESPONSE_BYTES } } },
    });
  });
  afterAll(() => stack.stop());
  afterEach(() => vendor.sim(stack).clearFaults());

  test.each(FAULTS)('$name', async (c) => {
    const sim = vendor.sim(stack);
    for (const op of ['query', 'mutation'] as const) {
      sim.clearFaults();
      sim.resetCounts();
      const route = op === 'query' ? vendor.readRoute : vendor.writeRoute;
      sim.injectFault({ ...c.fault, route });
      const res =
        op === 'query'
          ? await stack.gql('query($id: ID!) { run(id: $id) { id status } }', { id: vendor.runId })
          : await stack.gql(operation('AddRun'), { input: vendor.addRunInput });
      const field = op === 'query' ? 'run' : 'addRun';
      const outcome = res.body.data?.[field] ? 'data' : res.body.errors?.[0]?.extensions?.code;
      if (outcome !== 'data') expect(res.body.errors[0].extensions.source).toBe(vendor.sourceId);
      const attempts = sim.count(route);
      const writes = sim.count(vendor.writeRoute);
      expect({ outcome, attempts, writes }).toEqual({ ...c[op], writes: writesOf(op) });
      // A write whose answer never came may have been applied: the caller is told so.
      if (op === 'mutation' && (c.fault.delayMs || c.fault.reset)) expect(res.body.errors[0].message).toMatch(/may or may not have applied/);
    }
  });
});

const DOC = join(__dirname, '..', '..', 'docs', 'fault-matrix.md');
const REGENERATE = 'UPDATE_FAULT_MATRIX=1 npx jest test/http/fault-matrix.test.ts';

/** docs/fault-matrix.md: the cells above, as each test asserts them, in the order they run. */
function renderMatrix(): string {
  const rows = VENDORS.flatMap((vendor) =>
    FAULTS.flatMap((c) =>
      (['query', 'mutation'] as const).map((op) => {
        const { outcome, attempts } = c[op];
        return `| ${vendor.name} | ${c.name} | ${op} | ${outcome === 'data' ? 'data' : `\`${outcome}\``} | ${attempts} | ${writesOf(op)} |`;
      }),
    ),
  );
  return [
    '# Fault matrix',
    '',
    'Generated from `test/http/fault-matrix.test.ts`, which asserts every row against the vendor simulators and',
    `fails while this file says anything else; after changing the matrix there, regenerate with \`${REGENERATE}\`.`,
    'A read is `run(id)`, a write is `addRun`; each fault is injected in the vendor simulator on exactly the route',
    `the operation reads or writes. Sources run with \`timeoutMs: ${TIMEOUT_MS}\` and \`maxResponseBytes: ${MAX_RESPONSE_BYTES}\`.`,
    '"attempts" counts requests that reached the vendor on that route; "writes" counts write requests.',
    '',
    '| vendor | fault | operation | client sees | attempts | writes |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

test('docs/fault-matrix.md is exactly the matrix the tests above assert', () => {
  const rendered = renderMatrix();
  let current: string | undefined;
  try {
    current = readFileSync(DOC, 'utf8');
  } catch {
    current = undefined; // no file yet: a disagreement like any other
  }
  if (current === rendered) return;
  // Rewriting is asked for, never done behind CI's back: there a stale file must fail.
  if (process.env.UPDATE_FAULT_MATRIX === '1' && !process.env.CI) {
    writeFileSync(DOC, rendered);
    return;
  }
  throw new Error(
    `docs/fault-matrix.md disagrees with the matrix in test/http/fault-matrix.test.ts` +
      `${current === undefined ? ' (the file is missing)' : ''}; regenerate it with \`${REGENERATE}\` and commit it.\n` +
      `First difference, line ${firstDifference(current ?? '', rendered)}`,
  );
});

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const i = x.findIndex((line, n) => line !== y[n]);
  const at = i < 0 ? x.length : i;
  return `${at + 1}:\n  file:     ${x[at] ?? '(end of file)'}\n  expected: ${y[at] ?? '(end of file)'}`;
}
