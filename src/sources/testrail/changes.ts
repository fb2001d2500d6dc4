/**
 * TestRail's change detection for the run index (issue #9, model/feed.ts; decisions.md "Run
 * index"). TestRail has no cross-project run list, no documented list order and no filter on
 * `updated_on` (testrail.md §4.1, §5.3), so everything is read per project with the two filters
 * it does document on `get_runs` and `get_plans`: `created_after` and `is_completed`. Runs inside
 * plans are seen only through `get_plan` (§7.2). Every run is mapped by map.ts's `mapRun`, the
 * mapping the live Source uses, so the index holds exactly what live reads return.
 *
 * Backfill — per project (at most `concurrency` projects at a time, each read call by call):
 *   get_runs (every page), get_plans (every page), get_plan per plan.
 *   Calls: ⌈P/250⌉ (get_projects, through the Source) + Σ_projects [ max(1,⌈R/250⌉) + max(1,⌈L/250⌉) + L ]
 *   with R the project's standalone runs and L its plans. TestRail cannot sort, so "newest first"
 *   holds only inside each project's batch.
 *
 * Refresh — per project, from its watermark `after` (every run created before it has been read):
 *   - get_runs&created_after=W, W = min(after, creation of the oldest open run the index holds):
 *     one list that holds every new run (open or already closed again) and every open run the index
 *     knows, closed since or not. When that window would take more pages than reading the open runs
 *     (`is_completed=0`) and the new ones (`created_after=after`) separately, the feed reads those
 *     two instead, until the oldest open run closes (`wideFrom`).
 *   - get_plans the same way (W from the open plans' creation); get_plan for every open plan (its
 *     runs may have changed or gained entries), every plan that closed since the last cycle, and
 *     every new plan.
 *   - An open run the index holds that is in neither answer is confirmed with get_run/{id}: a
 *     closed run is delivered closed, a 400 "not a valid test run" (NOT_FOUND) is a deletion. The
 *     same for the open runs of a plan that left its plan or whose plan is gone, and of a project
 *     that is no longer listed (there a 403 — access lost — removes them too). Any other error fails
 *     the cycle; the old watermarks stay valid, and what was delivered is upserted again next time.
 *   - A project the watermarks do not know (new, or watermarks from another version) is read in
 *     full, as in the backfill.
 *   Only runs that differ from what the index holds (KnownRuns.get) are handed to the sink.
 *   Calls per idle cycle: ⌈P/250⌉ + 2·P + (open plans) when every window fits one page; each run
 *   or plan that vanished adds one confirming call.
 *
 * Clocks: `after` is taken from TestRail's own `created_on` values — the newest creation time a
 * read saw, minus `marginSeconds` and the read's own duration — so the gateway's clock and any skew
 * against the vendor's never enter. The margin re-reads the last minutes of every list (one page
 * either way): same-second ties, a `created_after` whose inclusiveness is unverified, and runs
 * created while a long walk was under way. The sink upserts, so what is read twice costs nothing.
 *
 * Not detected by a refresh (the periodic full sweep — a new backfill — finds them):
 *   - deletions of closed runs, and of closed plans with their runs: a closed run cannot change,
 *     so nothing re-reads it;
 *   - changes TestRail makes to closed runs (none are documented: closed runs are read-only);
 *   - a run whose `created_on` lies before `after` yet first appears later (a vendor clock that
 *     steps back by more than the margin, or a restored backup).
 * Changes of projects themselves (names, completion) are the scheduler's, read with listProjects.
 */
import { ErrorCode, GatewayError } from '../../model/errors';
import { sameRun, type FeedSink, type KnownRuns, type RunFeed } from '../../model/feed';
import { compareRuns } from '../../model/runs';
import type { RequestScope, Source } from '../../model/source';
import type { Key, Run } from '../../model/types';
import { eachLimited } from '../paging';
import { TESTRAIL_PAGE_LIMIT, type Params, type TestRailClient } from './client';
import { mapRun, planClosedOn, planCreatedOn, planIdOf, runsOfPlan } from './map';

/** How far each list is re-read behind the newest creation time it showed (seconds). */
export const TESTRAIL_FEED_MARGIN_SECONDS = 300;

export interface TestRailFeedOptions {
  /** The feed's Source: its id names the runs; its listProjects (memoized per scope) lists the projects. */
  source: Pick<Source, 'info' | 'listProjects'>;
  /** A client on the source's own connection, so the feed's calls share its budget, breaker and retries. */
  client: TestRailClient;
  /** Projects read at the same time; each project's calls go one after another. Default 2 (the sync's cap). */
  concurrency?: number;
  /** Default TESTRAIL_FEED_MARGIN_SECONDS. */
  marginSeconds?: number;
  /** Most runs per `sink.runs` call. Default 250. */
  batchSize?: number;
}

