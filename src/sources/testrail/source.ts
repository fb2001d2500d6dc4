/**
 * TestRail as a rungraph Source. Listing runs means two walks per project (testrail.md §7.2):
 * `get_runs` for standalone runs, and `get_plans` → `get_plan` for runs inside plans, which
 * `get_runs` hides. TestRail documents no list order, so we never assume one (decisions.md,
 * "Order"): we narrow the read with `created_before` at the cursor's position and with
 * `created_after` once the runs already read prove a horizon (listRunsNarrowed), order in the
 * gateway, and memoize every read per request so one GraphQL request never reads twice.
 *
 * TODO(#9): the run index's feed (model/feed.ts) in changes.ts, from what testrail.md documents:
 * new runs and plans by `created_after` on get_runs and get_plans; the open runs by `is_completed=0`
 * each cycle, an open run missing from that list confirmed with get_run (closed, or deleted: 400
 * "not a valid test run"); open plans through get_plan; `updated_on` (Run.updatedAt, 6.5.2 and
 * later) says which open runs changed.
 */
import { badInput, GatewayError, notFound, unsupported } from '../../model/errors';
import { createdBeforeBound, sliceRuns, type RunQuery, type RunSlice } from '../../model/runs';
import type { AddRunRequest, Batch, DeleteOutcome, RequestScope, RunOptionRequest, Source } from '../../model/source';
import type { Host, Key, Project, Run, RunOptionList, RunOptionLists, RunOptionPage, SourceInfo, TestRailSuiteOption } from '../../model/types';
import { getOrList } from '../batch';
import type { SourceConnection } from '../connection';
import { narrowedSlice, type NarrowedPart } from '../narrowing';
import { array, canonicalDigits, numericInput, numericKey, object } from '../payload';
import { optionMemoKey, pageOf, readRunOptions, type RunOptionReaders } from '../run-options';
import { TestRailClient, type Params } from './client';
import { caseIdOfTest, mapCaseOption, mapMilestoneOption, mapProject, mapRun, mapSuiteOption, planClosedOn, planCreatedOn, planIdOf, runsOfPlan, runTemplate } from './map';

const PLAN_RUN_CHANGE =
  'Runs inside a TestRail plan change through their plan (close_plan, the plan-entry routes); rungraph does not restart, close or delete them one by one.';

export class TestRailSource implements Source {
  readonly info: SourceInfo;
  /** Public for its change detection (changes.ts), which reads through the same connection and budget. */
  readonly client: TestRailClient;
  private readonly pushdown: boolean;

  constructor(private readonly connection: SourceConnection) {
    this.info = {
      id: connection.id,
      kind: 'testrail',
      name: connection.name,
      capabilities: { addRun: true, restartRun: true, closeRun: true, deleteRun: true, hosts: false },
    };
    this.pushdown = connection.pushdown ?? true;
    this.client = new TestRailClient(connection);
  }

  private get id(): string {
    return this.info.id;
  }

  /** TestRail ids are numbers: `007` is run 7. */
  canonicalKey(key: Key): Key {
    return canonicalDigits(key);
  }

  // ------------------------------------------------------------------------------- projects

  listProjects(scope: RequestScope): Promise<Project[]> {
    return scope.memo(`${this.id}:projects`, async () =>
      (await this.client.all('get_projects', [], 'projects')).map((p) => mapProject(this.id, p)),
    );
  }

  async getProjects(scope: RequestScope, keys: readonly Key[]): Promise<Batch<Project>> {
    // One project alone costs one get_project, unless this request already listed them all.
    if (keys.length === 1 && !scope.peek(`${this.id}:projects`)) {
      const id = numericKey('TestRail', keys[0][0], 'project', this.id);
      const project = await scope.memo(`${this.id}:project:${id}`, async () =>
        mapProject(this.id, await this.client.get('get_project/{project_id}', [id])),
      );
      return [project];
    }
    const all = await this.listProjects(scope);
    return keys.map((key) => all.find((p) => p.nativeId === key[0]) ?? notFound(`TestRail has no project ${key[0]}.`, this.id));
  }

  // ------------------------------------------------------------------------------- runs

