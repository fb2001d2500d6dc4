/**
 * Property-based checks for vendor mappers (test/sources/payload-fuzz.test.ts,
 * run-options-payload-fuzz.test.ts): for every generated payload, the mapper returns exactly the
 * record an oracle written in the test expects, or rejects the payload as UPSTREAM_ERROR exactly
 * when the oracle does.
 *
 * The oracle reads payloads with the readers below, written here from the vendor references
 * (../shared/vendors/*.md) and the status contract (../shared/contract/status.md), never with the
 * mapper's own helpers (src/sources/payload.ts, src/model/status.ts): a mapper that turns a bad
 * count into 0, keeps a stale default or reads the wrong field disagrees with it.
 *
 * Payloads are the valid sample with several fields changed to other valid values, with one field
 * changed to a wrong value or removed, or arbitrary garbage; the test asserts that both accepted and
 * rejected payloads were generated often, so neither half of the property is empty.
 */
import fc from 'fast-check';
import { GatewayError } from '../../src/model/errors';
import { RUN_CONCLUSIONS, RUN_STATUSES, type Run, type RunConclusion, type RunCounts, type RunStatus } from '../../src/model/types';

type Json = Record<string, unknown>;

// ------------------------------------------------------------------------------ the oracle's readers

/** Thrown by the oracle where the mapper must reject the payload. */
export class Rejected extends Error {}

export function reject(why: string): never {
  throw new Rejected(why);
}

const isSafeInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const absent = (v: unknown) => v === undefined || v === null;

/** Generic JSON readings every vendor's payloads use. */
export const read = {
  object(v: unknown, what = 'payload'): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) reject(`${what} is not an object`);
    return v as Json;
  },
  list(v: unknown, what: string): unknown[] {
    if (!Array.isArray(v)) reject(`${what} is not a list`);
    return v;
  },
  /** An integer id or number; any sign (the vendors' ids are positive, but no mapper is asked to check that). */
  int(v: unknown, what: string): number {
    if (!isSafeInt(v)) reject(`${what} is not an integer`);
    return v;
  },
  optInt: (v: unknown, what: string): number | null => (absent(v) ? null : read.int(v, what)),
  /** A counter: absent or null is 0 (a server older than the counter); otherwise a whole number ≥ 0. */
  count(v: unknown, what: string): number {
    if (absent(v)) return 0;
    if (!isSafeInt(v) || v < 0) reject(`${what} is not a count`);
    return v;
  },
  str(v: unknown, what: string): string {
    if (typeof v !== 'string') reject(`${what} is not a string`);
    return v;
  },
  optStr: (v: unknown, what: string): string | null => (absent(v) ? null : read.str(v, what)),
  /** JSON true/false, or 1/0 (TestRail Cloud writes a few flags as numbers). */
  flag(v: unknown, what: string): boolean {
    if (v === true || v === 1) return true;
    if (v === false || v === 0) return false;
    return reject(`${what} is not a flag`);
  },
  /** A flag that older servers leave out: absent or null means `otherwise`. */
  optFlag: (v: unknown, what: string, otherwise: boolean): boolean => (absent(v) ? otherwise : read.flag(v, what)),
};