export function createTestRailFeed(options: TestRailFeedOptions): RunFeed {
  return new TestRailFeed(options);
}

// ------------------------------------------------------------------------------- watermarks

/** Where one of a project's two lists (get_runs, get_plans) stands. */
interface ListMark {
  /** Every item created before this (TestRail seconds) has been read; null: nothing seen yet, read the whole list. */
  after: number | null;
  /**
   * Set when the window from this creation time down held more than reading open and new items
   * apart costs: while the window would reach back this far, the two are read apart.
   */
  wideFrom: number | null;
}

interface ProjectMark {
  runs: ListMark;
  plans: ListMark;
  /** Plans open at the end of the last cycle, [id, created_on]: each is read again next cycle. */
  openPlans: Array<[number, number | null]>;
  /** Closed plans created at or after `plans.after` that were already read, [id, created_on], so the overlap does not read them again. */
  readPlans: Array<[number, number | null]>;
}

interface TestRailWatermarks {
  v: 1;
  projects: Record<string, ProjectMark>;
}

const isTime = (v: unknown): v is number | null => v === null || (typeof v === 'number' && Number.isSafeInteger(v));
const isListMark = (v: unknown): v is ListMark =>
  typeof v === 'object' && v !== null && isTime((v as ListMark).after) && isTime((v as ListMark).wideFrom);
const isPairs = (v: unknown): v is Array<[number, number | null]> =>
  Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && Number.isSafeInteger(p[0]) && isTime(p[1]));

function parseWatermarks(value: unknown): TestRailWatermarks | undefined {
  if (typeof value !== 'object' || value === null || (value as TestRailWatermarks).v !== 1) return undefined;
  const projects = (value as TestRailWatermarks).projects;
  if (typeof projects !== 'object' || projects === null || Array.isArray(projects)) return undefined;
  for (const mark of Object.values(projects)) {
    if (typeof mark !== 'object' || mark === null) return undefined;
    if (!isListMark(mark.runs) || !isListMark(mark.plans) || !isPairs(mark.openPlans) || !isPairs(mark.readPlans)) return undefined;
  }
  return value as TestRailWatermarks;
}

// ------------------------------------------------------------------------------- the feed

/** One item of a list as the window logic sees it. */
interface Listed {
  id: number;
  createdOn: number | null;
  open: boolean;
}

/** The open runs the index holds for one project: standalone ones, and plan runs by plan. */
interface OpenRuns {
  standalone: Run[];
  plans: Map<number, Run[]>;
}

/** What one list read covers: everything created at or after `from` (null: everything), or open + new apart. */
type Coverage = { from: number | null } | 'split';

class TestRailFeed implements RunFeed {
  private readonly source: TestRailFeedOptions['source'];
  private readonly client: TestRailClient;
  private readonly concurrency: number;
  private readonly margin: number;
  private readonly batchSize: number;

  constructor(options: TestRailFeedOptions) {
    this.source = options.source;
    this.client = options.client;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.margin = Math.max(0, options.marginSeconds ?? TESTRAIL_FEED_MARGIN_SECONDS);
    this.batchSize = Math.max(1, options.batchSize ?? 250);
  }

  private get sourceId(): string {
    return this.source.info.id;
  }

  async backfill(scope: RequestScope, sink: FeedSink): Promise<TestRailWatermarks> {
    const projectIds = (await this.source.listProjects(scope)).map((p) => p.nativeId);
    const projects: Record<string, ProjectMark> = {};
    let done = 0;
    sink.progress(0, projectIds.length);
    await eachLimited(projectIds, this.concurrency, async (projectId) => {
      const read = await this.readProject(projectId);
      this.deliver(sink, read.runs, []);
      projects[projectId] = read.mark;
      sink.progress(++done, projectIds.length);
    });
    return { v: 1, projects };
  }