  async listRuns(scope: RequestScope, query: RunQuery): Promise<RunSlice> {
    const projectIds = query.filter.projectKeys
      ? query.filter.projectKeys.map((k) => k[0])
      : (await this.listProjects(scope)).map((p) => p.nativeId);
    const createdBefore = createdBeforeBound(query);
    if (!this.pushdown) {
      const perProject = await Promise.all(projectIds.map((id) => this.projectRuns(scope, id, {})));
      return sliceRuns(perProject.flat(), query);
    }
    const params: Params = { created_before: createdBefore };
    // TestRail's own created_after may be exclusive (unverified): ask one second earlier and let
    // sliceRuns apply the exact, inclusive bound.
    if (query.filter.createdAfter !== undefined) params.created_after = query.filter.createdAfter - 1;
    if (query.filter.isClosed !== undefined) params.is_completed = query.filter.isClosed;
    return this.listRunsNarrowed(scope, projectIds, params, createdBefore, query);
  }

  /**
   * The slice without reading history it cannot contain (sources/narrowing.ts has the algorithm;
   * these are TestRail's reads). A project opens with its first get_runs page and its plan list,
   * and its open plans are opened at once: any of their runs may be new. Past a horizon:
   * - a project with more pages is read again from the horizon on (`created_after`, a second early:
   *   see listRuns), instead of walking its whole history 250 runs at a time;
   * - a closed plan closed before the horizon is not opened: its runs were all created before it
   *   closed. That rests on closed plans taking no new entries (close_plan "archives its test runs",
   *   testrail.md §4; that add_plan_entry is refused on one is inferred, not read in the docs).
   * Without a horizon (too few runs yet) the pages are walked to the end. As TestRail's order is
   * unknown, the horizon is only as tight as the first pages happen to be: a lone project whose first
   * page holds its oldest runs gets a loose one, and the read from it can cost one call more than
   * walking on would have (never more than one: what it repeats of the first page fills at most one).
   */
  private async listRunsNarrowed(
    scope: RequestScope,
    projectIds: readonly string[],
    params: Params,
    createdBefore: number | undefined,
    query: RunQuery,
  ): Promise<RunSlice> {
    const createdAfter = query.filter.createdAfter;
    const parts = await Promise.all(
      projectIds.map(async (projectId): Promise<NarrowedPart> => {
        const [page, plans] = await Promise.all([this.firstRunsPage(scope, projectId, params), this.plansOf(scope, projectId, createdBefore)]);
        const open = Promise.all(plans.filter((plan) => planClosedOn(plan) === null).map((plan) => this.planRuns(scope, plan))).then((runs) => runs.flat());
        open.catch(() => undefined); // awaited by narrowedSlice; this only keeps an early failure from counting as unhandled
        const next = page.next;
        return {
          opening: page.runs,
          rest:
            next === null
              ? undefined
              : async (horizon) => {
                  if (horizon === undefined) return [...page.runs, ...(await this.restOfRuns(projectId, params, next))];
                  const from = Math.max(horizon - 1, createdAfter !== undefined ? createdAfter - 1 : -Infinity);
                  return [...page.runs, ...(await this.standaloneRuns(scope, projectId, { ...params, created_after: from }))];
                },
          always: open,
          extras: plans.flatMap((plan) => {
            const closedOn = planClosedOn(plan);
            return closedOn === null ? [] : [{ until: closedOn, read: () => this.planRuns(scope, plan) }];
          }),
        };
      }),
    );
    return narrowedSlice(query, parts);
  }

  /** A get_run per run, or one listing of a project that holds LIST_INSTEAD_OF_GET of the batch's runs. */
  getRuns(scope: RequestScope, keys: readonly Key[]): Promise<Batch<Run>> {
    return getOrList(this.id, keys, {
      parse: (key) => ({ runId: numericKey('TestRail', key[0], 'run', this.id), projectId: key[1] }),
      group: (key) => key[1],
      get: ({ runId }) => this.getRun(scope, runId),
      list: ({ projectId }) => this.projectRuns(scope, projectId, {}),
      find: (runs, { runId }) => runs.find((run) => run.nativeId === String(runId)),
      notFound: ({ runId }) => notFound(`TestRail has no run ${runId}.`, this.id),
    });
  }

  /** Every standalone and plan run of one project, matching `params`. */
  private projectRuns(scope: RequestScope, projectId: string, params: Params): Promise<Run[]> {
    return scope.memo(`${this.id}:project-runs:${projectId}:${JSON.stringify(params)}`, async () => {
      const [standalone, plans] = await Promise.all([this.standaloneRuns(scope, projectId, params), this.plansOf(scope, projectId, undefined)]);
      const planRuns = await Promise.all(plans.map((plan) => this.planRuns(scope, plan)));
      return [...standalone, ...planRuns.flat()];
    });
  }

  private standaloneRuns(scope: RequestScope, projectId: string, params: Params): Promise<Run[]> {
    return scope.memo(`${this.id}:runs:${projectId}:${JSON.stringify(params)}`, async () =>
      (await this.client.all('get_runs/{project_id}', [projectId], 'runs', params)).map((run) => mapRun(this.id, run)),
    );
  }

