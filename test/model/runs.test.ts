/**
 * sliceHorizon is what lets TestRail skip history (closed plans, old pages): whatever it calls
 * out of reach must not change the slice. Checked as a property over random run sets, filters and
 * cursor positions, against sliceRuns over everything.
 */
import fc from 'fast-check';
import { positionOf, sliceHorizon, sliceRuns, type RunQuery } from '../../src/model/runs';
import { makeCounts } from '../../src/model/status';
import type { Run } from '../../src/model/types';

const run = (nativeId: number, createdAt: number | null, isClosed: boolean): Run => ({
  sourceId: 'tr',
  key: [String(nativeId), '1'],
  nativeId: String(nativeId),
  name: `run ${nativeId}`,
  projectKey: ['1'],
  host: null,
  status: isClosed ? 'COMPLETED' : 'IN_PROGRESS',
  conclusion: null,
  isClosed,
  vendorStatus: isClosed ? 'Completed' : 'Active',
  counts: makeCounts({ passed: 1, failed: 0, blocked: 0, untested: 0, retest: 0, other: 0 }),
  createdAt,
  completedAt: null,
  url: null,
});

// Few distinct dates, so ties are common; some runs undated.
const runs = fc
  .array(fc.record({ createdAt: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 8 }), isClosed: fc.boolean() }), { maxLength: 40 })
  .map((specs) => specs.map((s, i) => run(i + 1, s.createdAt, s.isClosed)));

describe('sliceHorizon', () => {
  test('runs created before the horizon change neither the slice nor hasMore', () => {
    fc.assert(
      fc.property(
        runs,
        fc.integer({ min: 0, max: 10 }),
        fc.option(fc.boolean()),
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (all, limit, isClosed, cursorPick, share) => {
          const base: RunQuery = { filter: isClosed === null ? {} : { isClosed }, limit };
          // A cursor somewhere in the full order, sometimes none.
          const ordered = sliceRuns(all, { ...base, limit: all.length }).runs;
          const after = ordered.length > 0 && cursorPick % 3 !== 0 ? positionOf(ordered[cursorPick % ordered.length]) : undefined;
          const query: RunQuery = { ...base, after };
          // The horizon may come from any part of what the source holds.
          const known = all.slice(0, Math.round(all.length * share));
          const horizon = sliceHorizon(known, query);
          if (horizon === undefined) return;
          const kept = all.filter((r) => !(r.createdAt !== null && r.createdAt < horizon));
          const whole = sliceRuns(all, query);
          const narrowed = sliceRuns(kept, query);
          expect(narrowed.runs.map((r) => r.nativeId)).toEqual(whole.runs.map((r) => r.nativeId));
          expect(narrowed.hasMore).toBe(whole.hasMore);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('is undefined until more matching runs than the limit are known after the cursor', () => {
    const all = [run(1, 10, false), run(2, 9, true), run(3, 8, false), run(4, null, false)];
    expect(sliceHorizon(all, { filter: {}, limit: 3 })).toBeUndefined(); // one of the four is undated
    expect(sliceHorizon(all, { filter: {}, limit: 2 })).toBe(8);
    expect(sliceHorizon(all, { filter: { isClosed: false }, limit: 1 })).toBe(8);
    expect(sliceHorizon(all, { filter: {}, limit: 1, after: positionOf(all[0]) })).toBe(8);
    expect(sliceHorizon(all, { filter: {}, limit: 2, after: positionOf(all[0]) })).toBeUndefined();
  });
});
