/**
 * Routing for the TestRail simulator: names each request for the harness's counters and faults
 * (`GET get_runs`, `POST add_run`, … — HTTP verb plus API method, without ids) and answers it the
 * way TestRail does, in this order: not an API route → 404; bad credentials → 401; unknown API
 * method → 404; wrong verb → 404; then the endpoint, whose ApiErrors become `{"error": …}`.
 */
import { type SimRequest, type SimResponse, basicCredentials } from '../harness';
import { type TestRailCompat, ApiError, errorResponse, parseBody, parseCall } from './http';
import { TestRailJson } from './json';
import type { Handler } from './lookups';
import { READS } from './reads';
import type { TestRailStore } from './store';
import { WRITES } from './writes';

export const AUTH_FAILED = 'Authentication failed: invalid or missing user/password or session cookie.';

const HANDLERS: Record<string, Handler> = { ...READS, ...WRITES };

/** The API methods the simulator implements, for documentation and tests. */
export const TESTRAIL_METHODS: readonly string[] = Object.keys(HANDLERS).sort();

export function routeOf(request: SimRequest): string {
  const call = parseCall(request.target);
  return `${request.method} ${call ? call.method : '?'}`;
}

/** Reads are GET, everything else POST (§1); clients pick the verb from the `get_` prefix. */
function verbOf(method: string): 'GET' | 'POST' {
  return method.startsWith('get_') ? 'GET' : 'POST';
}

export function createHandler(store: TestRailStore, compat: TestRailCompat, origin: () => string): (request: SimRequest) => SimResponse {
  return (request) => {
    const call = parseCall(request.target);
    if (!call) return errorResponse(404, 'Not found: TestRail API v2 routes look like /index.php?/api/v2/{method}.');

    const credentials = basicCredentials(request.headers);
    const user = credentials ? store.userByEmail(credentials.username) : undefined;
    if (!credentials || !user || !user.is_active || user.password === null || user.password !== credentials.password) {
      return errorResponse(401, AUTH_FAILED);
    }

    const handler = HANDLERS[call.method];
    // The vendor's wording for an unknown method is unverified (§6: 404, body unknown).
    if (!handler) return errorResponse(404, `Unknown method '${call.method}'.`);
    if (request.method !== verbOf(call.method)) {
      // Observed when a redirect turned a POST into a GET: status 404 with this body (§1, tolstislon#57).
      return errorResponse(404, `Unsupported HTTP method "${request.method.toLowerCase()}" for this action.`);
    }

    try {
      const body = request.method === 'POST' ? parseBody(request.body) : {};
      return handler({ store, json: new TestRailJson(store, origin()), user, call, body, compat });
    } catch (error) {
      if (error instanceof ApiError) return errorResponse(error.status, error.message);
      throw error;
    }
  };
}
