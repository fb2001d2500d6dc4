/**
 * Enterprise Tester's run-index feed (src/sources/enterprise-tester/changes.ts) over real HTTP
 * against the simulator. The index here is the smallest one the feed's contract allows (a map the
 * sink writes into, read back as KnownRuns); each cycle is run as the scheduler runs it: one scope,
 * listProjects first, then the feed, watermarks through JSON. Expectations come from the live
 * Source (paging listRuns) and from the simulator's state; calls from the simulator's counters.
 */
import type { FeedSink, KnownRuns, RunFeed } from '../../src/model/feed';
import { compareRuns, positionOf, type RunPosition } from '../../src/model/runs';
import { createScope } from '../../src/model/scope';
import type { Source } from '../../src/model/source';
import type { Key, Run } from '../../src/model/types';
import { openConnection, type SourceConnection } from '../../src/sources/connection';
import { EnterpriseTesterClient } from '../../src/sources/enterprise-tester/client';
import { createEnterpriseTesterFeed, type EnterpriseTesterWatermarks } from '../../src/sources/enterprise-tester/changes';
import { SOURCE_KINDS, type SourceConfig } from '../../src/sources/registry';
import { DEMO_ASSIGNMENTS, DEMO_RUNS, ET_DEMO_USER, ET_ROUTES, EnterpriseTesterSimulator, type Outcome } from '../../src/simulators/enterprise-tester';

const quiet = { info() {}, warn() {}, error() {} };

/** The index as far as the feed sees it, plus what each cycle handed over. */
class TestIndex implements KnownRuns {
  readonly runs = new Map<string, Run>();
  get(key: Key): Run | undefined {
    return this.runs.get(key[0]);
  }
  *open(): Iterable<Run> {
    for (const run of this.runs.values()) if (!run.isClosed) yield run;
  }
}

interface CycleResult {
  delivered: Run[];
  batches: number;
  deleted: string[];
  progress: Array<[number, number | null]>;
  watermarks: EnterpriseTesterWatermarks;
  calls: number;
  byRoute: Record<string, number>;
}

interface Rig {
  sim: EnterpriseTesterSimulator;
  baseUrl: string;
  source: Source;
  connection: SourceConnection;
  feed: RunFeed;
  index: TestIndex;
  watermarks: unknown;
  stop(): Promise<void>;
}

async function rig(sim: EnterpriseTesterSimulator, pageSize?: number): Promise<Rig> {
  const baseUrl = await sim.start();
  const config: SourceConfig = { id: 'et', kind: 'enterprise-tester', name: 'Enterprise Tester', baseUrl, auth: ET_DEMO_USER };
  const source = SOURCE_KINDS['enterprise-tester']!.create(config, quiet);
  // The feed's client on a connection of its own here; the composition root gives it the source's.
  const connection = openConnection(config, quiet);
  const feed = createEnterpriseTesterFeed({ source, client: new EnterpriseTesterClient(connection), pageSize });
  return {
    sim,
    baseUrl,
    source,
    connection,
    feed,
    index: new TestIndex(),
    watermarks: undefined,
    async stop() {
      await source.close();
      await connection.close();
      await sim.stop();
    },
  };
}

/**
 * One cycle as the scheduler runs it: a scope, listProjects (memoized: the feed's own call of it
 * costs nothing more), then backfill or refresh; the watermarks go through JSON both ways.
 * `onRuns` runs inside the sink, between two of the feed's reads.
 */
async function cycle(r: Rig, kind: 'backfill' | 'refresh', onRuns?: (runs: readonly Run[]) => void): Promise<CycleResult> {
  const scope = createScope({ id: `sync:et:${kind}`, log: quiet });
  const delivered: Run[] = [];
  const deleted: string[] = [];
  const progress: Array<[number, number | null]> = [];
  let batches = 0;
  const sink: FeedSink = {
    runs(runs) {
      batches += 1;
      delivered.push(...runs);
      for (const run of runs) r.index.runs.set(run.nativeId, run);
      onRuns?.(runs);
    },
    deleted(keys) {
      for (const key of keys) {
        deleted.push(key[0]);
        r.index.runs.delete(key[0]);
      }
    },
    progress(done, total) {
      progress.push([done, total]);
    },
  };
  r.sim.server.resetCounts();
  await r.source.listProjects(scope);
  const answer = kind === 'backfill' ? await r.feed.backfill(scope, sink) : await r.feed.refresh(scope, r.watermarks, r.index, sink);
  const json = JSON.stringify(answer);
  expect(JSON.parse(json)).toEqual(answer);
  r.watermarks = JSON.parse(json);
  return { delivered, batches, deleted, progress, watermarks: r.watermarks as EnterpriseTesterWatermarks, calls: r.sim.server.count(), byRoute: r.sim.server.countsByRoute() };
}

