/**
 * The main REST API (`/rest-api/service/api/v1|v2/…`, Basic `email:password`) and the dispatcher
 * both APIs go through: route → method check → authentication → handler. The automation API's
 * handlers live in automation.ts.
 *
 * Order of checks, as ServiceStack does them: an unknown path is 404 before anything else; a known
 * path with a method it does not serve is 500 (§7: "A wrong HTTP method is used (for example, PUT
 * instead of POST)"); then credentials (401); then the handler.
 */
import { basicCredentials, SimulatorServer, type SimRequest, type SimResponse } from '../harness';
import { hostHandlers, userAutomationHandlers } from './automation';
import {
  ACCESS_DENIED, boolField, errorResponse, field, HttpError, intField, listResponse, NOT_FOUND, ok, parseTarget, pathInt,
  readBody, stringField, type Handler, type UserContext,
} from './http';
import { configurationJson, itemJson, projectJson, releaseJson, runJson, testJson, testSetJson } from './json';
import { matchRoute, routeOf, type QACompleteRouteKey } from './routes';
import type { QACompleteStore } from './store';
import type { ItemChange, QACHost, QACProject, QACRun, QACRunItem, QACUser } from './types';

const WWW_AUTHENTICATE = { 'WWW-Authenticate': 'Basic realm="QAComplete"' };

export function createQACompleteServer(store: QACompleteStore): SimulatorServer {
  return new SimulatorServer({ name: 'qacomplete', routeOf, handle: (request) => dispatch(store, request) });
}

function dispatch(store: QACompleteStore, request: SimRequest): SimResponse {
  try {
    const match = matchRoute(request.method, request.target);
    if (match.kind === 'unknown') throw new HttpError(404, NOT_FOUND);
    if (match.kind === 'wrong-method') throw new HttpError(500, `Could not find method named ${request.method.toUpperCase()} for ${match.pattern}`);
    const { query } = parseTarget(request.target);
    const base = { store, request, params: match.params, query };
    const hostHandler = hostHandlers[match.key];
    if (hostHandler) return hostHandler({ ...base, who: authenticateHost(store, request) });
    const userHandler = mainHandlers[match.key] ?? userAutomationHandlers[match.key];
    if (!userHandler) throw new Error(`no handler for ${match.name}`);
    return userHandler({ ...base, who: authenticateUser(store, request) });
  } catch (error) {
    if (error instanceof HttpError) return errorResponse(error.status, error.message, error.headers);
    throw error;
  }
}

/**
 * Stateless Basic auth on every call. The "About" page's remark about a session token answered
 * on the first request was never seen in practice (unverified, §1), so none is issued.
 */
function authenticateUser(store: QACompleteStore, request: SimRequest): QACUser {
  const credentials = basicCredentials(request.headers);
  const user = credentials ? store.userByEmail(credentials.username) : undefined;
  if (!user || user.password !== credentials?.password) throw new HttpError(401, 'Invalid login or password', WWW_AUTHENTICATE);
  return user;
}

/** Host-scoped automation calls: login = host id, password = its security token (a GUID, compared as one: case-insensitively). */
function authenticateHost(store: QACompleteStore, request: SimRequest): QACHost {
  const credentials = basicCredentials(request.headers);
  const host = credentials && /^\d+$/.test(credentials.username) ? store.hosts.get(Number(credentials.username)) : undefined;
  if (!host || host.token.toLowerCase() !== credentials?.password.toLowerCase()) throw new HttpError(401, 'Invalid host id or security token', WWW_AUTHENTICATE);
  return host;
}

/** §4.1: a missing project and a project the caller may not see are the same answer. */
export function projectOf(ctx: UserContext): QACProject {
  const id = pathInt(ctx.params.ProjectId, 'ProjectId');
  if (!ctx.store.canAccess(ctx.who, id)) throw new HttpError(403, ACCESS_DENIED);
  return ctx.store.projects.get(id) as QACProject;
}

function runOf(ctx: UserContext, project: QACProject): QACRun {
  const run = ctx.store.run(pathInt(ctx.params.Id, 'Id'));
  if (!run || run.projectId !== project.id) throw new HttpError(404, NOT_FOUND);
  return run;
}

function itemOf(ctx: UserContext, run: QACRun): QACRunItem {
  const id = pathInt(ctx.params.ItemId, 'ItemId');
  const item = run.items.find((candidate) => candidate.id === id);
  if (!item) throw new HttpError(404, NOT_FOUND);
  return item;
}

/** An empty record of each kind, so a filter is checked against field names even on an empty list. */
const BLANK_RUN: QACRun = {
  id: 0, projectId: 0, testId: 0, testSetId: 0, testConfigId: 0, releaseId: 0, hostId: 0, testHost: '', runByUserId: 0,
  isSequential: false, statusCode: '', executionType: '', scheduleId: '0', dateCreated: new Date(0), dateStarted: null, dateFinished: null, items: [],
};
const BLANK_ITEM: QACRunItem = {
  id: 0, runId: 0, testId: 0, sequenceNumber: 0, statusCode: '', runTime: 0, hostName: '', runByUserId: 0, updatedByUserId: 0,
  dateStarted: null, dateUpdated: null, results: [],
};

