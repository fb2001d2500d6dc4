/**
 * QAComplete's rows of ../shared/contract/status.md: `status_code` is the vendor's word (§6);
 * codes the table does not know fall back to the counts rule (model/status.ts) and stay open.
 */
import { normalizeByCounts, type Normalized } from '../../model/status';
import type { RunCounts } from '../../model/types';

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
  const known = Object.prototype.hasOwnProperty.call(QACOMPLETE_STATUS_TABLE, statusCode) ? QACOMPLETE_STATUS_TABLE[statusCode] : undefined;
  return known ? { ...known } : normalizeByCounts(counts);
}
