/**
 * Writes announce themselves (issue #13 item 3): every mutation that the vendor accepted publishes
 * one change on the gateway's change stream, with the run as the vendor answered, before the
 * mutation's answer goes out; a failed or dry-run write publishes nothing; a listener that throws
 * never turns a write that happened into an error.
 */
import { encodeId } from '../../src/graph/ids';
import type { RunChange } from '../../src/model/changes';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
let seen: Array<RunChange & { answered: boolean }>;
let answered: boolean;
beforeAll(async () => {
  stack = await startStack();
  stack.gateway.changes.subscribe((change) => seen.push({ ...change, answered }));
});
afterAll(() => stack.stop());
beforeEach(() => {
  seen = [];
  answered = false;
});

const trRun = (id: number, project = 1) => encodeId('Run', 'tr', [String(id), String(project)]);
const webshop = encodeId('Project', 'tr', ['1']);

/** `answered` is false while the request is under way: a change seen then came before the answer. */
async function mutate(query: string, variables: Record<string, unknown>) {
  answered = false;
  const res = await stack.gql(query, variables);
  answered = true;
  return res;
}

test('addRun, closeRun, restartRun and deleteRun each publish one change with the vendor\'s run, before answering', async () => {
  const added = await mutate('mutation ($p: ID!) { addRun(input: { projectId: $p, name: "Stream", testrail: { suiteId: "1", caseIds: ["1", "2"] } }) { id nativeId } }', { p: webshop });
  const nativeId = added.body.data.addRun.nativeId;
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ type: 'added', sourceId: 'tr', answered: false, run: { nativeId, name: 'Stream', isClosed: false } });
  expect(seen[0].type === 'added' && seen[0].run.counts.total).toBe(2);

  await mutate('mutation ($id: ID!) { closeRun(id: $id) { id } }', { id: added.body.data.addRun.id });
  expect(seen[1]).toMatchObject({ type: 'closed', sourceId: 'tr', answered: false, run: { nativeId, isClosed: true } });
  expect(stack.testrail!.store.run(Number(nativeId))!.is_completed).toBe(true);

  const restarted = await mutate('mutation ($id: ID!) { restartRun(id: $id) { nativeId } }', { id: added.body.data.addRun.id });
  expect(seen[2]).toMatchObject({ type: 'added', sourceId: 'tr', from: [nativeId, '1'], run: { nativeId: restarted.body.data.restartRun.nativeId, name: 'Stream' } });

  await mutate('mutation ($id: ID!) { deleteRun(id: $id) { deleted } }', { id: added.body.data.addRun.id });
  expect(seen[3]).toMatchObject({ type: 'deleted', sourceId: 'tr', key: [nativeId, '1'], answered: false });
  expect(seen).toHaveLength(4);
});

test('a failed write and a dry run publish nothing', async () => {
  await mutate('mutation ($p: ID!) { addRun(input: { projectId: $p, testrail: { suiteId: "999" } }) { id } }', { p: webshop });
  await mutate('mutation ($id: ID!) { deleteRun(id: $id, dryRun: true) { deleted } }', { id: trRun(DEMO_IDS.runs.inProgress) });
  await mutate('mutation { closeRun(id: "garbage") { id } }', {});
  expect(seen).toEqual([]);
});

test('a listener that throws is logged; the write is still reported with its data', async () => {
  const unsubscribe = stack.gateway.changes.subscribe(() => {
    throw new Error('index unavailable');
  });
  try {
    const res = await mutate('mutation ($p: ID!) { addRun(input: { projectId: $p, name: "Still reported" }) { name } }', { p: webshop });
    expect(res.body).toEqual({ data: { addRun: { name: 'Still reported' } } });
    expect(seen).toHaveLength(1);
    expect(stack.logs.some((l) => l.includes('a change listener failed; the write itself succeeded') && l.includes('index unavailable'))).toBe(true);
  } finally {
    unsubscribe();
  }
});