/** Lists are sorted by id: the vendor documents no order for them (unverified), and id order is stable under paging. */
const byId = <T extends { id: number }>(records: Iterable<T>): T[] => [...records].sort((a, b) => a.id - b.id);
const inProject = <T extends { id: number; projectId: number }>(records: Iterable<T>, projectId: number): T[] =>
  byId(records).filter((record) => record.projectId === projectId);

function list<T>(ctx: UserContext, records: T[], render: (record: T) => Record<string, unknown>, template: Record<string, unknown>): SimResponse {
  return listResponse(ctx.query, records.map(render), template, ctx.store.timeZoneOffsetMinutes);
}

function one<T extends { id: number; projectId: number }>(ctx: UserContext, records: Map<number, T>, render: (record: T) => Record<string, unknown>): SimResponse {
  const project = projectOf(ctx);
  const record = records.get(pathInt(ctx.params.Id, 'Id'));
  if (!record || record.projectId !== project.id) throw new HttpError(404, NOT_FOUND);
  return ok(render(record));
}

function createRun(ctx: UserContext): SimResponse {
  const { store } = ctx;
  const project = projectOf(ctx);
  const body = readBody(ctx.request);
  const testId = intField(body, 'TestId') || undefined;
  const testSetId = intField(body, 'TestSetId') || undefined;
  // "either the TestId parameter or the TestSetId one is required" (seed 001). Both at once is
  // not described; refusing it (unverified) beats silently picking one.
  if (!testId && !testSetId) throw new HttpError(400, 'Either TestId or TestSetId is required');
  if (testId && testSetId) throw new HttpError(400, 'Specify either TestId or TestSetId, not both');
  // Ids in the body that do not resolve are bad data (400, §7), not a missing addressed resource (unverified).
  if (testId && store.tests.get(testId)?.projectId !== project.id) throw new HttpError(400, `Test with id ${testId} not found`);
  if (testSetId) {
    const set = store.testSets.get(testSetId);
    if (set?.projectId !== project.id) throw new HttpError(400, `Test set with id ${testSetId} not found`);
    if (set.testIds.length === 0) throw new HttpError(400, `Test set with id ${testSetId} has no tests`);
  }
  const testConfigId = intField(body, 'TestConfigId') || 0;
  if (testConfigId && store.configurations.get(testConfigId)?.projectId !== project.id) throw new HttpError(400, `Configuration with id ${testConfigId} not found`);
  const releaseId = intField(body, 'ReleaseId') || 0;
  if (releaseId && store.releases.get(releaseId)?.projectId !== project.id) throw new HttpError(400, `Release with id ${releaseId} not found`);
  const hostId = intField(body, 'RunByHostId') || 0;
  if (hostId) {
    const host = store.hosts.get(hostId);
    if (!host) throw new HttpError(400, `Host with id ${hostId} not found`);
    if (!host.isActive) throw new HttpError(400, `Host with id ${hostId} is not active`);
  }
  const isSequential = boolField(body, 'IsSequential');
  // ForceNewRunCreation "creates a new test run even if a test is running" (seed 001). Without it,
  // a run of the same test or test set that is running (In Progress) is returned instead of a new
  // one (unverified: the docs do not say what happens; clients wanting a new run must send true).
  if (boolField(body, 'ForceNewRunCreation') !== true) {
    const running = store.runs(project.id).find((run) => run.statusCode === 'In Progress' && (testSetId ? run.testSetId === testSetId : run.testSetId === 0 && run.testId === testId));
    if (running) return ok(runJson(store, running));
  }
  const run = store.addRun({ projectId: project.id, testId, testSetId, testConfigId, releaseId, hostId: hostId || undefined, isSequential, runByUserId: ctx.who.id, dateCreated: store.now() });
  return ok(runJson(store, run));
}

