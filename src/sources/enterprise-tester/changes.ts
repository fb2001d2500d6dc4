/**
 * Enterprise Tester's change detection for the run index (model/feed.ts; decisions.md "Run index";
 * ../shared/vendors/enterprise-tester.md). Runs are ET's manual script runs, read from the TQL
 * collection `/api/scriptruns` with `$expand=StepResults,Assignment` and mapped with map.ts's
 * parseRun/toRun exactly as the Source's live reads map them: the name is the inlined assignment's,
 * the project is the assignment's execution package's (through its parents where a child package
 * carries no ProjectId), and a run whose assignment is gone is "Script run {id}".
 *
 * What the reference gives: `ORDER BY LastUpdatedAt DESC` (a vendor example, §3.3), `LastUpdatedAt`
 * on every run (§4.1; it moves on every change — results, completion, and edits after completion,
 * §7.4), `Project = '{guid}'` and `Status = Passed` (examples), `$top`/`$skip`/`$inlinecount` with
 * `Total` (§3.4). Unverified, and used with a fallback: date comparisons (`LastUpdatedAt >= "…"`,
 * `CreatedAt <= "…"`; dates sent as UTC instants with `timeZone=UTC`, like tql.ts), `Id IN (…)`.
 *
 * backfill — newest first:
 *   1. `ORDER BY LastUpdatedAt DESC`, `$top=1`: the vendor's newest change before the read starts
 *      (the first refresh's mark, in the vendor's own clock), and `Total` for progress;
 *   2. the execution package list, whole (`/api/executionpackages`, pages of 100): every run's
 *      project without a lookup per page (a package created meanwhile is looked up by id);
 *   3. `ORDER BY CreatedAt DESC`, pages of 100, each handed to the sink as it arrives. Page 2 on is
 *      keyset-paged (`CreatedAt <= <oldest second of the last page>`, `$skip` 0, the boundary
 *      second's runs read again and dropped): a run deleted during the backfill cannot shift an
 *      unread run past the cursor, which `$skip` would — and the scheduler drops every run a
 *      backfill did not see. Only a page that is one second throughout goes on with `$skip`.
 *   Calls: ⌈projects/100⌉ (listProjects, memoized in the scope the scheduler shares) + 1 + ⌈packages/100⌉
 *   + ≈⌈runs/99⌉ (one run per page is the boundary second's, read again). Assignments come inlined;
 *   a server that does not inline them costs ⌈distinct assignments of a page/25⌉ per page.
 *
 * refresh — one cycle:
 *   - the window: `LastUpdatedAt >= <mark − margin> ORDER BY LastUpdatedAt DESC` (keyset-paged
 *     like the backfill, on LastUpdatedAt). It holds every run created, changed or completed since
 *     the last cycle: new runs (a), results (b), completion (c), also in a new project (e);
 *   - a project listed for the first time (new, or newly visible to the login): `Project = "{id}"
 *     ORDER BY CreatedAt DESC`, read in full, however old its runs (an imported project's runs);
 *   - a run read whose copy in the index is the same (every field of Run) is not handed on, so an
 *     idle cycle delivers nothing; only changed runs have their packages looked up (`Id IN`, 25 a call);
 *   - deleted open runs (d): `Status = "In Progress"`, `$top=1`: the vendor's number of open runs,
 *     set against the index's (its open runs, with what this cycle read). Equal: nothing to do.
 *     Not equal: the open runs are listed (pages of 100) and the index's open runs missing from
 *     that list are read by id (`Id IN`, or one GET each): found — completed since, handed on;
 *     not found — deleted, confirmed, `sink.deleted`. Open runs the index lacks are handed on.
 *   Calls, idle: 1 (window, while ≤ 100 runs changed within the margin of the mark) + 1 (open count),
 *   plus the scheduler's listProjects in the same scope. Busy: + ⌈window/99⌉ − 1 more pages,
 *   + ⌈packages of changed runs/25⌉ (per package level), + ⌈runs/99⌉ per new project,
 *   + ⌈open runs/99⌉ + ⌈missing/25⌉ when the open count disagrees.
 *
 * The mark (watermarks.since) is the newest LastUpdatedAt the window (or the backfill's first read)
 * showed — the vendor's own clock, so our clock's skew does not matter — never later than our clock
 * at the start of the cycle (a run stamped in the future must not push it ahead; a vendor clock
 * ahead of ours only widens the window), and the window reads from `margin` seconds before it. The
 * margin covers same-second ties (the bound is inclusive anyway), writes that reach ET's search
 * index after newer ones (`wait-until-indexed: false`, §1), and a page walk that spans a change.
 * What is read twice is upserted idempotently by the sink, and not handed on when unchanged.
 *
 * What a refresh does NOT detect (the periodic full sweep — the scheduler re-runs backfill — does):
 *   - deleted completed runs: nothing about them changes that a cheap read could show;
 *   - changes that do not move a run's LastUpdatedAt: a renamed script or assignment (the run's
 *     name), an execution package moved to another project (the run's project);
 *   - a deleted open run while, in the same cycle, an open run the window did not see yet appeared
 *     (the counts agree): it goes one cycle later, when the new run is known;
 *   - anything at all about open runs' deletion on a server that refuses `Status = "In Progress"`;
 *   - a change whose LastUpdatedAt reaches the search index more than `margin` after a newer one,
 *     or a vendor clock stepping back by more than the margin.
 * Projects and hosts are the scheduler's own (listProjects; ET has no hosts).
 *
 * Fallbacks, each remembered in the watermarks and logged once: a server that refuses the date
 * comparisons (400, or the 403 ET gives for invalid TQL) gets the plain `ORDER BY … DESC` reads with
 * `$skip`, the window cut where the sort passes the bound (so an idle cycle still costs one page);
 * one that refuses `Id IN (…)` gets one GET per id; one that refuses the open count gets none.
 */
