/**
 * QAComplete's change detection for the run index (model/feed.ts; decisions.md "Run index").
 *
 * What the reference gives us (../shared/vendors/qacomplete.md): test runs only per project
 * (`GET /api/v2/projects/{P}/testruns`, `offset`/`limit` paging, §5), a `filter` with
 * `Field Op Value` conditions joined by AND/OR and parentheses, no documented sort, and a run
 * object with no update time (§3.1: `date_started`, `date_finished`, and — on servers that send it,
 * like our simulator — `date_created`; Run.updatedAt is null). A run's status and counters change
 * only through its items (quirk 14); a new run (created or restarted) starts `Awaiting Run`.
 *
 * backfill: the projects listing (Source.listProjects, memoized in the scope, so the sync's own
 * read of it costs nothing more), then every project's runs, unfiltered, page by page, mapped with
 * mapRun exactly as the Source's live reads map them. The vendor cannot sort, so nothing is read
 * newest first; each page goes to the sink as it arrives (in run order within the page), and
 * progress counts projects. Calls: the projects listing + Σ max(1, ⌈runs_p / page⌉).
 *
 * refresh: one filtered read per project (the same one call for most projects):
 *
 *   (StatusCode != 'Passed' AND … the closed codes of status.md) OR (DateCreated >= '<mark − 1 day>')
 *
 * - every run not in a final status (status.md's closed codes; unknown codes stay open, as the
 *   mapping keeps them open) is re-read each cycle: status, counts and closing of open runs, and
 *   every new run, since new runs start open;
 * - runs created since the mark, open or not: a run created and finished between two cycles, or
 *   one the vendor creates already final;
 * - an open run the index holds that the read no longer returns has closed or gone: one
 *   `GET …/testruns/{Id}` each says which (200: its final state; 404: deleted, confirmed);
 * - a project listed for the first time (new, or newly visible to the user) is read in full,
 *   however old its runs; a project no longer listed takes its open runs out of the index (live
 *   reads no longer list them either);
 * - runs that did not change (compared with the index's copy) are not handed on, so an idle
 *   cycle delivers nothing.
 * Calls per cycle: the projects listing (free inside the sync's scope, which lists them itself) +
 * one page per project (more only where a project's open and recent runs exceed the page) + one GET
 * per open run that left the open list and was created more than a day before the mark + one
 * whole read per project seen for the first time. Idle: 1 + P (P inside the sync's scope).
 *
 * What refresh does NOT detect (the periodic full sweep — the sync re-runs backfill — does):
 * deletions of closed runs, and changes to a run that stays closed (an item of a finished run
 * edited from Failed to Passed); the closed runs of a project that disappeared. A run whose only
 * trace is outside both clauses — created closed, dated more than a day before the newest run we
 * have seen — also waits for the sweep.
 *
 * The mark: the newest creation time seen (the vendor's own clock, so our clock's skew does not
 * matter), never later than our clock at the start of the read (a run dated in the future must not
 * push it ahead), and read back one day earlier. The day covers same-second ties and runs that
 * commit after a newer one, a cycle's own length, and a server that reads the filter's wall time in
 * another zone than it writes its dates in (the same margin listRuns uses for its horizon); the
 * wall time is written in the source's configured timeZone, the zone the dates are read in, so the
 * comparison is wall time against wall time. Anything read twice is upserted idempotently.
 *
 * A server that refuses the filter (400) gets unfiltered reads from then on (remembered in the
 * watermarks, with one warning): every project in full each cycle, which also confirms deleted
 * open runs without a GET where the project's list fits in one page. Where runs carry no `date_created` (createdAt comes from
 * `date_started`), the date clause filters on `DateStarted`, which a run never has before it
 * exists.
 */
import { ErrorCode, GatewayError } from '../../model/errors';
import { sameRun, type FeedSink, type KnownRuns, type RunFeed } from '../../model/feed';
import { compareRuns } from '../../model/runs';
import type { RequestScope, Source } from '../../model/source';
import type { Key, Run } from '../../model/types';
import { object } from '../payload';
import { eachLimited } from '../paging';
import type { QACompleteClient } from './client';
import { formatWall } from './dates';
import { createdAtOf, mapRun } from './map';
import { QACOMPLETE_STATUS_TABLE } from './status';

const RUNS = '/api/v2/projects/{ProjectId}/testruns';
const RUN = '/api/v2/projects/{ProjectId}/testruns/{Id}';

/** How far before the mark the creation clause reads (see the header). */
export const QACOMPLETE_MARK_MARGIN_S = 86_400;

/** A paged read that keeps announcing pages past this is an UPSTREAM_ERROR (as model paging does). */
const MAX_PAGES = 10_000;

type DateField = 'DateCreated' | 'DateStarted';

/** The feed's watermarks, persisted by the index as JSON (opaque to everyone else). */
export interface QACompleteWatermarks {
  v: 1;
  /** Epoch seconds: the newest creation time seen, capped by our clock when it was read. */
  mark: number;
  /** The run field the creation clause filters on. */
  dateField: DateField;
  /** False once the server refused a filter: every project is then read in full. */
  filter: boolean;
  /** Projects read in full at least once: their older runs are in the index. */
  projects: string[];
}

