/**
 * Enterprise Tester as a rungraph Source (../shared/vendors/enterprise-tester.md). Runs are ET's
 * manual script runs, listed through the TQL collection `/api/scriptruns` sorted by the vendor
 * (`ORDER BY CreatedAt DESC`), so a page reads only what it returns plus one look-ahead
 * (decisions.md, "Order"). A run's name is its script assignment's; its project is reached through
 * the assignment's execution package. Both are looked up in batches shared by the whole request, so
 * a page costs a fixed number of calls however many runs it holds.
 *
 * Hosts: none. ET has no test host, agent or execution-machine concept in its API (§8): automated
 * results are imported from files, and Rover is a desktop plugin with undocumented resources. The
 * issue says so too, so `capabilities.hosts` is false.
 *
 * TODO(#9): the run index's feed (model/feed.ts) in changes.ts: `LastUpdatedAt >= mark ORDER BY
 * LastUpdatedAt DESC` on /api/scriptruns (a documented TQL sort field; Run.updatedAt) reads every
 * change since the last cycle, completion included, in one paged read; deletions by the periodic
 * sweep or a lookup's 404.
 */
import { badInput, ErrorCode, GatewayError, notFound, unsupported } from '../../model/errors';
import { sliceRuns, type RunQuery, type RunSlice } from '../../model/runs';
import type { AddRunRequest, Batch, DeleteOutcome, RequestScope, RunOptionRequest, Source } from '../../model/source';
import type { Host, Key, Project, Run, RunOptionList, RunOptionLists, RunOptionPage, SourceInfo } from '../../model/types';
import type { SourceConnection } from '../connection';
import { MAX_PAGES } from '../paging';
import { readRunOptions } from '../run-options';
import { EnterpriseTesterClient, type Params } from './client';
import { EnterpriseTesterRunOptions } from './options';
import { parseAssignment, parsePackage, parseProject, parseRun, toRun, type EtAssignment, type EtPackage, type EtRun } from './map';
import { anyOf, runTql } from './tql';

/** Every run read carries its step results (counts) and its assignment (name, package). */
const RUN_EXPAND = 'StepResults,Assignment';

/**
 * Ids per `Id IN (…)` query. IIS's default query-string limit is 2048 bytes; 25 quoted GUIDs
 * percent-encode to about 1,200.
 */
const IDS_PER_QUERY = 25;

/** Follow-up reads when the gateway filters what the server could not: doubled up to this. */
const MAX_CHUNK = 200;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface RunPage {
  runs: Run[];
  /** Items the server returned (before any filtering). */
  count: number;
  total: number | null;
}

export class EnterpriseTesterSource implements Source {
  readonly info: SourceInfo;
  /** Public for its change detection (changes.ts), which reads through the same connection and budget. */
  readonly client: EnterpriseTesterClient;
  private readonly runOptions: EnterpriseTesterRunOptions;
  private pushdown: boolean;
  /** Off once a server refused `Id IN (…)`: several runs are then read one GET each. */
  private idListQueries = true;

  constructor(private readonly connection: SourceConnection) {
    this.info = {
      id: connection.id,
      kind: 'enterprise-tester',
      name: connection.name,
      capabilities: { addRun: true, restartRun: true, closeRun: true, deleteRun: true, hosts: false },
    };
    this.pushdown = connection.pushdown ?? true;
    this.client = new EnterpriseTesterClient(connection);
    this.runOptions = new EnterpriseTesterRunOptions(
      connection.id,
      this.client,
      (scope, packageIds, inlined) => {
        // Packages inlined with `$expand=Package` need no lookup of their own.
        for (const pkg of inlined) void scope.memo(`${this.id}:package:${pkg.id}`, async () => pkg);
        return this.projectsOfPackages(scope, packageIds);
      },
      (value, what) => this.guidKey(value, what),
    );
  }

  private get id(): string {
    return this.info.id;
  }

  /** ET's ids are GUIDs, which it emits lower-case (§2) and rungraph keeps so (map.ts). */
  canonicalKey(key: Key): Key {
    return key.map((part) => part.toLowerCase());
  }

  // ------------------------------------------------------------------------------- projects