/** QAComplete's readings (../shared/vendors/qacomplete.md, quirks 4 and 5). */
export const qacomplete = {
  /** Ids are ints in v2 and digit strings in v1 (quirk 4): text without leading zeros either way. */
  id(v: unknown, what: string): string {
    if (isSafeInt(v) && v >= 0) return String(v);
    if (typeof v === 'string' && /^\s*\d{1,15}\s*$/.test(v)) return String(Number(v));
    return reject(`${what} is not an id`);
  },
  /** v1 flags: JSON booleans, 1/0, or the words true/false in any case. */
  flag(v: unknown, what: string): boolean {
    if (typeof v === 'string' && /^\s*(true|false)\s*$/i.test(v)) return v.trim().toLowerCase() === 'true';
    return read.flag(v, what);
  },
  optFlag: (v: unknown, what: string, otherwise: boolean): boolean => (absent(v) ? otherwise : qacomplete.flag(v, what)),
  /**
   * Dates: the server's local wall time, 7 fractional digits, no offset (the automation API writes
   * `Z`); unset is year 1, as `0001-…` or `00001-…`. Epoch seconds, rounded down; a wall time that
   * happens twice is the earlier instant. (The mapper reads a few looser spellings too; the generator
   * writes only these.)
   */
  date(v: unknown, zone: string, what: string): number | null {
    if (absent(v) || v === '') return null;
    if (typeof v !== 'string') reject(`${what} is not a date`);
    const m = /^(\d{4,5})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d{1,7})?(Z?)$/.exec(v);
    if (!m) reject(`${what} is not a date`);
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
    if (year <= 1) return null;
    const wall = Date.UTC(year, month - 1, day, hour, minute, second) / 1000;
    if (m[7] === 'Z') return wall;
    const instants = candidateOffsets().map((offset) => wall - offset).filter((t) => wallTime(t, zone) === wall);
    if (instants.length === 0) throw new Error(`the generator wrote a wall time that does not exist in ${zone}: ${v}`);
    return Math.min(...instants);
  },
};

/** Every offset a zone can have, in seconds: −14 h … +14 h in quarter hours. */
const candidateOffsets = (() => {
  const all = Array.from({ length: 113 }, (_, i) => (i - 56) * 900);
  return () => all;
})();

const wallFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's wall clock at an instant, as epoch seconds of a UTC date with the same fields. */
export function wallTime(epochSeconds: number, zone: string): number {
  let f = wallFormats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    wallFormats.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(epochSeconds * 1000)).map((part) => [part.type, Number(part.value)]));
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000;
}