/** Every run the live Source lists, walked page by page with `after`. */
async function liveRuns(source: Source, limit = 50): Promise<Run[]> {
  const scope = createScope({ id: 'live', log: quiet });
  const all: Run[] = [];
  let after: RunPosition | undefined;
  for (let page = 0; page < 1000; page++) {
    const slice = await source.listRuns(scope, { filter: {}, limit, after });
    all.push(...slice.runs);
    if (!slice.hasMore) return all;
    after = positionOf(slice.runs[slice.runs.length - 1]);
  }
  throw new Error('the live walk did not end');
}

const sorted = (runs: Iterable<Run>) => [...runs].sort(compareRuns);
const ids = (runs: Iterable<Run>) => [...runs].map((r) => r.nativeId).sort();

/** The vendor's own API, behind the feed's back. */
async function vendor(r: Rig, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const auth = `Basic ${Buffer.from(`${ET_DEMO_USER.username}:${ET_DEMO_USER.password}`).toString('base64')}`;
  const res = await fetch(`${r.baseUrl}/api/${path}`, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('Enterprise Tester feed on the demo data', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig(new EnterpriseTesterSimulator());
  });
  afterAll(() => r.stop());
  afterEach(() => r.sim.server.clearFaults());

  let backfilled: CycleResult;

  test('backfill: every run, field by field as the live Source lists them, newest first, in 4 calls', async () => {
    backfilled = await cycle(r, 'backfill');
    const live = await liveRuns(r.source);
    expect(live).toHaveLength(r.sim.store.runs.size);
    expect(sorted(r.index.runs.values())).toEqual(sorted(live));
    // Newest first, each run once.
    const created = backfilled.delivered.map((run) => run.createdAt!);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(backfilled.delivered).toHaveLength(live.length);
    // Names and projects came through the assignments and packages, as live reads resolve them.
    expect(r.index.runs.get(DEMO_RUNS.completedPassed)).toMatchObject({ name: 'Login with biometrics', projectKey: ['3b7e2d9c-4a1f-4c8e-a6d5-9f0b2c3e4d82'] });
    // listProjects (the scheduler's, shared), the newest change (mark + Total), the package list,
    // one page of runs (78 < 100): no lookup per run or per page.
    expect(backfilled.byRoute).toEqual({ [ET_ROUTES.projects]: 1, [ET_ROUTES.scriptRuns]: 2, [ET_ROUTES.executionPackages]: 1 });
    expect(backfilled.progress.at(-1)).toEqual([live.length, live.length]);
    // The mark is the vendor's newest LastUpdatedAt (its own clock; the seed lies in the past).
    const newest = Math.max(...[...r.sim.store.runs.values()].map((run) => run.LastUpdatedAt / 1000));
    expect(backfilled.watermarks).toEqual({ v: 1, since: newest, projects: expect.any(Array), dateRanges: true, openCount: true });
    expect(backfilled.watermarks.projects.sort()).toEqual([...r.sim.store.projects.keys()].sort());
  });

  let changes: { added: string; changed: string; completed: string; deletedOpen: string; deletedClosed: string; project: string; projectRuns: string[] };

  test('one refresh delivers a new run, changed results, a completion, a new project’s runs, and confirms a deleted open run', async () => {
    const store = r.sim.store;
    // (a) a new run, through the vendor's API.
    const added = await vendor(r, 'POST', `scriptassignment/${DEMO_ASSIGNMENTS.paymentsSmokeNeverRun}/runs`);
    expect(added.status).toBe(201);
    // (b) results recorded on an open run.
    const step = store.getStepResults(DEMO_RUNS.openAllNotRun)[0];
    expect((await vendor(r, 'PUT', `scriptrun/${DEMO_RUNS.openAllNotRun}`, { StepResults: [{ Id: step.Id, Outcome: 'Failed' }] })).status).toBe(200);
    // (c) an open run completed.
    expect((await vendor(r, 'PUT', `scriptrun/${DEMO_RUNS.openSomeOutcomes}`, { AttemptToComplete: true })).body.Completed).toBe(true);
    // (d) an open run and a completed run deleted.
    expect((await vendor(r, 'DELETE', `scriptrun/${DEMO_RUNS.openAllRecorded}`)).status).toBe(200);
    expect((await vendor(r, 'DELETE', `scriptrun/${DEMO_RUNS.completedPassed}`)).status).toBe(200);
    // (e) a new project with runs: two dated long before the mark (an imported project, or one the
    // login was just given), one just started; its runs sit in a child package.
    const project = store.addProject({ Name: 'Claims' });
    const root = store.addExecutionPackage({ ProjectId: project.Id, Name: 'Release 1' });
    const child = store.addExecutionPackage({ ParentId: root.Id, Name: 'Regression' });
    const script = store.addScript({ ProjectId: project.Id, Name: 'File a claim', Steps: [{ Description: 'Open claims' }, { Description: 'Submit' }] });
    const assignment = store.addScriptAssignment({ ScriptId: script.Id, PackageId: child.Id });
    const old1 = store.addScriptRun(assignment.Id, { CreatedAt: '2026-03-01T10:00:00Z', LastUpdatedAt: '2026-03-01T11:00:00Z', Completed: true, Outcomes: ['Passed', 'Passed'] });
    const old2 = store.addScriptRun(assignment.Id, { CreatedAt: '2026-03-02T10:00:00Z', LastUpdatedAt: '2026-03-02T11:00:00Z', Completed: true, Outcomes: ['Passed', 'Failed'] });
    const fresh = store.addScriptRun(assignment.Id, {});
    changes = {
      added: added.body.Id,
      changed: DEMO_RUNS.openAllNotRun,
      completed: DEMO_RUNS.openSomeOutcomes,
      deletedOpen: DEMO_RUNS.openAllRecorded,
      deletedClosed: DEMO_RUNS.completedPassed,
      project: project.Id,
      projectRuns: [old1.Id, old2.Id, fresh.Id],
    };

    const result = await cycle(r, 'refresh');
    expect(ids(result.delivered)).toEqual([changes.added, changes.changed, changes.completed, ...changes.projectRuns].sort());
    expect(result.deleted).toEqual([changes.deletedOpen]);
    // What was delivered is what live reads return now, field by field.
    const live = new Map((await liveRuns(r.source)).map((run) => [run.nativeId, run]));
    for (const run of result.delivered) expect(run).toEqual(live.get(run.nativeId));
    expect(r.index.get([changes.changed])).toMatchObject({ status: 'IN_PROGRESS', counts: { failed: 1 } });
    expect(r.index.get([changes.completed])).toMatchObject({ isClosed: true, status: 'COMPLETED', conclusion: 'FAILED' });
    expect(r.index.get([fresh.Id])).toMatchObject({ name: 'File a claim', projectKey: [project.Id], status: 'QUEUED' });
    // The deleted completed run is what a refresh does not see: it waits for the sweep. Everything
    // else in the index is exactly the live list.
    expect(r.index.get([changes.deletedClosed])).toBeDefined();
    expect(live.has(changes.deletedClosed)).toBe(false);
    expect(sorted([...r.index.runs.values()].filter((run) => run.nativeId !== changes.deletedClosed))).toEqual(sorted(live.values()));
    // listProjects; scriptruns: the window, the new project, the open count, the open list (the
    // count disagreed); one GET that answered 404 for the deleted open run; one `Id IN` read of the
    // two packages of (a)–(c) (the new project's runs have their project from its own read).
    expect(result.byRoute).toEqual({ [ET_ROUTES.projects]: 1, [ET_ROUTES.scriptRuns]: 4, [ET_ROUTES.scriptRun]: 1, [ET_ROUTES.executionPackages]: 1 });
    expect(result.watermarks.projects).toContain(project.Id);
    expect(result.watermarks.since).toBeGreaterThan(backfilled.watermarks.since!);
  });

  test('a refresh with no changes delivers nothing and costs 3 calls', async () => {
    const before = r.watermarks;
    const result = await cycle(r, 'refresh');
    expect(result.delivered).toEqual([]);
    expect(result.deleted).toEqual([]);
    // 1 listProjects (the scheduler's own; ≤ 100 projects), 1 window read (the runs changed within
    // the margin of the mark come back, equal to the index's copies, so nothing is handed on and no
    // package is looked up), 1 open count (it agrees with the index: no open list).
    expect(result.calls).toBe(3);
    expect(result.byRoute).toEqual({ [ET_ROUTES.projects]: 1, [ET_ROUTES.scriptRuns]: 2 });
    expect(result.watermarks).toEqual(before);
  });

  test('the sweep (a new backfill) is what drops the deleted completed run', async () => {
    const swept = new TestIndex();
    const sweep: Rig = { ...r, index: swept };
    await cycle(sweep, 'backfill');
    expect(swept.get([changes.deletedClosed])).toBeUndefined();
    expect(sorted(swept.runs.values())).toEqual(sorted(await liveRuns(r.source)));
    r.watermarks = sweep.watermarks;
  });

  test('the watermarks are plain JSON that a new feed (a restart) continues from', async () => {
    const text = JSON.stringify(r.watermarks);
    const wm = JSON.parse(text) as EnterpriseTesterWatermarks;
    expect(typeof wm.since).toBe('number');
    // A new feed on the same source, as after a restart: the persisted marks are all it has.
    const restarted: Rig = { ...r, feed: createEnterpriseTesterFeed({ source: r.source, client: new EnterpriseTesterClient(r.connection) }), watermarks: JSON.parse(text) };
    const step = r.sim.store.getStepResults(changes.added)[0];
    await vendor(r, 'PUT', `scriptrun/${changes.added}`, { StepResults: [{ Id: step.Id, Outcome: 'Passed' }] });
    const result = await cycle(restarted, 'refresh');
    expect(ids(result.delivered)).toEqual([changes.added]);
    expect(result.delivered[0].counts.passed).toBe(1);
  });

  test('watermarks it does not understand: one refresh reads every run (still delivering only changes)', async () => {
    const lost: Rig = { ...r, watermarks: { v: 99 } };
    const result = await cycle(lost, 'refresh');
    expect(result.delivered).toEqual([]);
    expect((result.watermarks as EnterpriseTesterWatermarks).v).toBe(1);
  });
});