  listProjects(scope: RequestScope): Promise<Project[]> {
    return scope.memo(`${this.id}:projects`, async () => (await this.client.odataAll('projects')).map((p) => parseProject(this.id, p)));
  }

  async getProjects(scope: RequestScope, keys: readonly Key[]): Promise<Batch<Project>> {
    // One project alone costs one GET, unless this request already listed them all.
    if (keys.length === 1 && !scope.peek(`${this.id}:projects`)) {
      try {
        const id = this.guidKey(keys[0][0], 'project');
        return [await scope.memo(`${this.id}:project:${id}`, async () => parseProject(this.id, await this.client.get('project/{id}', [id])))];
      } catch (error) {
        if (error instanceof GatewayError) return [error.withSource(this.id)];
        throw error;
      }
    }
    const all = await this.listProjects(scope);
    return keys.map((key) => {
      const id = key[0]?.toLowerCase();
      return all.find((p) => p.nativeId === id) ?? notFound(`Enterprise Tester has no project ${key[0]}.`, this.id);
    });
  }

  // ------------------------------------------------------------------------------- runs

  /**
   * Pages of `ORDER BY CreatedAt DESC`, read from the top of what the TQL selects (the cursor's
   * position is pushed as `CreatedAt <= position`):
   * - the first read asks for `limit + 1` (the look-ahead), plus 1 when the position was pushed,
   *   because the position's own run comes back first;
   * - a run is returned only once every run of its CreatedAt second has been read: ET orders ties
   *   in its own way, and rungraph's tie order (native id ascending) could put an unread tie
   *   before it. So when the page's last second straddles the end of a read, or runs at the
   *   position's second that were already returned take room, the next read continues with
   *   `$skip` — the only reads beyond page + look-ahead, and only ties force them while the
   *   filter is exact. When the gateway must filter what the server could not (QUEUED versus
   *   IN_PROGRESS, or pushdown off), follow-up reads double in size.
   */
  async listRuns(scope: RequestScope, query: RunQuery): Promise<RunSlice> {
    try {
      return await this.readRuns(scope, query, this.pushdown);
    } catch (error) {
      // Our TQL beyond the vendor's own examples is unverified (tql.ts). A server that refuses the
      // query (400, or the 403 ET gives for invalid TQL) gets the plain ORDER BY query instead, and
      // rungraph filters in the gateway from then on: same answer, more reading.
      if (!this.pushdown || !refusedQuery(error)) throw error;
      const answer = await this.readRuns(scope, query, false);
      this.pushdown = false;
      scope.log.warn({ source: this.id, status: (error as GatewayError).extensions.status }, 'Enterprise Tester refused a filtered TQL query; filtering in the gateway from now on');
      return answer;
    }
  }

  private async readRuns(scope: RequestScope, query: RunQuery, pushdown: boolean): Promise<RunSlice> {
    const plan = runTql(query, pushdown);
    if (plan.none) return { runs: [], hasMore: false };
    // The filter and the position in the form the runs carry (canonicalKey), compared as plain strings.
    const exactQuery: RunQuery = {
      ...query,
      filter: { ...query.filter, projectKeys: query.filter.projectKeys?.map((k) => this.canonicalKey([k[0]])) },
      after: query.after && { ...query.after, nativeId: this.canonicalKey([query.after.nativeId])[0] },
    };
    const first = query.limit + 1 + (plan.positionPushed ? 1 : 0);
    const read: Run[] = [];
    let skip = 0;
    let top = first;
    for (let round = 0; round < MAX_PAGES; round++) {
      const page = await this.runPage(scope, plan.tql, skip, top, plan.knownProject);
      read.push(...page.runs);
      skip += page.count;
      const exhausted = page.count === 0 || (page.total !== null ? skip >= page.total : page.count < top);
      if (exhausted) return sliceRuns(read, exactQuery);
      const oldestRead = Math.min(...page.runs.map((r) => r.createdAt ?? 0));
      const matching = sliceRuns(read, { ...exactQuery, limit: read.length }).runs;
      // Seconds newer than the oldest one read are complete: no unread run can sort among their runs.
      const settled = matching.filter((r) => (r.createdAt ?? 0) > oldestRead);
      if (settled.length >= query.limit && matching.length > query.limit) {
        return { runs: settled.slice(0, query.limit), hasMore: true };
      }
      top = plan.exact ? first : Math.min(top * 2, MAX_CHUNK);
    }
    throw new GatewayError(ErrorCode.UPSTREAM_ERROR, 'Enterprise Tester kept announcing more script runs.', { source: this.id });
  }

