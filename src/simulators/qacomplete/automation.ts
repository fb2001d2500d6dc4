/**
 * The Test Automation REST API (`/rest-api/service/automation/v2/…`, §4.3): what agents on test
 * hosts call. Host-scoped calls authenticate as `hostId:securityToken` and see only that host;
 * `/depts`, `POST /hosts` and `GET /hosts?name=` authenticate as a user. This API speaks
 * snake_case both ways and writes UTC dates with `Z` (overview page, "Date and time").
 */
import type { SimResponse } from '../harness';
import { field, HttpError, intField, listResponse, ok, pathInt, readBody, stringField, boolField, type Body, type Handler, type HostContext, type UserContext } from './http';
import { deptJson, hostJson, utcDate } from './json';
import type { QACompleteRouteKey } from './routes';
import { FINAL_RUN_STATUSES, type QACompleteStore } from './store';
import type { QACHost, QACRun } from './types';

/** Agent names of §3.6; short names are accepted on input, case-insensitively, and stored long. */
const AGENTS: Record<string, string> = {
  testcomplete: 'TestComplete/TestExecute',
  junit: 'JUnit (Selenium)',
  nunit: 'NUnit (Selenium)',
  testng: 'TestNG (Selenium)',
  readyapi: 'ReadyAPI / SoapUI OS',
};

/** Item and step statuses the automation PATCH accepts (RequestRunItemPatchV2 metadata). */
const AUTOMATION_STATUSES = ['Passed', 'Failed', 'Blocked', 'Skipped', 'NA'];

function agentsOf(body: Body): string[] | undefined {
  const raw = field(body, 'agents');
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw) || raw.some((a) => typeof a !== 'string')) throw new HttpError(400, 'agents must be an array of strings');
  return raw.map((name: string) => {
    const wanted = name.trim().toLowerCase();
    const long = AGENTS[wanted] ?? Object.values(AGENTS).find((candidate) => candidate.toLowerCase() === wanted);
    if (!long) throw new HttpError(400, `Unknown agent '${name}'`);
    return long;
  });
}

function boundedString(body: Body, name: string, max: number): string | undefined {
  const value = stringField(body, name);
  if (value !== undefined && value.length > max) throw new HttpError(400, `${name} must be at most ${max} characters`);
  return value;
}

/** Host-scoped calls address the authenticated host only: its token opens nothing else. */
function ownHost(ctx: HostContext): QACHost {
  const id = pathInt(ctx.params.id, 'HostId');
  if (id === ctx.who.id) return ctx.who;
  if (!ctx.store.hosts.has(id)) throw new HttpError(404, `Host with id ${id} not found`);
  throw new HttpError(403, 'Access is denied');
}

function statusOf(value: string | undefined, what: string): string {
  const status = AUTOMATION_STATUSES.find((s) => s.toLowerCase() === value?.trim().toLowerCase());
  if (!status) throw new HttpError(400, `${what} must be one of ${AUTOMATION_STATUSES.join(', ')}`);
  return status;
}

function utcField(body: Body, name: string): Date | undefined {
  const value = stringField(body, name);
  if (value === undefined || value === '') return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new HttpError(400, `${name} must be an ISO 8601 date`);
  return date;
}

/**
 * One pending run as `currentruns` lists it. The doc only promises `results[i].id` and the
 * sequence numbers under `test_run_items`; the rest of this shape is unverified.
 */
function currentRunJson(store: QACompleteStore, run: QACRun): Record<string, unknown> {
  return {
    id: run.id,
    project_id: run.projectId,
    test_set_id: run.testSetId,
    test_set_name: store.testSets.get(run.testSetId)?.title ?? '',
    test_config_id: run.testConfigId,
    configuration_name: store.configurations.get(run.testConfigId)?.title ?? '',
    release_id: run.releaseId,
    is_sequential: run.isSequential,
    status_code: run.statusCode,
    run_by_user_id: run.runByUserId,
    date_created: utcDate(run.dateCreated),
    test_run_items: [...run.items].sort((a, b) => a.sequenceNumber - b.sequenceNumber).map((item) => ({
      id: item.id,
      sequence_number: item.sequenceNumber,
      test_id: item.testId,
      test_name: store.tests.get(item.testId)?.title ?? '',
      status_code: item.statusCode,
      stop_on_fail: false,
    })),
  };
}

export const userAutomationHandlers: Partial<Record<QACompleteRouteKey, Handler<UserContext>>> = {
  listDepts: (ctx) => listResponse(ctx.query, ctx.store.deptsOf(ctx.who).map(deptJson),
    deptJson({ id: 0, name: '', company: '', dateCreated: new Date(0) }), 0),

  /** Registration: 200 with the new host incl. id and security_token (code and shape unverified: like GET host). */
  registerHost: (ctx) => {
    const body = readBody(ctx.request);
    const name = boundedString(body, 'host_name', 100);
    const configuration = boundedString(body, 'host_configuration', 4000);
    if (!name?.trim()) throw new HttpError(400, 'host_name is required');
    if (configuration === undefined) throw new HttpError(400, 'host_configuration is required');
    const depts = ctx.store.deptsOf(ctx.who).map((d) => d.id);
    const deptId = intField(body, 'dept_id') ?? (depts.length === 1 ? depts[0] : undefined);
    if (deptId === undefined) throw new HttpError(400, 'dept_id is required for a user in several departments');
    if (!depts.includes(deptId)) throw new HttpError(400, `Department with id ${deptId} not found`);
    // §7: adding a resource that already exists is a 500.
    if (ctx.store.hostByName(name, [deptId])) throw new HttpError(500, `Host with name ${name} already exists`);
    const host = ctx.store.addHost({
      name, configuration, deptId, agents: agentsOf(body) ?? [], os: stringField(body, 'os') ?? '',
      isActive: boolField(body, 'is_active') ?? true, agentVersion: stringField(body, 'agent_version') ?? '',
    });
    return ok(hostJson(host));
  },

  /** Lookup by name (user auth) answers the host's secret token too (quirk 11). */
  findHostByName: (ctx) => {
    const name = ctx.query.get('name');
    if (!name?.trim()) throw new HttpError(400, 'name is required');
    const deptParam = ctx.query.get('deptid');
    let depts = ctx.store.deptsOf(ctx.who).map((d) => d.id);
    if (deptParam !== undefined && deptParam !== '') depts = depts.filter((id) => id === pathInt(deptParam, 'deptid'));
    const host = ctx.store.hostByName(name, depts);
    if (!host) throw new HttpError(404, `Host with name ${name} not found`);
    return ok(hostJson(host));
  },
};

