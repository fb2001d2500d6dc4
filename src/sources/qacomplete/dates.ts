/**
 * QAComplete's main API writes local wall-clock times without an offset and with 7 fractional
 * digits (`2016-09-23T06:42:04.6530000`, qacomplete.md quirk 5); "unset" is year 1
 * (`0001-01-01T00:00:00`, on v1 projects `00001-01-01T00:00:00.0000000`). The zone is the
 * server's and the API never says which, so the source's config names it (`timeZone`, an IANA
 * name, default UTC; decisions.md "DateTime"). Offsets come from Intl, so daylight saving time is
 * handled without a date library.
 *
 * A wall time that happens twice (the hour clocks fall back) is read as the earlier instant; one
 * that never happens (the hour clocks spring forward) as the instant after the gap — Temporal's
 * "compatible" disambiguation.
 */
import { PayloadError } from '../payload';

const WALL = /^(\d{4,5})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when Intl knows the zone (config check). */
export function isTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

const isUtc = (zone: string) => zone === 'UTC' || zone === 'Etc/UTC';

/** The zone's wall clock at an instant, as milliseconds of a UTC date with the same fields. */
function wallMs(epochMs: number, zone: string): number {
  if (isUtc(zone)) return epochMs - (epochMs % 1000);
  const parts: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
}

/** The zone's offset from UTC at an instant, in milliseconds. */
const offsetMs = (epochMs: number, zone: string) => wallMs(epochMs, zone) - (epochMs - (((epochMs % 1000) + 1000) % 1000));

/** The instant a whole-second wall time (given as UTC-field milliseconds) names in a zone. */
export function instantOfWall(wall: number, zone: string): number {
  if (isUtc(zone)) return wall;
  const DAY = 86_400_000;
  const before = wall - offsetMs(wall - DAY, zone);
  const after = wall - offsetMs(wall + DAY, zone);
  const valid = [before, after].filter((t) => wallMs(t, zone) === wall);
  if (valid.length > 0) return Math.min(...valid);
  // In a spring-forward gap: the offset before the gap carries the time past it.
  return before;
}

/**
 * Epoch seconds (whole, rounded down) of a vendor date, or null when it is absent or unset.
 * A date that carries its own offset (the automation API writes `Z`) is read with that offset.
 */
export function parseVendorDate(value: unknown, zone: string, where: string): number | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new PayloadError(where, 'is not a date');
  const m = WALL.exec(value.trim());
  if (!m) throw new PayloadError(where, `is not a date ("${value.slice(0, 40)}")`);
  const year = Number(m[1]);
  if (year <= 1) return null;
  const wall = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (Number.isNaN(wall)) throw new PayloadError(where, `is not a date ("${value.slice(0, 40)}")`);
  let instant: number;
  if (m[8]) {
    const z = m[8].toUpperCase();
    const offset = z === 'Z' ? 0 : (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(-2))) * 60_000;
    instant = wall - offset;
  } else {
    instant = instantOfWall(wall, zone);
  }
  return Math.floor(instant / 1000);
}

/** `YYYY-MM-DDTHH:MM:SS`: an instant as the server's wall clock, for filter values. */
export function formatWall(epochSeconds: number, zone: string): string {
  const d = new Date(wallMs(epochSeconds * 1000, zone));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** True when the zone's offset changes within `hours` of an instant (a wall time near it may be ambiguous). */
export function nearTransition(epochSeconds: number, zone: string, hours = 2): boolean {
  if (isUtc(zone)) return false;
  const t = epochSeconds * 1000;
  const span = hours * 3_600_000;
  const o = offsetMs(t, zone);
  return offsetMs(t - span, zone) !== o || offsetMs(t + span, zone) !== o;
}
