/**
 * Route names and path matching. A route name is the method plus the path after
 * `/rest-api/service` with its ids replaced by the parameter names the vendor docs use, so tests
 * can count requests with `server.count(QACOMPLETE_ROUTES.listRuns)`.
 *
 * ServiceStack routes ignore case and a trailing slash, and a `.json` suffix asks for JSON (§1);
 * the simulator accepts all three. A request with a method the path does not support is still
 * counted under `METHOD pattern` — QAComplete answers it with 500 (§7).
 */
import type { SimRequest } from '../harness';
import { parseTarget } from './http';

export const QACOMPLETE_PREFIX = '/rest-api/service';

export const QACOMPLETE_ROUTES = {
  listProjects: 'GET /api/v1/projects',
  getProject: 'GET /api/v1/projects/{ProjectId}',
  listReleases: 'GET /api/v1/projects/{ProjectId}/releases',
  getRelease: 'GET /api/v1/projects/{ProjectId}/releases/{Id}',
  listTests: 'GET /api/v2/projects/{ProjectId}/tests',
  getTest: 'GET /api/v2/projects/{ProjectId}/tests/{Id}',
  listTestSets: 'GET /api/v2/projects/{ProjectId}/testsets',
  listConfigurations: 'GET /api/v2/projects/{ProjectId}/configurations',
  getConfiguration: 'GET /api/v2/projects/{ProjectId}/configurations/{Id}',
  listRuns: 'GET /api/v2/projects/{ProjectId}/testruns',
  createRun: 'POST /api/v2/projects/{ProjectId}/testruns',
  getRun: 'GET /api/v2/projects/{ProjectId}/testruns/{Id}',
  deleteRun: 'DELETE /api/v2/projects/{ProjectId}/testruns/{Id}',
  restartRun: 'POST /api/v2/projects/{ProjectId}/testruns/{Id}/restart',
  listRunItems: 'GET /api/v2/projects/{ProjectId}/testruns/{Id}/items',
  getRunItem: 'GET /api/v2/projects/{ProjectId}/testruns/{Id}/items/{ItemId}',
  patchRunItem: 'PATCH /api/v2/projects/{ProjectId}/testruns/{Id}/items/{ItemId}',
  putRunItem: 'PUT /api/v2/projects/{ProjectId}/testruns/{Id}/items/{ItemId}',
  listDepts: 'GET /automation/v2/depts',
  registerHost: 'POST /automation/v2/hosts',
  findHostByName: 'GET /automation/v2/hosts',
  getHost: 'GET /automation/v2/hosts/{id}',
  updateHost: 'PATCH /automation/v2/hosts/{id}',
  currentRuns: 'GET /automation/v2/hosts/{id}/currentruns',
  patchHostRunItem: 'PATCH /automation/v2/hosts/{id}/runs/{RunId}/items/{SequenceNumber}',
} as const;

export type QACompleteRouteKey = keyof typeof QACOMPLETE_ROUTES;
export type QACompleteRoute = (typeof QACOMPLETE_ROUTES)[QACompleteRouteKey];

interface PathPattern {
  pattern: string;
  regex: RegExp;
  params: string[];
  /** Method → route key. */
  methods: Map<string, QACompleteRouteKey>;
}

const PATTERNS: PathPattern[] = (() => {
  const byPath = new Map<string, PathPattern>();
  for (const [key, name] of Object.entries(QACOMPLETE_ROUTES) as Array<[QACompleteRouteKey, string]>) {
    const [method, pattern] = name.split(' ');
    let entry = byPath.get(pattern);
    if (!entry) {
      const params = [...pattern.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const source = pattern.replace(/\{\w+\}/g, '([^/]+)');
      entry = { pattern, regex: new RegExp(`^${source}/?$`, 'i'), params, methods: new Map() };
      byPath.set(pattern, entry);
    }
    entry.methods.set(method, key);
  }
  return [...byPath.values()];
})();

export type RouteMatch =
  | { kind: 'route'; key: QACompleteRouteKey; name: string; params: Record<string, string> }
  | { kind: 'wrong-method'; name: string; pattern: string }
  | { kind: 'unknown'; name: string };

export function matchRoute(method: string, target: string): RouteMatch {
  const upper = method.toUpperCase();
  const { path: fullPath } = parseTarget(target);
  const prefixed = fullPath.toLowerCase().startsWith(QACOMPLETE_PREFIX) ? fullPath.slice(QACOMPLETE_PREFIX.length) : undefined;
  if (prefixed === undefined) return { kind: 'unknown', name: `${upper} ?` };
  const path = prefixed.replace(/\.json$/i, '');
  for (const entry of PATTERNS) {
    const m = entry.regex.exec(path);
    if (!m) continue;
    const key = entry.methods.get(upper);
    if (!key) return { kind: 'wrong-method', name: `${upper} ${entry.pattern}`, pattern: entry.pattern };
    const params = Object.fromEntries(entry.params.map((param, i) => [param, m[i + 1]]));
    return { kind: 'route', key, name: QACOMPLETE_ROUTES[key], params };
  }
  return { kind: 'unknown', name: `${upper} ?` };
}

export function routeOf(request: SimRequest): string {
  return matchRoute(request.method, request.target).name;
}
