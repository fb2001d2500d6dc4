/**
 * Property-based checks for vendor mappers (see test/sources/payload-fuzz.test.ts).
 */
import fc from 'fast-check';
import { GatewayError } from '../../src/model/errors';
import { RUN_CONCLUSIONS, RUN_STATUSES, type Project, type Run } from '../../src/model/types';

export interface MapperCase {
  name: string;
  /** A valid payload (a function, so it may be fetched in beforeAll). */
  valid: () => Record<string, unknown>;
  map: (value: unknown) => Run | Project;
}

export const RUN_INVARIANTS = (run: Run) => {
  const c = run.counts;
  expect(c.total).toBe(c.passed + c.failed + c.blocked + c.untested + c.retest + c.other);
  for (const n of Object.values(c)) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
  expect(RUN_STATUSES).toContain(run.status);
  if (run.status === 'COMPLETED') expect(RUN_CONCLUSIONS).toContain(run.conclusion);
  else expect(run.conclusion).toBeNull();
  expect(typeof run.isClosed).toBe('boolean');
  expect(typeof run.name).toBe('string');
  expect(typeof run.vendorStatus).toBe('string');
  expect(run.nativeId.length).toBeGreaterThan(0);
  expect(run.key.every((k) => typeof k === 'string' && k.length > 0)).toBe(true);
  if (run.createdAt !== null) expect(Number.isFinite(run.createdAt)).toBe(true);
};

/** A valid payload with one field removed, replaced by a wrong type, or a whole garbage value. */
export function mutated(valid: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(valid);
  const wrong = fc.oneof(fc.constant(null), fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant(-1));
  return fc.oneof(
    fc.record({ key: fc.constantFrom(...keys), value: wrong }).map(({ key, value }) => ({ ...valid, [key]: value })),
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== key))),
    fc.anything(),
    fc.jsonValue(),
  );
}

export function fuzzMapper(c: MapperCase): void {
  test(`${c.name}: a valid payload maps`, () => {
    const record = c.map(c.valid());
    if ('vendorStatus' in record) RUN_INVARIANTS(record);
  });

  test(`${c.name}: mutated and garbage payloads map correctly or fail as UPSTREAM_ERROR`, () => {
    fc.assert(
      fc.property(mutated(c.valid()), (payload) => {
        let record: Run | Project;
        try {
          record = c.map(payload);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          expect((error as GatewayError).code).toBe('UPSTREAM_ERROR');
          return;
        }
        if ('vendorStatus' in record) RUN_INVARIANTS(record);
        else {
          expect(typeof record.name).toBe('string');
          expect(typeof record.isCompleted).toBe('boolean');
        }
      }),
      { numRuns: 400 },
    );
  });
}
