/**
 * QAComplete's run index feed (src/sources/qacomplete/changes.ts) against the simulator over real
 * HTTP: the backfill holds exactly what the live Source returns, and one refresh catches what
 * changed behind its back (through the vendor's API and the simulator's store) at a counted cost.
 * The index here is a plain map with the sink's upsert and delete; everything else is the real
 * source, client and simulator.
 */
import type { FeedSink, KnownRuns, RunFeed } from '../../src/model/feed';
import { compareRuns, positionOf, type RunPosition } from '../../src/model/runs';
import { createScope } from '../../src/model/scope';
import type { Logger, RequestScope, Source } from '../../src/model/source';
import type { Key, Run } from '../../src/model/types';
import { QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_DEMO_USER, QACOMPLETE_ROUTES, QACompleteSimulator, type QACRun } from '../../src/simulators/qacomplete';
import { openConnection } from '../../src/sources/connection';
import { QACOMPLETE_MARK_MARGIN_S, createQACompleteFeed, type QACompleteWatermarks } from '../../src/sources/qacomplete/changes';
import { QACompleteClient } from '../../src/sources/qacomplete/client';
import { SOURCE_KINDS, type SourceConfig } from '../../src/sources/registry';

const { checkoutWeb, paymentsApi, mobileApp, legacyPortal } = QACOMPLETE_DEMO_PROJECTS;
/** The server writes its dates at UTC+2 without an offset; the source is configured with that zone. */
const ZONE = 'Etc/GMT-2';
const OFFSET_MINUTES = 120;
const FINAL = ['Passed', 'Failed', 'Blocked', 'Incomplete'];

const keyOf = (key: Key) => key.join('/');
const byKey = (runs: Iterable<Run>) => [...runs].sort((a, b) => keyOf(a.key).localeCompare(keyOf(b.key)));
const secs = (d: Date) => Math.floor(d.getTime() / 1000);
const json = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/** The run index as far as a feed sees it: upsert, delete, and what it holds. */
class Index implements KnownRuns {
  readonly runs = new Map<string, Run>();
  delivered: Run[] = [];
  deletedKeys: Key[] = [];
  batches = 0;
  progress: Array<[number, number | null]> = [];

  sink(): FeedSink {
    return {
      runs: (runs) => {
        this.batches += 1;
        for (const run of runs) {
          this.delivered.push(run);
          this.runs.set(keyOf(run.key), json(run));
        }
      },
      deleted: (keys) => {
        for (const key of keys) {
          this.deletedKeys.push(key);
          this.runs.delete(keyOf(key));
        }
      },
      progress: (done, total) => void this.progress.push([done, total]),
    };
  }

  /** Forgets what the last call delivered. */
  reset(): void {
    this.delivered = [];
    this.deletedKeys = [];
    this.batches = 0;
    this.progress = [];
  }

  get(key: Key): Run | undefined {
    return this.runs.get(keyOf(key));
  }

  *open(): Iterable<Run> {
    for (const run of this.runs.values()) if (!run.isClosed) yield run;
  }
}

interface Setup {
  sim: QACompleteSimulator;
  source: Source;
  feed: RunFeed;
  index: Index;
  warnings: string[];
  scope(): RequestScope;
  /** Every run the live Source returns, paged through listRuns. */
  live(): Promise<Run[]>;
  /** A call to the vendor's main API as the demo user (changes behind the feed's back). */
  vendor(method: string, path: string, body?: unknown): Promise<any>;
  stop(): Promise<void>;
}

