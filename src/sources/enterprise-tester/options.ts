/**
 * What addRun can start a run from in an Enterprise Tester project: its script assignments (the
 * `scriptAssignmentId`) and its assignees (the `testerId`), read for EnterpriseTesterSource.
 *
 * Assignments come from the TQL collection `/api/scriptassignments` (§5), one project's page per
 * read: `Project = "{guid}" ORDER BY Name` with `$skip`, `$top` (one item of look-ahead) and
 * `$inlinecount=allpages`. When one request asks several projects at once (a project list), their
 * asks are batched into one `Project IN (…)` read of all their assignments, split per project in
 * the gateway; that is chosen only while reading everything costs no more calls than one read per
 * project would, and a server that refuses the `IN` list (unverified TQL, see tql.ts) gets the
 * per-project reads. `ORDER BY Name` is unverified for assignments too: the vendor's examples sort
 * other fields the same way (`ORDER BY LastUpdatedAt DESC`).
 *
 * Assignees come from `/api/project/{projectId}/assignees` (QueryResults<User>, §5). The reference
 * documents no parameters for it, so none are sent and the answer is the whole list.
 */
import DataLoader from 'dataloader';
import { asGatewayError, GatewayError } from '../../model/errors';
import type { RequestScope, RunOptionRequest } from '../../model/source';
import type { EnterpriseTesterAssignmentOption, EnterpriseTesterTesterOption, RunOptionPage } from '../../model/types';
import { array, object } from '../payload';
import { optionMemoKey, pageOf, type RunOptionReaders } from '../run-options';
import type { EnterpriseTesterClient } from './client';
import { parseAssignmentOption, parseTester, type EtPackage } from './map';
import { anyOf } from './tql';

/** Items per combined read of several projects' assignments. */
const ET_ASSIGNMENTS_PER_READ = 100;

/** Projects per `Project IN (…)`: 25 quoted GUIDs keep the URL under IIS's default 2048 bytes (as for runs). */
const PROJECTS_PER_COMBINED_READ = 25;

const ORDER = 'ORDER BY Name';

interface Ask {
  projectId: string;
  offset: number;
  limit: number;
}

/** How the source resolves packages to projects (a child package may need its parents read). */
export type ProjectsOfPackages = (scope: RequestScope, packageIds: readonly string[], inlined: readonly EtPackage[]) => Promise<Map<string, string | null>>;

export class EnterpriseTesterRunOptions {
  constructor(
    private readonly sourceId: string,
    private readonly client: EnterpriseTesterClient,
    private readonly projectsOfPackages: ProjectsOfPackages,
    private readonly guidKey: (value: string | undefined, what: string) => string,
  ) {}

  readonly readers: RunOptionReaders<'enterpriseTester.scriptAssignments' | 'enterpriseTester.testers'> = {
    'enterpriseTester.scriptAssignments': (scope, request) =>
      scope.memo(optionMemoKey(this.sourceId, request), async () => {
        const ask = { projectId: this.guidKey(request.projectKey[0], 'project'), offset: request.offset, limit: request.limit };
        return (await this.assignmentLoader(scope)).load(ask);
      }),
    'enterpriseTester.testers': async (scope, request) => pageOf(await this.testersOf(scope, request), request.offset, request.limit),
  };

  /**
   * One loader per request, so the asks of all projects of one list (resolved in the same tick)
   * arrive in one batch. Its results are not cached: the memo in front of it is, and forgets failures.
   */
  private assignmentLoader(scope: RequestScope): Promise<DataLoader<Ask, RunOptionPage<EnterpriseTesterAssignmentOption>, string>> {
    return scope.memo(`${this.sourceId}:assignment-options-loader`, async () => new DataLoader((asks: readonly Ask[]) => this.answer(scope, asks), { cache: false, cacheKeyFn: (ask) => JSON.stringify(ask) }));
  }