export interface QACompleteFeedOptions {
  /** The QAComplete source: its id, and its (scope-memoized) projects listing. */
  source: Pick<Source, 'info' | 'listProjects'>;
  /** A client on the source's own connection (the same traffic policy, budget and breaker). */
  client: QACompleteClient;
  /** The source's configured `timeZone` (vendor dates carry none); default UTC. */
  timeZone?: string;
  /** Projects read at once; default 2 (the sync's lane allows two requests in flight). */
  concurrency?: number;
}

export function createQACompleteFeed(options: QACompleteFeedOptions): RunFeed {
  return new QACompleteFeed(options);
}

/** What one project's read gave: its runs, and whether they prove what the project lacks. */
interface ProjectRead {
  runs: Run[];
  /**
   * An unfiltered read in one page: the vendor's whole list at one moment. Over several pages a
   * run deleted meanwhile shifts the offsets and a later run can slip between two pages, so a run
   * missing from such a read is confirmed with a GET instead.
   */
  proof: boolean;
}

class QACompleteFeed implements RunFeed {
  private readonly source: QACompleteFeedOptions['source'];
  private readonly client: QACompleteClient;
  private readonly zone: string;
  private readonly concurrency: number;
  /** status.md's final codes: what the open clause excludes (the table the mapping uses). */
  private readonly closedCodes = Object.entries(QACOMPLETE_STATUS_TABLE)
    .filter(([, n]) => n.isClosed)
    .map(([code]) => code);

  constructor(options: QACompleteFeedOptions) {
    this.source = options.source;
    this.client = options.client;
    this.zone = options.timeZone ?? 'UTC';
    this.concurrency = Math.max(1, options.concurrency ?? 2);
  }

  private get id(): string {
    return this.source.info.id;
  }

  async backfill(scope: RequestScope, sink: FeedSink): Promise<QACompleteWatermarks> {
    const startedAt = nowSeconds();
    const state = new ReadState();
    const projects = (await this.source.listProjects(scope)).map((p) => p.nativeId);
    const read: string[] = [];
    let done = 0;
    sink.progress(0, projects.length);
    await eachLimited(projects, this.concurrency, async (projectId) => {
      const ok = await this.readProject(scope, projectId, undefined, state, (runs) => sink.runs(runs));
      if (ok) read.push(projectId);
      sink.progress(++done, projects.length);
    });
    return { v: 1, mark: state.mark(undefined, startedAt), dateField: state.dateField(undefined), filter: true, projects: read.sort() };
  }

  async refresh(scope: RequestScope, watermarks: unknown, known: KnownRuns, sink: FeedSink): Promise<QACompleteWatermarks> {
    const startedAt = nowSeconds();
    const previous = parseWatermarks(watermarks);
    const state = new ReadState();
    let useFilter = previous?.filter ?? true;
    const dateField = previous?.dateField ?? 'DateCreated';
    const from = previous === undefined ? undefined : previous.mark - QACOMPLETE_MARK_MARGIN_S;
    const readBefore = new Set(previous?.projects ?? []);

    const listed = (await this.source.listProjects(scope)).map((p) => p.nativeId);
    const listedSet = new Set(listed);
    // The index's open runs by project; those of projects no longer listed are gone from live reads.
    const openByProject = new Map<string, Run[]>();
    const gone: Key[] = [];
    for (const run of known.open()) {
      const projectId = run.projectKey?.[0] ?? run.key[1];
      if (!listedSet.has(projectId)) gone.push(run.key);
      else {
        const runs = openByProject.get(projectId);
        if (runs) runs.push(run);
        else openByProject.set(projectId, [run]);
      }
    }
    if (gone.length > 0) sink.deleted(gone);

    const changed = (runs: Run[]) => {
      const fresh = runs.filter((run) => !sameRun(known.get(run.key), run));
      if (fresh.length > 0) sink.runs(fresh);
    };
    const read: string[] = [];
    await eachLimited(listed, this.concurrency, async (projectId) => {
      const whole = !useFilter || from === undefined || !readBefore.has(projectId);
      const text = whole ? undefined : this.filterText(dateField, from);
      const seen = new Set<string>();
      const onPage = (runs: Run[]) => {
        for (const run of runs) seen.add(run.nativeId);
        changed(runs);
      };
      let result: ProjectRead | undefined;
      try {
        result = await this.readProjectOnce(projectId, text, state, onPage);
      } catch (error) {
        if (text === undefined || !(error instanceof GatewayError) || error.code !== ErrorCode.BAD_USER_INPUT) {
          if (isProjectGone(error)) return;
          throw error;
        }
        if (useFilter) {
          useFilter = false;
          scope.log.warn(
            { source: this.id, projectId, filter: text, vendorMessage: error.extensions.vendorMessage },
            'QAComplete refused the run index filter; every project is read in full from now on',
          );
        }
        result = await this.readProjectOnce(projectId, undefined, state, onPage).catch((e) => (isProjectGone(e) ? undefined : Promise.reject(e)));
        if (result === undefined) return;
      }
      read.push(projectId);
      const vanished = (openByProject.get(projectId) ?? []).filter((run) => !seen.has(run.nativeId));
      if (vanished.length === 0) return;
      if (result.proof) {
        // The whole list without them is the vendor saying they are gone.
        sink.deleted(vanished.map((run) => run.key));
        return;
      }
      // Closed since the last cycle, or deleted: the run itself says which.
      const deleted: Key[] = [];
      const closed: Run[] = [];
      for (const run of vanished) {
        try {
          closed.push(mapRun(this.id, await this.client.get(RUN, [projectId, run.nativeId]), this.zone));
        } catch (error) {
          if (error instanceof GatewayError && error.code === ErrorCode.NOT_FOUND) deleted.push(run.key);
          // FORBIDDEN: the project went between the listing and now; the next cycle sees it unlisted.
          else if (!(error instanceof GatewayError && error.code === ErrorCode.FORBIDDEN)) throw error;
        }
      }
      changed(closed);
      if (deleted.length > 0) sink.deleted(deleted);
    });

    return {
      v: 1,
      mark: state.mark(previous?.mark, startedAt),
      dateField: state.dateField(previous?.dateField),
      filter: useFilter,
      projects: read.sort(),
    };
  }