import { ErrorCode, GatewayError } from '../../model/errors';
import { sameRun, type FeedSink, type KnownRuns, type RunFeed } from '../../model/feed';
import type { RequestScope, Source } from '../../model/source';
import type { Key, Run } from '../../model/types';
import { object } from '../payload';
import type { CollectionPage, EnterpriseTesterClient, Params } from './client';
import { optTimestamp, parseAssignment, parsePackage, parseRun, toRun, type EtAssignment, type EtPackage, type EtRun } from './map';
import { ET_OPEN_STATUS } from './status';
import { anyOf, quote, tqlDate } from './tql';

/** How far before the mark the window reads (seconds); see the header. */
export const ET_FEED_MARGIN_SECONDS = 300;

/** Items per page. The maximum `$top` is unverified (§13); a vendor test shows 100 honoured. */
export const ET_FEED_PAGE = 100;

/** Every run read carries its step results (counts) and its assignment (name, package), as the Source reads them. */
const RUN_EXPAND = 'StepResults,Assignment';

/** Ids per `Id IN (…)` query: 25 quoted GUIDs percent-encode to about 1,200 bytes (IIS's default limit is 2048). */
const IDS_PER_QUERY = 25;

/** A page walk that keeps announcing pages past this is an UPSTREAM_ERROR, never an endless loop. */
const MAX_PAGES = 10_000;

/** Package levels followed from a child to its project. */
const MAX_PACKAGE_DEPTH = 32;

const OPEN_CLAUSE = `Status = ${quote(ET_OPEN_STATUS)}`;

/** The feed's watermarks, persisted by the index as JSON (opaque to everyone else). */
export interface EnterpriseTesterWatermarks {
  v: 1;
  /** Vendor time, epoch seconds: every change stamped before it has been read. Null: none seen, read every run. */
  since: number | null;
  /** The projects read so far (their runs are in the index); one listed for the first time is read in full. */
  projects: string[];
  /** False once the server refused `LastUpdatedAt >= …` / `CreatedAt <= …`. */
  dateRanges: boolean;
  /** False once the server refused `Status = "In Progress"` (no cheap check for deleted open runs). */
  openCount: boolean;
}

export interface EnterpriseTesterFeedOptions {
  /** The feed's Source: its id names the runs; its listProjects (memoized per scope) lists the projects. */
  source: Pick<Source, 'info' | 'listProjects'>;
  /** A client on the source's own connection, so the feed's calls share its budget, breaker and retries. */
  client: EnterpriseTesterClient;
  /** Default ET_FEED_MARGIN_SECONDS. */
  marginSeconds?: number;
  /** Default ET_FEED_PAGE. */
  pageSize?: number;
}

export function createEnterpriseTesterFeed(options: EnterpriseTesterFeedOptions): RunFeed {
  return new EnterpriseTesterFeed(options);
}

