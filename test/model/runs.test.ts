/**
 * sliceHorizon is what lets TestRail and QAComplete skip history (closed plans, old pages):
 * whatever it calls out of reach must not change the slice, and where it finds no horizon the
 * source must read everything. Checked as a property over random run sets, filters and cursor
 * positions, against a reference order written here (decisions.md, "Order") rather than the
 * module's own comparators.
 */
import fc from 'fast-check';
import { positionOf, sliceHorizon, sliceRuns, type RunQuery, type RunSlice } from '../../src/model/runs';
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
  counts: { total: 1, passed: 1, failed: 0, blocked: 0, untested: 0, retest: 0, other: 0 },
  createdAt,
  completedAt: null,
  updatedAt: null,
  url: null,
});

// Few distinct dates, so ties are common; some runs undated. Lengths spread over the whole range
// (fast-check's default keeps arrays short), so that known runs often outnumber the limit.
const runs = fc
  .array(fc.record({ createdAt: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 8 }), isClosed: fc.boolean() }), { maxLength: 40, size: 'max' })
  .map((specs) => specs.map((s, i) => run(i + 1, s.createdAt, s.isClosed)));

/** decisions.md "Order": newest first, undated last, then (one source here) native id ascending. */
function referenceOrder(all: readonly Run[]): Run[] {
  const rank = (r: Run) => (r.createdAt === null ? Number.NEGATIVE_INFINITY : r.createdAt);
  return [...all].sort((a, b) => rank(b) - rank(a) || Number(a.nativeId) - Number(b.nativeId));
}

/** What the query can still return from `all`, in order: matching the filter and strictly after the cursor. */
function reachable(all: readonly Run[], isClosed: boolean | null, afterId: string | undefined): Run[] {
  const ordered = referenceOrder(all);
  const start = afterId === undefined ? 0 : ordered.findIndex((r) => r.nativeId === afterId) + 1;
  return ordered.slice(start).filter((r) => isClosed === null || r.isClosed === isClosed);
}

function referenceSlice(all: readonly Run[], isClosed: boolean | null, afterId: string | undefined, limit: number): { ids: string[]; hasMore: boolean } {
  const rest = reachable(all, isClosed, afterId);
  return { ids: rest.slice(0, limit).map((r) => r.nativeId), hasMore: rest.length > limit };
}

const idsOf = (slice: RunSlice) => ({ ids: slice.runs.map((r) => r.nativeId), hasMore: slice.hasMore });

describe('sliceHorizon', () => {
  test('a horizon is found exactly when the known runs prove one, and reading from it gives the full read’s slice', () => {
    let withHorizon = 0;
    let withoutHorizon = 0;
    const numRuns = 2000;
    fc.assert(
      fc.property(
        runs,
        fc.integer({ min: 0, max: 10 }),
        fc.option(fc.boolean()),
        fc.nat(),
        // How many of the runs the source already holds (a whole number: fc.double crowds near 0).
        fc.integer({ min: 0, max: 40 }),
        (all, limit, isClosed, cursorPick, knownCount) => {
          // A cursor somewhere in the full order of matching runs, sometimes none.
          const ordered = reachable(all, isClosed, undefined);
          const cursor = ordered.length > 0 && cursorPick % 3 !== 0 ? ordered[cursorPick % ordered.length] : undefined;
          const query: RunQuery = { filter: isClosed === null ? {} : { isClosed }, limit, after: cursor && positionOf(cursor) };
          // The horizon may come from any part of what the source holds.
          const known = all.slice(0, knownCount);
          const horizon = sliceHorizon(known, query);
          const reference = referenceSlice(all, isClosed, cursor?.nativeId, limit);

          // What the known runs prove: the dates of those the query can still return, newest first.
          // More of them than the limit fix a horizon at the (limit + 1)-th: every run created before
          // it ranks after limit + 1 known runs. Fewer prove nothing (an unknown run may be older than
          // all of them and still belong in the slice).
          const isKnown = new Set(known);
          const provable = reachable(all, isClosed, cursor?.nativeId).flatMap((r) => (isKnown.has(r) && r.createdAt !== null ? [r.createdAt] : []));
          if (provable.length > limit) {
            withHorizon++;
            expect(horizon).toBe(provable[limit]);
            // The source reads only what was created at or after the horizon; the slice is the full read's.
            const fromHorizon = all.filter((r) => r.createdAt === null || r.createdAt >= horizon!);
            expect(idsOf(sliceRuns(fromHorizon, query))).toEqual(reference);
          } else {
            withoutHorizon++;
            expect(horizon).toBeUndefined();
            // Without a horizon the source reads everything, and that read's slice is the reference's.
            expect(idsOf(sliceRuns(all, query))).toEqual(reference);
          }
        },
      ),
      { numRuns },
    );
    // Both branches were exercised often enough to mean something.
    expect(withHorizon).toBeGreaterThan(numRuns * 0.2);
    expect(withoutHorizon).toBeGreaterThan(numRuns * 0.2);
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
