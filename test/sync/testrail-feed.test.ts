/**
 * TestRail's change detection for the run index (src/sources/testrail/changes.ts), over real HTTP
 * against the TestRail simulator: the feed's calls go through a real TestRailClient, the live
 * answers it is compared with through the Source the registry builds. Changes are made behind the
 * feed's back, through the vendor API (fetch) or the simulator's store. The index here is a plain
 * map that upserts what the sink gets, as the store does. Upstream calls are the simulator's counts.
 */
import { withCallContext } from '../../src/http/context';
import type { FeedSink, KnownRuns, RunFeed } from '../../src/model/feed';
import { compareRuns, positionOf, type RunPosition } from '../../src/model/runs';
import { createScope } from '../../src/model/scope';
import type { Logger, RequestScope, Source } from '../../src/model/source';
import type { Key, Run } from '../../src/model/types';
import type { SourceConfig } from '../../src/sources/config';
import { openConnection, type SourceConnection } from '../../src/sources/connection';
import { SOURCE_KINDS } from '../../src/sources/registry';
import { createTestRailFeed } from '../../src/sources/testrail/changes';
import { TestRailClient } from '../../src/sources/testrail/client';
import { DEMO_IDS, TESTRAIL_DEMO_USER, TestRailSimulator } from '../../src/simulators/testrail';

/** 1 December 2026, 09:00 UTC: after the demo seed, and days behind the machine's clock — the feed must not care. */
const DEC_1 = Date.UTC(2026, 11, 1, 9) / 1000;
const PAGE = 250;
const pages = (n: number) => Math.max(1, Math.ceil(n / PAGE));
const keyOf = (key: Key) => key.join('/');

/** What the sync does with a feed's output: upsert runs, drop deleted keys. Also records what arrived. */
class Index implements FeedSink, KnownRuns {
  readonly held = new Map<string, Run>();
  delivered: Run[] = [];
  batches: Run[][] = [];
  deletedKeys: Key[] = [];
  progressCalls: Array<[number, number | null]> = [];

  runs(batch: readonly Run[]): void {
    this.batches.push([...batch]);
    for (const run of batch) this.held.set(keyOf(run.key), run);
    this.delivered.push(...batch);
  }
  deleted(keys: readonly Key[]): void {
    for (const key of keys) this.held.delete(keyOf(key));
    this.deletedKeys.push(...keys);
  }
  progress(done: number, total: number | null): void {
    this.progressCalls.push([done, total]);
  }
  get(key: Key): Run | undefined {
    return this.held.get(keyOf(key));
  }
  *open(): Iterable<Run> {
    for (const run of this.held.values()) if (!run.isClosed) yield run;
  }
  all(): Run[] {
    return [...this.held.values()].sort(compareRuns);
  }
  forget(): void {
    this.delivered = [];
    this.batches = [];
    this.deletedKeys = [];
    this.progressCalls = [];
  }
}

function captureLog(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, log: { info: () => undefined, warn: (_f, m) => void warnings.push(m), error: (_f, m) => void warnings.push(m) } };
}

