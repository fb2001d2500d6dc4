/**
 * Each vendor's rows of ../shared/contract/status.md (src/sources/<vendor>/status.ts), over the
 * counts rule of src/model/status.ts.
 */
import { makeCounts } from '../../src/model/status';
import { normalizeEnterpriseTester } from '../../src/sources/enterprise-tester/status';
import { normalizeQAComplete, QACOMPLETE_STATUS_TABLE } from '../../src/sources/qacomplete/status';
import { normalizeTestRail } from '../../src/sources/testrail/status';

const counts = (p: Partial<Record<'passed' | 'failed' | 'blocked' | 'untested' | 'retest' | 'other', number>>) =>
  makeCounts({ passed: 0, failed: 0, blocked: 0, untested: 0, retest: 0, other: 0, ...p });

describe('vendor status tables (../shared/contract/status.md)', () => {
  test.each([
    ['completed, untested left', true, { passed: 1, untested: 2 }, 'COMPLETED', 'INCOMPLETE', true, 'Completed'],
    ['completed, all passed', true, { passed: 3 }, 'COMPLETED', 'PASSED', true, 'Completed'],
    ['active, no tests', false, {}, 'QUEUED', null, false, 'Active'],
    ['active, all untested', false, { untested: 4 }, 'QUEUED', null, false, 'Active'],
    ['active, partly run', false, { untested: 2, failed: 1 }, 'IN_PROGRESS', null, false, 'Active'],
    ['active, all run with a failure', false, { passed: 2, failed: 1 }, 'COMPLETED', 'FAILED', false, 'Active'],
    ['active, blocked', false, { passed: 2, blocked: 1 }, 'COMPLETED', 'BLOCKED', false, 'Active'],
    ['active, retest', false, { passed: 2, retest: 1 }, 'COMPLETED', 'RETEST', false, 'Active'],
    ['active, custom statuses only', false, { other: 2 }, 'COMPLETED', 'PASSED', false, 'Active'],
  ])('TestRail %s', (_name, isCompleted, parts, status, conclusion, isClosed, vendorStatus) => {
    expect(normalizeTestRail(isCompleted, counts(parts))).toEqual({ status, conclusion, isClosed, vendorStatus });
  });

  test.each(Object.entries(QACOMPLETE_STATUS_TABLE))('QAComplete %s follows its table row', (code, row) => {
    expect(normalizeQAComplete(code, counts({ passed: 1, untested: 1 }))).toEqual(row);
  });

  test('QAComplete unknown status codes fall back to the counts rule and stay open', () => {
    expect(normalizeQAComplete('Running', counts({ untested: 2 }))).toEqual({ status: 'QUEUED', conclusion: null, isClosed: false });
    expect(normalizeQAComplete('Running', counts({ untested: 1, passed: 1 }))).toEqual({ status: 'IN_PROGRESS', conclusion: null, isClosed: false });
    expect(normalizeQAComplete('Running', counts({ failed: 1, passed: 1 }))).toEqual({ status: 'COMPLETED', conclusion: 'FAILED', isClosed: false });
  });

  test.each([
    [true, 'Passed', 'PASSED'],
    [true, 'Failed', 'FAILED'],
    [true, 'Blocked', 'BLOCKED'],
    [true, 'Undetermined', 'INCOMPLETE'],
    [true, 'Not Run', 'INCOMPLETE'],
  ])('Enterprise Tester completed=%s Status=%s → %s', (completed, status, conclusion) => {
    // The vendor's final word wins over counts that would say otherwise.
    expect(normalizeEnterpriseTester(completed, status, counts({ passed: 3 }))).toEqual({ status: 'COMPLETED', conclusion, isClosed: true });
  });

  test('Enterprise Tester unfinished runs: all NotRun or no steps → QUEUED, else IN_PROGRESS', () => {
    expect(normalizeEnterpriseTester(false, 'In Progress', counts({ untested: 3 })).status).toBe('QUEUED');
    expect(normalizeEnterpriseTester(false, 'In Progress', counts({})).status).toBe('QUEUED');
    expect(normalizeEnterpriseTester(false, 'In Progress', counts({ untested: 2, passed: 1 }))).toEqual({ status: 'IN_PROGRESS', conclusion: null, isClosed: false });
  });
});
