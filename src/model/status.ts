/**
 * The status normalizer: the vendor-neutral rules of ../shared/contract/status.md as code. Each
 * vendor's own table — which of its words mean what — lives in its folder
 * (src/sources/<vendor>/status.ts) and falls back on these rules; a test iterates each table.
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

/** status.md's counts rule whole, for a run its vendor does not call final: never closed. */
export function normalizeByCounts(counts: RunCounts): Normalized {
  const status = statusFromCounts(counts);
  return { status, conclusion: status === 'COMPLETED' ? conclusionFromCounts(counts) : null, isClosed: false };
}