  /** The open clause OR the creation clause (§5 syntax; field names PascalCase like the docs'). */
  private filterText(dateField: DateField, from: number): string {
    const open = this.closedCodes.map((code) => `(StatusCode != '${code.replace(/'/g, "''")}')`).join(' AND ');
    return `(${open}) OR (${dateField} >= '${formatWall(from, this.zone)}')`;
  }

  /** A backfill's read of one project: false when the project went since it was listed. */
  private async readProject(scope: RequestScope, projectId: string, text: string | undefined, state: ReadState, onPage: (runs: Run[]) => void): Promise<boolean> {
    try {
      await this.readProjectOnce(projectId, text, state, onPage);
      return true;
    } catch (error) {
      if (!isProjectGone(error)) throw error;
      scope.log.warn({ source: this.id, projectId }, 'QAComplete project listed but no longer readable; left for the next cycle');
      return false;
    }
  }

  /** Every page of one project's runs (with the filter, if any), each handed on as it arrives. */
  private async readProjectOnce(projectId: string, text: string | undefined, state: ReadState, onPage: (runs: Run[]) => void): Promise<ProjectRead> {
    const all: Run[] = [];
    let next: number | null = 0;
    let pages = 0;
    for (; pages < MAX_PAGES && next !== null; pages++) {
      const answer = await this.client.page(RUNS, [projectId], { filter: text }, next);
      const runs = answer.items.map((raw) => {
        const run = mapRun(this.id, raw, this.zone);
        state.saw(run, createdAtOf(object(raw, 'QAComplete test run'), this.zone, 'QAComplete test run').fromDateCreated);
        return run;
      });
      runs.sort(compareRuns);
      all.push(...runs);
      if (runs.length > 0) onPage(runs);
      next = answer.next;
    }
    if (next !== null) throw new GatewayError(ErrorCode.UPSTREAM_ERROR, `${RUNS} kept announcing more pages.`, { source: this.id });
    return { runs: all, proof: text === undefined && pages === 1 };
  }
}

/** What a cycle's reads taught: the newest creation time, and whether runs carry `date_created`. */
class ReadState {
  private newest: number | null = null;
  private fromDateStarted = false;

  saw(run: Run, fromDateCreated: boolean): void {
    if (run.createdAt === null) return;
    if (this.newest === null || run.createdAt > this.newest) this.newest = run.createdAt;
    if (!fromDateCreated) this.fromDateStarted = true;
  }

  /** The newest creation time known, never ahead of our clock at the start of the cycle. */
  mark(previous: number | undefined, startedAt: number): number {
    const newest = Math.max(previous ?? -Infinity, this.newest ?? -Infinity);
    return Math.min(Number.isFinite(newest) ? newest : startedAt, startedAt);
  }

  /** Once a run's createdAt came from `date_started`, the creation clause filters on that field. */
  dateField(previous: DateField | undefined): DateField {
    return this.fromDateStarted || previous === 'DateStarted' ? 'DateStarted' : 'DateCreated';
  }
}

/** Watermarks this feed wrote; anything else (none, another version, garbage) reads every project in full. */
function parseWatermarks(value: unknown): QACompleteWatermarks | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const w = value as Partial<QACompleteWatermarks>;
  if (w.v !== 1 || typeof w.mark !== 'number' || !Number.isFinite(w.mark)) return undefined;
  if (w.dateField !== 'DateCreated' && w.dateField !== 'DateStarted') return undefined;
  if (typeof w.filter !== 'boolean' || !Array.isArray(w.projects) || !w.projects.every((p) => typeof p === 'string')) return undefined;
  return { v: 1, mark: w.mark, dateField: w.dateField, filter: w.filter, projects: w.projects };
}

/** 403 "Access is denied": the project is gone, or no longer the user's (QAComplete does not say which). */
function isProjectGone(error: unknown): boolean {
  return error instanceof GatewayError && error.code === ErrorCode.FORBIDDEN;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);



