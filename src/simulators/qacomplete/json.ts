/**
 * How QAComplete writes its records: snake_case keys, the vendor's spellings
 * (`run_time_formated`), ids as ints except where the samples show strings (v1 project `id` and
 * `dept_id`, run `schedule_id`), and two date styles (qacomplete.md quirk 5):
 * - main API: server-local wall-clock time, no offset, 7 fractional digits
 *   (`2016-09-23T06:42:04.6530000`); an unset date is `0001-01-01T00:00:00`, except on v1 projects,
 *   whose sample shows `00001-01-01T00:00:00.0000000`;
 * - automation API: UTC ISO-8601 with `Z`.
 * Every field of a table is always emitted (the reference: "Simulator: always emit the full set");
 * a missing name or reference is '' or 0, never null.
 */
import type { QACompleteStore } from './store';
import type { QACConfiguration, QACDept, QACHost, QACProject, QACRelease, QACRun, QACRunItem, QACTest, QACTestSet } from './types';

export const UNSET_DATE = '0001-01-01T00:00:00';
export const PROJECT_UNSET_DATE = '00001-01-01T00:00:00.0000000';
/** ACL bits of §3.5: 1 read + 2 update + 4 delete. Every simulated user has full rights. */
export const FULL_ACL = 7;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Server-local wall clock for an instant: the vendor writes no offset, so the zone is implicit. */
export function localDate(date: Date | null, offsetMinutes: number, unset = UNSET_DATE): string {
  if (!date) return unset;
  const d = new Date(date.getTime() + offsetMinutes * 60_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}0000`;
}

/** Automation API dates (overview page: "Timestamps are in UTC, in the ISO 8601 format"). */
export function utcDate(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

/** `hh:mm:ss`, hours not wrapped at 24. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.trunc(seconds));
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

export function runJson(store: QACompleteStore, run: QACRun): Record<string, unknown> {
  const tz = store.timeZoneOffsetMinutes;
  const count = (status: string) => run.items.filter((item) => item.statusCode === status).length;
  const runTime = run.items.reduce((sum, item) => sum + item.runTime, 0);
  return {
    id: run.id,
    test_set_id: run.testSetId,
    test_set_name: store.testSets.get(run.testSetId)?.title ?? '',
    test_config_id: run.testConfigId,
    configuration_name: store.configurations.get(run.testConfigId)?.title ?? '',
    release_id: run.releaseId,
    release_name: store.releases.get(run.releaseId)?.title ?? '',
    project_id: run.projectId,
    run_by_user_id: run.runByUserId,
    run_by_user_name: store.userName(run.runByUserId),
    is_sequential: run.isSequential,
    status_code: run.statusCode,
    execution_type: run.executionType,
    // Not in the reference's run table (unverified): QAComplete records carry date_created
    // elsewhere (projects, releases, tests) and the runs table has the column; a client must not
    // depend on it and should fall back to date_started.
    ...(store.runDateCreated ? { date_created: localDate(run.dateCreated, tz) } : {}),
    date_started: localDate(run.dateStarted, tz),
    date_finished: localDate(run.dateFinished, tz),
    nbr_tests: run.items.length,
    nbr_passed: count('Passed'),
    nbr_failed: count('Failed'),
    nbr_blocked: count('Blocked'),
    nbr_awaiting_run: count('Awaiting Run'),
    run_time: runTime,
    run_time_formated: formatDuration(runTime),
    schedule_id: run.scheduleId,
    test_host: run.testHost,
  };
}

/** §3.2: the first six fields are documented, the rest come from a client DTO (unverified). */
export function itemJson(store: QACompleteStore, run: QACRun, item: QACRunItem): Record<string, unknown> {
  const tz = store.timeZoneOffsetMinutes;
  const test = store.tests.get(item.testId);
  const done = item.statusCode !== 'Awaiting Run';
  const history = store.runs().flatMap((r) => r.items).filter((i) => i.testId === item.testId && i.runTime > 0);
  const avg = history.length ? Math.round(history.reduce((sum, i) => sum + i.runTime, 0) / history.length) : 0;
  return {
    id: item.id,
    test_set_id: run.testSetId,
    project_id: run.projectId,
    test_run_id: run.id,
    test_id: item.testId,
    test_name: test?.title ?? '',
    test_description: test?.description ?? '',
    version: test?.version ?? 1,
    sequence_number: item.sequenceNumber,
    seq_token: 0,
    is_tokenized: false,
    folder_name: test?.folderName ?? '',
    avg_run_time: avg,
    avg_run_time_formated: formatDuration(avg),
    test_run_started: localDate(item.dateStarted, tz),
    test_run_results: item.results.map((result) => ({
      id: result.id,
      test_run_item_id: item.id,
      seq: result.seq,
      is_stopped_on_fail: false,
      status_code: result.statusCode,
      step: result.step,
      expected_result: result.expectedResult,
      actual_result: result.actualResult,
      test_step_id: result.testStepId,
      project_id: run.projectId,
      is_tokenized: false,
    })),
    status_code: item.statusCode,
    run_by_user_id: item.runByUserId,
    run_time: item.runTime,
    run_time_formated: formatDuration(item.runTime),
    is_stopped_on_fail: false,
    last_run_by_name: done ? store.userName(item.updatedByUserId) : '',
    last_run_status: done ? item.statusCode : '',
    last_run_date: localDate(done ? item.dateUpdated : null, tz),
    release_id: run.releaseId,
    release_name: store.releases.get(run.releaseId)?.title ?? '',
    test_set_name: store.testSets.get(run.testSetId)?.title ?? '',
    configuration_name: store.configurations.get(run.testConfigId)?.title ?? '',
    test_host: item.hostName,
    automated: run.executionType !== 'Manual',
    file_log: '',
    file_report: '',
    status_updated_by: item.updatedByUserId,
    status_updated_by_user_name: store.userName(item.updatedByUserId),
  };
}

export function projectJson(store: QACompleteStore, project: QACProject): Record<string, unknown> {
  const tz = store.timeZoneOffsetMinutes;
  const updater = [...store.users.values()][0];
  return {
    id: String(project.id),
    proj_name: project.name,
    dept_id: String(project.deptId),
    dept_name: store.depts.get(project.deptId)?.name ?? '',
    __permissions: { acl: FULL_ACL },
    actual_cost: 0,
    actual_hrs: 0,
    est_cost: 0,
    est_hrs: 0,
    date_begin_actual: PROJECT_UNSET_DATE,
    date_begin_scheduled: PROJECT_UNSET_DATE,
    date_end_actual: PROJECT_UNSET_DATE,
    date_end_scheduled: PROJECT_UNSET_DATE,
    date_created: localDate(project.dateCreated, tz),
    date_updated: localDate(project.dateUpdated, tz),
    is_active: project.isActive,
    is_auto_calc: false,
    nbr_events: 0,
    nbr_files: 0,
    nbr_notes: 0,
    update_user_id: updater?.id ?? 0,
    user_name: updater ? store.userName(updater.id) : '',
  };
}

/** §3.6. `dept_id` is request-only, so it is not written back. */
export function hostJson(host: QACHost): Record<string, unknown> {
  return {
    id: host.id,
    host_name: host.name,
    host_configuration: host.configuration,
    agents: [...host.agents],
    os: host.os,
    is_active: host.isActive,
    security_token: host.token,
    agent_version: host.agentVersion,
  };
}

export function deptJson(dept: QACDept): Record<string, unknown> {
  return { id: dept.id, name: dept.name, company: dept.company, date_created: utcDate(dept.dateCreated) };
}

export function testJson(store: QACompleteStore, test: QACTest): Record<string, unknown> {
  const tz = store.timeZoneOffsetMinutes;
  const items = store.runs().flatMap((run) => run.items).filter((item) => item.testId === test.id && item.statusCode !== 'Awaiting Run');
  const last = items.sort((a, b) => (a.dateUpdated?.getTime() ?? 0) - (b.dateUpdated?.getTime() ?? 0)).at(-1);
  const avg = items.length ? Math.round(items.reduce((sum, i) => sum + i.runTime, 0) / items.length) : 0;
  return {
    id: test.id,
    title: test.title,
    status: 'Approved',
    project_id: test.projectId,
    active: true,
    execution_type: test.executionType,
    folder_id: 0,
    folder_name: test.folderName,
    assignee_user_id: 0,
    owner_user_id: 0,
    priority: '2-Medium',
    test_type: 'Functional',
    version: test.version,
    avg_run_time: avg,
    avg_run_time_formated: formatDuration(avg),
    last_run_by_user_id: last?.updatedByUserId ?? 0,
    last_run_by_name: last ? store.userName(last.updatedByUserId) : '',
    last_run_date: localDate(last?.dateUpdated ?? null, tz),
    last_run_status: last?.statusCode ?? '',
    nbr_times_run: items.length,
    nbr_pass_status: items.filter((i) => i.statusCode === 'Passed').length,
    nbr_fail_status: items.filter((i) => i.statusCode === 'Failed').length,
    nbr_steps: test.steps.length,
    description: test.description,
    date_created: localDate(test.dateCreated, tz),
    date_updated: localDate(test.dateCreated, tz),
    custom_fields: [],
    __permissions: { acl: FULL_ACL },
  };
}

export function testSetJson(store: QACompleteStore, set: QACTestSet): Record<string, unknown> {
  return {
    id: set.id,
    project_id: set.projectId,
    folder_id: 0,
    folder_name: set.folderName,
    create_user_id: 0,
    update_user_id: 0,
    owner_user_id: 0,
    assignee_user_id: 0,
    title: set.title,
    is_active: true,
    is_sequential: set.isSequential,
    status_code: 'Approved',
    priority_code: '3-Low',
    execution_type: set.executionType,
    description: set.description,
    nbr_tests: set.testIds.length,
    date_created: localDate(set.dateCreated, store.timeZoneOffsetMinutes),
  };
}

export function configurationJson(store: QACompleteStore, configuration: QACConfiguration): Record<string, unknown> {
  return {
    id: configuration.id,
    project_id: configuration.projectId,
    folder_id: 0,
    title: configuration.title,
    is_active: configuration.isActive,
    create_user_id: 0,
    update_user_id: 0,
    date_created: localDate(configuration.dateCreated, store.timeZoneOffsetMinutes),
  };
}

export function releaseJson(store: QACompleteStore, release: QACRelease): Record<string, unknown> {
  const tz = store.timeZoneOffsetMinutes;
  return {
    id: release.id,
    project_id: release.projectId,
    folder_id: 0,
    release_id: release.parentId || release.id,
    parent_id: release.parentId,
    parent_name: store.releases.get(release.parentId)?.title ?? '',
    release_type: release.releaseType,
    title: release.title,
    description: '',
    status_code: release.statusCode,
    is_active: release.isActive,
    owner_user_id: 0,
    assignee_user_id: 0,
    est_start_date: localDate(null, tz),
    est_finish_date: localDate(null, tz),
    seq_num: 0,
    is_auto_adjust_est_dates: false,
    date_created: localDate(release.dateCreated, tz),
    date_updated: localDate(release.dateCreated, tz),
    nbr_files: 0,
    nbr_notes: 0,
    custom_fields: [],
    __permissions: { acl: FULL_ACL },
  };
}