function parseWatermarks(value: unknown): EnterpriseTesterWatermarks | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const w = value as Partial<EnterpriseTesterWatermarks>;
  const since = w.since === null || (typeof w.since === 'number' && Number.isSafeInteger(w.since));
  const projects = Array.isArray(w.projects) && w.projects.every((p) => typeof p === 'string');
  if (w.v !== 1 || !since || !projects || typeof w.dateRanges !== 'boolean' || typeof w.openCount !== 'boolean') return undefined;
  return w as EnterpriseTesterWatermarks;
}

/** What one cycle has looked up (never kept across cycles: each cycle maps what the vendor says now). */
interface Lookups {
  assignments: Map<string, EtAssignment | null>;
  packages: Map<string, EtPackage | null>;
}

/** A run as read, with its project where the read itself fixed it (`Project = …`). */
interface Read {
  run: EtRun;
  project: string | null;
}

/** One page walk over /api/scriptruns, newest `field` first. */
interface Walk {
  /** A clause of the documented kind every read carries (`Project = …`, `Status = …`), or null. */
  where: string | null;
  field: 'CreatedAt' | 'LastUpdatedAt';
  /** Inclusive lower bound on `field`, epoch seconds. */
  lower?: number;
  /** Each page's runs not seen earlier in the walk, in the order read. */
  onPage(runs: EtRun[], total: number | null): Promise<void> | void;
}


class EnterpriseTesterFeed implements RunFeed {
  private readonly source: EnterpriseTesterFeedOptions['source'];
  private readonly client: EnterpriseTesterClient;
  private readonly margin: number;
  private readonly pageSize: number;
  private dateRanges = true;
  private openCount = true;
  /** Off once the server refused `Id IN (…)`: several objects are then read one GET each (not persisted: one refusal per process). */
  private idLists = true;

  constructor(options: EnterpriseTesterFeedOptions) {
    this.source = options.source;
    this.client = options.client;
    this.margin = options.marginSeconds ?? ET_FEED_MARGIN_SECONDS;
    this.pageSize = options.pageSize ?? ET_FEED_PAGE;
  }

  private get id(): string {
    return this.source.info.id;
  }

  // ------------------------------------------------------------------------------- backfill

  async backfill(scope: RequestScope, sink: FeedSink): Promise<EnterpriseTesterWatermarks> {
    const startedAt = nowSeconds();
    const lookups: Lookups = { assignments: new Map(), packages: new Map() };
    const [projects, newest] = await Promise.all([this.source.listProjects(scope), this.newestChange(), this.readAllPackages(lookups)]);
    let done = 0;
    sink.progress(0, newest.total);
    await this.walk(scope, {
      where: null,
      field: 'CreatedAt',
      onPage: async (runs) => {
        const mapped = await this.resolve(lookups, runs.map((run) => ({ run, project: null })));
        if (mapped.length > 0) sink.runs(mapped);
        done += mapped.length;
        sink.progress(done, newest.total === null ? null : Math.max(newest.total, done));
      },
    });
    return this.watermarks(newest.at === null ? null : Math.min(newest.at, startedAt), projects.map((p) => p.nativeId));
  }

  /** The newest LastUpdatedAt the server has (null: no runs), and how many runs there are. */
  private async newestChange(): Promise<{ at: number | null; total: number | null }> {
    const page = await this.client.tqlPage('scriptruns', { tql: 'ORDER BY LastUpdatedAt DESC', timeZone: 'UTC', $top: 1, $inlinecount: 'allpages' });
    const where = 'Enterprise Tester script run';
    const at = page.items.length === 0 ? null : optTimestamp(object(page.items[0], where), 'LastUpdatedAt', where);
    return { at, total: page.total };
  }

  /** Every execution package, so a backfill resolves every run's project without lookups. */
  private async readAllPackages(lookups: Lookups): Promise<void> {
    let skip = 0;
    for (let round = 0; round < MAX_PAGES; round++) {
      const page = await this.client.tqlPage('executionpackages', { $top: this.pageSize, $skip: skip > 0 ? skip : undefined, $inlinecount: 'allpages' });
      for (const item of page.items) {
        const pkg = parsePackage(item);
        lookups.packages.set(pkg.id, pkg);
      }
      skip += page.items.length;
      if (page.items.length === 0 || (page.total !== null ? skip >= page.total : page.items.length < this.pageSize)) return;
    }
    throw this.endless('execution packages');
  }

  // ------------------------------------------------------------------------------- refresh