  async refresh(scope: RequestScope, watermarks: unknown, known: KnownRuns, sink: FeedSink): Promise<TestRailWatermarks> {
    let marks = parseWatermarks(watermarks);
    if (!marks) {
      scope.log.warn({ source: this.sourceId }, 'TestRail feed: watermarks unreadable; every project is read in full this cycle');
      marks = { v: 1, projects: {} };
    }
    const projectIds = (await this.source.listProjects(scope)).map((p) => p.nativeId);
    const open = openRunsByProject(known);
    const projects: Record<string, ProjectMark> = {};
    await eachLimited(projectIds, this.concurrency, async (projectId) => {
      const changes = new Changes(known);
      const mine = open.get(projectId) ?? { standalone: [], plans: new Map() };
      const mark = marks.projects[projectId];
      projects[projectId] = mark ? await this.refreshProject(scope, projectId, mark, mine, changes) : await this.readNewProject(projectId, mine, changes);
      this.deliver(sink, changes.runs(), changes.deleted);
    });
    // Open runs of projects TestRail no longer lists (deleted, or no longer visible): confirm each.
    const listed = new Set(projectIds);
    const orphans = [...open].filter(([projectId]) => !listed.has(projectId)).flatMap(([, o]) => [...o.standalone, ...[...o.plans.values()].flat()]);
    const changes = new Changes(known);
    await eachLimited(orphans, this.concurrency, (run) => this.confirm(run, changes, true));
    this.deliver(sink, changes.runs(), changes.deleted);
    return { v: 1, projects };
  }

  // ----------------------------------------------------------------------------- full reads

  /** Every standalone and plan run of a project, as the Source lists them, and the project's first watermark. */
  private async readProject(projectId: string): Promise<{ runs: Run[]; mark: ProjectMark }> {
    const started = performance.now();
    const standalone = (await this.client.all('get_runs/{project_id}', [projectId], 'runs')).map((r) => mapRun(this.sourceId, r));
    const plans = await this.client.all('get_plans/{project_id}', [projectId], 'plans');
    const planRuns: Run[] = [];
    for (const plan of plans) {
      planRuns.push(...runsOfPlan(await this.client.get('get_plan/{plan_id}', [planIdOf(plan)])).map((r) => mapRun(this.sourceId, r)));
    }
    const seconds = (performance.now() - started) / 1000;
    const runItems = standalone.map(listedRun);
    const planItems = plans.map(listedPlan);
    const runsMark = this.nextMark(null, runItems, seconds, { from: null }, runItems.filter((i) => i.open));
    const plansMark = this.nextMark(null, planItems, seconds, { from: null }, planItems.filter((i) => i.open));
    return {
      runs: [...standalone, ...planRuns],
      mark: {
        runs: runsMark,
        plans: plansMark,
        openPlans: planItems.filter((p) => p.open).map((p) => [p.id, p.createdOn]),
        readPlans: planItems.filter((p) => !p.open && isNew(p.createdOn, plansMark.after)).map((p) => [p.id, p.createdOn]),
      },
    };
  }

  private async readNewProject(projectId: string, open: OpenRuns, changes: Changes): Promise<ProjectMark> {
    const read = await this.readProject(projectId);
    changes.offer(read.runs);
    const seen = new Set(read.runs.map((r) => r.nativeId));
    for (const run of [...open.standalone, ...[...open.plans.values()].flat()]) if (!seen.has(run.nativeId)) await this.confirm(run, changes);
    return read.mark;
  }

  // ----------------------------------------------------------------------------- one cycle of a known project

  private async refreshProject(scope: RequestScope, projectId: string, mark: ProjectMark, open: OpenRuns, changes: Changes): Promise<ProjectMark> {
    const started = performance.now();

    // Standalone runs: new ones and the open ones the index holds.
    const runList = await this.changedList('get_runs/{project_id}', 'runs', projectId, mark.runs, open.standalone.map((r) => r.createdAt));
    const runs = runList.items.map((r) => mapRun(this.sourceId, r));
    changes.offer(runs);
    const listedRuns = new Set(runs.map((r) => r.nativeId));
    for (const run of open.standalone) {
      if (listedRuns.has(run.nativeId)) continue;
      const now = await this.confirm(run, changes);
      // Still open yet outside a list that should hold every open run: a vendor that answers the
      // filters otherwise than documented. Delivered anyway; worth knowing.
      if (now && !now.isClosed) scope.log.warn({ source: this.sourceId, run: run.nativeId, project: projectId }, 'TestRail feed: an open run was missing from the open/created_after list');
    }

    // Plans: new ones, those open at the last cycle, and those whose runs the index holds as open.
    const planList = await this.changedList('get_plans/{project_id}', 'plans', projectId, mark.plans, mark.openPlans.map(([, created]) => created));
    const plans = planList.items.map(listedPlan);
    const mustRead = new Set<number>([...mark.openPlans.map(([id]) => id), ...open.plans.keys()]);
    const alreadyRead = new Set(mark.readPlans.map(([id]) => id));
    const toRead = plans.filter((p) => p.open || mustRead.has(p.id) || (isNew(p.createdOn, mark.plans.after) && !alreadyRead.has(p.id)));
    const listedPlans = new Set(plans.map((p) => p.id));
    const missing = [...mustRead].filter((id) => !listedPlans.has(id));
    const openAfter: Listed[] = plans.filter((p) => p.open);
    const readNow: Listed[] = [];
    for (const plan of toRead) {
      await this.readPlan(plan.id, open.plans.get(plan.id) ?? [], changes);
      if (!plan.open) readNow.push(plan);
    }
    for (const planId of missing) {
      const read = await this.readPlan(planId, open.plans.get(planId) ?? [], changes);
      if (read && read.open) openAfter.push(read);
      else if (read) readNow.push(read);
    }

    const seconds = (performance.now() - started) / 1000;
    const runItems = runs.map(listedRun);
    const runsMark = this.nextMark(mark.runs, runItems, seconds, runList.coverage, runItems.filter((i) => i.open));
    const plansMark = this.nextMark(mark.plans, plans, seconds, planList.coverage, openAfter);
    const stillNew = (pairs: Array<[number, number | null]>) => pairs.filter(([, created]) => isNew(created, plansMark.after));
    return {
      runs: runsMark,
      plans: plansMark,
      openPlans: dedupePairs(openAfter.map((p) => [p.id, p.createdOn])),
      readPlans: dedupePairs(stillNew([...mark.readPlans, ...readNow.map((p): [number, number | null] => [p.id, p.createdOn])])),
    };
  }

