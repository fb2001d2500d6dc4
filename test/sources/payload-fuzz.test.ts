/**
 * Vendor payloads are untrusted. Property: whatever JSON a vendor sends — valid, mutated, or
 * garbage — each mapper either returns a record that keeps every model invariant, or throws a
 * GatewayError with UPSTREAM_ERROR. Never a TypeError, never a silently wrong record.
 */
import { mapProject as mapTestRailProject, mapRun as mapTestRailRun } from '../../src/sources/testrail/map';
import { mapProject as mapQACProject, mapRun as mapQACRun } from '../../src/sources/qacomplete/map';
import { parseProject as parseETProject, parseRun as parseETRun, toRun as toETRun } from '../../src/sources/enterprise-tester/map';
import { DEMO_RUNS, DEMO_PROJECTS, ET_DEMO_USER, EnterpriseTesterSimulator } from '../../src/simulators/enterprise-tester';
import { QACompleteSimulator, QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_DEMO_USER } from '../../src/simulators/qacomplete';
import { fuzzMapper } from '../support/fuzz';

const testrailRun = {
  id: 81, suite_id: 1, name: 'Regression', description: null, milestone_id: 7, assignedto_id: 6, include_all: false,
  is_completed: false, completed_on: null, config: null, config_ids: [], passed_count: 2, blocked_count: 0,
  untested_count: 3, retest_count: 1, failed_count: 2, custom_status1_count: 0, custom_status2_count: 1,
  custom_status3_count: 0, custom_status4_count: 0, custom_status5_count: 0, custom_status6_count: 0,
  custom_status7_count: 0, project_id: 1, plan_id: null, created_on: 1793000000, created_by: 1, refs: 'RF-1',
  url: 'https://example.testrail.io/index.php?/runs/view/81',
};
const testrailProject = { id: 1, name: 'Webshop', announcement: null, show_announcement: false, is_completed: false, completed_on: null, suite_mode: 1, url: 'https://example.testrail.io/index.php?/projects/overview/1' };

/** Real payloads, as the simulators send them, are the valid starting points for the others. */
async function fetchJson(url: string, user: string, password: string): Promise<Record<string, unknown>> {
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, accept: 'application/json' } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

const samples: Record<string, Record<string, unknown>> = {};

beforeAll(async () => {
  const qac = new QACompleteSimulator();
  const et = new EnterpriseTesterSimulator();
  try {
    const q = `${await qac.start()}/rest-api/service`;
    const project = QACOMPLETE_DEMO_PROJECTS.checkoutWeb;
    samples.qacRun = await fetchJson(`${q}/api/v2/projects/${project}/testruns/831204`, QACOMPLETE_DEMO_USER.email, QACOMPLETE_DEMO_USER.password);
    samples.qacProject = await fetchJson(`${q}/api/v1/projects/${project}`, QACOMPLETE_DEMO_USER.email, QACOMPLETE_DEMO_USER.password);
    const e = `${await et.start()}/api`;
    samples.etRun = await fetchJson(`${e}/scriptrun/${DEMO_RUNS.completedFailed}?$expand=StepResults,Assignment`, ET_DEMO_USER.username, ET_DEMO_USER.password);
    samples.etProject = await fetchJson(`${e}/project/${DEMO_PROJECTS.mobile}`, ET_DEMO_USER.username, ET_DEMO_USER.password);
  } finally {
    await qac.stop();
    await et.stop();
  }
});

describe('vendor payloads at the boundary', () => {
  fuzzMapper({ name: 'TestRail run', valid: () => testrailRun, map: (v) => mapTestRailRun('tr', v) });
  fuzzMapper({ name: 'TestRail project', valid: () => testrailProject, map: (v) => mapTestRailProject('tr', v) });
  fuzzMapper({ name: 'QAComplete run', valid: () => samples.qacRun, map: (v) => mapQACRun('qac', v, 'Europe/Berlin') });
  fuzzMapper({ name: 'QAComplete project', valid: () => samples.qacProject, map: (v) => mapQACProject('qac', v) });
  fuzzMapper({ name: 'Enterprise Tester run', valid: () => samples.etRun, map: (v) => toETRun('et', parseETRun(v), 'Login', null) });
  fuzzMapper({ name: 'Enterprise Tester project', valid: () => samples.etProject, map: (v) => parseETProject('et', v) });
});