  /** One read of the TQL collection, with names and projects resolved; memoized per request. */
  private runPage(scope: RequestScope, tql: string, skip: number, top: number, knownProject: string | null): Promise<RunPage> {
    return scope.memo(`${this.id}:scriptruns:${tql}:${skip}:${top}`, async () => {
      const params: Params = { tql, timeZone: 'UTC', $top: top, $skip: skip > 0 ? skip : undefined, $inlinecount: 'allpages', $expand: RUN_EXPAND };
      const page = await this.client.tqlPage('scriptruns', params);
      return { runs: await this.resolveRuns(scope, page.items.map(parseRun), knownProject), count: page.items.length, total: page.total };
    });
  }

  /**
   * One key costs `GET /api/scriptrun/{id}` (the documented way, with a proper 404). More keys
   * cost one TQL read per 25 (`Id IN (…)`, unverified syntax, see tql.ts) — 50 keys, two reads —
   * plus the batched assignment and package lookups every run list shares.
   */
  async getRuns(scope: RequestScope, keys: readonly Key[]): Promise<Batch<Run>> {
    const ids = keys.map((key) => {
      try {
        return this.guidKey(key[0], 'run');
      } catch (error) {
        return error as GatewayError;
      }
    });
    const wanted = [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
    let found: Map<string, Run>;
    if (wanted.length === 1) {
      try {
        const run = await scope.memo(`${this.id}:run:${wanted[0]}`, async () => {
          const [one] = await this.resolveRuns(scope, [parseRun(await this.client.get('scriptrun/{id}', [wanted[0]], { $expand: RUN_EXPAND }))], null);
          return one;
        });
        found = new Map([[wanted[0], run]]);
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        const failure = error.withSource(this.id);
        return ids.map((id) => (typeof id === 'string' ? failure : id));
      }
    } else {
      found = new Map((await this.readRunsById(scope, wanted)).map((r) => [r.nativeId, r]));
    }
    return ids.map((id) => (typeof id === 'string' ? (found.get(id) ?? notFound(`Enterprise Tester has no script run ${id}.`, this.id)) : id));
  }

  /**
   * Several runs by id: one `Id IN (…)` TQL read per 25 ids; if the server refuses that syntax
   * (unverified), one GET each from then on, which every server documents.
   */
  private async readRunsById(scope: RequestScope, ids: string[]): Promise<Run[]> {
    let refused = false;
    if (this.idListQueries) {
      try {
        const pages = await Promise.all(
          chunk(ids, IDS_PER_QUERY).map((part) => this.client.tqlPage('scriptruns', { tql: anyOf('Id', part), $top: part.length, $inlinecount: 'allpages', $expand: RUN_EXPAND })),
        );
        return await this.resolveRuns(scope, pages.flatMap((p) => p.items.map(parseRun)), null);
      } catch (error) {
        if (!refusedQuery(error)) throw error;
        refused = true;
      }
    }
    const answers = await Promise.all(
      ids.map((id) =>
        this.client.get('scriptrun/{id}', [id], { $expand: RUN_EXPAND }).then(
          (body) => parseRun(body),
          (error: unknown) => {
            if (error instanceof GatewayError && error.code === ErrorCode.NOT_FOUND) return null;
            throw error;
          },
        ),
      ),
    );
    if (refused) {
      // The one-by-one reads worked where the list query did not: it was the syntax, not the rights.
      this.idListQueries = false;
      scope.log.warn({ source: this.id }, 'Enterprise Tester refused an Id IN (…) TQL query; reading runs one by one from now on');
    }
    return this.resolveRuns(scope, answers.filter((r): r is EtRun => r !== null), null);
  }

  /** Names and projects for runs as read: assignments the server did not inline, then packages. */
  private async resolveRuns(scope: RequestScope, runs: EtRun[], knownProject: string | null): Promise<Run[]> {
    const notInlined = runs.filter((r) => r.assignment === null).map((r) => r.assignmentId);
    const fetched = notInlined.length > 0 ? await this.lookupMany(scope, 'assignment', notInlined, (ids) => this.fetchAssignments(ids)) : new Map<string, EtAssignment | undefined>();
    const assignmentOf = (run: EtRun) => run.assignment ?? fetched.get(run.assignmentId) ?? null;
    const projects =
      knownProject === null
        ? await this.projectsOfPackages(scope, runs.flatMap((r) => assignmentOf(r)?.packageId ?? []))
        : new Map<string, string | null>();
    return runs.map((run) => {
      const assignment = assignmentOf(run);
      const projectId = knownProject ?? (assignment ? (projects.get(assignment.packageId) ?? null) : null);
      // A run whose assignment is gone still needs a name; the vendor's own word for it is a script run.
      return toRun(this.id, run, assignment?.name ?? `Script run ${run.id}`, projectId);
    });
  }

  /**
   * The project of each execution package. A child package's `ProjectId` may not be filled in
   * (the write body takes ProjectId for a root package or ParentId for a child, §4.6), so such a
   * package is resolved through its parents, one batched read per level, never one per run.
   */
  private async projectsOfPackages(scope: RequestScope, packageIds: readonly string[]): Promise<Map<string, string | null>> {
    const projectOf = new Map<string, string | null>();
    const parentOf = new Map<string, string>();
    const asked = new Set<string>();
    let level = [...new Set(packageIds)];
    for (let depth = 0; level.length > 0 && depth < 32; depth++) {
      level.forEach((id) => asked.add(id));
      const found = await this.lookupMany(scope, 'package', level, (ids) => this.fetchPackages(ids));
      const next: string[] = [];
      for (const id of level) {
        const pkg = found.get(id);
        if (pkg?.projectId) projectOf.set(id, pkg.projectId);
        else if (pkg?.parentId) {
          parentOf.set(id, pkg.parentId);
          if (!asked.has(pkg.parentId)) next.push(pkg.parentId);
        } else projectOf.set(id, null);
      }
      level = [...new Set(next)];
    }
    const resolve = (id: string, seen: Set<string>): string | null => {
      if (projectOf.has(id)) return projectOf.get(id) ?? null;
      const parent = parentOf.get(id);
      if (parent === undefined || seen.has(parent)) return null;
      seen.add(parent);
      return resolve(parent, seen);
    };
    return new Map(packageIds.map((id) => [id, resolve(id, new Set([id]))]));
  }

  /**
   * Objects by id, batched and memoized per request: ids this request already asked for are not
   * asked again, the rest go in one batch. `undefined` = the vendor has no such object.
   */
  private async lookupMany<T>(
    scope: RequestScope,
    kind: string,
    ids: readonly string[],
    fetch: (ids: string[]) => Promise<Map<string, T>>,
  ): Promise<Map<string, T | undefined>> {
    const unique = [...new Set(ids)];
    const keyOf = (id: string) => `${this.id}:${kind}:${id}`;
    const pending = new Map<string, Promise<T | undefined>>();
    for (const id of unique) {
      const known = scope.peek<T | undefined>(keyOf(id));
      if (known) pending.set(id, known);
    }
    const missing = unique.filter((id) => !pending.has(id));
    if (missing.length > 0) {
      const batch = fetch(missing);
      for (const id of missing) pending.set(id, scope.memo(keyOf(id), () => batch.then((found) => found.get(id))));
    }
    const values = await Promise.all(unique.map((id) => pending.get(id)!));
    return new Map(unique.map((id, i) => [id, values[i]]));
  }

  private fetchAssignments(ids: string[]): Promise<Map<string, EtAssignment>> {
    return this.fetchById(ids, 'scriptassignment/{id}', 'scriptassignments', parseAssignment);
  }

  private fetchPackages(ids: string[]): Promise<Map<string, EtPackage>> {
    return this.fetchById(ids, 'executionpackage/{id}', 'executionpackages', parsePackage);
  }

  /** One id: the entity's own GET (404 = none). Several: `Id IN (…)` on the TQL collection, 25 at a time. */
  private async fetchById<T extends { id: string }>(ids: string[], single: string, collection: string, parse: (value: unknown) => T): Promise<Map<string, T>> {
    if (ids.length === 1) {
      try {
        const item = parse(await this.client.get(single, [ids[0]]));
        return new Map([[item.id, item]]);
      } catch (error) {
        if (error instanceof GatewayError && error.code === ErrorCode.NOT_FOUND) return new Map();
        throw error;
      }
    }
    const pages = await Promise.all(chunk(ids, IDS_PER_QUERY).map((part) => this.client.tqlPage(collection, { tql: anyOf('Id', part), $top: part.length, $inlinecount: 'allpages' })));
    return new Map(pages.flatMap((p) => p.items.map(parse)).map((item) => [item.id, item]));
  }

  // ------------------------------------------------------------------------------- hosts

  async listHosts(): Promise<Host[]> {
    return [];
  }

  async getHosts(_scope: RequestScope, keys: readonly Key[]): Promise<Batch<Host>> {
    return keys.map(() => unsupported('Enterprise Tester has no test hosts.', this.id));
  }

  // ------------------------------------------------------------------------------- addRun options

  /** Script assignments and assignees of one project: see options.ts. */
  listRunOptions<L extends RunOptionList>(scope: RequestScope, request: RunOptionRequest<L>): Promise<RunOptionPage<RunOptionLists[L]>> {
    return readRunOptions(this.runOptions.readers, 'Enterprise Tester', this.id, scope, request);
  }

  // ------------------------------------------------------------------------------- mutations

  /**
   * POST /api/scriptassignment/{id}/runs. ET answers 201 with a new run, or 200 with the
   * assignment's unfinished run, which it returns instead of starting a second (§7.1): rungraph
   * returns that run as it is. The assignment is read first, so a run never lands in a project
   * other than the one the caller named.
   */
  async addRun(scope: RequestScope, request: AddRunRequest): Promise<Run> {
    // ET runs take their name from the script and have no description or host (decisions.md: never silently dropped).
    if (request.name !== undefined) throw badInput('input.name: Enterprise Tester runs are named after their script assignment; leave name out.', this.id);
    if (request.description !== undefined) throw badInput('input.description: Enterprise Tester runs have no description; leave description out.', this.id);
    if (request.hostKey !== undefined) throw badInput('input.hostId: Enterprise Tester has no test hosts.', this.id);
    const input = request.enterpriseTester;
    if (!input) throw badInput('input.enterpriseTester is required for an Enterprise Tester project: it names the scriptAssignmentId to run.', this.id);
    const projectId = this.guidKey(request.projectKey[0], 'project');
    const assignmentId = guidInput(input.scriptAssignmentId, 'enterpriseTester.scriptAssignmentId', this.id);
    const testerId = input.testerId === undefined ? undefined : guidInput(input.testerId, 'enterpriseTester.testerId', this.id);

    let assignment: EtAssignment;
    try {
      assignment = parseAssignment(await this.client.get('scriptassignment/{id}', [assignmentId]));
    } catch (error) {
      // A reference inside the input that does not exist is the caller's mistake (as for TestRail's suite_id).
      if (error instanceof GatewayError && error.code === ErrorCode.NOT_FOUND) {
        throw new GatewayError(ErrorCode.BAD_USER_INPUT, `input.enterpriseTester.scriptAssignmentId: Enterprise Tester has no script assignment ${assignmentId}.`, {
          source: this.id,
          status: 404,
        });
      }
      throw error;
    }
    const owner = (await this.projectsOfPackages(scope, [assignment.packageId])).get(assignment.packageId) ?? null;
    if (owner !== null && owner !== projectId) {
      throw badInput(`input.enterpriseTester.scriptAssignmentId: script assignment ${assignmentId} belongs to project ${owner}, not to the project given in projectId (${projectId}).`, this.id);
    }
    const answer = await this.client.write('POST', 'scriptassignment/{id}/runs', [assignmentId], { $expand: RUN_EXPAND }, testerId === undefined ? undefined : { TesterId: testerId });
    const run = toRun(this.id, parseRun(answer.body), assignment.name, owner ?? projectId);
    if (answer.status === 200) {
      scope.log.info({ source: this.id, assignmentId, runId: run.nativeId }, 'Enterprise Tester returned the unfinished run of the assignment instead of starting a new one');
    }
    return run;
  }

  /**
   * A new run on the same assignment, once the old run is completed. Restarting an unfinished
   * run is BAD_USER_INPUT and writes nothing: ET would only hand back that same run (§7.1, §7.5).
   * Should someone else have started a run on the assignment meanwhile, ET answers 200 with it,
   * and that run is returned (ET never holds two unfinished runs of one assignment).
   */
  async restartRun(scope: RequestScope, key: Key): Promise<Run> {
    const runId = this.guidKey(key[0], 'run');
    const oldRun = await this.readRun(runId);
    const [old] = await this.resolveRuns(scope, [oldRun], null);
    if (!old.isClosed) {
      throw badInput(`Enterprise Tester run ${runId} is not completed: close it first (closeRun), then restart it. Enterprise Tester keeps one unfinished run per assignment.`, this.id);
    }
    const answer = await this.client.write('POST', 'scriptassignment/{id}/runs', [oldRun.assignmentId], { $expand: RUN_EXPAND });
    const [fresh] = await this.resolveRuns(scope, [parseRun(answer.body)], old.projectKey?.[0] ?? null);
    if (answer.status === 200) {
      scope.log.info({ source: this.id, assignmentId: oldRun.assignmentId, runId: fresh.nativeId }, 'Enterprise Tester returned an unfinished run someone else started instead of a new one');
    }
    return fresh;
  }

  /**
   * PUT /api/scriptrun/{id} with `AttemptToComplete: true`, after a read: a completed run is
   * returned unchanged and nothing is written. The answer is the run as ET reports it.
   */
  async closeRun(scope: RequestScope, key: Key): Promise<Run> {
    const runId = this.guidKey(key[0], 'run');
    const [current] = await this.resolveRuns(scope, [await this.readRun(runId)], null);
    if (current.isClosed) return current;
    const answer = await this.client.write('PUT', 'scriptrun/{id}', [runId], { $expand: RUN_EXPAND }, { AttemptToComplete: true });
    const [closed] = await this.resolveRuns(scope, [parseRun(answer.body)], current.projectKey?.[0] ?? null);
    return closed;
  }

  /** DELETE /api/scriptrun/{id}; `dryRun` reads the run and counts its step results, deleting nothing. */
  async deleteRun(scope: RequestScope, key: Key, dryRun: boolean): Promise<DeleteOutcome> {
    const runId = this.guidKey(key[0], 'run');
    if (dryRun) return { deleted: false, affectedTests: (await this.readRun(runId)).outcomes.length };
    await this.client.write('DELETE', 'scriptrun/{id}', [runId]);
    return { deleted: true, affectedTests: null };
  }

  /**
   * GET /api/scriptrun/{id} with its steps and assignment. Never memoized: mutations decide on
   * what the vendor says now, even when one request holds several of them.
   */
  private async readRun(runId: string): Promise<EtRun> {
    return parseRun(await this.client.get('scriptrun/{id}', [runId], { $expand: RUN_EXPAND }));
  }

  private guidKey(value: string | undefined, what: string): string {
    if (value === undefined || !GUID.test(value)) throw badInput(`Not an Enterprise Tester ${what} id: ${value}.`, this.id);
    return value.toLowerCase();
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

function guidInput(value: string, field: string, source: string): string {
  if (!GUID.test(value.trim())) throw badInput(`input.${field} must be an Enterprise Tester id (a GUID such as 2264a622-2869-4ef8-8183-a0040106ca9d), got "${value}".`, source);
  return value.trim().toLowerCase();
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

/** The server refused a query we wrote (bad TQL answers 400, or 403 with a message), not a permission problem we could route around. */
function refusedQuery(error: unknown): boolean {
  if (!(error instanceof GatewayError)) return false;
  const status = error.extensions.status;
  return status === 400 || (status === 403 && error.code !== ErrorCode.UNAUTHENTICATED);
}