  async refresh(scope: RequestScope, watermarks: unknown, known: KnownRuns, sink: FeedSink): Promise<EnterpriseTesterWatermarks> {
    const startedAt = nowSeconds();
    const marks = parseWatermarks(watermarks);
    if (marks === undefined && watermarks !== undefined && watermarks !== null) {
      scope.log.warn({ source: this.id }, 'Enterprise Tester feed: watermarks not understood; this refresh reads every run once');
    }
    if (marks) {
      this.dateRanges &&= marks.dateRanges;
      this.openCount &&= marks.openCount;
    }
    const since = marks?.since ?? null;
    const projects = (await this.source.listProjects(scope)).map((p) => p.nativeId);
    // Without a mark the window is every run, so no project needs a read of its own.
    const seenProjects = new Set(marks?.projects ?? projects);
    const newProjects = since === null ? [] : projects.filter((id) => !seenProjects.has(id));

    const read = new Map<string, Read>();
    const seenWindow = { newest: null as number | null };
    await this.walk(scope, {
      where: null,
      field: 'LastUpdatedAt',
      lower: since === null ? undefined : since - this.margin,
      onPage: (runs) => {
        for (const run of runs) {
          read.set(run.id, { run, project: null });
          if (run.updatedAt !== null && (seenWindow.newest === null || run.updatedAt > seenWindow.newest)) seenWindow.newest = run.updatedAt;
        }
      },
    });
    for (const project of newProjects) {
      await this.walk(scope, {
        where: anyOf('Project', [project]),
        field: 'CreatedAt',
        onPage: (runs) => runs.forEach((run) => read.set(run.id, { run, project })),
      });
    }

    const cycle = new Cycle(this, known, sink);
    await cycle.offer([...read.values()]);

    if (this.openCount) await this.checkOpen(scope, cycle, read);

    const newest = seenWindow.newest === null ? since : Math.max(since ?? seenWindow.newest, seenWindow.newest);
    return this.watermarks(newest === null ? null : Math.min(newest, startedAt), projects);
  }

  /**
   * Deleted open runs: the vendor's count of open runs against the index's. Only a difference
   * costs more than the one count call.
   */
  private async checkOpen(scope: RequestScope, cycle: Cycle, read: Map<string, Read>): Promise<void> {
    const open = new Set<string>();
    for (const run of cycle.known.open()) open.add(run.nativeId);
    for (const { run } of read.values()) {
      if (run.completed) open.delete(run.id);
      else open.add(run.id);
    }
    let vendorOpen: number | null;
    try {
      vendorOpen = (await this.client.tqlPage('scriptruns', { tql: OPEN_CLAUSE, timeZone: 'UTC', $top: 1, $inlinecount: 'allpages' })).total;
    } catch (error) {
      if (!refusedQuery(error)) throw error;
      this.openCount = false;
      scope.log.warn({ source: this.id, status: (error as GatewayError).extensions.status }, 'Enterprise Tester refused a Status query; deleted open runs now wait for the full sweep');
      return;
    }
    if (vendorOpen === null || vendorOpen === open.size) return;

    const listed = new Map<string, EtRun>();
    await this.walk(scope, { where: OPEN_CLAUSE, field: 'CreatedAt', onPage: (runs) => runs.forEach((run) => listed.set(run.id, run)) });
    const missing = [...open].filter((id) => !listed.has(id));
    const found = missing.length > 0 ? await this.fetchById(missing, 'scriptrun/{id}', 'scriptruns', parseRun, { $expand: RUN_EXPAND }) : new Map<string, EtRun>();
    const gone = missing.filter((id) => !found.has(id));
    await cycle.offer([...listed.values(), ...found.values()].map((run) => ({ run, project: read.get(run.id)?.project ?? null })));
    if (gone.length > 0) cycle.sink.deleted(gone.map((id): Key => [id]));
  }

  // ------------------------------------------------------------------------------- reading