export const hostHandlers: Partial<Record<QACompleteRouteKey, Handler<HostContext>>> = {
  getHost: (ctx) => ok(hostJson(ownHost(ctx))),

  updateHost: (ctx) => {
    const host = ownHost(ctx);
    const body = readBody(ctx.request);
    const name = boundedString(body, 'host_name', 100);
    if (name !== undefined && !name.trim()) throw new HttpError(400, 'host_name must not be empty');
    const configuration = boundedString(body, 'host_configuration', 4000);
    const agents = agentsOf(body);
    const os = stringField(body, 'os');
    const isActive = boolField(body, 'is_active');
    const agentVersion = stringField(body, 'agent_version');
    if (name !== undefined) host.name = name;
    if (configuration !== undefined) host.configuration = configuration;
    if (agents !== undefined) host.agents = agents;
    if (os !== undefined) host.os = os;
    if (isActive !== undefined) host.isActive = isActive;
    if (agentVersion !== undefined) host.agentVersion = agentVersion;
    return ok(hostJson(host)); // body unverified
  },

  /** Pending (not finished) runs assigned to this host, "sorted by run id". */
  currentRuns: (ctx) => {
    const host = ownHost(ctx);
    const pending = ctx.store.runs().filter((run) => run.hostId === host.id && !FINAL_RUN_STATUSES.includes(run.statusCode));
    return listResponse(ctx.query, pending.map((run) => currentRunJson(ctx.store, run)), currentRunJson(ctx.store, {
      id: 0, projectId: 0, testId: 0, testSetId: 0, testConfigId: 0, releaseId: 0, hostId: 0, testHost: '', runByUserId: 0, isSequential: false,
      statusCode: '', executionType: '', scheduleId: '0', dateCreated: new Date(0), dateStarted: null, dateFinished: null, items: [],
    }), 0);
  },

  /** An agent's result for one test of a run, addressed by RunId and 1-based SequenceNumber (quirk 15). */
  patchHostRunItem: (ctx): SimResponse => {
    const host = ownHost(ctx);
    const runId = pathInt(ctx.params.RunId, 'RunId');
    const run = ctx.store.run(runId);
    if (!run || run.hostId !== host.id) throw new HttpError(404, `Run with id ${runId} not found`);
    const seq = pathInt(ctx.params.SequenceNumber, 'SequenceNumber');
    const item = run.items.find((candidate) => candidate.sequenceNumber === seq);
    if (!item) throw new HttpError(404, `Item with sequence number ${seq} not found`);
    const body = readBody(ctx.request);
    const status = statusOf(stringField(body, 'status'), 'status');
    const runTime = intField(body, 'run_time');
    if (runTime !== undefined && runTime < 0) throw new HttpError(400, 'run_time must not be negative');
    const startedAt = utcField(body, 'date_started');
    const finishedAt = utcField(body, 'date_finished');
    const rawSteps = field(body, 'test_run_results');
    if (rawSteps !== undefined && rawSteps !== null && !Array.isArray(rawSteps)) throw new HttpError(400, 'test_run_results must be an array');
    // "Steps may differ from the test's defined steps": the agent's list replaces the results.
    const steps = (rawSteps as unknown[] | undefined | null)?.map((raw, index) => {
      if (typeof raw !== 'object' || raw === null) throw new HttpError(400, `test_run_results[${index}] must be an object`);
      const step = raw as Body;
      return {
        statusCode: statusOf(stringField(step, 'status'), `test_run_results[${index}].status`), step: stringField(step, 'step'),
        expectedResult: stringField(step, 'expected_result'), actualResult: stringField(step, 'actual_result'),
      };
    });
    const elapsed = runTime ?? (startedAt && finishedAt ? Math.max(0, Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000)) : undefined);
    ctx.store.updateItem(run, item, { statusCode: status, runTime: elapsed, hostName: host.name, userId: run.runByUserId, startedAt, steps: steps ?? undefined, replaceSteps: true });
    // The metadata page shows the DTO starting `sequence_number, stop_on_fail, …`; the rest is unverified.
    return ok({
      sequence_number: item.sequenceNumber,
      stop_on_fail: false,
      test_id: item.testId,
      test_name: ctx.store.tests.get(item.testId)?.title ?? '',
      status: item.statusCode,
      date_started: utcDate(item.dateStarted),
      date_finished: utcDate(finishedAt ?? item.dateUpdated),
      run_time: item.runTime,
      test_run_results: item.results.map((r) => ({ status: r.statusCode, step: r.step, expected_result: r.expectedResult, actual_result: r.actualResult })),
    });
  },
};
