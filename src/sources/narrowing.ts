/**
 * A slice of runs from a vendor that documents no list order and cannot sort (TestRail,
 * QAComplete; decisions.md, "Order"), read without the history the slice cannot contain. The
 * algorithm is the same for both and lives here; what a read is stays with the vendor:
 *
 * 1. Every part of the list (a project) makes its opening reads: its first page, and what its
 *    vendor makes worth adding (QAComplete: a long list's last page; TestRail: the plan list, with
 *    the open plans opened at once).
 * 2. Once the runs those reads found outnumber the slice (plus its look-ahead), they fix a horizon
 *    (model/runs.ts, sliceHorizon): no run created before it can be in the slice.
 * 3. A part not read to its end reads the rest, from the horizon on where there is one (the
 *    vendor's date filter, with the vendor's margin), all of it where there is none.
 * 4. The runs known by then fix a tighter horizon. A part's extras that stopped taking runs before
 *    it (TestRail's closed plans) are not read at all.
 * 5. The slice is cut from everything read (sliceRuns), so the answer is the full read's: the
 *    horizon only decides what need not be read.
 */
import { sliceHorizon, sliceRuns, type RunQuery, type RunSlice } from '../model/runs';
import type { Run } from '../model/types';

export interface NarrowedPart {
  /** The runs the part's opening reads found. */
  opening: readonly Run[];
  /**
   * Absent when the opening reads hold the whole part. Otherwise reads the rest, from `horizon` on
   * (undefined: none is known, so everything), and answers every run of the part that its reads
   * found, `opening` included.
   */
  rest?: (horizon: number | undefined) => Promise<readonly Run[]>;
  /** Runs outside the list that are read in any case (TestRail: the open plans' runs, already on their way). */
  always?: Promise<readonly Run[]>;
  /** Groups of runs outside the list, each read only if it took runs at or after the tighter horizon (`until`: when it stopped). */
  extras?: ReadonlyArray<{ until: number; read: () => Promise<readonly Run[]> }>;
}

export async function narrowedSlice(query: RunQuery, parts: readonly NarrowedPart[], hostMatches?: (run: Run) => boolean): Promise<RunSlice> {
  const horizon = sliceHorizon(
    parts.flatMap((part) => part.opening),
    query,
    hostMatches,
  );
  const listed = (await Promise.all(parts.map((part) => (part.rest ? part.rest(horizon) : part.opening)))).flat();
  const tighter = sliceHorizon(listed, query, hostMatches);
  const extras = parts
    .flatMap((part) => part.extras ?? [])
    .filter((extra) => tighter === undefined || extra.until >= tighter)
    .map((extra) => extra.read());
  const outside = await Promise.all([...parts.map((part) => part.always ?? []), ...extras]);
  return sliceRuns([...listed, ...outside.flat()], query, hostMatches);
}
