/**
 * HTTP → store: authentication, routing under the application path, parameter binding, paging
 * envelopes and ET's error answers (vendor reference §1, §3, §5, §9). ET is an ASP.NET Web API
 * application, so where the reference is silent the answers follow that framework's defaults:
 * unknown route 404 "No HTTP resource was found…", wrong method 405, unbindable parameters 400
 * "The request is invalid.", non-JSON bodies 415 — each marked where it is a choice.
 */
import { basicCredentials, type SimRequest, type SimResponse } from '../harness';
import { normalizeGuid, type EtUser } from './model';
import { compileOData, ODataError, type ODataProps } from './odata';
import { assignmentTqlSchema, PACKAGE_PROPS, packageTqlSchema, PROJECT_PROPS, RUN_PROPS, runTqlSchema, USER_PROPS } from './queries';
import { queryParam, resolveRequest, type ResolvedRequest } from './routes';
import { EtApiError, isPlainObject, newestFirst, type EnterpriseTesterStore } from './store';
import { compileTql, TqlError, type TqlSchema } from './tql';
import { assignmentView, childPackages, packagePath, packageView, parseExpand, projectView, runView, scriptView, stepResultView, userView, type ViewContext } from './views';

type Json = Record<string, unknown>;

interface Call {
  ctx: ViewContext;
  user: EtUser;
  /** The `{id}` segment as a canonical GUID (already validated). */
  id: string;
  query: URLSearchParams;
  expand: Set<string>;
  request: SimRequest;
}
type Handler = (call: Call) => SimResponse;

/** The TQL collections' documented page size (§3.4). */
export const ET_DEFAULT_TOP = 25;

const JSON_TYPE = 'application/json; charset=utf-8';