  /**
   * One of a project's lists, as much of it as can have changed: the window from the older of
   * `after` and the oldest open item on, or — when that window was found to cost more pages —
   * the open items (`is_completed=0`) and the new ones (`created_after`) apart.
   */
  private async changedList(
    route: 'get_runs/{project_id}' | 'get_plans/{project_id}',
    collection: 'runs' | 'plans',
    projectId: string,
    mark: ListMark,
    openCreated: ReadonlyArray<number | null>,
  ): Promise<{ items: unknown[]; coverage: Coverage }> {
    const from = windowFrom(mark.after, openCreated);
    if (from !== null && mark.after !== null && mark.wideFrom !== null && from <= mark.wideFrom) {
      const openItems = await this.client.all(route, [projectId], collection, { is_completed: 0 });
      const fresh = await this.client.all(route, [projectId], collection, createdAfter(mark.after));
      return { items: dedupeById([...openItems, ...fresh]), coverage: 'split' };
    }
    const items = await this.client.all(route, [projectId], collection, from === null ? {} : createdAfter(from));
    return { items, coverage: { from } };
  }

  /**
   * get_plan, its runs offered to the changes, and the open runs the index holds for it that it
   * no longer has confirmed one by one. A plan TestRail no longer has (NOT_FOUND) answers undefined.
   */
  private async readPlan(planId: number, openRuns: readonly Run[], changes: Changes): Promise<Listed | undefined> {
    let body: unknown;
    try {
      body = await this.client.get('get_plan/{plan_id}', [planId]);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      for (const run of openRuns) await this.confirm(run, changes);
      return undefined;
    }
    const runs = runsOfPlan(body).map((r) => mapRun(this.sourceId, r));
    changes.offer(runs);
    const held = new Set(runs.map((r) => r.nativeId));
    for (const run of openRuns) if (!held.has(run.nativeId)) await this.confirm(run, changes);
    return listedPlan(body);
  }

  /**
   * get_run/{id} for a run the index holds as open: delivered as it is now, or deleted when TestRail
   * has no such run. `orphan`: the run's project is no longer listed, and a 403 (the credentials lost
   * the project) takes it out of the index too — live reads no longer show it either.
   */
  private async confirm(run: Run, changes: Changes, orphan = false): Promise<Run | undefined> {
    try {
      const now = mapRun(this.sourceId, await this.client.get('get_run/{run_id}', [run.nativeId]));
      changes.offer([now]);
      return now;
    } catch (error) {
      if (!isNotFound(error) && !(orphan && error instanceof GatewayError && error.code === ErrorCode.FORBIDDEN)) throw error;
      changes.gone(run.key);
      return undefined;
    }
  }