  /**
   * Pages of `[where AND] [field >= lower AND] [field <= upper] ORDER BY field DESC`. After a page
   * that spans several seconds the next read is bounded by that page's oldest second (`$skip` 0,
   * its runs read again and dropped); a page within one second goes on with `$skip`. Without date
   * comparisons (refused) it is plain `$skip` paging, cut where the sort passes `lower`.
   */
  async walk(scope: RequestScope, w: Walk): Promise<void> {
    const keyOf = (run: EtRun) => (w.field === 'CreatedAt' ? run.createdAt : run.updatedAt);
    let ranged = this.dateRanges;
    let refusal: GatewayError | undefined;
    let upper: number | null = null;
    let skip = 0;
    const seen = new Set<string>();
    for (let round = 0; round < MAX_PAGES; round++) {
      const bounds: string[] = [];
      if (ranged && w.lower !== undefined) bounds.push(`${w.field} >= ${tqlDate(w.lower)}`);
      if (ranged && upper !== null) bounds.push(`${w.field} <= ${tqlDate(upper)}`);
      const clauses = [...(w.where ? [w.where] : []), ...bounds];
      const tql = `${clauses.length > 0 ? `${clauses.join(' AND ')} ` : ''}ORDER BY ${w.field} DESC`;
      const params: Params = { tql, timeZone: 'UTC', $top: this.pageSize, $skip: skip > 0 ? skip : undefined, $inlinecount: 'allpages', $expand: RUN_EXPAND };
      let page: CollectionPage;
      try {
        page = await this.client.tqlPage('scriptruns', params);
      } catch (error) {
        if (bounds.length === 0 || !refusedQuery(error)) throw error;
        // The same walk without date comparisons, from where the bounded reads got to (they read a
        // prefix of the same order).
        refusal = error as GatewayError;
        ranged = false;
        upper = null;
        skip = seen.size;
        continue;
      }
      if (refusal && this.dateRanges) {
        // The plain read worked where the bounded one did not: it was the syntax, not the rights.
        this.dateRanges = false;
        scope.log.warn({ source: this.id, status: refusal.extensions.status }, 'Enterprise Tester refused a date comparison in TQL; the run index feed reads sorted pages without it from now on');
      }
      const runs = page.items.map(parseRun);
      const fresh = runs.filter((run) => {
        if (seen.has(run.id)) return false;
        const key = keyOf(run);
        return ranged || w.lower === undefined || key === null || key >= w.lower;
      });
      fresh.forEach((run) => seen.add(run.id));
      await w.onPage(fresh, page.total);

      const readTo = skip + runs.length;
      if (runs.length === 0 || (page.total !== null ? readTo >= page.total : runs.length < this.pageSize)) return;
      const keys = runs.map(keyOf).filter((k): k is number => k !== null);
      const oldest = Math.min(...keys);
      if (!ranged) {
        if (w.lower !== undefined && keys.length > 0 && oldest < w.lower) return;
        skip = readTo;
      } else if (keys.length === runs.length && oldest < Math.max(...keys)) {
        upper = oldest;
        skip = 0;
      } else {
        skip = readTo;
      }
    }
    throw this.endless('script runs');
  }

  /**
   * Objects by id. One id: its own GET (404 = none). Several: `Id IN (…)` on the TQL collection,
   * 25 at a time; a server that refuses that syntax (unverified) gets one GET each from then on.
   */
  async fetchById<T extends { id: string }>(ids: readonly string[], single: string, collection: string, parse: (value: unknown) => T, params: Params = {}): Promise<Map<string, T>> {
    const unique = [...new Set(ids)];
    if (unique.length > 1 && this.idLists) {
      try {
        const pages = await Promise.all(
          chunk(unique, IDS_PER_QUERY).map((part) => this.client.tqlPage(collection, { tql: anyOf('Id', part), timeZone: 'UTC', $top: part.length, $inlinecount: 'allpages', ...params })),
        );
        return new Map(pages.flatMap((p) => p.items.map(parse)).map((item) => [item.id, item]));
      } catch (error) {
        if (!refusedQuery(error)) throw error;
        const found = await this.getEach(unique, single, parse, params);
        this.idLists = false;
        return found;
      }
    }
    return this.getEach(unique, single, parse, params);
  }

  private async getEach<T extends { id: string }>(ids: readonly string[], single: string, parse: (value: unknown) => T, params: Params): Promise<Map<string, T>> {
    const answers: Array<T | null> = await Promise.all(
      ids.map((id) =>
        this.client.get(single, [id], params).then(
          (body): T | null => parse(body),
          (error: unknown) => {
            if (error instanceof GatewayError && error.code === ErrorCode.NOT_FOUND) return null;
            throw error;
          },
        ),
      ),
    );
    return new Map(answers.filter((a): a is T => a !== null).map((item) => [item.id, item]));
  }

  // ------------------------------------------------------------------------------- mapping

