/**
 * Several mutations in one document: each answers on its own (decisions.md, Mutations; issue #12
 * item 3). A successful, irreversible write must reach the caller with its data even when a
 * sibling mutation fails — before the fields were nullable, one failure nulled `data` and the
 * caller never learnt of the write (a retry then wrote twice). Every case checks the simulator's
 * own state, so "the write happened" is the vendor's word, not the gateway's.
 */
import { encodeId } from '../../src/graph/ids';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_ROUTES } from '../../src/simulators/qacomplete';
import { DEMO_ASSIGNMENTS, DEMO_PROJECTS, DEMO_RUNS, ET_ROUTES } from '../../src/simulators/enterprise-tester';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ qacomplete: {}, enterpriseTester: {} });
});
afterAll(() => stack.stop());

const tr = () => stack.testrail!;
const qac = () => stack.qacomplete!;
const et = () => stack.enterpriseTester!;

const trRun = (id: number, project: number) => encodeId('Run', 'tr', [String(id), String(project)]);
const qacRun = (id: number, project: number) => encodeId('Run', 'qac', [String(id), String(project)]);
const etRun = (id: string) => encodeId('Run', 'et', [id]);
/** A well-formed Run ID of a source this gateway does not have: NOT_FOUND, raised before any vendor call. */
const foreignRun = encodeId('Run', 'nowhere', ['1', '1']);

/** The one error of a batched response, at the path of the failed alias. */
function errorAt(res: { body: { errors?: any[] } }, alias: string) {
  const errors = res.body.errors ?? [];
  expect(errors).toHaveLength(1);
  expect(errors[0].path).toEqual([alias]);
  return errors[0];
}

/** A QAComplete run of Checkout Web in a state the test needs, not one another test changed. */
function qacRunWhere(pick: (status: string) => boolean, skip: readonly number[] = []) {
  const run = qac()
    .store.runs(QACOMPLETE_DEMO_PROJECTS.checkoutWeb)
    .find((r) => pick(r.statusCode) && !skip.includes(r.id));
  if (!run) throw new Error('the demo seed has no such QAComplete run');
  return run;
}

describe('closeRun: a closed run is reported next to the failed sibling', () => {
  test('TestRail: a closes run 4, b is garbage (BAD_USER_INPUT at ["b"])', async () => {
    const id = DEMO_IDS.runs.inProgress;
    expect(tr().store.run(id)!.is_completed).toBe(false);
    const res = await stack.gql(`mutation($a: ID!) { a: closeRun(id: $a) { id isClosed } b: closeRun(id: "garbage") { id } }`, { a: trRun(id, 1) });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ a: { id: trRun(id, 1), isClosed: true }, b: null });
    expect(errorAt(res, 'b').extensions.code).toBe('BAD_USER_INPUT');
    expect(tr().store.run(id)!.is_completed).toBe(true);
  });

  test('QAComplete: the failure first, then the write — order does not matter', async () => {
    const run = qacRunWhere((s) => s === 'Awaiting Run');
    const res = await stack.gql(`mutation($a: ID!) { b: closeRun(id: "garbage") { id } a: closeRun(id: $a) { id isClosed } }`, { a: qacRun(run.id, run.projectId) });
    expect(res.body.data).toEqual({ b: null, a: { id: qacRun(run.id, run.projectId), isClosed: true } });
    expect(errorAt(res, 'b').extensions.code).toBe('BAD_USER_INPUT');
    expect(qac().store.run(run.id)!.items.every((i) => i.statusCode !== 'Awaiting Run')).toBe(true);
  });

  test('Enterprise Tester: b fails at the vendor (a run it does not have: NOT_FOUND from ET) after a closed', async () => {
    const missing = etRun('0badc0de-0000-4000-8000-000000000000');
    const res = await stack.gql(`mutation($a: ID!, $b: ID!) { a: closeRun(id: $a) { id isClosed } b: closeRun(id: $b) { id } }`, { a: etRun(DEMO_RUNS.openSomeOutcomes), b: missing });
    expect(res.body.data).toEqual({ a: { id: etRun(DEMO_RUNS.openSomeOutcomes), isClosed: true }, b: null });
    const error = errorAt(res, 'b');
    expect(error.extensions).toMatchObject({ code: 'NOT_FOUND', source: 'et' });
    expect(et().store.getRun(DEMO_RUNS.openSomeOutcomes)!.Completed).toBe(true);
  });
});