describe('Enterprise Tester feed paging: same-second ties, pages of 10, child packages', () => {
  let r: Rig;
  let victim = '';
  const stamp = (s: number) => new Date(Date.parse('2026-06-01T00:00:00Z') + s * 1000);
  beforeAll(async () => {
    const sim = new EnterpriseTesterSimulator({ seed: 'empty' });
    const store = sim.store;
    const p1 = store.addProject({ Name: 'One' });
    const p2 = store.addProject({ Name: 'Two' });
    const root = store.addExecutionPackage({ ProjectId: p1.Id, Name: 'Root' });
    const child = store.addExecutionPackage({ ParentId: root.Id, Name: 'Child' });
    const other = store.addExecutionPackage({ ProjectId: p2.Id, Name: 'Other' });
    const steps = [{ Description: 'a' }, { Description: 'b' }];
    const assignments = [root, child, other, child].map((pkg, i) => {
      const script = store.addScript({ ProjectId: pkg.ProjectId, Name: `Script ${i}`, Steps: steps });
      return store.addScriptAssignment({ ScriptId: script.Id, PackageId: pkg.Id }).Id;
    });
    // 40 runs four to a second, then 23 in one second (more than a page), then 17 one a second.
    const seconds = [...Array.from({ length: 40 }, (_, i) => Math.floor(i / 4)), ...Array.from({ length: 23 }, () => 20), ...Array.from({ length: 17 }, (_, i) => 30 + i)];
    seconds.forEach((s, i) => {
      const outcomes: Outcome[] = [i % 3 === 0 ? 'Passed' : 'NotRun', 'NotRun'];
      store.addScriptRun(assignments[i % 4], { CreatedAt: stamp(s), LastUpdatedAt: stamp(s + 100), Completed: i % 2 === 0, Outcomes: outcomes });
    });
    r = await rig(sim, 10);
  });
  afterAll(() => r.stop());
  afterEach(() => r.sim.server.clearFaults());

  test('backfill reads every run once and equals the live list, child packages resolved through their parents', async () => {
    // A server that leaves a child package's ProjectId empty (§4.6): the run's project is its parent's.
    const listed = await vendor(r, 'GET', 'executionpackages?$top=10&$inlinecount=allpages');
    for (const pkg of listed.body.Items) if (pkg.ParentId) pkg.ProjectId = null;
    r.sim.server.injectFault({ route: ET_ROUTES.executionPackages, status: 200, body: listed.body });
    const result = await cycle(r, 'backfill');
    expect(result.delivered).toHaveLength(80);
    expect(new Set(result.delivered.map((run) => run.nativeId)).size).toBe(80);
    expect(sorted(r.index.runs.values())).toEqual(sorted(await liveRuns(r.source, 7)));
    const created = result.delivered.map((run) => run.createdAt!);
    expect(created).toEqual([...created].sort((a, b) => b - a));
    // Progress in runs, against the vendor's Total, one step per page.
    expect(result.progress.at(-1)).toEqual([80, 80]);
    expect(result.batches).toBeGreaterThanOrEqual(8);
    // No lookups: the package list held every package.
    expect(result.byRoute[ET_ROUTES.executionPackage] ?? 0).toBe(0);
    expect(result.byRoute[ET_ROUTES.executionPackages]).toBe(1);
  });

  test('a run deleted while the backfill pages does not make it skip another (keyset pages, not $skip)', async () => {
    const index = new TestIndex();
    const again: Rig = { ...r, index };
    const before = new Set(r.sim.store.runs.keys());
    await cycle(again, 'backfill', (runs) => {
      if (victim === '') {
        // The newest run, on the first page: with $skip paging the run at position 11 would move to
        // position 10 and never be read.
        victim = runs[0].nativeId;
        r.sim.store.deleteRun(victim);
      }
    });
    // Every run that existed throughout was read.
    for (const id of before) if (id !== victim) expect(index.get([id])).toBeDefined();
    r.index = index;
    r.watermarks = again.watermarks;
  });

  test('a refresh reads a window of several pages, ties in one second included, each changed run once', async () => {
    const store = r.sim.store;
    const open = [...store.runs.values()].filter((run) => !run.Completed).slice(0, 25);
    expect(open).toHaveLength(25);
    const caller = [...store.users.values()][0].Id;
    for (const run of open) store.updateRun(run.Id, { StepResults: [{ Id: run.StepResultIds[1], Outcome: 'Blocked' }] }, caller);
    const result = await cycle(r, 'refresh');
    expect(ids(result.delivered)).toEqual(open.map((run) => run.Id).sort());
    const live = new Map((await liveRuns(r.source)).map((run) => [run.nativeId, run]));
    for (const run of result.delivered) expect(run).toEqual(live.get(run.nativeId));
    // The run deleted during the backfill was open: the open count disagrees, and the run is confirmed gone.
    expect(r.sim.store.hasRun(victim)).toBe(false);
    expect(result.deleted).toEqual([victim]);
    // And then nothing: the window is read again (three pages of 10) but hands on nothing.
    const idle = await cycle(r, 'refresh');
    // 25 runs changed within the margin of the mark, all in a second or two: three pages (the page
    // within one second goes on with $skip), then the open count, which agrees.
    expect(idle.byRoute).toEqual({ [ET_ROUTES.projects]: 1, [ET_ROUTES.scriptRuns]: 4 });
    expect(idle.delivered).toEqual([]);
    expect(idle.deleted).toEqual([]);
  });
});

