/**
 * The benchmark's floor: the Dashboard answer built by hand from the fewest vendor calls, each
 * sent as soon as what it depends on is known, with undici and no gateway in between.
 *
 * Which calls a first Dashboard page cannot do without (the vendors' own rules, see each client):
 * - TestRail documents no run order, so every run that could be on the page is read: get_projects,
 *   then per project the first get_runs page (250) and get_plans, then get_plan per plan (plan
 *   runs are not in get_runs) — except plans closed before the horizon the first pages prove, and
 *   a longer history only from that horizon on (`created_after`).
 * - QAComplete documents no order either: projects, then each project's test runs (paged by 1000).
 *   Runs only name their host, so the configured hosts are read (each with its own token) — at the
 *   same time as the projects, since nothing about them depends on the runs.
 * - Enterprise Tester sorts: one TQL page of `first + 1` runs (newest first, the look-ahead tells
 *   whether more exist) with steps and assignments inlined, then the assignments' execution
 *   packages (25 ids per `Id IN` query) for each run's project; the project list is read at the
 *   same time as the runs.
 * Mapping, status normalization, ids, cursors and the run order are the project's own functions,
 * so the answer is byte-for-byte what rungraph answers; the benchmark checks that it is.
 */
import { Agent, request } from 'undici';
import type { SourceConfig } from '../src/sources/registry';
import type { Host, Key, Project, Run, SourceKind } from '../src/model/types';
import { compareRuns, positionOf, sliceHorizon, type RunPosition } from '../src/model/runs';
import { encodeId } from '../src/graph/ids';
import { encodeRunCursor } from '../src/graph/connections';
import { formatDateTime } from '../src/graph/scalars';
import { mapProject as mapTestRailProject, mapRun as mapTestRailRun, planClosedOn, planIdOf, runsOfPlan } from '../src/sources/testrail/map';
import { mapHost as mapQACompleteHost, mapProject as mapQACompleteProject, mapRun as mapQACompleteRun } from '../src/sources/qacomplete/map';
import { parsePackage, parseProject as parseEtProject, parseRun as parseEtRun, toRun as toEtRun, type EtPackage } from '../src/sources/enterprise-tester/map';
import { ET_RUN_ORDER, anyOf } from '../src/sources/enterprise-tester/tql';

const KIND_ENUM: Record<SourceKind, string> = { testrail: 'TESTRAIL', qacomplete: 'QACOMPLETE', 'enterprise-tester': 'ENTERPRISE_TESTER' };
const CAPABILITIES: Record<SourceKind, Record<string, boolean>> = {
  testrail: { addRun: true, restartRun: true, closeRun: true, deleteRun: true, hosts: false },
  qacomplete: { addRun: true, restartRun: true, closeRun: true, deleteRun: true, hosts: true },
  'enterprise-tester': { addRun: true, restartRun: true, closeRun: true, deleteRun: true, hosts: false },
};

/** What one source contributes: its newest runs (at least `first` of them, or all), their projects and hosts. */
interface SourceAnswer {
  runs: Run[];
  /** How many runs the source holds in all. */
  total: number;
  project(run: Run): Project | null;
  host(run: Run): Host | null;
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

export class DirectDashboard {
  /** undici's defaults: keep-alive, no cap on connections per origin. */
  private readonly agent = new Agent({ keepAliveTimeout: 10_000 });

  constructor(private readonly sources: readonly SourceConfig[]) {
    for (const s of sources) if (!/^http:\/\/127\.0\.0\.1:\d+/.test(s.baseUrl)) throw new Error(`the direct baseline only talks to loopback (${s.baseUrl})`);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** The Dashboard's `data` for `first` runs (no cursor, no filter), and its JSON text. */
  async dashboard(first: number): Promise<{ data: unknown; json: string }> {
    const answers = await Promise.all(this.sources.map((s) => this.read(s, first)));
    const all = answers.flatMap((a, i) => a.runs.map((run) => ({ run, answer: answers[i] })));
    all.sort((a, b) => compareRuns(a.run, b.run));
    const taken = all.slice(0, first);
    const positions: Record<string, RunPosition> = {};
    const edges = taken.map(({ run, answer }) => {
      positions[run.sourceId] = positionOf(run);
      const project = answer.project(run);
      const host = answer.host(run);
      return {
        cursor: encodeRunCursor({ ...positions }),
        node: {
          id: encodeId('Run', run.sourceId, run.key),
          nativeId: run.nativeId,
          name: run.name,
          status: run.status,
          conclusion: run.conclusion,
          isClosed: run.isClosed,
          vendorStatus: run.vendorStatus,
          counts: { ...run.counts },
          createdAt: run.createdAt === null ? null : formatDateTime(run.createdAt),
          completedAt: run.completedAt === null ? null : formatDateTime(run.completedAt),
          url: run.url,
          source: { id: run.sourceId, kind: KIND_ENUM[this.kindOf(run.sourceId)] },
          project: project && { id: encodeId('Project', project.sourceId, project.key), name: project.name },
          host: host && { id: encodeId('Host', host.sourceId, host.key), name: host.name },
        },
      };
    });
    const total = answers.reduce((sum, a) => sum + a.total, 0);
    const data = {
      sources: this.sources.map((s) => ({ id: s.id, kind: KIND_ENUM[s.kind], name: s.name, capabilities: CAPABILITIES[s.kind] })),
      runs: {
        pageInfo: { hasNextPage: total > first, endCursor: edges.length > 0 ? encodeRunCursor(positions) : null },
        edges,
      },
    };
    return { data, json: JSON.stringify({ data }) };
  }

  private kindOf(sourceId: string): SourceKind {
    return this.sources.find((s) => s.id === sourceId)!.kind;
  }

  private read(source: SourceConfig, first: number): Promise<SourceAnswer> {
    if (source.kind === 'testrail') return this.testrail(source, first);
    if (source.kind === 'qacomplete') return this.qacomplete(source);
    return this.enterpriseTester(source, first);
  }

  private async get(url: string, authorization: string): Promise<unknown> {
    const response = await request(url, { method: 'GET', headers: { accept: 'application/json', authorization }, dispatcher: this.agent });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`direct baseline: ${response.statusCode} from ${url.replace(/\?.*$/, '')}`);
    return JSON.parse(text);
  }

