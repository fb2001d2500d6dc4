/**
 * Route names (what the harness counts requests under) and how a request target maps to one.
 * A name is the method plus the path pattern after the application root, e.g.
 * `PUT /api/scriptrun/{id}`. Path matching ignores case and a trailing slash, as ASP.NET
 * routing and IIS virtual paths do (a vendor curl example calls `/api/Project/{id}`).
 */

/** Every route the simulator answers; tests count with `server.count(ET_ROUTES.x)`. */
export const ET_ROUTES = {
  root: 'GET /api/',
  systemInfo: 'GET /api/systeminfo',
  projects: 'GET /api/projects',
  project: 'GET /api/project/{id}',
  projectAssignees: 'GET /api/project/{id}/assignees',
  users: 'GET /api/users',
  user: 'GET /api/user/{id}',
  script: 'GET /api/script/{id}',
  executionPackages: 'GET /api/executionpackages',
  executionPackage: 'GET /api/executionpackage/{id}',
  executionPackageChildren: 'GET /api/executionpackage/{id}/children',
  scriptAssignments: 'GET /api/scriptassignments',
  scriptAssignment: 'GET /api/scriptassignment/{id}',
  deleteScriptAssignment: 'DELETE /api/scriptassignment/{id}',
  assignmentRuns: 'GET /api/scriptassignment/{id}/runs',
  createRun: 'POST /api/scriptassignment/{id}/runs',
  scriptRuns: 'GET /api/scriptruns',
  scriptRun: 'GET /api/scriptrun/{id}',
  updateScriptRun: 'PUT /api/scriptrun/{id}',
  patchScriptRun: 'PATCH /api/scriptrun/{id}',
  deleteScriptRun: 'DELETE /api/scriptrun/{id}',
  stepResult: 'GET /api/stepresult/{id}',
} as const;
export type EtRouteName = (typeof ET_ROUTES)[keyof typeof ET_ROUTES];

/** Requests under the app path that match no pattern are counted as `METHOD /api/?`. */
export const ET_UNKNOWN_ROUTE_SUFFIX = '/api/?';
/** Requests outside the application path are counted as `METHOD (outside app path)`. */
export const ET_OUTSIDE_APP_SUFFIX = '(outside app path)';

const PATTERNS = [
  '/api/',
  '/api/systeminfo',
  '/api/projects',
  '/api/project/{id}',
  '/api/project/{id}/assignees',
  '/api/users',
  '/api/user/{id}',
  '/api/script/{id}',
  '/api/executionpackages',
  '/api/executionpackage/{id}',
  '/api/executionpackage/{id}/children',
  '/api/scriptassignments',
  '/api/scriptassignment/{id}',
  '/api/scriptassignment/{id}/runs',
  '/api/scriptruns',
  '/api/scriptrun/{id}',
  '/api/stepresult/{id}',
];

const COMPILED = PATTERNS.map((pattern) => ({
  pattern,
  regex: new RegExp(`^${pattern.replace(/\/$/, '').replace(/\{id\}/g, '([^/]+)')}/?$`, 'i'),
}));

export interface ResolvedRequest {
  route: string;
  method: string;
  /** The matched pattern, or null (outside the app path, or no such resource). */
  pattern: string | null;
  outside: boolean;
  /** The raw `{id}` path segment, URL-decoded. */
  id: string | null;
  query: URLSearchParams;
  /** The path as requested, for Web API's "No HTTP resource" message. */
  path: string;
}

export function resolveRequest(method: string, target: string, appPath: string): ResolvedRequest {
  const url = new URL(target, 'http://simulator.invalid');
  const path = url.pathname;
  const upper = method.toUpperCase();
  const base = { method: upper, query: url.searchParams, path, id: null, pattern: null };
  const prefix = appPath.toLowerCase();
  const lower = path.toLowerCase();
  if (prefix && lower !== prefix && !lower.startsWith(`${prefix}/`)) {
    return { ...base, route: `${upper} ${ET_OUTSIDE_APP_SUFFIX}`, outside: true };
  }
  const rest = path.slice(prefix.length) || '/';
  for (const { pattern, regex } of COMPILED) {
    const m = regex.exec(rest);
    if (m) {
      let id: string | null = null;
      if (m[1] !== undefined) {
        try {
          id = decodeURIComponent(m[1]);
        } catch {
          id = m[1];
        }
      }
      return { ...base, route: `${upper} ${pattern}`, pattern, id, outside: false };
    }
  }
  return { ...base, route: `${upper} ${ET_UNKNOWN_ROUTE_SUFFIX}`, outside: false };
}

/** Case-insensitive query lookup, as ASP.NET binds `$TOP` like `$top`. */
export function queryParam(query: URLSearchParams, name: string): string | null {
  const lower = name.toLowerCase();
  for (const [key, value] of query) if (key.toLowerCase() === lower) return value;
  return null;
}
