import { conclusionFromCounts, makeCounts, normalizeByCounts, statusFromCounts } from '../../src/model/status';

const counts = (p: Partial<Record<'passed' | 'failed' | 'blocked' | 'untested' | 'retest' | 'other', number>>) =>
  makeCounts({ passed: 0, failed: 0, blocked: 0, untested: 0, retest: 0, other: 0, ...p });

/** The vendor-neutral rules; each vendor's table is tested in test/sources/status.test.ts. */
describe('status normalizer (../shared/contract/status.md)', () => {
  test('total is always the sum of the parts, and garbage counts become 0', () => {
    const c = makeCounts({ passed: 2, failed: 1, blocked: -3, untested: Number.NaN, retest: 1.9, other: 4 });
    expect(c).toEqual({ total: 8, passed: 2, failed: 1, blocked: 0, untested: 0, retest: 1, other: 4 });
  });

  test.each([
    [{ failed: 1, blocked: 1, retest: 1, untested: 1 }, false, 'FAILED'],
    [{ blocked: 1, retest: 1, untested: 1, passed: 3 }, false, 'BLOCKED'],
    [{ retest: 1, untested: 1 }, false, 'RETEST'],
    [{ untested: 1, passed: 2 }, false, 'INCOMPLETE'],
    [{ passed: 2 }, true, 'INCOMPLETE'],
    [{ passed: 2, other: 1 }, false, 'PASSED'],
  ])('conclusion precedence %j (vendor says not passed: %s) → %s', (parts, notPassed, expected) => {
    expect(conclusionFromCounts(counts(parts), notPassed)).toBe(expected);
  });

  test.each([
    [{}, 'QUEUED', null],
    [{ untested: 3 }, 'QUEUED', null],
    [{ untested: 1, passed: 1 }, 'IN_PROGRESS', null],
    [{ passed: 2, blocked: 1 }, 'COMPLETED', 'BLOCKED'],
    [{ passed: 2 }, 'COMPLETED', 'PASSED'],
  ])('the counts rule %j → %s %s, never closed', (parts, status, conclusion) => {
    expect(statusFromCounts(counts(parts))).toBe(status);
    expect(normalizeByCounts(counts(parts))).toEqual({ status, conclusion, isClosed: false });
  });
});