  private firstRunsPage(scope: RequestScope, projectId: string, params: Params): Promise<{ runs: Run[]; next: number | null }> {
    return scope.memo(`${this.id}:runs-first:${projectId}:${JSON.stringify(params)}`, async () => {
      const page = await this.client.page('get_runs/{project_id}', [projectId], 'runs', params, 0);
      return { runs: page.items.map((run) => mapRun(this.id, run)), next: page.next };
    });
  }

  private async restOfRuns(projectId: string, params: Params, offset: number): Promise<Run[]> {
    return (await this.client.all('get_runs/{project_id}', [projectId], 'runs', params, offset)).map((run) => mapRun(this.id, run));
  }

  /** A project's plans (without their runs), those created before `createdBefore` if given. */
  private plansOf(scope: RequestScope, projectId: string, createdBefore: number | undefined): Promise<unknown[]> {
    return scope.memo(`${this.id}:plans:${projectId}:${createdBefore}`, async () => {
      const plans = await this.client.all('get_plans/{project_id}', [projectId], 'plans', { created_before: createdBefore });
      // A plan's runs are created no earlier than the plan, so a plan created at or after the
      // bound cannot hold a wanted run (this also guards servers that ignore the filter).
      return plans.filter((plan) => createdBefore === undefined || (planCreatedOn(plan) ?? 0) < createdBefore);
    });
  }

  private planRuns(scope: RequestScope, plan: unknown): Promise<Run[]> {
    const planId = planIdOf(plan);
    return scope.memo(`${this.id}:plan:${planId}`, async () =>
      runsOfPlan(await this.client.get('get_plan/{plan_id}', [planId])).map((run) => mapRun(this.id, run)),
    );
  }

  private getRun(scope: RequestScope, runId: number): Promise<Run> {
    return scope.memo(`${this.id}:run:${runId}`, async () => mapRun(this.id, await this.client.get('get_run/{run_id}', [runId])));
  }

  // ------------------------------------------------------------------------------- hosts

  async listHosts(): Promise<Host[]> {
    return [];
  }

  async getHosts(_scope: RequestScope, keys: readonly Key[]): Promise<Batch<Host>> {
    return keys.map(() => unsupported('TestRail has no test hosts.', this.id));
  }

  // ------------------------------------------------------------------------------- addRun options

  /**
   * Suites (get_suites), a suite's cases (get_cases) and milestones (get_milestones) of one project:
   * the suiteId, caseIds and milestoneId addRun takes. TestRail lists them per project (cases per
   * suite) and has no cross-project listing, so a list of N projects costs one call per project and
   * list asked for, each memoized for the request. Cases and milestones are read one page at a
   * time (`limit`/`offset`, one item of look-ahead); suites come whole, as the docs have get_suites
   * answer a bare array (§4.3: an envelope on 9.3.1 and later, which is followed to its end).
   */
  listRunOptions<L extends RunOptionList>(scope: RequestScope, request: RunOptionRequest<L>): Promise<RunOptionPage<RunOptionLists[L]>> {
    return readRunOptions(this.optionReaders, 'TestRail', this.id, scope, request);
  }

  private readonly optionReaders: RunOptionReaders<'testrail.suites' | 'testrail.cases' | 'testrail.milestones'> = {
    'testrail.suites': async (scope, request) => pageOf(await this.suitesOf(scope, this.projectOf(request)), request.offset, request.limit),
    'testrail.cases': (scope, request) =>
      scope.memo(optionMemoKey(this.id, request), async () => {
        const suiteId = numericKey('TestRail', request.parentId, 'suite', this.id);
        const page = await this.client.window('get_cases/{project_id}', [this.projectOf(request)], 'cases', { suite_id: suiteId }, request.offset, request.limit);
        return { items: page.items.map(mapCaseOption), hasMore: page.hasMore };
      }),
    'testrail.milestones': (scope, request) =>
      scope.memo(optionMemoKey(this.id, request), async () => {
        const page = await this.client.window('get_milestones/{project_id}', [this.projectOf(request)], 'milestones', {}, request.offset, request.limit);
        return { items: page.items.map(mapMilestoneOption), hasMore: page.hasMore };
      }),
  };

