/**
 * The status normalizer: ../shared/contract/status.md as code. Every vendor's mapper calls one of
 * the functions below; the vendor-specific tables live here, next to the generic rule, so the
 * README and the tests can print and iterate the same tables.
 */
import type { RunConclusion, RunCounts, RunStatus } from './types';

export interface Normalized {
  status: RunStatus;
  conclusion: RunConclusion | null;
  isClosed: boolean;
}

/** Builds counts whose total always equals the sum of the parts (status.md, first rule). */
export function makeCounts(parts: Omit<RunCounts, 'total'>): RunCounts {
  const clean = (n: number) => (Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0);
  const c = {
    passed: clean(parts.passed),
    failed: clean(parts.failed),
    blocked: clean(parts.blocked),
    untested: clean(parts.untested),
    retest: clean(parts.retest),
    other: clean(parts.other),
  };
  return { total: c.passed + c.failed + c.blocked + c.untested + c.retest + c.other, ...c };
}

/**
 * The generic precedence for a COMPLETED run: FAILED, BLOCKED, RETEST, INCOMPLETE (untested left,
 * or the vendor's final word is not a pass), PASSED.
 */
export function conclusionFromCounts(counts: RunCounts, vendorSaysNotPassed = false): RunConclusion {
  if (counts.failed > 0) return 'FAILED';
  if (counts.blocked > 0) return 'BLOCKED';
  if (counts.retest > 0) return 'RETEST';
  if (counts.untested > 0 || vendorSaysNotPassed) return 'INCOMPLETE';
  return 'PASSED';
}

/** status.md "counts rule" for a run the vendor does not call final. */
export function statusFromCounts(counts: RunCounts): RunStatus {
  if (counts.untested === counts.total) return 'QUEUED';
  if (counts.untested > 0) return 'IN_PROGRESS';
  return 'COMPLETED';
}

// ---------------------------------------------------------------------------------------------
// TestRail: no status text; `is_completed` and the counters decide.

export const TESTRAIL_VENDOR_STATUS = { completed: 'Completed', active: 'Active' } as const;

export function normalizeTestRail(isCompleted: boolean, counts: RunCounts): Normalized & { vendorStatus: string } {
  const status: RunStatus = isCompleted ? 'COMPLETED' : statusFromCounts(counts);
  return {
    status,
    conclusion: status === 'COMPLETED' ? conclusionFromCounts(counts) : null,
    isClosed: isCompleted,
    vendorStatus: isCompleted ? TESTRAIL_VENDOR_STATUS.completed : TESTRAIL_VENDOR_STATUS.active,
  };
}

// ---------------------------------------------------------------------------------------------
// QAComplete: `status_code` is the vendor's word; unknown codes fall back to the counts rule.

export const QACOMPLETE_STATUS_TABLE: Readonly<Record<string, Normalized>> = {
  'Awaiting Run': { status: 'QUEUED', conclusion: null, isClosed: false },
  'In Progress': { status: 'IN_PROGRESS', conclusion: null, isClosed: false },
  Paused: { status: 'IN_PROGRESS', conclusion: null, isClosed: false },
  Passed: { status: 'COMPLETED', conclusion: 'PASSED', isClosed: true },
  Failed: { status: 'COMPLETED', conclusion: 'FAILED', isClosed: true },
  Blocked: { status: 'COMPLETED', conclusion: 'BLOCKED', isClosed: true },
  Incomplete: { status: 'COMPLETED', conclusion: 'INCOMPLETE', isClosed: true },
};

export function normalizeQAComplete(statusCode: string, counts: RunCounts): Normalized {
  const known = Object.prototype.hasOwnProperty.call(QACOMPLETE_STATUS_TABLE, statusCode)
    ? QACOMPLETE_STATUS_TABLE[statusCode]
    : undefined;
  if (known) return { ...known };
  const status = statusFromCounts(counts);
  return { status, conclusion: status === 'COMPLETED' ? conclusionFromCounts(counts) : null, isClosed: false };
}

// ---------------------------------------------------------------------------------------------
// Enterprise Tester: `Completed` plus `Status` on a completed run; step outcomes otherwise.

export const ENTERPRISE_TESTER_CONCLUSIONS: Readonly<Record<string, RunConclusion>> = {
  Passed: 'PASSED',
  Failed: 'FAILED',
  Blocked: 'BLOCKED',
};

export function normalizeEnterpriseTester(completed: boolean, status: string, counts: RunCounts): Normalized {
  if (completed) {
    const conclusion = Object.prototype.hasOwnProperty.call(ENTERPRISE_TESTER_CONCLUSIONS, status)
      ? ENTERPRISE_TESTER_CONCLUSIONS[status]
      : 'INCOMPLETE';
    return { status: 'COMPLETED', conclusion, isClosed: true };
  }
  return { status: counts.untested === counts.total ? 'QUEUED' : 'IN_PROGRESS', conclusion: null, isClosed: false };
}