  // ------------------------------------------------------------------------------- TestRail

  private async testrail(source: SourceConfig, first: number): Promise<SourceAnswer> {
    const auth = basic(source.auth.username, source.auth.password);
    const api = `${source.baseUrl.replace(/\/+$/, '')}/index.php?/api/v2/`;
    const page = async (call: string, collection: string, offset: number): Promise<{ items: unknown[]; next: number | null }> => {
      const body = (await this.get(`${api}${call}&limit=250&offset=${offset}`, auth)) as Record<string, unknown> | unknown[];
      if (Array.isArray(body)) return { items: body, next: body.length < 250 ? null : offset + body.length };
      const items = body[collection] as unknown[];
      const link = (body._links as { next?: string | null } | undefined)?.next;
      const match = link ? /[&?]offset=(\d+)/.exec(link) : null;
      return { items, next: match && items.length > 0 ? Number(match[1]) : null };
    };
    const all = async (call: string, collection: string, from = 0): Promise<unknown[]> => {
      const items: unknown[] = [];
      for (let next: number | null = from; next !== null; ) {
        const answer = await page(call, collection, next);
        items.push(...answer.items);
        next = answer.next;
      }
      return items;
    };
    const mapAll = (list: unknown[]) => list.map((r) => mapTestRailRun(source.id, r));
    const planRuns = async (plan: unknown) => mapAll(runsOfPlan(await this.get(`${api}get_plan/${planIdOf(plan)}`, auth)));
    // Each project's first get_runs page and its plans; open plans are opened at once. The first
    // pages fix a horizon: older runs cannot reach the page, so a long history is read from the
    // horizon on and plans closed before it stay closed (see TestRailSource.listRunsNarrowed).
    const projects = (await all('get_projects', 'projects')).map((p) => mapTestRailProject(source.id, p));
    const firsts = await Promise.all(
      projects.map(async (project) => {
        const [runs, plans] = await Promise.all([page(`get_runs/${project.nativeId}`, 'runs', 0), all(`get_plans/${project.nativeId}`, 'plans')]);
        const open = Promise.all(plans.filter((plan) => planClosedOn(plan) === null).map(planRuns));
        open.catch(() => undefined);
        return { project, runs: mapAll(runs.items), next: runs.next, open, closed: plans.filter((plan) => planClosedOn(plan) !== null) };
      }),
    );
    const query = { filter: {}, limit: first };
    const horizon = sliceHorizon(firsts.flatMap((f) => f.runs), query);
    const standalone = (
      await Promise.all(
        firsts.map(async ({ project, runs, next }) => {
          if (next === null) return runs;
          const rest = horizon === undefined ? await all(`get_runs/${project.nativeId}`, 'runs', next) : await all(`get_runs/${project.nativeId}&created_after=${horizon - 1}`, 'runs');
          return [...runs, ...mapAll(rest)];
        }),
      )
    ).flat();
    const tighter = sliceHorizon(standalone, query);
    const closed = firsts.flatMap((f) => f.closed).filter((plan) => tighter === undefined || (planClosedOn(plan) ?? Infinity) >= tighter);
    const inPlans = await Promise.all([...firsts.map((f) => f.open), Promise.all(closed.map(planRuns))]);
    // The narrowed read repeats some first-page runs: one copy each.
    const runs = [...new Map([...standalone, ...inPlans.flat(2)].map((run) => [run.nativeId, run])).values()];
    const byId = new Map(projects.map((p) => [p.nativeId, p]));
    return { runs, total: runs.length, project: (run) => projectOf(byId, run.projectKey), host: () => null };
  }

  // ------------------------------------------------------------------------------- QAComplete