describe('addRun: the created run reaches the caller, so a retry need not guess', () => {
  test('TestRail', async () => {
    const before = tr().store.runsOf(1).length;
    const res = await stack.gql(
      `mutation($input: AddRunInput!) { a: addRun(input: $input) { id nativeId name counts { total untested } } b: addRun(input: { projectId: "garbage" }) { id } }`,
      { input: { projectId: encodeId('Project', 'tr', ['1']), name: 'Batched add', testrail: { caseIds: ['1', '2'] } } },
    );
    expect(res.body.data.b).toBeNull();
    expect(errorAt(res, 'b').extensions.code).toBe('BAD_USER_INPUT');
    const added = res.body.data.a;
    expect(added).toMatchObject({ name: 'Batched add', counts: { total: 2, untested: 2 } });
    expect(tr().store.runsOf(1)).toHaveLength(before + 1);
    expect(tr().store.run(Number(added.nativeId))).toMatchObject({ name: 'Batched add', project_id: 1 });
  });

  test('QAComplete, with b refused by the vendor (an unknown test set: 400 → BAD_USER_INPUT)', async () => {
    const project = QACOMPLETE_DEMO_PROJECTS.checkoutWeb;
    const set = [...qac().store.testSets.values()].find((s) => s.projectId === project)!;
    const projectId = encodeId('Project', 'qac', [String(project)]);
    const creates = qac().server.count(QACOMPLETE_ROUTES.createRun);
    const res = await stack.gql(
      `mutation($a: AddRunInput!, $b: AddRunInput!) { a: addRun(input: $a) { id nativeId } b: addRun(input: $b) { id } }`,
      { a: { projectId, qacomplete: { testSetId: String(set.id) } }, b: { projectId, qacomplete: { testSetId: '999999' } } },
    );
    expect(res.body.data.b).toBeNull();
    expect(errorAt(res, 'b').extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'qac' });
    const added = qac().store.run(Number(res.body.data.a.nativeId))!;
    expect(added).toMatchObject({ projectId: project, testSetId: set.id });
    expect(res.body.data.a.id).toBe(qacRun(added.id, project));
    // Both writes reached the vendor exactly once; neither was retried.
    expect(qac().server.count(QACOMPLETE_ROUTES.createRun) - creates).toBe(2);
  });

  test('Enterprise Tester', async () => {
    const assignment = DEMO_ASSIGNMENTS.warehouseNeverRun;
    expect(et().store.runsOfAssignment(assignment)).toHaveLength(0);
    const res = await stack.gql(
      `mutation($a: AddRunInput!) { a: addRun(input: $a) { id nativeId } b: addRun(input: { projectId: "garbage" }) { id } }`,
      { a: { projectId: encodeId('Project', 'et', [DEMO_PROJECTS.warehouse]), enterpriseTester: { scriptAssignmentId: assignment } } },
    );
    expect(res.body.data.b).toBeNull();
    expect(errorAt(res, 'b').extensions.code).toBe('BAD_USER_INPUT');
    expect(et().store.runsOfAssignment(assignment).map((r) => r.Id)).toEqual([res.body.data.a.nativeId]);
  });
});

describe('restartRun: the new run is reported', () => {
  test('TestRail', async () => {
    const before = tr().store.runsOf(1).length;
    const res = await stack.gql(`mutation($a: ID!, $b: ID!) { a: restartRun(id: $a) { nativeId name } b: restartRun(id: $b) { id } }`, {
      a: trRun(DEMO_IDS.runs.allUntested, 1),
      b: foreignRun,
    });
    expect(res.body.data.b).toBeNull();
    expect(errorAt(res, 'b').extensions.code).toBe('NOT_FOUND');
    expect(res.body.data.a.name).toBe(tr().store.run(DEMO_IDS.runs.allUntested)!.name);
    expect(tr().store.runsOf(1)).toHaveLength(before + 1);
    expect(tr().store.hasRun(Number(res.body.data.a.nativeId))).toBe(true);
  });

  test('QAComplete', async () => {
    const old = qacRunWhere((s) => s === 'Passed');
    const res = await stack.gql(`mutation($a: ID!) { a: restartRun(id: $a) { nativeId status } b: restartRun(id: "garbage") { id } }`, { a: qacRun(old.id, old.projectId) });
    expect(res.body.data.b).toBeNull();
    expect(errorAt(res, 'b').extensions.code).toBe('BAD_USER_INPUT');
    const fresh = qac().store.run(Number(res.body.data.a.nativeId))!;
    expect(fresh.id).not.toBe(old.id);
    expect(fresh).toMatchObject({ projectId: old.projectId, testSetId: old.testSetId, statusCode: 'Awaiting Run' });
  });

  test('Enterprise Tester, with b refused before any write (restarting an unfinished run)', async () => {
    const posts = et().server.count(ET_ROUTES.createRun);
    const res = await stack.gql(`mutation($a: ID!, $b: ID!) { a: restartRun(id: $a) { nativeId } b: restartRun(id: $b) { id } }`, {
      a: etRun(DEMO_RUNS.completedPassed),
      b: etRun(DEMO_RUNS.openAllNotRun),
    });
    expect(res.body.data.b).toBeNull();
    expect(errorAt(res, 'b').extensions).toMatchObject({ code: 'BAD_USER_INPUT', source: 'et' });
    const fresh = et().store.getRun(res.body.data.a.nativeId)!;
    expect(fresh.AssignmentId).toBe(DEMO_ASSIGNMENTS.mobilePassed);
    expect(fresh.Completed).toBe(false);
    expect(et().server.count(ET_ROUTES.createRun) - posts).toBe(1);
  });
});