async function setup(options: { pageLimit?: number } = {}): Promise<Setup> {
  const sim = new QACompleteSimulator();
  sim.store.setTimeZoneOffset(OFFSET_MINUTES);
  const baseUrl = await sim.start();
  const warnings: string[] = [];
  const log: Logger = { info: () => undefined, warn: (_fields, message) => void warnings.push(message), error: () => undefined };
  const config: SourceConfig = {
    id: 'qac',
    kind: 'qacomplete',
    name: 'QAComplete',
    baseUrl,
    auth: { username: QACOMPLETE_DEMO_USER.email, password: QACOMPLETE_DEMO_USER.password },
    timeZone: ZONE,
    ...(options.pageLimit ? { pageLimit: options.pageLimit } : {}),
  };
  const source = SOURCE_KINDS.qacomplete!.create(config, log);
  const connection = openConnection(config, log);
  const client = new QACompleteClient(connection, { hosts: [], pageLimit: options.pageLimit });
  const feed = createQACompleteFeed({ source, client, timeZone: ZONE });
  let scopes = 0;
  const scope = () => createScope({ id: `sync:qac:${++scopes}`, log });
  const auth = `Basic ${Buffer.from(`${QACOMPLETE_DEMO_USER.email}:${QACOMPLETE_DEMO_USER.password}`).toString('base64')}`;
  return {
    sim,
    source,
    feed,
    index: new Index(),
    warnings,
    scope,
    async live() {
      const s = scope();
      const runs: Run[] = [];
      let after: RunPosition | undefined;
      for (;;) {
        const slice = await source.listRuns(s, { filter: {}, limit: 20, after });
        runs.push(...slice.runs);
        if (!slice.hasMore) return runs;
        after = positionOf(slice.runs[slice.runs.length - 1]);
      }
    },
    async vendor(method, path, body) {
      const res = await fetch(`${baseUrl}/rest-api/service/api/v2${path}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      const text = await res.text();
      return text === '' ? null : JSON.parse(text);
    },
    async stop() {
      await source.close();
      await connection.close();
      await sim.stop();
    },
  };
}

const isOpen = (run: QACRun) => !FINAL.includes(run.statusCode);
const awaiting = (run: QACRun) => run.items.filter((item) => item.statusCode === 'Awaiting Run');
const runKey = (run: QACRun): string => `${run.id}/${run.projectId}`;

let t: Setup;
afterEach(async () => {
  await t?.stop();
});

describe('backfill', () => {
  test('holds exactly what the live Source returns, field by field, in one listing per project', async () => {
    t = await setup();
    const { store } = t.sim;
    t.sim.server.resetCounts();
    const watermarks = await t.feed.backfill(t.scope(), t.index.sink());
    // One projects listing and one page per project: every demo project has fewer than 1000 runs.
    expect(t.sim.server.countsByRoute()).toEqual({ [QACOMPLETE_ROUTES.listProjects]: 1, [QACOMPLETE_ROUTES.listRuns]: store.projects.size });
    // Unfiltered reads: the backfill takes what listRuns takes.
    expect(t.sim.server.log.filter((r) => r.route === QACOMPLETE_ROUTES.listRuns).every((r) => !/[?&]filter=/i.test(r.target))).toBe(true);

    const live = await t.live();
    expect(live).toHaveLength(store.runs().length);
    expect(byKey(t.index.runs.values())).toEqual(byKey(live));
    expect(t.index.delivered).toHaveLength(live.length); // each run once
    expect(t.index.progress).toEqual([[0, 4], [1, 4], [2, 4], [3, 4], [4, 4]]);

    // The mark is the newest creation time the vendor wrote (in its zone, read back as an instant).
    const newest = Math.max(...store.runs().map((r) => secs(r.dateCreated)));
    expect(json(watermarks)).toEqual({ v: 1, mark: newest, dateField: 'DateCreated', filter: true, projects: [checkoutWeb, paymentsApi, mobileApp, legacyPortal].map(String).sort() });
  });

  test('pages through long projects, handing each page to the sink as it arrives', async () => {
    t = await setup({ pageLimit: 25 });
    const { store } = t.sim;
    t.sim.server.resetCounts();
    await t.feed.backfill(t.scope(), t.index.sink());
    const pages = [...store.projects.keys()].map((id) => Math.max(1, Math.ceil(store.runs(id).length / 25)));
    expect(pages).toEqual([1, 3, 1, 1]); // Payments API: 64 runs
    expect(t.sim.server.countsByRoute()).toEqual({ [QACOMPLETE_ROUTES.listProjects]: 1, [QACOMPLETE_ROUTES.listRuns]: 6 });
    expect(t.index.batches).toBe(6);
    expect(byKey(t.index.runs.values())).toEqual(byKey(await t.live()));
  });

  test('a run dated in the future does not carry the mark past our clock', async () => {
    t = await setup();
    t.sim.store.addRun({ projectId: checkoutWeb, items: ['Passed'], dateCreated: '2099-01-01T00:00:00.000Z' });
    const before = Math.floor(Date.now() / 1000);
    const watermarks = (await t.feed.backfill(t.scope(), t.index.sink())) as QACompleteWatermarks;
    expect(watermarks.mark).toBeGreaterThanOrEqual(before);
    expect(watermarks.mark).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    // So a run created and finished at the vendor's now is still read by the next refresh.
    const finished = t.sim.store.addRun({ projectId: paymentsApi, items: ['Passed', 'Failed'] });
    t.index.reset();
    await t.feed.refresh(t.scope(), json(watermarks), t.index, t.index.sink());
    expect(t.index.delivered.map((r) => r.nativeId)).toEqual([String(finished.id)]);
  });
});

describe('refresh', () => {
  test('one cycle delivers new, changed, closed, deleted-open runs and a new project; an idle cycle delivers nothing', async () => {
    t = await setup();
    const { store } = t.sim;
    const marks: unknown[] = [json(await t.feed.backfill(t.scope(), t.index.sink()))];
    const newest = Math.max(...store.runs().map((r) => secs(r.dateCreated)));

    // (a) a new run, through the vendor's API.
    const smoke = [...store.testSets.values()].find((s) => s.title === 'Checkout smoke')!;
    const created = await t.vendor('POST', `/projects/${checkoutWeb}/testruns`, { TestSetId: smoke.id, ForceNewRunCreation: true });
    // (b) an open run's results change, and it stays open (the Paused run resumes: In Progress).
    const changing = store.runs(checkoutWeb).find((r) => r.statusCode === 'Paused')!;
    expect(awaiting(changing).length).toBeGreaterThan(1);
    await t.vendor('PATCH', `/projects/${checkoutWeb}/testruns/${changing.id}/items/${awaiting(changing)[0].id}`, { StatusCode: 'Failed' });
    expect(changing.statusCode).toBe('In Progress');
    // (c) open runs close: their last awaiting tests get results. One was created weeks before the
    // mark (it leaves the filtered read: a GET says it closed), one within the day before it (the
    // creation clause still returns it).
    const closing = store.runs(checkoutWeb).find((r) => r.statusCode === 'In Progress')!;
    const closingRecent = store.runs(mobileApp).find((r) => r.statusCode === 'In Progress')!;
    expect(secs(closing.dateCreated)).toBeLessThan(newest - QACOMPLETE_MARK_MARGIN_S);
    expect(secs(closingRecent.dateCreated)).toBeGreaterThanOrEqual(newest - QACOMPLETE_MARK_MARGIN_S);
    for (const run of [closing, closingRecent]) {
      for (const item of awaiting(run)) await t.vendor('PATCH', `/projects/${run.projectId}/testruns/${run.id}/items/${item.id}`, { StatusCode: 'Passed' });
      expect(isOpen(run)).toBe(false);
    }
    // (d) an open run and a closed run are deleted.
    const deletedOpen = store.runs(paymentsApi).find((r) => r.statusCode === 'Awaiting Run')!;
    const deletedClosed = store.runs(paymentsApi).find((r) => r.statusCode === 'Passed')!;
    await t.vendor('DELETE', `/projects/${paymentsApi}/testruns/${deletedOpen.id}`);
    await t.vendor('DELETE', `/projects/${paymentsApi}/testruns/${deletedClosed.id}`);
    // (e) a new project with an old closed run and an open one: its history is read whole.
    const project = store.addProject({ name: 'Search Service', dateCreated: new Date('2025-06-01T08:00:00.000Z') });
    const oldRun = store.addRun({ projectId: project.id, items: ['Passed', 'Failed'], dateCreated: '2025-06-02T08:00:00.000Z' });
    const newProjectOpen = store.addRun({ projectId: project.id, items: ['Awaiting Run', 'Passed'], dateCreated: '2025-06-03T08:00:00.000Z' });
    // (f) runs created and finished between two cycles (never seen open): one now, one in the very
    // second of the newest run the backfill saw (a same-second tie).
    const flash = store.addRun({ projectId: legacyPortal, items: ['Passed'] });
    const tie = store.addRun({ projectId: legacyPortal, items: ['Blocked'], dateCreated: new Date(newest * 1000 + 999) });

    t.index.reset();
    t.sim.server.resetCounts();
    marks.push(json(await t.feed.refresh(t.scope(), marks[0], t.index, t.index.sink())));
    const calls = t.sim.server.countsByRoute();
    const filters = t.sim.server.log
      .filter((r) => r.route === QACOMPLETE_ROUTES.listRuns)
      .map((r) => new URLSearchParams(r.target.split('?')[1]).get('filter'))
      .sort();

    const delivered = t.index.delivered.map((r) => keyOf(r.key)).sort();
    const expected = [
      `${created.id}/${checkoutWeb}`,
      runKey(changing),
      runKey(closing),
      runKey(closingRecent),
      runKey(oldRun),
      runKey(newProjectOpen),
      runKey(flash),
      runKey(tie),
    ].sort();
    expect(delivered).toEqual(expected);
    // Only the open run's deletion is confirmed; the closed one waits for the sweep.
    expect(t.index.deletedKeys.map(keyOf)).toEqual([runKey(deletedOpen)]);
    expect(t.index.get([String(deletedClosed.id), String(paymentsApi)])).toBeDefined();

    // The index now equals the live reads, but for the deleted closed run.
    const live = await t.live();
    const held = byKey([...t.index.runs.values()].filter((r) => r.nativeId !== String(deletedClosed.id)));
    expect(held).toEqual(byKey(live));
    // What was delivered is what the live Source says about those runs, field by field.
    const liveByKey = new Map(live.map((r) => [keyOf(r.key), r]));
    for (const run of t.index.delivered) expect(run).toEqual(liveByKey.get(keyOf(run.key)));

    // Cost: the projects listing; one filtered listing per project read before and one whole
    // listing of the new project (5 in all); one GET per open run the filtered read no longer
    // returns (the run that closed weeks after its creation, 200, and the deleted open run, 404).
    expect(calls).toEqual({
      [QACOMPLETE_ROUTES.listProjects]: 1,
      [QACOMPLETE_ROUTES.listRuns]: 5,
      [QACOMPLETE_ROUTES.getRun]: 2,
    });
    // The filter: every run not final, or created from a day before the mark on, in the server's zone.
    const wall = new Date((newest - QACOMPLETE_MARK_MARGIN_S) * 1000 + OFFSET_MINUTES * 60_000).toISOString().slice(0, 19);
    const filter = `((StatusCode != 'Passed') AND (StatusCode != 'Failed') AND (StatusCode != 'Blocked') AND (StatusCode != 'Incomplete')) OR (DateCreated >= '${wall}')`;
    expect(filters).toEqual([filter, filter, filter, filter, null]);

    // Watermarks are plain JSON, and the next cycle reads the new project like the others.
    expect(json(marks[1])).toEqual(marks[1]);
    expect(marks[1]).toMatchObject({ v: 1, filter: true, projects: [...store.projects.keys()].map(String).sort() });

    // An idle cycle: nothing delivered, one filtered listing per project and nothing else.
    t.index.reset();
    t.sim.server.resetCounts();
    marks.push(json(await t.feed.refresh(t.scope(), marks[1], t.index, t.index.sink())));
    expect(t.index.delivered).toEqual([]);
    expect(t.index.deletedKeys).toEqual([]);
    expect(t.sim.server.countsByRoute()).toEqual({ [QACOMPLETE_ROUTES.listProjects]: 1, [QACOMPLETE_ROUTES.listRuns]: 5 });

    // Inside the sync's scope, which has listed the projects already, the listing is free: P calls.
    const scope = t.scope();
    await t.source.listProjects(scope);
    t.sim.server.resetCounts();
    await t.feed.refresh(scope, marks[2], t.index, t.index.sink());
    expect(t.sim.server.countsByRoute()).toEqual({ [QACOMPLETE_ROUTES.listRuns]: 5 });
    expect(t.index.delivered).toEqual([]);
  });

  test('a project no longer listed takes its open runs out of the index, without a call for them', async () => {
    t = await setup();
    const { store } = t.sim;
    const marks = json(await t.feed.backfill(t.scope(), t.index.sink()));
    const open = store.runs(mobileApp).filter(isOpen).map(runKey).sort();
    expect(open.length).toBeGreaterThan(0);
    store.projects.delete(mobileApp);
    t.index.reset();
    t.sim.server.resetCounts();
    const next = json(await t.feed.refresh(t.scope(), marks, t.index, t.index.sink()));
    expect(t.index.deletedKeys.map(keyOf).sort()).toEqual(open);
    expect(t.index.delivered).toEqual([]);
    expect(t.sim.server.countsByRoute()).toEqual({ [QACOMPLETE_ROUTES.listProjects]: 1, [QACOMPLETE_ROUTES.listRuns]: 3 });
    expect((next as QACompleteWatermarks).projects).not.toContain(String(mobileApp));
  });

  test.each([
    ['behind', -6],
    ['ahead of', 6],
  ])('a vendor clock 6 hours %s ours: a run created and finished between cycles is caught', async (_what, hours) => {
    t = await setup();
    const { store } = t.sim;
    store.clock = () => new Date(Date.now() + hours * 3_600_000);
    let marks = json(await t.feed.backfill(t.scope(), t.index.sink()));
    for (let cycle = 0; cycle < 2; cycle++) {
      const run = store.addRun({ projectId: paymentsApi, items: ['Passed'] });
      t.index.reset();
      marks = json(await t.feed.refresh(t.scope(), marks, t.index, t.index.sink()));
      expect(t.index.delivered.map((r) => r.nativeId)).toEqual([String(run.id)]);
    }
  });

  test('a server that refuses the filter gets whole reads from then on, with the same answers', async () => {
    t = await setup();
    const { store } = t.sim;
    const marks = json(await t.feed.backfill(t.scope(), t.index.sink()));
    const closing = store.runs(checkoutWeb).find((r) => r.statusCode === 'Awaiting Run')!;
    for (const item of awaiting(closing)) await t.vendor('PATCH', `/projects/${checkoutWeb}/testruns/${closing.id}/items/${item.id}`, { StatusCode: 'Skipped' });
    const gone = store.runs(paymentsApi).find((r) => r.statusCode === 'Awaiting Run')!;
    store.deleteRun(gone.id);
    t.sim.server.injectFault({ route: QACOMPLETE_ROUTES.listRuns, status: 400, body: { errors: [{ message: "Invalid filter: Unknown field 'DateCreated'", code: 400 }] } });

    t.index.reset();
    const next = json(await t.feed.refresh(t.scope(), marks, t.index, t.index.sink())) as QACompleteWatermarks;
    expect(next.filter).toBe(false);
    expect(t.warnings.filter((w) => /refused the run index filter/.test(w))).toHaveLength(1);
    expect(t.index.delivered.map((r) => keyOf(r.key))).toEqual([runKey(closing)]);
    expect(t.index.deletedKeys.map(keyOf)).toEqual([runKey(gone)]);
    expect(byKey(t.index.runs.values())).toEqual(byKey(await t.live()));

    // From now on every project is read whole, unfiltered: a missing open run needs no GET.
    const deleted = store.runs(mobileApp).find((r) => r.statusCode === 'Awaiting Run')!;
    store.deleteRun(deleted.id);
    t.index.reset();
    t.sim.server.resetCounts();
    await t.feed.refresh(t.scope(), next, t.index, t.index.sink());
    expect(t.index.deletedKeys.map(keyOf)).toEqual([runKey(deleted)]);
    expect(t.sim.server.countsByRoute()).toEqual({ [QACOMPLETE_ROUTES.listProjects]: 1, [QACOMPLETE_ROUTES.listRuns]: 4 });
    expect(t.sim.server.log.filter((r) => r.route === QACOMPLETE_ROUTES.listRuns).every((r) => !/[?&]filter=/i.test(r.target))).toBe(true);
  });

  test('whole reads: a run missing from a one-page list is gone; from a list of several pages, a GET confirms it', async () => {
    t = await setup({ pageLimit: 25 });
    const { store } = t.sim;
    const marks = json(await t.feed.backfill(t.scope(), t.index.sink())) as QACompleteWatermarks;
    const inLongList = store.runs(paymentsApi).find((r) => r.statusCode === 'Awaiting Run')!; // 64 runs: 3 pages
    const inShortList = store.runs(mobileApp).find((r) => r.statusCode === 'Awaiting Run')!; // 5 runs: 1 page
    store.deleteRun(inLongList.id);
    store.deleteRun(inShortList.id);
    t.index.reset();
    t.sim.server.resetCounts();
    await t.feed.refresh(t.scope(), { ...marks, filter: false }, t.index, t.index.sink());
    expect(t.index.deletedKeys.map(keyOf).sort()).toEqual([runKey(inLongList), runKey(inShortList)].sort());
    expect(t.sim.server.countsByRoute()).toEqual({ [QACOMPLETE_ROUTES.listProjects]: 1, [QACOMPLETE_ROUTES.listRuns]: 6, [QACOMPLETE_ROUTES.getRun]: 1 });
    expect(t.sim.server.log.filter((r) => r.route === QACOMPLETE_ROUTES.getRun).map((r) => r.target)).toEqual([
      expect.stringContaining(`/projects/${paymentsApi}/testruns/${inLongList.id}`),
    ]);
  });

  test('a server whose runs carry no date_created (as the reference shows them): the creation clause filters on DateStarted', async () => {
    t = await setup();
    const { store } = t.sim;
    // The simulator addition: runs without date_created, and a DateCreated filter is an unknown field.
    store.runDateCreated = false;
    expect(await t.vendor('GET', `/projects/${checkoutWeb}/testruns?limit=1`)).not.toHaveProperty('results.0.date_created');
    await expect(t.vendor('GET', `/projects/${checkoutWeb}/testruns?filter=${encodeURIComponent("DateCreated >= '2026-01-01'")}`)).rejects.toThrow(/400/);

    const marks = json(await t.feed.backfill(t.scope(), t.index.sink())) as QACompleteWatermarks;
    expect(marks.dateField).toBe('DateStarted');
    // createdAt comes from date_started, for the feed as for the live Source.
    expect(byKey(t.index.runs.values())).toEqual(byKey(await t.live()));
    const flash = store.addRun({ projectId: paymentsApi, items: ['Passed'] });
    t.index.reset();
    t.sim.server.resetCounts();
    await t.feed.refresh(t.scope(), marks, t.index, t.index.sink());
    expect(t.index.delivered.map((r) => r.nativeId)).toEqual([String(flash.id)]);
    const filters = t.sim.server.log.filter((r) => r.route === QACOMPLETE_ROUTES.listRuns).map((r) => new URLSearchParams(r.target.split('?')[1]).get('filter'));
    expect(filters).toHaveLength(4);
    for (const filter of filters) expect(filter).toMatch(/ OR \(DateStarted >= '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d'\)$/);
    expect(t.warnings.filter((w) => /refused the run index filter/.test(w))).toEqual([]);
  });

  test('watermarks it did not write read every project whole', async () => {
    t = await setup();
    await t.feed.backfill(t.scope(), t.index.sink());
    t.index.reset();
    t.sim.server.resetCounts();
    const next = json(await t.feed.refresh(t.scope(), { something: 'else' }, t.index, t.index.sink()));
    expect(t.sim.server.log.filter((r) => r.route === QACOMPLETE_ROUTES.listRuns).every((r) => !/[?&]filter=/i.test(r.target))).toBe(true);
    expect(t.index.delivered).toEqual([]); // nothing changed
    expect(next).toMatchObject({ v: 1, filter: true, dateField: 'DateCreated' });
  });
});

// The runs of a delivered batch are in the one run order (newest first) within their page.
test('each batch is in run order', async () => {
  t = await setup({ pageLimit: 25 });
  const batches: Run[][] = [];
  await t.feed.backfill(t.scope(), { runs: (runs) => void batches.push([...runs]), deleted: () => undefined, progress: () => undefined });
  for (const batch of batches) expect(batch).toEqual([...batch].sort(compareRuns));
});
