/**
 * The index's page reads (store/memory.ts) against the live path's reference (model/runs.ts
 * sliceRuns, which every live source uses): for random run sets, filters, cursors and limits, a
 * page from the index is exactly the reference's page, whether the index was loaded in bulk or
 * built up by single changes. Counts are checked against a plain filter.
 */
import fc from 'fast-check';
import { matchesFilter, positionOf, sliceRuns, type RunFilter, type RunQuery } from '../../src/model/runs';
import type { Host, Run, RunStatus } from '../../src/model/types';
import { SourceIndex } from '../../src/store/memory';

const T0 = 1_780_000_000;
const HOSTS: Host[] = [
  { sourceId: 's', key: ['h1'], nativeId: 'h1', name: 'alpha' },
  { sourceId: 's', key: ['h2'], nativeId: 'h2', name: 'beta' },
];

const runArb = (i: number) =>
  fc.record({
    createdAt: fc.option(fc.integer({ min: 0, max: 40 }).map((d) => T0 + d * 60), { nil: null, freq: 8 }),
    project: fc.constantFrom('p1', 'p2', 'p3'),
    host: fc.constantFrom<null | { key: string[] } | { name: string }>(null, { key: ['h1'] }, { name: 'beta' }, { name: 'gamma' }),
    status: fc.constantFrom<RunStatus>('QUEUED', 'IN_PROGRESS', 'COMPLETED'),
    isClosed: fc.boolean(),
  }).map(
    (r): Run => ({
      sourceId: 's',
      key: [String(i)],
      nativeId: String(i),
      name: `run ${i}`,
      projectKey: [r.project],
      host: r.host,
      status: r.status,
      conclusion: r.status === 'COMPLETED' ? 'PASSED' : null,
      isClosed: r.isClosed,
      vendorStatus: r.status,
      counts: { total: 0, passed: 0, failed: 0, blocked: 0, untested: 0, retest: 0, other: 0 },
      createdAt: r.createdAt,
      completedAt: null,
      url: null,
    }) as unknown as Run,
  );

const runsArb = fc.integer({ min: 0, max: 60 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => runArb(i + 1))));

const filterArb: fc.Arbitrary<RunFilter> = fc.record(
  {
    projectKeys: fc.subarray([['p1'], ['p2'], ['p3']], { minLength: 1 }),
    hostKeys: fc.subarray([['h1'], ['h2']], { minLength: 1 }),
    statuses: fc.subarray<RunStatus>(['QUEUED', 'IN_PROGRESS', 'COMPLETED'], { minLength: 1 }),
    isClosed: fc.boolean(),
    createdAfter: fc.integer({ min: 0, max: 40 }).map((d) => T0 + d * 60),
    createdBefore: fc.integer({ min: 0, max: 40 }).map((d) => T0 + d * 60),
  },
  { requiredKeys: [] },
);

/** The live sources' rule for a run that only names its host: one of the filter's hosts has that name. */
const hostMatches = (filter: RunFilter) => (run: Run) => {
  const ref = run.host;
  if (!ref || !filter.hostKeys) return false;
  if ('key' in ref) return filter.hostKeys.some((k) => k[0] === ref.key[0]);
  return HOSTS.some((h) => h.name === ref.name && filter.hostKeys!.some((k) => k[0] === h.key[0]));
};

function indexOf(runs: Run[], incremental: boolean): SourceIndex {
  const index = new SourceIndex('s');
  index.hosts = HOSTS;
  if (incremental) {
    // Insert in random-ish order, replace some, delete and re-add others: the order must survive single changes.
    for (const run of [...runs].reverse()) index.put(run);
    for (const run of runs.filter((_, i) => i % 3 === 0)) index.put({ ...run });
    for (const run of runs.filter((_, i) => i % 4 === 1)) {
      index.delete(run.key);
      index.put(run);
    }
  } else index.putMany(runs);
  return index;
}

test('an index page is the reference page, for any runs, filter, cursor and limit', () => {
  fc.assert(
    fc.property(runsArb, filterArb, fc.integer({ min: 0, max: 12 }), fc.nat(), fc.boolean(), (runs, filter, limit, cursorAt, incremental) => {
      const ordered = sliceRuns(runs, { filter: {}, limit: runs.length }).runs;
      const after = ordered.length > 0 && cursorAt % 3 !== 0 ? positionOf(ordered[cursorAt % ordered.length]) : undefined;
      const query: RunQuery = { filter, after, limit };
      const expected = sliceRuns(runs, query, filter.hostKeys ? hostMatches(filter) : undefined);
      const index = indexOf(runs as Run[], incremental);
      expect(index.slice(query)).toEqual(expected);
      expect(index.count(filter)).toBe(runs.filter((r) => matchesFilter(r, filter, filter.hostKeys ? hostMatches(filter) : undefined)).length);
    }),
    { numRuns: 1500 },
  );
});

test('walking an index page by page returns every matching run once, in order', () => {
  fc.assert(
    fc.property(runsArb, filterArb, fc.integer({ min: 1, max: 7 }), (runs, filter, limit) => {
      const index = indexOf(runs as Run[], false);
      const seen: Run[] = [];
      let after: RunQuery['after'];
      for (let guard = 0; guard < 100; guard++) {
        const page = index.slice({ filter, after, limit });
        seen.push(...page.runs);
        if (!page.hasMore) break;
        after = positionOf(page.runs[page.runs.length - 1]);
      }
      expect(seen).toEqual(sliceRuns(runs, { filter, limit: runs.length }, filter.hostKeys ? hostMatches(filter) : undefined).runs);
    }),
    { numRuns: 500 },
  );
});