interface Rig {
  sim: TestRailSimulator;
  source: Source;
  feed: RunFeed;
  warnings: string[];
  /** Runs `work` as the sync does: its own scope, a deadline, the sync lane. */
  job<T>(work: (scope: RequestScope) => Promise<T>): Promise<T>;
  /** The vendor API, as someone else's script would call it. */
  vendor(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Every run the live Source returns, paging `listRuns` 100 at a time. */
  live(): Promise<Run[]>;
  close(): Promise<void>;
}

async function rig(seed: 'demo' | 'empty' = 'demo'): Promise<Rig> {
  const sim = new TestRailSimulator({ seed });
  let now = DEC_1;
  sim.store.clock = () => now++;
  const baseUrl = await sim.start();
  const config: SourceConfig = {
    id: 'tr',
    kind: 'testrail',
    name: 'TestRail',
    baseUrl,
    auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password },
  };
  const { log, warnings } = captureLog();
  const source = SOURCE_KINDS.testrail!.create(config, log);
  // The feed's client on a connection of the same config (in the product: the source's own connection).
  const connection: SourceConnection = openConnection(config, log);
  const feed = createTestRailFeed({ source, client: new TestRailClient(connection) });
  let jobs = 0;
  const job = <T>(work: (scope: RequestScope) => Promise<T>) => {
    const scope = createScope({ id: `sync:tr:${++jobs}`, log });
    return withCallContext({ requestId: scope.requestId, deadline: Date.now() + 60_000, lane: 'sync' }, () => work(scope));
  };
  const authorization = `Basic ${Buffer.from(`${TESTRAIL_DEMO_USER.email}:${TESTRAIL_DEMO_USER.password}`).toString('base64')}`;
  return {
    sim,
    source,
    feed,
    warnings,
    job,
    async vendor(method, path, body) {
      const res = await fetch(`${baseUrl}/index.php?/api/v2/${path}`, {
        method,
        headers: { authorization, 'content-type': 'application/json' },
        body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? null : JSON.parse(text) };
    },
    live: () =>
      job(async (scope) => {
        const runs: Run[] = [];
        let after: RunPosition | undefined;
        for (let page = 0; page < 100; page++) {
          const slice = await source.listRuns(scope, { filter: {}, limit: 100, after });
          runs.push(...slice.runs);
          if (!slice.hasMore) return runs;
          after = positionOf(slice.runs[slice.runs.length - 1]);
        }
        throw new Error('the live walk did not end');
      }),
    async close() {
      await source.close();
      await connection.close();
      await sim.stop();
    },
  };
}

/** What one call of every route costs in a backfill of the simulator's current state (changes.ts header). */
function backfillCalls(sim: TestRailSimulator): Record<string, number> {
  const projects = sim.store.allProjects();
  let runs = 0;
  let plans = 0;
  let planReads = 0;
  for (const p of projects) {
    runs += pages(sim.store.runsOf(p.id).filter((r) => r.plan_id === null).length);
    plans += pages(sim.store.plansOf(p.id).length);
    planReads += sim.store.plansOf(p.id).length;
  }
  return { 'GET get_plan': planReads, 'GET get_plans': plans, 'GET get_projects': pages(projects.length), 'GET get_runs': runs };
}

const roundTrip = (w: unknown) => JSON.parse(JSON.stringify(w)) as unknown;
const ids = (runs: readonly Run[]) => runs.map((r) => Number(r.nativeId)).sort((a, b) => a - b);

describe('TestRail feed: backfill', () => {
  let r: Rig;
  beforeEach(async () => {
    r = await rig();
  });
  afterEach(() => r.close());

  test('holds exactly what live reads return, field by field, plan runs included, reading each list once', async () => {
    const index = new Index();
    r.sim.server.resetCounts();
    const watermarks = await r.job((scope) => r.feed.backfill(scope, index));
    expect(r.sim.server.countsByRoute()).toEqual(backfillCalls(r.sim));
    // get_projects 1 + Webshop (get_runs 1, get_plans 1, get_plan 2) + Mobile (1, 1, 1) + Nightly (300 runs: 2, 1) + Legacy (1, 1).
    expect(r.sim.server.count()).toBe(13);

    const live = await r.live();
    expect(live.length).toBe(DEMO_IDS.legacyRun);
    expect(live.some((run) => run.key.length === 3)).toBe(true);
    expect(index.all()).toEqual([...live].sort(compareRuns));

    // Batches of at most 250, newest first inside each; progress in projects.
    expect(index.batches.every((b) => b.length <= 250)).toBe(true);
    for (const batch of index.batches) expect([...batch].sort(compareRuns)).toEqual(batch);
    expect(index.progressCalls[0]).toEqual([0, 4]);
    expect(index.progressCalls.at(-1)).toEqual([4, 4]);
    expect(roundTrip(watermarks)).toEqual(watermarks);
  });

  test('a project that fails mid-backfill fails the backfill (the sync retries it whole)', async () => {
    const index = new Index();
    r.sim.server.injectFault({ route: 'GET get_plan', status: 500, times: 10 });
    await expect(r.job((scope) => r.feed.backfill(scope, index))).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    r.sim.server.clearFaults();
  });
});

describe('TestRail feed: refresh', () => {
  let r: Rig;
  let index: Index;
  let watermarks: unknown;
  beforeEach(async () => {
    r = await rig();
    index = new Index();
    watermarks = roundTrip(await r.job((scope) => r.feed.backfill(scope, index)));
    index.forget();
  });
  afterEach(() => r.close());

  /** One cycle as the scheduler runs it: listProjects first in the same scope, then the feed. */
  const cycle = async () => {
    watermarks = roundTrip(
      await r.job(async (scope) => {
        await r.source.listProjects(scope);
        return r.feed.refresh(scope, watermarks, index, index);
      }),
    );
  };

  test('one cycle catches new, changed, closed and deleted open runs, open plans and a new project; a closed run deleted waits for the sweep', async () => {
    const { store } = r.sim;
    const webshop = DEMO_IDS.projects.webshop;
    // (a) new runs: one through the API, one created and closed again within the cycle, and one in the
    // same second as the newest run the backfill saw in its project (a same-second tie).
    const added = (await r.vendor('POST', `add_run/${webshop}`, { name: 'Feed: new', include_all: true })).body;
    const bornClosed = (await r.vendor('POST', `add_run/${webshop}`, { name: 'Feed: born closed' })).body;
    expect((await r.vendor('POST', `close_run/${bornClosed.id}`)).status).toBe(200);
    const nightlyNewest = Math.max(...store.runsOf(DEMO_IDS.projects.nightly).map((run) => run.created_on));
    const tie = store.addRun(DEMO_IDS.projects.nightly, { name: 'Feed: tie', created_on: nightlyNewest, statuses: [1] });
    // (b) results on open runs: a standalone one through the API, a plan run through the store.
    const caseOfRun2 = store.testsOf(DEMO_IDS.runs.allUntested)[0].case_id;
    expect((await r.vendor('POST', `add_result_for_case/${DEMO_IDS.runs.allUntested}/${caseOfRun2}`, { status_id: 5 })).status).toBe(200);
    store.addResult(store.testsOf(DEMO_IDS.planRuns.safariMac)[0].id, { status_id: 1 });
    // (c) closing: a run, and a whole plan (its three runs).
    expect((await r.vendor('POST', `close_run/${DEMO_IDS.runs.inProgress}`)).status).toBe(200);
    expect((await r.vendor('POST', `close_plan/${DEMO_IDS.plans.deviceMatrix}`)).status).toBe(200);
    // (d) deletions: an open standalone run, an open plan's run, and a closed run.
    expect((await r.vendor('POST', `delete_run/${DEMO_IDS.runs.customOnly}`)).status).toBe(200);
    store.deleteRun(DEMO_IDS.planRuns.firefoxWindows);
    expect((await r.vendor('POST', `delete_run/${DEMO_IDS.runs.completed}`)).status).toBe(200);
    // A new plan in a known project.
    const newPlan = store.addPlan(webshop, { name: 'Feed plan', entries: [{ suite_id: DEMO_IDS.suites.webshop, case_ids: [1, 2], runs: [{ statuses: [5] }] }] });
    // (e) a new project with runs and a plan.
    const project = store.addProject({ name: 'Feed project' });
    const suite = store.suitesOf(project.id)[0].id;
    for (const title of ['One', 'Two']) store.addCase(suite, { title });
    const e1 = store.addRun(project.id, { name: 'E1', statuses: [1] });
    const e2 = store.addRun(project.id, { name: 'E2', statuses: [1, 5], is_completed: true });
    const ePlan = store.addPlan(project.id, { name: 'E plan', entries: [{ runs: [{ statuses: [1] }] }] });
    const planRunIds = (planId: number) => store.plan(planId)!.entries.flatMap((e) => e.run_ids);

    r.sim.server.resetCounts();
    await cycle();

    expect(ids(index.delivered)).toEqual(
      [
        added.id, bornClosed.id, tie.id,
        DEMO_IDS.runs.allUntested, DEMO_IDS.planRuns.safariMac,
        DEMO_IDS.runs.inProgress, DEMO_IDS.planRuns.iphone, DEMO_IDS.planRuns.ipad, DEMO_IDS.planRuns.android,
        ...planRunIds(newPlan.id), e1.id, e2.id, ...planRunIds(ePlan.id),
      ].sort((a, b) => a - b),
    );
    expect(ids(index.delivered.filter((run) => run.isClosed))).toEqual(
      [bornClosed.id, DEMO_IDS.runs.inProgress, DEMO_IDS.planRuns.iphone, DEMO_IDS.planRuns.ipad, DEMO_IDS.planRuns.android, e2.id].sort((a, b) => a - b),
    );
    expect(index.deletedKeys.map(keyOf).sort()).toEqual(
      [[String(DEMO_IDS.runs.customOnly), String(webshop)], [String(DEMO_IDS.planRuns.firefoxWindows), String(webshop), String(DEMO_IDS.plans.browserMatrix)]].map(keyOf).sort(),
    );
    // What it cost, by route: get_projects once (shared with the scheduler's own read in the same scope);
    // per known project one get_runs and one get_plans, the new project read in full (1 + 1 + its plan);
    // get_plan for the open plan, the plan that closed, the new plan and the new project's plan; get_run
    // for the two open runs that vanished (the closed run 4 is in the created_after window, so it needs none).
    expect(r.sim.server.countsByRoute()).toEqual({ 'GET get_plan': 4, 'GET get_plans': 5, 'GET get_projects': 1, 'GET get_run': 2, 'GET get_runs': 5 });

    // The index now answers what live reads do, but for the closed run deleted at the vendor: a
    // refresh never re-reads closed runs, so it stays until the sweep (a backfill) finds it gone.
    const live = await r.live();
    const deletedClosed = keyOf([String(DEMO_IDS.runs.completed), String(webshop)]);
    expect(index.all().filter((run) => keyOf(run.key) !== deletedClosed)).toEqual([...live].sort(compareRuns));
    expect(index.held.has(deletedClosed)).toBe(true);

    // A cycle with nothing changed delivers nothing and costs 1 + 2 per project + 1 per open plan:
    // 1 + 2·5 + 3 (Webshop's browser matrix and Feed plan, the new project's plan) = 14.
    index.forget();
    r.sim.server.resetCounts();
    await cycle();
    expect(index.delivered).toEqual([]);
    expect(index.deletedKeys).toEqual([]);
    const openPlans = store.allProjects().reduce((n, p) => n + store.plansOf(p.id).filter((plan) => !plan.is_completed).length, 0);
    expect(openPlans).toBe(3);
    expect(r.sim.server.countsByRoute()).toEqual({ 'GET get_plan': openPlans, 'GET get_plans': 5, 'GET get_projects': 1, 'GET get_runs': 5 });
    expect(r.sim.server.count()).toBe(14);
    // Every list asked for a window (created_after), except the plan lists of the two projects that never
    // had a plan: with nothing seen there is no creation time to start from, and the whole list is empty.
    const lists = r.sim.server.log.map((req) => req.target).filter((t) => /get_(runs|plans)\//.test(t));
    expect(lists.filter((t) => !/created_after=\d+/.test(t)).map((t) => /get_\w+\/\d+/.exec(t)![0]).sort()).toEqual([
      `get_plans/${DEMO_IDS.projects.nightly}`,
      `get_plans/${DEMO_IDS.projects.legacy}`,
    ]);

    // The sweep: a new backfill no longer delivers the deleted closed run (the sync drops what it did not see).
    const sweep = new Index();
    await r.job((scope) => r.feed.backfill(scope, sweep));
    expect(sweep.held.has(deletedClosed)).toBe(false);
    expect(sweep.all()).toEqual([...live].sort(compareRuns));
  });

  test('a cycle that fails leaves the old watermarks valid: the next one delivers everything it missed', async () => {
    const added = (await r.vendor('POST', `add_run/${DEMO_IDS.projects.mobile}`, { name: 'Feed: after a failure', suite_id: DEMO_IDS.suites.ios })).body;
    store().addResult(store().testsOf(DEMO_IDS.planRuns.smoke)[0].id, { status_id: 5 });
    r.sim.server.injectFault({ route: 'GET get_plan', status: 500, times: 10 });
    const before = watermarks;
    await expect(cycle()).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(watermarks).toBe(before);
    r.sim.server.clearFaults();
    index.forget();
    await cycle();
    expect(ids(index.delivered)).toEqual(expect.arrayContaining([added.id, DEMO_IDS.planRuns.smoke]));
    expect(index.all()).toEqual([...(await r.live())].sort(compareRuns));
  });

  test('unreadable watermarks: a warning, every project read in full, nothing delivered that the index already holds', async () => {
    index.forget();
    r.sim.server.resetCounts();
    const next = await r.job((scope) => r.feed.refresh(scope, { v: 99 }, index, index));
    expect(r.warnings.some((w) => /watermarks unreadable/.test(w))).toBe(true);
    expect(r.sim.server.countsByRoute()).toEqual(backfillCalls(r.sim));
    expect(index.delivered).toEqual([]);
    expect(Object.keys((roundTrip(next) as { projects: object }).projects).sort()).toEqual(['1', '2', '3', '4']);
  });

  test('a project TestRail no longer lists: its open runs are confirmed one by one and leave the index', async () => {
    const nightly = DEMO_IDS.projects.nightly;
    const open = [...index.open()].filter((run) => run.projectKey?.[0] === String(nightly));
    expect(open.length).toBeGreaterThan(0);
    // The login loses access to the project (get_projects no longer lists it; get_run answers 403).
    r.sim.store.user(DEMO_IDS.users.admin)!.project_ids = [DEMO_IDS.projects.webshop, DEMO_IDS.projects.mobile, DEMO_IDS.projects.legacy];
    r.sim.server.resetCounts();
    await cycle();
    expect(index.deletedKeys.map(keyOf).sort()).toEqual(open.map((run) => keyOf(run.key)).sort());
    expect(r.sim.server.count('GET get_run')).toBe(open.length);
    expect(index.delivered).toEqual([]);
  });

  const store = () => r.sim.store;
});

describe('TestRail feed: an old open run under many newer closed ones', () => {
  let r: Rig;
  afterEach(() => r.close());

  test('reads open and new runs apart while the window would cost more pages, and one window again once the old run closes', async () => {
    r = await rig('empty');
    const { store } = r.sim;
    const project = store.addProject({ name: 'Long tail' });
    store.addCase(store.suitesOf(project.id)[0].id, { title: 'Only case' });
    const start = DEC_1 - 700 * 3600;
    const old = store.addRun(project.id, { name: 'Left open', created_on: start });
    for (let i = 1; i <= 600; i++) store.addRun(project.id, { name: `Closed ${i}`, created_on: start + i * 3600, is_completed: true, statuses: [1] });

    const index = new Index();
    let watermarks = roundTrip(await r.job((scope) => r.feed.backfill(scope, index)));
    expect(index.held.size).toBe(601);
    const cycle = async () => {
      r.sim.server.resetCounts();
      index.forget();
      watermarks = roundTrip(await r.job((scope) => r.feed.refresh(scope, watermarks, index, index)));
      return r.sim.server.log.filter((req) => req.route === 'GET get_runs').map((req) => req.target);
    };

    // The window from the open run's creation holds 601 runs (3 pages); open (1 page) + new (1 page) is cheaper.
    let reads = await cycle();
    expect(reads).toHaveLength(2);
    expect(reads.some((t) => /is_completed=0/.test(t))).toBe(true);
    expect(reads.some((t) => /created_after=\d+/.test(t) && !/is_completed/.test(t))).toBe(true);
    expect(index.delivered).toEqual([]);

    // Closed behind the feed's back: in neither list, so get_run confirms it, closed.
    expect((await r.vendor('POST', `close_run/${old.id}`)).status).toBe(200);
    const fresh = (await r.vendor('POST', `add_run/${project.id}`, { name: 'Newcomer' })).body;
    reads = await cycle();
    expect(reads).toHaveLength(2);
    expect(r.sim.server.count('GET get_run')).toBe(1);
    expect(index.delivered.map((run) => [run.nativeId, run.isClosed]).sort()).toEqual([[String(fresh.id), false], [String(old.id), true]].sort());

    // No old open run any more: one window from the newest runs on.
    reads = await cycle();
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatch(/created_after=\d+/);
    expect(index.delivered).toEqual([]);
    expect(index.all()).toEqual([...(await r.live())].sort(compareRuns));
  });
});

describe('TestRail simulator: close_plan and delete_plan', () => {
  let r: Rig;
  beforeAll(async () => {
    r = await rig();
  });
  afterAll(() => r.close());

  test('close_plan closes the plan and every run in it at one time, once; delete_plan removes the plan with its runs', async () => {
    const planId = DEMO_IDS.plans.deviceMatrix;
    const closed = await r.vendor('POST', `close_plan/${planId}`);
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ id: planId, is_completed: true });
    const runs = closed.body.entries.flatMap((e: any) => e.runs);
    expect(runs.map((run: any) => run.id).sort()).toEqual([DEMO_IDS.planRuns.iphone, DEMO_IDS.planRuns.ipad, DEMO_IDS.planRuns.android].sort());
    expect(runs.every((run: any) => run.is_completed === true && run.completed_on === closed.body.completed_on)).toBe(true);
    expect((await r.vendor('GET', `get_run/${DEMO_IDS.planRuns.ipad}`)).body).toMatchObject({ is_completed: true, completed_on: closed.body.completed_on });
    expect((await r.vendor('GET', `get_plans/${DEMO_IDS.projects.mobile}&is_completed=0`)).body.plans).toEqual([]);
    const again = await r.vendor('POST', `close_plan/${planId}`);
    expect(again.status).toBe(400);
    expect(again.body.error).toMatch(/already closed/);

    const deleted = await r.vendor('POST', `delete_plan/${DEMO_IDS.plans.browserMatrix}`);
    expect(deleted).toEqual({ status: 200, body: null });
    expect(await r.vendor('GET', `get_plan/${DEMO_IDS.plans.browserMatrix}`)).toEqual({ status: 400, body: { error: 'Field :plan_id is not a valid test plan.' } });
    expect(await r.vendor('GET', `get_run/${DEMO_IDS.planRuns.smoke}`)).toEqual({ status: 400, body: { error: 'Field :run_id is not a valid test run.' } });
    expect((await r.vendor('GET', `get_plans/${DEMO_IDS.projects.webshop}`)).body.plans.map((p: any) => p.id)).toEqual([DEMO_IDS.plans.signOff]);
    expect((await r.vendor('POST', `delete_plan/${DEMO_IDS.plans.browserMatrix}`)).status).toBe(400);
  });
});