/** Main-API item update (RequestTestRunItemPatch / …Put, §3.3); PUT takes the same fields, so both act alike. */
function updateItem(ctx: UserContext): SimResponse {
  const { store } = ctx;
  const run = runOf(ctx, projectOf(ctx));
  const item = itemOf(ctx, run);
  const body = readBody(ctx.request);
  const statusCode = stringField(body, 'StatusCode');
  if (!statusCode?.trim()) throw new HttpError(400, 'StatusCode is required');
  const runTime = intField(body, 'RunTime');
  if (runTime !== undefined && runTime < 0) throw new HttpError(400, 'RunTime must not be negative');
  const userId = intField(body, 'RunByUserId');
  if (userId !== undefined && !store.users.has(userId)) throw new HttpError(400, `User with id ${userId} not found`);
  const hostId = intField(body, 'RunByHostId');
  const host = hostId ? store.hosts.get(hostId) : undefined;
  if (hostId && !host) throw new HttpError(400, `Host with id ${hostId} not found`);
  boolField(body, 'Critical');
  boolField(body, 'SaveToTestLibrary');
  const change: ItemChange = { statusCode, runTime, hostName: host?.name, userId: userId ?? ctx.who.id };
  const steps = field(body, 'Steps');
  if (steps !== undefined && steps !== null) {
    if (!Array.isArray(steps)) throw new HttpError(400, 'Steps must be an array');
    change.steps = steps.map((raw, index) => {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new HttpError(400, `Steps[${index}] must be an object`);
      const step = raw as Record<string, unknown>;
      const stepStatus = stringField(step, 'StatusCode');
      // "if given, their required fields must be set" (§3.3); which ones is unverified: a status and a position.
      if (!stepStatus?.trim()) throw new HttpError(400, `Steps[${index}].StatusCode is required`);
      const resultId = intField(step, 'TestRunResultId');
      const seq = intField(step, 'Seq') ?? item.results.find((r) => r.id === resultId)?.seq;
      if (seq === undefined) throw new HttpError(400, `Steps[${index}].Seq is required`);
      return {
        seq, statusCode: stepStatus, step: stringField(step, 'StepName'), expectedResult: stringField(step, 'ExpectedResult'),
        actualResult: stringField(step, 'ActualResult'), testStepId: intField(step, 'TestStepId'),
      };
    });
  }
  store.updateItem(run, item, change);
  // The response body is unverified (§4.1); the updated item is what a careful reader expects.
  return ok(itemJson(store, run, item));
}

const mainHandlers: Partial<Record<QACompleteRouteKey, Handler<UserContext>>> = {
  listProjects: (ctx) => {
    const visible = byId(ctx.store.projects.values()).filter((p) => ctx.store.canAccess(ctx.who, p.id));
    const blank: QACProject = { id: 0, name: '', deptId: 0, isActive: false, dateCreated: new Date(0), dateUpdated: new Date(0) };
    return list(ctx, visible, (p) => projectJson(ctx.store, p), projectJson(ctx.store, blank));
  },
  getProject: (ctx) => ok(projectJson(ctx.store, projectOf(ctx))),
  listReleases: (ctx) => list(ctx, inProject(ctx.store.releases.values(), projectOf(ctx).id), (r) => releaseJson(ctx.store, r),
    releaseJson(ctx.store, { id: 0, projectId: 0, title: '', releaseType: 'Release', parentId: 0, statusCode: '', isActive: false, dateCreated: new Date(0) })),
  getRelease: (ctx) => one(ctx, ctx.store.releases, (r) => releaseJson(ctx.store, r)),
  listTests: (ctx) => list(ctx, inProject(ctx.store.tests.values(), projectOf(ctx).id), (t) => testJson(ctx.store, t),
    testJson(ctx.store, { id: 0, projectId: 0, title: '', description: '', folderName: '', version: 0, executionType: 'Manual', steps: [], dateCreated: new Date(0) })),
  getTest: (ctx) => one(ctx, ctx.store.tests, (t) => testJson(ctx.store, t)),
  listTestSets: (ctx) => list(ctx, inProject(ctx.store.testSets.values(), projectOf(ctx).id), (s) => testSetJson(ctx.store, s),
    testSetJson(ctx.store, { id: 0, projectId: 0, title: '', description: '', folderName: '', testIds: [], isSequential: false, executionType: 'Manual', dateCreated: new Date(0) })),
  listConfigurations: (ctx) => list(ctx, inProject(ctx.store.configurations.values(), projectOf(ctx).id), (c) => configurationJson(ctx.store, c),
    configurationJson(ctx.store, { id: 0, projectId: 0, title: '', isActive: false, dateCreated: new Date(0) })),
  getConfiguration: (ctx) => one(ctx, ctx.store.configurations, (c) => configurationJson(ctx.store, c)),

  listRuns: (ctx) => list(ctx, ctx.store.runs(projectOf(ctx).id), (run) => runJson(ctx.store, run), runJson(ctx.store, BLANK_RUN)),
  createRun,
  getRun: (ctx) => ok(runJson(ctx.store, runOf(ctx, projectOf(ctx)))),
  // §4.1 / quirk 2: 200 with an empty body, not 204.
  deleteRun: (ctx) => {
    const run = runOf(ctx, projectOf(ctx));
    ctx.store.deleteRun(run.id);
    return { status: 200 };
  },
  // Seed 000: the body is an empty RequestTestRunRestartPost; the answer is the NEW run (200).
  restartRun: (ctx) => {
    const old = runOf(ctx, projectOf(ctx));
    readBody(ctx.request);
    return ok(runJson(ctx.store, ctx.store.restartRun(old, ctx.who.id)));
  },
  listRunItems: (ctx) => {
    const run = runOf(ctx, projectOf(ctx));
    const items = [...run.items].sort((a, b) => a.sequenceNumber - b.sequenceNumber);
    return list(ctx, items, (item) => itemJson(ctx.store, run, item), itemJson(ctx.store, BLANK_RUN, BLANK_ITEM));
  },
  getRunItem: (ctx) => {
    const run = runOf(ctx, projectOf(ctx));
    return ok(itemJson(ctx.store, run, itemOf(ctx, run)));
  },
  patchRunItem: updateItem,
  putRunItem: updateItem,
};