/** Enterprise Tester's readings (../shared/vendors/enterprise-tester.md §2). */
export const enterpriseTester = {
  /** GUIDs: non-empty text (at most 100 characters), kept lower-case as ET emits them. */
  guid(v: unknown, what: string): string {
    const text = read.str(v, what);
    if (text.length === 0 || text.length > 100) reject(`${what} is not an id`);
    return text.toLowerCase();
  },
  /** An optional GUID: absent, empty or all zeros is none. */
  optGuid(v: unknown, what: string): string | null {
    const text = read.optStr(v, what);
    return text === null || text === '' || text === '00000000-0000-0000-0000-000000000000' ? null : text.toLowerCase();
  },
  /**
   * ISO-8601 UTC with `Z`; a time without a zone is UTC. Non-ISO text is read the way the mapper
   * does today (JavaScript's Date.parse, which takes "1" for 2001-01-01): a known gap, pinned by the
   * `test.failing` in payload-fuzz.test.ts until the mapper rejects such text.
   */
  timestamp(v: unknown, what: string): number {
    const text = read.str(v, what);
    const ms = Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text}Z`);
    if (!Number.isFinite(ms)) reject(`${what} is not a date`);
    return Math.floor(ms / 1000);
  },
};

// ------------------------------------------------------------------------- status.md, as the oracle reads it

/** `total` is the sum of the parts (status.md, first rule). */
export function countsOf(parts: Omit<RunCounts, 'total'>): RunCounts {
  const { passed, failed, blocked, untested, retest, other } = parts;
  return { total: passed + failed + blocked + untested + retest + other, passed, failed, blocked, untested, retest, other };
}

/** A COMPLETED run's conclusion: the first row that applies. */
export function contractConclusion(c: RunCounts, vendorSaysNotPassed = false): RunConclusion {
  const rows: Array<[RunConclusion, boolean]> = [
    ['FAILED', c.failed > 0],
    ['BLOCKED', c.blocked > 0],
    ['RETEST', c.retest > 0],
    ['INCOMPLETE', c.untested > 0 || vendorSaysNotPassed],
  ];
  return rows.find(([, applies]) => applies)?.[0] ?? 'PASSED';
}

/** The counts rule for a run the vendor does not call final: nothing run, some run, all run. */
export function contractStatus(c: RunCounts): RunStatus {
  return c.untested === c.total ? 'QUEUED' : c.untested > 0 ? 'IN_PROGRESS' : 'COMPLETED';
}

// ------------------------------------------------------------------------------------- payload generation

/** In a variant: leave the field out of the payload. */
export const ABSENT = Symbol('absent');

/** Wrong values for any field: the wrong JSON type, or a number no field takes. */
export const WRONG: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null), fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant([]), fc.constant({}), fc.constant(-1),
);

/** Other valid values for a field (`ABSENT` to leave it out), one arbitrary per field. */
export type Variants = Record<string, fc.Arbitrary<unknown>>;

function withFields(base: Json, changes: Record<string, unknown>): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (value === ABSENT) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** The valid payload with any subset of its variant fields set to other valid values. */
export function varied(valid: Json, variants: Variants): fc.Arbitrary<Json> {
  const KEEP = Symbol('keep');
  const entries = Object.entries(variants).map(([key, arb]) => [key, fc.option(arb, { nil: KEEP, freq: 2 })] as const);
  return fc.record(Object.fromEntries(entries)).map((changes) =>
    withFields(valid, Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== KEEP))),
  );
}

/**
 * A valid payload (or a variant of it) with one field broken: set to a wrong value (generic, or one
 * of the field's own near misses), or removed.
 */
export function broken(valid: fc.Arbitrary<Json>, nearMisses: Variants = {}): fc.Arbitrary<Json> {
  return valid.chain((payload) => {
    const keys = Object.keys(payload);
    const wrongFor = (key: string) => (nearMisses[key] ? fc.oneof(WRONG, nearMisses[key]) : WRONG);
    const options: Array<fc.Arbitrary<Json>> = [];
    if (keys.length > 0) {
      options.push(fc.constantFrom(...keys).chain((key) => wrongFor(key).map((value) => ({ ...payload, [key]: value }))));
      options.push(fc.constantFrom(...keys).map((key) => withFields(payload, { [key]: ABSENT })));
    }
    const missed = Object.keys(nearMisses);
    if (missed.length > 0) options.push(fc.constantFrom(...missed).chain((key) => nearMisses[key].map((value) => ({ ...payload, [key]: value }))));
    return fc.oneof(...options);
  });
}

export interface MapperCase<R extends object> {
  name: string;
  /** A valid payload (a function, so it may be fetched in beforeAll). */
  valid: () => Json;
  map: (payload: unknown) => R;
  /** The record the vendor's reference says the payload means; calls `reject` where the mapper must refuse it. */
  expected: (payload: unknown) => R;
  /** Other valid values per field, so accepted payloads vary beyond the one sample. */
  variants: Variants;
  /** Invalid values close to valid ones (a list with one bad item, a nested object missing a field). */
  nearMisses?: Variants;
  /** Some facts about the valid sample, written out by hand, so the oracle is checked against the data too. */
  sample?: Partial<R> | (() => Partial<R>);
  numRuns?: number;
}

type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

function outcome<R>(f: () => R): Outcome<R> {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

export const RUN_INVARIANTS = (run: Run) => {
  const c = run.counts;
  expect(c.total).toBe(c.passed + c.failed + c.blocked + c.untested + c.retest + c.other);
  for (const n of Object.values(c)) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
  expect(RUN_STATUSES).toContain(run.status);
  if (run.status === 'COMPLETED') expect(RUN_CONCLUSIONS).toContain(run.conclusion);
  else expect(run.conclusion).toBeNull();
};

const isRun = (record: object): record is Run => 'vendorStatus' in record && 'counts' in record;

/**
 * The mapper against the oracle on one payload: the same record, or both refuse it (the mapper as
 * UPSTREAM_ERROR). Returns whether the payload was accepted.
 */
export function checkAgainstOracle<R extends object>(c: Pick<MapperCase<R>, 'map' | 'expected'>, payload: unknown): boolean {
  const want = outcome(() => c.expected(payload));
  if (!want.ok && !(want.error instanceof Rejected)) throw want.error; // a bug in the oracle itself
  const got = outcome(() => c.map(payload));
  if (!want.ok) {
    if (got.ok) throw new Error(`the mapper accepted a payload it must reject (${(want.error as Error).message}): ${JSON.stringify(got.value)}`);
    expect(got.error).toBeInstanceOf(GatewayError);
    expect((got.error as GatewayError).code).toBe('UPSTREAM_ERROR');
    return false;
  }
  if (!got.ok) throw new Error(`the mapper rejected a payload the reference accepts: ${(got.error as Error)?.message ?? got.error}`);
  const expected = want.value as Record<string, unknown>;
  const actual = got.value as Record<string, unknown>;
  const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, actual[key]]));
  expect(picked).toEqual(expected);
  if (isRun(actual as R & object)) RUN_INVARIANTS(actual as unknown as Run);
  return true;
}

/** Payloads for a case: valid variants, broken ones and garbage. */
export function payloadsFor(valid: Json, variants: Variants, nearMisses: Variants = {}): fc.Arbitrary<unknown> {
  const variant = varied(valid, variants);
  return fc.oneof(
    { weight: 4, arbitrary: variant },
    { weight: 4, arbitrary: broken(variant, nearMisses) },
    { weight: 1, arbitrary: fc.anything() },
    { weight: 1, arbitrary: fc.jsonValue() },
  );
}

export function fuzzMapper<R extends object>(c: MapperCase<R>): void {
  test(`${c.name}: the valid sample maps to what the reference says`, () => {
    const record = c.map(c.valid());
    expect(record).toEqual(c.expected(c.valid()));
    if (c.sample) expect(record).toMatchObject(typeof c.sample === 'function' ? c.sample() : c.sample);
    if (isRun(record)) RUN_INVARIANTS(record);
  });

  test(`${c.name}: the oracle names every field the mapper returns`, () => {
    // A field the oracle does not know is a field no payload test checks: add it to `expected`.
    expect(Object.keys(c.map(c.valid())).sort()).toEqual(Object.keys(c.expected(c.valid())).sort());
  });

  test(`${c.name}: varied, broken and garbage payloads map to exactly the expected record or fail as UPSTREAM_ERROR`, () => {
    const numRuns = c.numRuns ?? 400;
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(payloadsFor(c.valid(), c.variants, c.nearMisses), (payload) => {
        if (checkAgainstOracle(c, payload)) accepted++;
        else rejected++;
      }),
      { numRuns },
    );
    // Both halves of the property were exercised, not just garbage.
    expect(accepted).toBeGreaterThan(numRuns * 0.1);
    expect(rejected).toBeGreaterThan(numRuns * 0.1);
  });
}

// --------------------------------------------------------------------------------- valid-value generators

/** Some text, sometimes with upper case or surrounding spaces. */
export const someText = fc.oneof(fc.string(), fc.constantFrom('Regression', '  padded  ', 'UPPER lower', ''));

/** An instant between 2000 and 2040, epoch seconds. */
export const someInstant = fc.integer({ min: 946_684_800, max: 2_208_988_800 });

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** An instant as the zone's wall clock, the way QAComplete's main API writes it (7 fractional digits, no offset). */
export function qacompleteWall(epochSeconds: number, zone: string, fraction = '0000000'): string {
  const d = new Date(wallTime(epochSeconds, zone) * 1000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${fraction}`;
}

/** Any date a QAComplete run or project field may hold: a wall time, a `Z` time, unset, or empty. */
export function qacompleteDates(zone: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(someInstant, fc.stringMatching(/^\d{7}$/)).map(([t, fraction]) => qacompleteWall(t, zone, fraction)) },
    { weight: 1, arbitrary: someInstant.map((t) => `${new Date(t * 1000).toISOString().slice(0, 19)}Z`) },
    { weight: 1, arbitrary: fc.constantFrom('0001-01-01T00:00:00', '00001-01-01T00:00:00.0000000', '', null, ABSENT) },
  );
}

/** A GUID as ET writes it (lower case), or in upper case (the reference allows either on input). */
export const someGuid = fc.tuple(fc.uuid(), fc.boolean()).map(([id, upper]) => (upper ? id.toUpperCase() : id));