  /**
   * Runs as read → model Runs, as the Source's live reads map them: assignments the server did not
   * inline and packages not yet known are looked up in batches (never one call per run); a run read
   * with `Project = …` has that project, as a project's live run list gives it.
   */
  async resolve(lookups: Lookups, reads: readonly Read[]): Promise<Run[]> {
    const notInlined = [...new Set(reads.filter((r) => r.run.assignment === null).map((r) => r.run.assignmentId))].filter((id) => !lookups.assignments.has(id));
    if (notInlined.length > 0) {
      const found = await this.fetchById(notInlined, 'scriptassignment/{id}', 'scriptassignments', parseAssignment);
      for (const id of notInlined) lookups.assignments.set(id, found.get(id) ?? null);
    }
    const assignmentOf = (run: EtRun) => run.assignment ?? lookups.assignments.get(run.assignmentId) ?? null;
    await this.loadPackages(
      lookups,
      reads.filter((r) => r.project === null).flatMap((r) => assignmentOf(r.run)?.packageId ?? []),
    );
    return reads.map(({ run, project }) => {
      const assignment = assignmentOf(run);
      const projectId = project ?? (assignment ? projectOfPackage(lookups, assignment.packageId) : null);
      // The Source's own rule for a run whose assignment is gone.
      return toRun(this.id, run, assignment?.name ?? `Script run ${run.id}`, projectId);
    });
  }

  /** Packages on the way from each id to its project that this cycle does not know yet: one batched read per level. */
  private async loadPackages(lookups: Lookups, ids: readonly string[]): Promise<void> {
    const firstUnknown = (id: string): string | null => {
      const visited = new Set<string>();
      let current: string | null = id;
      while (current !== null && !visited.has(current)) {
        visited.add(current);
        if (!lookups.packages.has(current)) return current;
        const pkg = lookups.packages.get(current);
        current = pkg && !pkg.projectId ? pkg.parentId : null;
      }
      return null;
    };
    for (let depth = 0; depth < MAX_PACKAGE_DEPTH; depth++) {
      const level = [...new Set(ids.map(firstUnknown).filter((id): id is string => id !== null))];
      if (level.length === 0) return;
      const found = await this.fetchById(level, 'executionpackage/{id}', 'executionpackages', parsePackage);
      for (const id of level) lookups.packages.set(id, found.get(id) ?? null);
    }
  }

  private watermarks(since: number | null, projects: readonly string[]): EnterpriseTesterWatermarks {
    return { v: 1, since, projects: [...projects], dateRanges: this.dateRanges, openCount: this.openCount };
  }

  private endless(what: string): GatewayError {
    return new GatewayError(ErrorCode.UPSTREAM_ERROR, `Enterprise Tester kept announcing more ${what}.`, { source: this.id });
  }
}

/** What one refresh has handed on, so a run read twice in a cycle (window, then open list) goes once. */
class Cycle {
  private readonly lookups: Lookups = { assignments: new Map(), packages: new Map() };
  private readonly delivered = new Map<string, Run>();

  constructor(
    private readonly feed: EnterpriseTesterFeed,
    readonly known: KnownRuns,
    readonly sink: FeedSink,
  ) {}

  private before(id: string): Run | undefined {
    return this.delivered.get(id) ?? this.known.get([id]);
  }

  /** Hands on the runs that differ from the index's copy; only those are mapped with lookups. */
  async offer(reads: readonly Read[]): Promise<void> {
    // A run whose every field but the project reads as the index holds it cannot have changed
    // project either (LastUpdatedAt did not move): no package lookup for it.
    const candidates = reads.filter(({ run, project }) => {
      const before = this.before(run.id);
      if (!before || run.assignment === null) return true;
      const guess = toRun(before.sourceId, run, run.assignment.name, project ?? before.projectKey?.[0] ?? null);
      return !sameRun(guess, before);
    });
    if (candidates.length === 0) return;
    const mapped = await this.feed.resolve(this.lookups, candidates);
    const changed = mapped.filter((run) => {
      const before = this.before(run.nativeId);
      return !before || !sameRun(run, before);
    });
    for (const run of changed) this.delivered.set(run.nativeId, run);
    if (changed.length > 0) this.sink.runs(changed);
  }
}

function projectOfPackage(lookups: Lookups, packageId: string): string | null {
  const visited = new Set<string>();
  let current: string | null = packageId;
  while (current !== null && !visited.has(current)) {
    visited.add(current);
    const pkg = lookups.packages.get(current);
    if (!pkg) return null;
    if (pkg.projectId) return pkg.projectId;
    current = pkg.parentId;
  }
  return null;
}

/** The server refused a query we wrote (bad TQL answers 400, or 403 with a message), as the Source reads it. */
function refusedQuery(error: unknown): boolean {
  if (!(error instanceof GatewayError)) return false;
  const status = error.extensions.status;
  return status === 400 || (status === 403 && error.code !== ErrorCode.UNAUTHENTICATED);
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
