/**
 * Read-your-writes across replicas (issue #15, "Done when" 4): two gateways on one PostgreSQL and
 * one set of simulators. A mutation through replica A answers only once its write is committed and
 * handed to every listening replica, so the very next INDEXED read on replica B — sent right after
 * A's answer, no sleep, no poll — shows it, for every vendor and every mutation, without B calling
 * a vendor.
 */
import { encodeId } from '../../src/graph/ids';
import { DEMO_ASSIGNMENTS, DEMO_PROJECTS } from '../../src/simulators/enterprise-tester';
import { QACOMPLETE_DEMO_PROJECTS } from '../../src/simulators/qacomplete';
import { startStack, type Stack } from '../support/stack';
import { describePostgres, freshDatabase } from './postgres-helpers';

const vendorCalls = (stack: Stack) => stack.testrail!.server.count() + stack.qacomplete!.server.count() + stack.enterpriseTester!.server.count();
const resetCalls = (stack: Stack) => [stack.testrail!, stack.qacomplete!, stack.enterpriseTester!].forEach((s) => s.server.resetCounts());

describePostgres('mutations through one replica are in the next INDEXED read on another', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let a: Stack;
  let b: Stack;

  beforeAll(async () => {
    db = await freshDatabase();
    // No refresh during the test: whatever B shows came through PostgreSQL from A's write.
    const index = { postgres: db.url, refreshSeconds: 3600 };
    a = await startStack({ qacomplete: {}, enterpriseTester: {}, index });
    b = await startStack({ sameSimulatorsAs: a, index });
  });
  afterAll(async () => {
    await b?.gateway.stop(500);
    await a?.stop();
    await db?.drop();
  });

  /** B's INDEXED answer for one id and its source's list, asserting B asked no vendor. */
  async function readOnB(sourceId: string, id: string): Promise<{ run: any; ids: string[]; closed: Record<string, boolean> }> {
    resetCalls(a);
    const res = await b.gql(
      `query ($id: ID!) { run(id: $id, consistency: INDEXED) { id isClosed } runs(first: 100, consistency: INDEXED, filter: { sourceIds: ["${sourceId}"] }) { nodes { id isClosed } answeredBy { source { id } mode } } }`,
      { id },
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.runs.answeredBy).toEqual([{ source: { id: sourceId }, mode: 'INDEXED' }]);
    expect(vendorCalls(a)).toBe(0);
    const nodes: Array<{ id: string; isClosed: boolean }> = res.body.data.runs.nodes;
    return { run: res.body.data.run, ids: nodes.map((n) => n.id), closed: Object.fromEntries(nodes.map((n) => [n.id, n.isClosed])) };
  }

  test.each([
    ['tr', () => ({ projectId: encodeId('Project', 'tr', ['1']), name: 'Through replica A', testrail: { suiteId: '1', caseIds: ['1'] } })],
    ['qac', () => {
      const project = QACOMPLETE_DEMO_PROJECTS.checkoutWeb;
      const set = [...a.qacomplete!.store.testSets.values()].find((t) => t.projectId === project)!;
      return { projectId: encodeId('Project', 'qac', [String(project)]), qacomplete: { testSetId: String(set.id) } };
    }],
    ['et', () => ({ projectId: encodeId('Project', 'et', [DEMO_PROJECTS.warehouse]), enterpriseTester: { scriptAssignmentId: DEMO_ASSIGNMENTS.warehouseNeverRun } })],
  ])('%s: addRun, closeRun and deleteRun through A show on B at once', async (sourceId, input) => {
    const added = await a.gql('mutation ($input: AddRunInput!) { addRun(input: $input) { id } }', { input: input() });
    expect(added.body.errors).toBeUndefined();
    const id = added.body.data.addRun.id;
    let seen = await readOnB(sourceId, id);
    expect(seen.run).toEqual({ id, isClosed: false });
    expect(seen.closed[id]).toBe(false);

    const closed = await a.gql('mutation ($id: ID!) { closeRun(id: $id) { id isClosed } }', { id });
    expect(closed.body.data.closeRun).toEqual({ id, isClosed: true });
    seen = await readOnB(sourceId, id);
    expect(seen.run).toEqual({ id, isClosed: true });
    expect(seen.closed[id]).toBe(true);

    const deleted = await a.gql('mutation ($id: ID!) { deleteRun(id: $id) { deleted } }', { id });
    expect(deleted.body.data.deleteRun.deleted).toBe(true);
    resetCalls(a);
    const list = await b.gql(`{ runs(first: 100, consistency: INDEXED, filter: { sourceIds: ["${sourceId}"] }) { nodes { id } } }`);
    expect(list.body.data.runs.nodes.map((n: any) => n.id)).not.toContain(id);
    expect(vendorCalls(a)).toBe(0);
  });
});

describePostgres('a sweep on the leader keeps a run added through another replica while it read', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let a: Stack;
  let b: Stack;

  beforeAll(async () => {
    db = await freshDatabase();
    // sweepHours 0: every cycle after the backfill is a sweep (a full read that drops what it did not see).
    const index = { postgres: db.url, refreshSeconds: 3600, sweepHours: 0 };
    a = await startStack({ index });
    b = await startStack({ sameSimulatorsAs: a, index });
  });
  afterAll(async () => {
    await b?.gateway.stop(500);
    await a?.stop();
    await db?.drop();
  });

  test('the run added through the non-leader after the sweep read its project is still indexed on both replicas', async () => {
    const leads = (s: Stack) => s.logs.some((l) => /now leads the sync of tr\b/.test(JSON.parse(l).msg));
    expect([leads(a), leads(b)].filter(Boolean)).toHaveLength(1);
    const [leader, other] = leads(a) ? [a, b] : [b, a];
    const sim = a.testrail!;
    sim.server.latencyMs = 150;
    const before = sim.server.log.length;
    const sweep = leader.gateway.syncs.get('tr')!.cycleNow();
    // Wait until the sweep has read project 1's runs, then add one there through the other replica.
    const readProject1 = () => sim.server.log.slice(before).some((r) => /get_runs\/1(\D|$)/.test(r.target));
    for (let i = 0; !readProject1(); i++) {
      if (i > 200) throw new Error('the sweep never read project 1');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const added = await other.gql('mutation { addRun(input: { projectId: "' + encodeId('Project', 'tr', ['1']) + '", name: "Added during the sweep", testrail: { suiteId: "1", caseIds: ["1"] } }) { id } }');
    expect(added.body.errors).toBeUndefined();
    await sweep;
    sim.server.latencyMs = 0;
    expect(leader.logs.some((l) => JSON.parse(l).msg === 'run index swept')).toBe(true);
    const id = added.body.data.addRun.id;
    for (const s of [leader, other]) {
      const res = await s.gql('{ runs(first: 100, consistency: INDEXED, filter: { sourceIds: ["tr"] }) { nodes { id name } } }');
      expect(res.body.data.runs.nodes).toContainEqual({ id, name: 'Added during the sweep' });
    }
  });
});