describe('Enterprise Tester feed on a server that refuses date comparisons in TQL', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig(new EnterpriseTesterSimulator(), 10);
  });
  afterAll(() => r.stop());
  afterEach(() => r.sim.server.clearFaults());

  test('the window falls back to the sorted list cut at the mark, remembered in the watermarks', async () => {
    await cycle(r, 'backfill');
    const step = r.sim.store.getStepResults(DEMO_RUNS.openAllNotRun)[0];
    await vendor(r, 'PUT', `scriptrun/${DEMO_RUNS.openAllNotRun}`, { StepResults: [{ Id: step.Id, Outcome: 'Passed' }] });
    r.sim.server.injectFault({ route: ET_ROUTES.scriptRuns, status: 403, body: { Message: 'The TQL query is not valid: unexpected token.' } });
    const result = await cycle(r, 'refresh');
    expect(ids(result.delivered)).toEqual([DEMO_RUNS.openAllNotRun]);
    expect(result.watermarks.dateRanges).toBe(false);
    // The refused window, the plain sorted page (its oldest run is older than the bound: stop), the
    // open count; the changed run's package, one GET.
    expect(result.byRoute).toEqual({ [ET_ROUTES.projects]: 1, [ET_ROUTES.scriptRuns]: 3, [ET_ROUTES.executionPackage]: 1 });

    r.sim.server.log.length = 0;
    const idle = await cycle(r, 'refresh');
    expect(idle.delivered).toEqual([]);
    expect(idle.byRoute).toEqual({ [ET_ROUTES.projects]: 1, [ET_ROUTES.scriptRuns]: 2 });
    const tql = r.sim.server.log.filter((entry) => entry.route === ET_ROUTES.scriptRuns).map((entry) => new URL(entry.target, 'http://x').searchParams.get('tql'));
    expect(tql).toEqual(['ORDER BY LastUpdatedAt DESC', 'Status = "In Progress"']);
  });
});
