/**
 * Enterprise Tester's rows of ../shared/contract/status.md: `Completed` closes a run, a completed
 * run's `Status` is its conclusion, and an unfinished run's step outcomes say whether it started
 * (map.ts counts them). tql.ts asks the server in the same words.
 */
import type { Normalized } from '../../model/status';
import type { RunConclusion, RunCounts } from '../../model/types';

/** What an incomplete run's `Status` reads (§6: "In Progress" while incomplete). */
export const ET_OPEN_STATUS = 'In Progress';

/**
 * A completed run's `Status` per conclusion (status.md): Passed, Failed, Blocked as they read;
 * everything else (Undetermined, Not Run, …) is INCOMPLETE. The spaced spellings of Blocked,
 * Undetermined and Not Run are unverified (§6).
 */
export const ET_CONCLUSION_STATUS = { PASSED: 'Passed', FAILED: 'Failed', BLOCKED: 'Blocked' } as const;

const CONCLUSION_OF = new Map<string, RunConclusion>(
  (Object.entries(ET_CONCLUSION_STATUS) as Array<[RunConclusion, string]>).map(([conclusion, status]) => [status, conclusion]),
);

export function normalizeEnterpriseTester(completed: boolean, status: string, counts: RunCounts): Normalized {
  if (completed) return { status: 'COMPLETED', conclusion: CONCLUSION_OF.get(status) ?? 'INCOMPLETE', isClosed: true };
  return { status: counts.untested === counts.total ? 'QUEUED' : 'IN_PROGRESS', conclusion: null, isClosed: false };
}