  private suitesOf(scope: RequestScope, projectId: number): Promise<TestRailSuiteOption[]> {
    return scope.memo(`${this.id}:suites:${projectId}`, async () => {
      const body = await this.client.get('get_suites/{project_id}', [projectId]);
      if (Array.isArray(body)) return body.map(mapSuiteOption);
      const first = object(body, 'get_suites answer');
      const items = array(first.suites, 'get_suites answer.suites');
      const links = first._links as { next?: unknown } | null | undefined;
      const rest = links && typeof links.next === 'string' ? await this.client.all('get_suites/{project_id}', [projectId], 'suites', {}, items.length) : [];
      return [...items, ...rest].map(mapSuiteOption);
    });
  }

  private projectOf(request: RunOptionRequest): number {
    return numericKey('TestRail', request.projectKey[0], 'project', this.id);
  }

  // ------------------------------------------------------------------------------- mutations

  async addRun(_scope: RequestScope, request: AddRunRequest): Promise<Run> {
    const projectId = numericKey('TestRail', request.projectKey[0], 'project', this.id);
    const input = request.testrail ?? {};
    if (input.includeAll === true && input.caseIds !== undefined) {
      throw badInput('testrail.includeAll and testrail.caseIds cannot be combined: caseIds already selects the cases.', this.id);
    }
    const body: Record<string, unknown> = {
      name: request.name ?? defaultRunName(new Date()),
      // caseIds alone means a custom selection (decisions.md).
      include_all: input.caseIds !== undefined ? false : (input.includeAll ?? true),
    };
    if (request.description !== undefined) body.description = request.description;
    if (input.suiteId !== undefined) body.suite_id = numericInput('TestRail', input.suiteId, 'testrail.suiteId', this.id);
    if (input.milestoneId !== undefined) body.milestone_id = numericInput('TestRail', input.milestoneId, 'testrail.milestoneId', this.id);
    if (input.assignedToId !== undefined) body.assignedto_id = numericInput('TestRail', input.assignedToId, 'testrail.assignedToId', this.id);
    if (input.caseIds !== undefined) body.case_ids = input.caseIds.map((id, i) => numericInput('TestRail', id, `testrail.caseIds[${i}]`, this.id));
    if (input.refs !== undefined) body.refs = input.refs;
    return mapRun(this.id, await this.client.post('add_run/{project_id}', [projectId], body));
  }

  async restartRun(_scope: RequestScope, key: Key): Promise<Run> {
    const { runId, projectId } = this.standalone(key);
    const old = runTemplate(await this.client.get('get_run/{run_id}', [runId]));
    // The exact case selection, whether or not the old run used include_all (decisions.md).
    const tests = await this.client.all('get_tests/{run_id}', [runId], 'tests');
    const body: Record<string, unknown> = {
      name: old.name,
      include_all: false,
      case_ids: [...new Set(tests.map(caseIdOfTest))],
    };
    if (old.description !== null) body.description = old.description;
    if (old.suiteId !== null) body.suite_id = old.suiteId;
    if (old.milestoneId !== null) body.milestone_id = old.milestoneId;
    if (old.assignedToId !== null) body.assignedto_id = old.assignedToId;
    if (old.refs !== null) body.refs = old.refs;
    return mapRun(this.id, await this.client.post('add_run/{project_id}', [projectId], body));
  }

  async closeRun(_scope: RequestScope, key: Key): Promise<Run> {
    const { runId } = this.standalone(key);
    // Read first: closing cannot be undone and a second close_run may be refused.
    const current = mapRun(this.id, await this.client.get('get_run/{run_id}', [runId]));
    if (current.isClosed) return current;
    return mapRun(this.id, await this.client.post('close_run/{run_id}', [runId]));
  }

  async deleteRun(_scope: RequestScope, key: Key, dryRun: boolean): Promise<DeleteOutcome> {
    const { runId } = this.standalone(key);
    if (dryRun) {
      // soft=1 deletes nothing and reports what would go (TestRail ≥ 6.6; answer shape unverified,
      // clients read `affected_tests`).
      const answer = object(await this.client.post('delete_run/{run_id}', [runId], {}, { soft: 1 }), 'TestRail soft delete answer');
      const affected = answer.affected_tests;
      return { deleted: false, affectedTests: typeof affected === 'number' && Number.isSafeInteger(affected) ? affected : null };
    }
    await this.client.post('delete_run/{run_id}', [runId]);
    return { deleted: true, affectedTests: null };
  }

  private standalone(key: Key): { runId: number; projectId: number } {
    if (key[2] !== undefined) throw unsupported(PLAN_RUN_CHANGE, this.id);
    return { runId: numericKey('TestRail', key[0], 'run', this.id), projectId: numericKey('TestRail', key[1], 'project', this.id) };
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** `Test Run <YYYY-MM-DD HH:MM> UTC`, the name rungraph gives a run the caller did not name. */
export function defaultRunName(now: Date): string {
  return `Test Run ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