export function createEnterpriseTesterHandler(store: EnterpriseTesterStore, appPath: string, origin: () => string) {
  const routeOf = (request: SimRequest) => resolveRequest(request.method, request.target, appPath).route;

  const handle = (request: SimRequest): SimResponse => {
    const resolved = resolveRequest(request.method, request.target, appPath);
    if (resolved.outside) {
      // IIS answers outside the virtual directory with its own HTML page, not the API's JSON.
      return { status: 404, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<html><body><h1>404 - File or directory not found.</h1></body></html>' };
    }
    const root = `http://${request.headers.host ?? new URL(origin()).host}${appPath}`;
    const creds = basicCredentials(request.headers);
    const user = creds ? store.authenticate(creds.username, creds.password) : undefined;
    if (!user) {
      // Body and header are unverified (§13); this is Web API's [Authorize] answer plus a Basic challenge.
      return {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="Enterprise Tester"' },
        body: { Message: 'Authorization has been denied for this request.' },
      };
    }
    const indent = queryParam(resolved.query, 'indent-json') === 'true' || request.headers['indent-json'] === 'true';
    try {
      return render(dispatch(resolved, { ctx: { store, root }, user, id: '', query: resolved.query, expand: parseExpand(queryParam(resolved.query, '$expand')), request }, root), indent);
    } catch (error) {
      if (error instanceof EtApiError) return render(errorResponse(error.status, error.message, error.detail), indent);
      // A TQL collection documents only 200 and 403 ("normally due to a validation failure").
      if (error instanceof TqlError) return render(errorResponse(403, `The TQL query is not valid: ${error.message}.`), indent);
      // Web API OData's answer to a bad query option (wording unverified for ET).
      if (error instanceof ODataError) return render(errorResponse(400, `The query specified in the URI is not valid. ${error.message}`), indent);
      throw error;
    }
  };

  return { routeOf, handle };
}

function dispatch(resolved: ResolvedRequest, call: Call, root: string): SimResponse {
  if (!resolved.pattern) {
    const uri = `${new URL(root).origin}${resolved.path}${resolved.query.size > 0 ? `?${resolved.query}` : ''}`;
    return errorResponse(404, `No HTTP resource was found that matches the request URI '${uri}'.`);
  }
  const methods = HANDLERS[resolved.pattern] ?? {};
  const handler = methods[resolved.method];
  if (!handler) {
    const response = errorResponse(405, `The requested resource does not support http method '${resolved.method}'.`);
    return { ...response, headers: { ...response.headers, allow: Object.keys(methods).join(', ') } };
  }
  if (resolved.pattern.includes('{id}')) {
    const id = normalizeGuid(resolved.id ?? '');
    // Web API cannot bind a non-GUID to a Guid parameter: 400 with this text (unverified for ET).
    if (!id) throw badRequest(`The value '${resolved.id}' is not a valid Guid for the parameter 'id'.`);
    call.id = id;
  }
  return handler(call);
}

const HANDLERS: Record<string, Record<string, Handler>> = {
  '/api/': { GET: rootResource },
  '/api/systeminfo': { GET: systemInfo },
  '/api/projects': {
    GET: (c) => odataCollection(c, [...c.ctx.store.projects.values()].sort((a, b) => a.OrderNumber - b.OrderNumber || a.Name.localeCompare(b.Name)), PROJECT_PROPS, 'Project', (p, e) => projectView(c.ctx, p, e)),
  },
  '/api/project/{id}': { GET: (c) => ok(projectView(c.ctx, found(c.ctx.store.projects.get(c.id), 'project', c.id), c.expand)) },
  /**
   * Who may be assigned work in the project (§5: QueryResults<User>, no parameters documented, so
   * none are read). The simulator keeps no project membership: every enabled user qualifies.
   */
  '/api/project/{id}/assignees': {
    GET: (c) => {
      found(c.ctx.store.projects.get(c.id), 'project', c.id);
      const users = [...c.ctx.store.users.values()].filter((u) => u.Enabled).sort((a, b) => a.UserName.localeCompare(b.UserName));
      return ok({ Skip: 0, Top: null, Total: users.length, Items: users.map((u) => userView(c.ctx, u, c.expand)) });
    },
  },
  '/api/users': {
    GET: (c) => odataCollection(c, [...c.ctx.store.users.values()].sort((a, b) => a.UserName.localeCompare(b.UserName)), USER_PROPS, 'User', (u, e) => userView(c.ctx, u, e)),
  },
  '/api/user/{id}': { GET: (c) => ok(userView(c.ctx, found(c.ctx.store.users.get(c.id), 'user', c.id), c.expand)) },
  '/api/script/{id}': { GET: (c) => ok(scriptView(c.ctx, found(c.ctx.store.scripts.get(c.id), 'script', c.id), c.expand)) },
  '/api/executionpackages': {
    GET: (c) => {
      const projectOrder = (id: string) => c.ctx.store.projects.get(id)?.OrderNumber ?? 0;
      const items = [...c.ctx.store.packages.values()].sort((a, b) => projectOrder(a.ProjectId) - projectOrder(b.ProjectId) || packagePath(c.ctx, a).localeCompare(packagePath(c.ctx, b)));
      return tqlCollection(c, items, packageTqlSchema(c.ctx), (p) => packageView(c.ctx, p, c.expand));
    },
  },
  '/api/executionpackage/{id}': { GET: (c) => ok(packageView(c.ctx, found(c.ctx.store.packages.get(c.id), 'execution package', c.id), c.expand)) },
  '/api/executionpackage/{id}/children': {
    GET: (c) => {
      found(c.ctx.store.packages.get(c.id), 'execution package', c.id);
      return odataCollection(c, childPackages(c.ctx, c.id), PACKAGE_PROPS, 'ExecutionPackage', (p, e) => packageView(c.ctx, p, e));
    },
  },
  '/api/scriptassignments': {
    GET: (c) => {
      const items = [...c.ctx.store.assignments.values()].sort((a, b) => a.PackageId.localeCompare(b.PackageId) || a.OrderNumber - b.OrderNumber);
      return tqlCollection(c, items, assignmentTqlSchema(c.ctx), (a) => assignmentView(c.ctx, a, c.expand));
    },
  },
  '/api/scriptassignment/{id}': {
    GET: (c) => ok(assignmentView(c.ctx, found(c.ctx.store.assignments.get(c.id), 'script assignment', c.id), c.expand)),
    DELETE: (c) => {
      if (!c.ctx.store.deleteAssignment(c.id)) throw notFound('script assignment', c.id);
      return { status: 200 };
    },
  },
  '/api/scriptassignment/{id}/runs': {
    GET: (c) => {
      found(c.ctx.store.assignments.get(c.id), 'script assignment', c.id);
      return odataCollection(c, c.ctx.store.runsOfAssignment(c.id), RUN_PROPS, 'ScriptRun', (r, e) => runView(c.ctx, r, e, 'listed'));
    },
    POST: createRun,
  },
  '/api/scriptruns': {
    GET: (c) => tqlCollection(c, [...c.ctx.store.runs.values()].sort(newestFirst), runTqlSchema(c.ctx), (r) => runView(c.ctx, r, c.expand, 'listed')),
  },
  '/api/scriptrun/{id}': { GET: getRun, PUT: updateRun, PATCH: patchRun, DELETE: deleteRun },
  // GET only: a step result is changed through its run's PUT (§4.2), so PUT here is a 405.
  '/api/stepresult/{id}': {
    GET: (c) => ok(stepResultView(c.ctx, found(c.ctx.store.getStepResult(c.id), 'step result', c.id), c.expand, 'standalone')),
  },
};

function getRun(c: Call): SimResponse {
  return ok(runView(c.ctx, found(c.ctx.store.getRun(c.id), 'script run', c.id), c.expand, 'single'));
}

/** §7.1: 201 + a new run, or 200 + the unfinished run; both with Location. */
function createRun(c: Call): SimResponse {
  const body = readJson(c.request, true) ?? {};
  checkTypes(body, { TesterId: 'guid', WidgetValues: 'object', FieldValues: 'object' });
  const { run, created } = c.ctx.store.startRun(c.id, c.user.Id, body.TesterId as string | null | undefined);
  if (created && isPlainObject(body.FieldValues)) Object.assign(run.FieldValues, body.FieldValues);
  const location = `${c.ctx.root}/api/scriptrun/${run.Id}`;
  return { status: created ? 201 : 200, headers: { location }, body: runView(c.ctx, run, c.expand, 'created') };
}

function updateRun(c: Call): SimResponse {
  const body = readJson(c.request, false)!;
  checkTypes(body, { AttemptToComplete: 'bool', Id: 'guid', ActualDuration: 'string', StepResults: 'array', WidgetValues: 'object', FieldValues: 'object' });
  if (Array.isArray(body.StepResults)) {
    for (const entry of body.StepResults) {
      if (!isPlainObject(entry)) throw badRequest('Each entry of StepResults must be an object.');
      checkTypes(entry, { Id: 'guid', Outcome: 'string', ActualResult: 'string' });
    }
  }
  const run = c.ctx.store.updateRun(c.id, body, c.user.Id);
  return ok(runView(c.ctx, run, c.expand, 'single'));
}

/** Custom-field edits only (§4.3 Operation; semantics unverified): `set` assigns, `remove` clears. */
function patchRun(c: Call): SimResponse {
  const body = readJson(c.request, false)!;
  const run = found(c.ctx.store.getRun(c.id), 'script run', c.id);
  const update = isPlainObject(body.update) ? body.update : {};
  const fields = Array.isArray(update.customFields) ? update.customFields : [];
  for (const op of fields) {
    const set = isPlainObject(op) && isPlainObject(op.set) ? op.set : null;
    const remove = isPlainObject(op) && isPlainObject(op.remove) ? op.remove : null;
    if (set && typeof set.name === 'string') run.FieldValues[set.name] = set.value ?? null;
    else if (remove && typeof remove.name === 'string') delete run.FieldValues[remove.name];
    else throw badRequest('Each customFields operation needs set or remove with a name.');
  }
  run.LastUpdatedAt = Math.floor(c.ctx.store.now().getTime() / 1000) * 1000;
  run.LastUpdatedById = c.user.Id;
  return { status: 204 };
}

function deleteRun(c: Call): SimResponse {
  if (!c.ctx.store.deleteRun(c.id)) throw notFound('script run', c.id);
  return { status: 200 };
}

function rootResource(c: Call): SimResponse {
  const entry = (Rel: string, path: string, methods: string[], odata: boolean, tql: boolean) => ({
    Title: Rel,
    Href: `${c.ctx.root}/api/${path}`,
    Rel,
    Description: null,
    SupportedHttpMethods: methods,
    SupportsOData: odata,
    SupportsTQL: tql,
    Help: null,
  });
  return ok({
    Links: [
      entry('Projects', 'projects', ['GET'], true, false),
      entry('ScriptRuns', 'scriptruns', ['GET'], false, true),
      entry('ScriptAssignments', 'scriptassignments', ['GET'], false, true),
      entry('ExecutionPackages', 'executionpackages', ['GET'], false, true),
      entry('Users', 'users', ['GET'], true, false),
      entry('SystemInfo', 'systeminfo', ['GET'], false, false),
    ],
  });
}

/** Field names per §1; the values (and UtcOffset's format) are the simulator's own, unverified. */
function systemInfo(c: Call): SimResponse {
  return ok({
    Version: '6.2.1956.0',
    RootUrl: `${c.ctx.root}/`,
    PackagePathSeparator: '|',
    TimeZoneId: 'UTC',
    UtcOffset: '00:00:00',
    StaticContentRootUrl: `${c.ctx.root}/content/`,
    Modules: [],
    Self: `${c.ctx.root}/api/systeminfo`,
  });
}

/** TQL collections always answer `{Skip, Top, Total, Items}`, Top defaulting to 25 (§3.4). */
function tqlCollection<T extends { Id: string }>(c: Call, items: T[], schema: TqlSchema<T>, view: (item: T) => Json): SimResponse {
  const query = compileTql(queryParam(c.query, 'tql') ?? '', schema, queryParam(c.query, 'timeZone') ?? 'UTC');
  const matching = items.filter((item) => query.matches(item));
  // Ties under ORDER BY fall back to the id, so pages never overlap (the index's own tie order is unverified).
  if (query.compare) matching.sort((a, b) => query.compare!(a, b) || a.Id.localeCompare(b.Id));
  const { skip, top } = paging(c, ET_DEFAULT_TOP);
  const limit = top ?? ET_DEFAULT_TOP;
  return ok({ Skip: skip, Top: limit, Total: matching.length, Items: matching.slice(skip, skip + limit).map(view) });
}

/**
 * OData collections: `$filter`/`$orderby` over the entity's JSON, no default page size
 * (unverified), and only `{Items}` unless `$inlinecount=allpages` (§3.4, §10). Without `$top`
 * the envelope's Top is null.
 */
function odataCollection<T>(c: Call, items: T[], props: ODataProps, typeName: string, view: (item: T, expand: Set<string>) => Json): SimResponse {
  const query = compileOData(queryParam(c.query, '$filter'), queryParam(c.query, '$orderby'), props, typeName);
  const rows = items.map((item) => ({ item, row: view(item, new Set()) })).filter(({ row }) => query.matches(row));
  if (query.compare) rows.sort((a, b) => query.compare!(a.row, b.row));
  const { skip, top, allPages } = paging(c, null);
  const page = rows.slice(skip, top === null ? undefined : skip + top).map(({ item }) => view(item, c.expand));
  return ok(allPages ? { Skip: skip, Top: top, Total: rows.length, Items: page } : { Items: page });
}

/** `$take` is accepted as an alias of `$top`: the help pages name it, Swagger does not (unverified). */
function paging(c: Call, defaultTop: number | null): { skip: number; top: number | null; allPages: boolean } {
  const int = (name: string) => {
    const raw = queryParam(c.query, name);
    if (raw === null || raw === '') return null;
    if (!/^\s*\d+\s*$/.test(raw)) throw badRequest(`The value '${raw}' is not valid for ${name}.`);
    return Number(raw);
  };
  const inline = queryParam(c.query, '$inlinecount');
  if (inline !== null && inline !== '' && !/^(allpages|none)$/i.test(inline)) throw badRequest(`'${inline}' is not a valid value for $inlinecount (allpages or none).`);
  return { skip: int('$skip') ?? 0, top: int('$top') ?? int('$take') ?? defaultTop, allPages: /^allpages$/i.test(inline ?? '') };
}

/**
 * Parses a JSON request body. Web API reads only JSON media types here, so another Content-Type
 * is 415; broken JSON, or no body where one is required, is 400 "The request is invalid."
 */
function readJson(request: SimRequest, optional: boolean): Json | null {
  const text = request.body.toString('utf8');
  if (text.trim() === '') {
    if (optional) return null;
    throw badRequest('The request body is empty.');
  }
  const type = String(request.headers['content-type'] ?? 'application/octet-stream');
  if (!/^application\/(.+\+)?json|^text\/json/i.test(type)) {
    throw new EtApiError(415, `The request entity's media type '${type.split(';')[0]}' is not supported for this resource.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badRequest(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw badRequest('The request body must be a JSON object.');
  return parsed;
}

/** Json.NET would fail to bind these types: 400, before any business rule (403) is checked. */
function checkTypes(body: Json, types: Record<string, 'bool' | 'string' | 'guid' | 'array' | 'object'>): void {
  for (const [name, type] of Object.entries(types)) {
    const value = body[name];
    if (value === undefined || value === null) continue;
    const fine =
      type === 'bool' ? typeof value === 'boolean'
      : type === 'string' ? typeof value === 'string'
      : type === 'guid' ? typeof value === 'string' && normalizeGuid(value) !== null
      : type === 'array' ? Array.isArray(value)
      : isPlainObject(value);
    if (!fine) throw badRequest(`Error converting value ${JSON.stringify(value)} for '${name}'.`);
  }
}

function found<T>(value: T | undefined, what: string, id: string): T {
  if (value === undefined) throw notFound(what, id);
  return value;
}

/** The Web API answers 404 for a missing entity even where the docs list none (§10); wording unverified. */
function notFound(what: string, id: string): EtApiError {
  return new EtApiError(404, `Could not find a ${what} with id '${id}'.`);
}

function badRequest(detail: string): EtApiError {
  return new EtApiError(400, 'The request is invalid.', detail);
}

function errorResponse(status: number, message: string, detail?: string): SimResponse {
  return { status, body: detail === undefined ? { Message: message } : { Message: message, MessageDetail: detail } };
}

function ok(body: Json): SimResponse {
  return { status: 200, body };
}

/** `indent-json=true` (query or header) pretty-prints; the default is compact (§1). */
function render(response: SimResponse, indent: boolean): SimResponse {
  if (!indent || response.body === undefined || typeof response.body === 'string') return response;
  return { ...response, headers: { ...response.headers, 'content-type': JSON_TYPE }, body: JSON.stringify(response.body, null, 2) };
}