  private async qacomplete(source: SourceConfig): Promise<SourceAnswer> {
    const zone = typeof source.timeZone === 'string' ? source.timeZone : 'UTC';
    const root = (url: string) => `${url.replace(/\/+$/, '').replace(/\/rest-api\/service$/i, '')}/rest-api/service`;
    const api = root(source.baseUrl);
    const automation = root(typeof source.automationBaseUrl === 'string' ? source.automationBaseUrl : source.baseUrl);
    const auth = basic(source.auth.username, source.auth.password);
    const all = async (path: string): Promise<unknown[]> => {
      const items: unknown[] = [];
      for (;;) {
        const body = (await this.get(`${api}${path}?offset=${items.length}&limit=1000`, auth)) as { results?: unknown[]; metadata?: { result_set?: { total?: number } } };
        const page = body.results ?? [];
        items.push(...page);
        const total = body.metadata?.result_set?.total;
        if (page.length === 0 || (typeof total === 'number' ? items.length >= total : page.length < 1000)) return items;
      }
    };
    const hostConfigs = Array.isArray(source.hosts) ? (source.hosts as Array<{ id: number | string; token: string }>) : [];
    const [projects, hosts] = await Promise.all([
      all('/api/v1/projects').then((list) => list.map((p) => mapQACompleteProject(source.id, p))),
      Promise.all(hostConfigs.map(async (h) => mapQACompleteHost(source.id, await this.get(`${automation}/automation/v2/hosts/${h.id}`, basic(String(h.id), h.token))))),
    ]);
    const perProject = await Promise.all(projects.map((p) => all(`/api/v2/projects/${p.nativeId}/testruns`)));
    const runs = perProject.flat().map((r) => mapQACompleteRun(source.id, r, zone));
    const byId = new Map(projects.map((p) => [p.nativeId, p]));
    return {
      runs,
      total: runs.length,
      project: (run) => projectOf(byId, run.projectKey),
      host: (run) => (run.host && 'name' in run.host ? (hosts.find((h) => h.name === (run.host as { name: string }).name) ?? null) : null),
    };
  }

  // ------------------------------------------------------------------------------- Enterprise Tester

  private async enterpriseTester(source: SourceConfig, first: number): Promise<SourceAnswer> {
    const api = `${source.baseUrl.replace(/\/+$/, '')}/api/`;
    const auth = basic(source.auth.username, source.auth.password);
    const query = (params: Record<string, string | number>) =>
      Object.entries(params)
        .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
        .join('&');
    const listProjects = async (): Promise<Project[]> => {
      const items: unknown[] = [];
      for (;;) {
        const body = (await this.get(`${api}projects?${query({ $top: 100, $skip: items.length, $inlinecount: 'allpages' })}`, auth)) as { Items: unknown[]; Total?: number };
        items.push(...body.Items);
        if (body.Items.length === 0 || (typeof body.Total === 'number' ? items.length >= body.Total : body.Items.length < 100)) {
          return items.map((p) => parseEtProject(source.id, p));
        }
      }
    };
    const [page, projects] = await Promise.all([
      this.get(`${api}scriptruns?${query({ tql: ET_RUN_ORDER, timeZone: 'UTC', $top: first + 1, $inlinecount: 'allpages', $expand: 'StepResults,Assignment' })}`, auth) as Promise<{
        Items: unknown[];
        Total: number;
      }>,
      listProjects(),
    ]);
    const etRuns = page.Items.map(parseEtRun);
    const missing = etRuns.filter((r) => r.assignment === null);
    if (missing.length > 0) throw new Error('direct baseline: the server did not inline script assignments ($expand=Assignment)');
    // Packages, level by level: a child package without a ProjectId is resolved through its parent.
    const packages = new Map<string, EtPackage>();
    let level = [...new Set(etRuns.map((r) => r.assignment!.packageId))];
    while (level.length > 0) {
      const chunks: string[][] = [];
      for (let i = 0; i < level.length; i += 25) chunks.push(level.slice(i, i + 25));
      const found = await Promise.all(
        chunks.map(async (ids) =>
          ids.length === 1
            ? [parsePackage(await this.get(`${api}executionpackage/${encodeURIComponent(ids[0])}`, auth))]
            : ((await this.get(`${api}executionpackages?${query({ tql: anyOf('Id', ids), $top: ids.length, $inlinecount: 'allpages' })}`, auth)) as { Items: unknown[] }).Items.map(parsePackage),
        ),
      );
      for (const pkg of found.flat()) packages.set(pkg.id, pkg);
      level = [...new Set(found.flat().flatMap((p) => (!p.projectId && p.parentId && !packages.has(p.parentId) ? [p.parentId] : [])))];
    }
    const projectOfPackage = (id: string, hops = 0): string | null => {
      const pkg = packages.get(id);
      if (!pkg || hops > 32) return null;
      return pkg.projectId ?? (pkg.parentId ? projectOfPackage(pkg.parentId, hops + 1) : null);
    };
    const runs = etRuns.map((r) => toEtRun(source.id, r, r.assignment!.name, projectOfPackage(r.assignment!.packageId)));
    const byId = new Map(projects.map((p) => [p.nativeId, p]));
    return { runs, total: page.Total, project: (run) => projectOf(byId, run.projectKey), host: () => null };
  }
}

function projectOf(byId: ReadonlyMap<string, Project>, key: Key | null): Project | null {
  return key ? (byId.get(key[0]) ?? null) : null;
}
