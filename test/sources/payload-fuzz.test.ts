/**
 * Vendor payloads are untrusted. Property: whatever JSON a vendor sends — valid, mutated, or
 * garbage — each mapper either returns a record that keeps every model invariant, or throws a
 * GatewayError with UPSTREAM_ERROR. Never a TypeError, never a silently wrong record.
 */
import { mapProject as mapTestRailProject, mapRun as mapTestRailRun } from '../../src/sources/testrail/map';
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

describe('vendor payloads at the boundary', () => {
  fuzzMapper({ name: 'TestRail run', valid: testrailRun, map: (v) => mapTestRailRun('tr', v) });
  fuzzMapper({ name: 'TestRail project', valid: testrailProject, map: (v) => mapTestRailProject('tr', v) });
});
