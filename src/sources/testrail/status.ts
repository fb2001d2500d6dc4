/**
 * TestRail's rows of ../shared/contract/status.md: TestRail has no status text; `is_completed`
 * and the counters decide (model/status.ts has the counts rule).
 */
import { conclusionFromCounts, statusFromCounts, type Normalized } from '../../model/status';
import type { RunCounts, RunStatus } from '../../model/types';

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