  private async answer(scope: RequestScope, asks: readonly Ask[]): Promise<Array<RunOptionPage<EnterpriseTesterAssignmentOption> | Error>> {
    const projects = [...new Set(asks.map((ask) => ask.projectId))];
    if (projects.length > 1 && projects.length <= PROJECTS_PER_COMBINED_READ) {
      const combined = await this.combined(scope, projects, asks.length);
      if (combined) return asks.map((ask) => pageOf(combined.get(ask.projectId) ?? [], ask.offset, ask.limit));
    }
    return Promise.all(asks.map((ask) => this.projectPage(ask).catch((error: unknown) => asGatewayError(error, this.sourceId))));
  }

  /** One project's page: `$top` one more than wanted tells whether more follow, `Total` too. */
  private async projectPage(ask: Ask): Promise<RunOptionPage<EnterpriseTesterAssignmentOption>> {
    const page = await this.client.tqlPage('scriptassignments', {
      tql: `${anyOf('Project', [ask.projectId])} ${ORDER}`,
      $top: ask.limit + 1,
      $skip: ask.offset > 0 ? ask.offset : undefined,
      $inlinecount: 'allpages',
      $expand: 'Package',
    });
    const items = page.items.map((item) => parseAssignmentOption(item).option);
    return { items: items.slice(0, ask.limit), hasMore: items.length > ask.limit || (page.total !== null && ask.offset + ask.limit < page.total) };
  }

  /**
   * Every assignment of `projects`, by project, from `Project IN (…)` reads — or undefined when
   * the per-project reads are cheaper (more pages than asks) or the server refused the query.
   */
  private async combined(scope: RequestScope, projects: readonly string[], asks: number): Promise<Map<string, EnterpriseTesterAssignmentOption[]> | undefined> {
    const read = (skip: number) =>
      this.client.tqlPage('scriptassignments', {
        tql: `${anyOf('Project', projects)} ${ORDER}`,
        $top: ET_ASSIGNMENTS_PER_READ,
        $skip: skip > 0 ? skip : undefined,
        $inlinecount: 'allpages',
        $expand: 'Package',
      });
    let first;
    try {
      first = await read(0);
    } catch (error) {
      if (error instanceof GatewayError && (error.extensions.status === 400 || error.extensions.status === 403)) {
        scope.log.warn({ source: this.sourceId, status: error.extensions.status }, 'Enterprise Tester refused Project IN (…) on script assignments; reading each project on its own');
        return undefined;
      }
      throw error;
    }
    if (first.total === null) return undefined;
    const pagesLeft = Math.ceil(Math.max(0, first.total - first.items.length) / ET_ASSIGNMENTS_PER_READ);
    if (pagesLeft >= asks) return undefined;
    const rest = await Promise.all(Array.from({ length: pagesLeft }, (_, i) => read(first.items.length + i * ET_ASSIGNMENTS_PER_READ)));
    const all = [first, ...rest].flatMap((page) => page.items.map(parseAssignmentOption));
    const owners = await this.projectsOfPackages(scope, all.map((a) => a.packageId), all.flatMap((a) => (a.package ? [a.package] : [])));
    const byProject = new Map<string, EnterpriseTesterAssignmentOption[]>();
    for (const assignment of all) {
      const owner = owners.get(assignment.packageId);
      if (!owner) continue;
      const list = byProject.get(owner);
      if (list) list.push(assignment.option);
      else byProject.set(owner, [assignment.option]);
    }
    return byProject;
  }

  private testersOf(scope: RequestScope, request: RunOptionRequest): Promise<EnterpriseTesterTesterOption[]> {
    const projectId = this.guidKey(request.projectKey[0], 'project');
    return scope.memo(`${this.sourceId}:assignees:${projectId}`, async () => {
      const body = object(await this.client.get('project/{id}/assignees', [projectId]), 'project/{id}/assignees answer');
      return array(body.Items, 'project/{id}/assignees answer.Items').map(parseTester);
    });
  }
}