  /**
   * A list's next mark. `after` moves up to the newest creation time seen, less the margin and the
   * read's duration (a run created during the read has a creation time no earlier than the read's
   * start, which is no earlier than anything the read saw minus its duration); it never moves back.
   * When this read covered the next window, it also decides whether that window is cheaper read as
   * one list or as open + new apart.
   */
  private nextMark(prev: ListMark | null, items: readonly Listed[], seconds: number, coverage: Coverage, openAfter: readonly Listed[]): ListMark {
    const newest = maxOf(items.map((i) => i.createdOn));
    const candidate = newest === null ? null : newest - this.margin - Math.ceil(seconds);
    const after = prev?.after == null ? candidate : candidate === null ? prev.after : Math.max(prev.after, candidate);
    const nextFrom = windowFrom(after, openAfter.map((i) => i.createdOn));
    if (after === null || nextFrom === null) return { after, wideFrom: null };
    if (coverage === 'split') return { after, wideFrom: prev?.wideFrom != null && nextFrom <= prev.wideFrom ? prev.wideFrom : null };
    if (coverage.from !== null && nextFrom < coverage.from) return { after, wideFrom: null };
    const windowPages = pages(items.filter((i) => i.createdOn !== null && i.createdOn >= nextFrom).length);
    const splitPages = pages(openAfter.length) + pages(items.filter((i) => i.createdOn !== null && i.createdOn >= after).length);
    return { after, wideFrom: splitPages < windowPages ? nextFrom : null };
  }

  /** Newest first inside what is handed over at once (TestRail itself has no order), in batches. */
  private deliver(sink: FeedSink, runs: Run[], deleted: readonly Key[]): void {
    runs.sort(compareRuns);
    for (let i = 0; i < runs.length; i += this.batchSize) sink.runs(runs.slice(i, i + this.batchSize));
    if (deleted.length > 0) sink.deleted(deleted);
  }
}

// ------------------------------------------------------------------------------- helpers

/** Runs read in one project's cycle that differ from what the index holds, and keys confirmed gone. */
class Changes {
  private readonly changed = new Map<string, Run>();
  readonly deleted: Key[] = [];

  constructor(private readonly known: KnownRuns) {}

  offer(runs: readonly Run[]): void {
    for (const run of runs) if (!sameRun(this.known.get(run.key), run)) this.changed.set(run.key.join('\u0000'), run);
  }

  gone(key: Key): void {
    this.deleted.push(key);
  }

  runs(): Run[] {
    return [...this.changed.values()];
  }
}

function openRunsByProject(known: KnownRuns): Map<string, OpenRuns> {
  const byProject = new Map<string, OpenRuns>();
  for (const run of known.open()) {
    const projectId = run.projectKey?.[0] ?? run.key[1];
    if (projectId === undefined) continue;
    let entry = byProject.get(projectId);
    if (!entry) byProject.set(projectId, (entry = { standalone: [], plans: new Map() }));
    const planId = run.key[2];
    if (planId === undefined) entry.standalone.push(run);
    else {
      const id = Number(planId);
      entry.plans.set(id, [...(entry.plans.get(id) ?? []), run]);
    }
  }
  return byProject;
}

const listedRun = (run: Run): Listed => ({ id: Number(run.nativeId), createdOn: run.createdAt, open: !run.isClosed });
const listedPlan = (plan: unknown): Listed => ({ id: planIdOf(plan), createdOn: planCreatedOn(plan), open: planClosedOn(plan) === null });

/** The creation time a window must reach back to; null when only the whole list will do. */
function windowFrom(after: number | null, openCreated: ReadonlyArray<number | null>): number | null {
  if (after === null) return null;
  let from = after;
  for (const created of openCreated) {
    if (created === null) return null;
    from = Math.min(from, created);
  }
  return from;
}

/** TestRail's created_after may be exclusive (unverified): ask one second earlier. */
const createdAfter = (from: number): Params => ({ created_after: from - 1 });

/** Created at or after `after`, i.e. possibly not read before (everything is, before anything was seen). */
const isNew = (created: number | null, after: number | null) => after === null || (created !== null && created >= after);

const pages = (n: number) => Math.max(1, Math.ceil(n / TESTRAIL_PAGE_LIMIT));

function maxOf(values: ReadonlyArray<number | null>): number | null {
  let max: number | null = null;
  for (const v of values) if (v !== null && (max === null || v > max)) max = v;
  return max;
}

function dedupeById(items: unknown[]): unknown[] {
  const seen = new Set<unknown>();
  return items.filter((item) => {
    const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
    if (id === undefined) return true;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function dedupePairs(pairs: Array<[number, number | null]>): Array<[number, number | null]> {
  const byId = new Map<number, number | null>();
  for (const [id, created] of pairs) byId.set(id, created);
  return [...byId];
}

const isNotFound = (error: unknown) => error instanceof GatewayError && error.code === ErrorCode.NOT_FOUND;