describe('deleteRun: the deletion is reported', () => {
  test('TestRail', async () => {
    const id = DEMO_IDS.runs.passedOnly;
    const res = await stack.gql(`mutation($a: ID!) { a: deleteRun(id: $a) { id deleted } b: deleteRun(id: "garbage") { id } }`, { a: trRun(id, 1) });
    expect(res.body.data).toEqual({ a: { id: trRun(id, 1), deleted: true }, b: null });
    expect(errorAt(res, 'b').extensions.code).toBe('BAD_USER_INPUT');
    expect(tr().store.hasRun(id)).toBe(false);
  });

  test('QAComplete, with b a vendor failure (a run already gone: NOT_FOUND)', async () => {
    const run = qacRunWhere((s) => s === 'Failed');
    const gone = qacRunWhere((s) => s === 'Blocked');
    qac().store.deleteRun(gone.id);
    const res = await stack.gql(`mutation($a: ID!, $b: ID!) { a: deleteRun(id: $a) { id deleted } b: deleteRun(id: $b) { id } }`, {
      a: qacRun(run.id, run.projectId),
      b: qacRun(gone.id, gone.projectId),
    });
    expect(res.body.data).toEqual({ a: { id: qacRun(run.id, run.projectId), deleted: true }, b: null });
    expect(errorAt(res, 'b').extensions).toMatchObject({ code: 'NOT_FOUND', source: 'qac' });
    expect(qac().store.run(run.id)).toBeUndefined();
  });

  test('Enterprise Tester', async () => {
    const id = DEMO_RUNS.warehouseFailed;
    const res = await stack.gql(`mutation($a: ID!) { a: deleteRun(id: $a) { id deleted } b: deleteRun(id: "garbage") { id } }`, { a: etRun(id) });
    expect(res.body.data).toEqual({ a: { id: etRun(id), deleted: true }, b: null });
    expect(errorAt(res, 'b').extensions.code).toBe('BAD_USER_INPUT');
    expect(et().store.getRun(id)).toBeUndefined();
  });
});

test('different mutations in one document: add, close and delete all land, the one bad restart is null', async () => {
  const project = encodeId('Project', 'tr', [String(DEMO_IDS.projects.mobile)]);
  const res = await stack.gql(
    `mutation($add: AddRunInput!, $close: ID!, $del: ID!) {
       added: addRun(input: $add) { nativeId }
       restarted: restartRun(id: "garbage") { nativeId }
       closed: closeRun(id: $close) { isClosed }
       deleted: deleteRun(id: $del) { deleted }
     }`,
    { add: { projectId: project, name: 'Mixed batch', testrail: { suiteId: String(DEMO_IDS.suites.ios) } }, close: trRun(DEMO_IDS.runs.failures, 1), del: trRun(DEMO_IDS.runs.blockedOnly, 1) },
  );
  expect(res.body.data.restarted).toBeNull();
  expect(errorAt(res, 'restarted').extensions.code).toBe('BAD_USER_INPUT');
  expect(res.body.data.closed).toEqual({ isClosed: true });
  expect(res.body.data.deleted).toEqual({ deleted: true });
  expect(tr().store.run(Number(res.body.data.added.nativeId))).toMatchObject({ name: 'Mixed batch', suite_id: DEMO_IDS.suites.ios });
  expect(tr().store.run(DEMO_IDS.runs.failures)!.is_completed).toBe(true);
  expect(tr().store.hasRun(DEMO_IDS.runs.blockedOnly)).toBe(false);
});
