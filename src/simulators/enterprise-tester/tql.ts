/**
 * A small TQL (Testing Query Language) evaluator for the TQL collections (/api/scriptruns,
 * /api/scriptassignments, /api/executionpackages; vendor reference §3.3).
 *
 * Covers what the vendor examples show: `Field = value`, `!=`, `~` (contains), `!~`, `IN (…)`,
 * `NOT IN (…)`, `>`, `>=`, `<`, `<=` on dates and numbers, `AND`, `OR`, `NOT`, parentheses and
 * `ORDER BY Field [ASC|DESC][, …]`. Values are bare words (`Status = Passed`) or quoted with
 * '…' or "…" (`Project = "Payments Platform"`). Keywords and field names are case-insensitive;
 * so are text comparisons (ET's search index lower-cases terms; exact index behaviour
 * unverified). Anything else — an unknown field, a function such as `Packages('Cycle 1')`,
 * GROUP BY aggregates (only /api/search has them) — is a TqlError, which the server answers as
 * the collection's documented validation failure (403).
 */
import { normalizeGuid } from './model';

export class TqlError extends Error {}

export type TqlFieldType = 'text' | 'date' | 'bool' | 'number';
export type TqlScalar = string | number | boolean | null;

export interface TqlField<T> {
  type: TqlFieldType;
  /** Every value the item answers to (a project's name and its id); the first one sorts. Dates are epoch ms. */
  values(item: T): TqlScalar[];
}
export type TqlSchema<T> = Record<string, TqlField<T>>;

export interface CompiledTql<T> {
  matches(item: T): boolean;
  /** Null when the query has no ORDER BY. */
  compare: ((a: T, b: T) => number) | null;
}

type Token = { kind: 'word' | 'string' | 'op' | 'punct'; text: string; at: number };
type Node<T> = (item: T) => boolean;

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'order', 'by', 'asc', 'desc']);

export function compileTql<T>(tql: string, schema: TqlSchema<T>, timeZone = 'UTC'): CompiledTql<T> {
  return new Parser(tokenize(tql), schema, zoneOffsetFn(timeZone)).parseQuery();
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c, at: i });
      i += 1;
    } else if (/[=!~<>]/.test(c)) {
      const two = text.slice(i, i + 2);
      const op = ['!=', '!~', '>=', '<='].includes(two) ? two : c;
      if (op === '!') throw new TqlError(`unexpected '!' at position ${i}`);
      tokens.push({ kind: 'op', text: op, at: i });
      i += op.length;
    } else if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new TqlError(`unterminated string starting at position ${i}`);
        if (text[j] === '\\' && j + 1 < text.length) {
          value += text[j + 1];
          j += 2;
        } else if (text[j] === c && text[j + 1] === c) {
          value += c;
          j += 2;
        } else if (text[j] === c) {
          break;
        } else {
          value += text[j];
          j += 1;
        }
      }
      tokens.push({ kind: 'string', text: value, at: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()=!~<>,'"]/.test(text[j])) j += 1;
      tokens.push({ kind: 'word', text: text.slice(i, j), at: i });
      i = j;
    }
  }
  return tokens;
}

class Parser<T> {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly schema: TqlSchema<T>,
    private readonly offsetOf: (localMs: number) => number,
  ) {}

  parseQuery(): CompiledTql<T> {
    let matches: Node<T> = () => true;
    if (this.peek() && !this.isKeyword('order')) matches = this.parseOr();
    let compare: CompiledTql<T>['compare'] = null;
    if (this.isKeyword('order')) {
      this.pos += 1;
      this.expectKeyword('by');
      compare = this.parseOrder();
    }
    const extra = this.peek();
    if (extra) throw new TqlError(`unexpected '${extra.text}' at position ${extra.at}`);
    return { matches, compare };
  }

  private parseOr(): Node<T> {
    const parts = [this.parseAnd()];
    while (this.isKeyword('or')) {
      this.pos += 1;
      parts.push(this.parseAnd());
    }
    return parts.length === 1 ? parts[0] : (item) => parts.some((p) => p(item));
  }

  private parseAnd(): Node<T> {
    const parts = [this.parseUnary()];
    while (this.isKeyword('and')) {
      this.pos += 1;
      parts.push(this.parseUnary());
    }
    return parts.length === 1 ? parts[0] : (item) => parts.every((p) => p(item));
  }

  private parseUnary(): Node<T> {
    if (this.isKeyword('not')) {
      this.pos += 1;
      const inner = this.parseUnary();
      return (item) => !inner(item);
    }
    if (this.isPunct('(')) {
      this.pos += 1;
      const inner = this.parseOr();
      this.expectPunct(')');
      return inner;
    }
    return this.parseComparison();
  }

  private parseComparison(): Node<T> {
    const fieldToken = this.next('a field name');
    if (fieldToken.kind !== 'word' || KEYWORDS.has(fieldToken.text.toLowerCase())) {
      throw new TqlError(`expected a field name at position ${fieldToken.at}, found '${fieldToken.text}'`);
    }
    const field = this.field(fieldToken.text);
    let negate = false;
    if (this.isKeyword('not')) {
      this.pos += 1;
      negate = true;
      if (!this.isKeyword('in')) throw new TqlError(`expected IN after NOT at position ${this.peek()?.at ?? 'end'}`);
    }
    if (this.isKeyword('in')) {
      this.pos += 1;
      if (this.peek()?.kind === 'word' && this.tokens[this.pos + 1]?.text === '(') {
        throw new TqlError(`the TQL function '${this.peek()!.text}' is not supported here`);
      }
      this.expectPunct('(');
      const values = [this.parseValue()];
      while (this.isPunct(',')) {
        this.pos += 1;
        values.push(this.parseValue());
      }
      this.expectPunct(')');
      const tests = values.map((v) => this.test(field, fieldToken.text, '=', v));
      return negate ? (item) => !tests.some((t) => t(item)) : (item) => tests.some((t) => t(item));
    }
    const op = this.next('an operator');
    if (op.kind !== 'op') throw new TqlError(`expected an operator after '${fieldToken.text}' at position ${op.at}, found '${op.text}'`);
    return this.test(field, fieldToken.text, op.text, this.parseValue());
  }

  private parseValue(): Token {
    const token = this.next('a value');
    if (token.kind === 'string') return token;
    if (token.kind === 'word' && !KEYWORDS.has(token.text.toLowerCase())) {
      if (this.isPunct('(')) throw new TqlError(`the TQL function '${token.text}' is not supported here`);
      return token;
    }
    throw new TqlError(`expected a value at position ${token.at}, found '${token.text}'`);
  }

  private parseOrder(): (a: T, b: T) => number {
    const keys: Array<{ field: TqlField<T>; dir: number }> = [];
    do {
      if (keys.length > 0) this.pos += 1;
      const token = this.next('a field name');
      if (token.kind !== 'word') throw new TqlError(`expected a field name at position ${token.at}`);
      const field = this.field(token.text);
      let dir = 1;
      if (this.isKeyword('asc') || this.isKeyword('desc')) dir = this.next('').text.toLowerCase() === 'desc' ? -1 : 1;
      keys.push({ field, dir });
    } while (this.isPunct(','));
    return (a, b) => {
      for (const { field, dir } of keys) {
        const c = compareScalars(field.values(a)[0] ?? null, field.values(b)[0] ?? null);
        if (c !== 0) return c * dir;
      }
      return 0;
    };
  }

  private test(field: TqlField<T>, name: string, op: string, value: Token): Node<T> {
    switch (field.type) {
      case 'text': {
        const wanted = normalizeGuid(value.text) ?? value.text.toLowerCase();
        const texts = (item: T) => field.values(item).filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
        if (op === '=') return (item) => texts(item).includes(wanted);
        if (op === '!=') return (item) => !texts(item).includes(wanted);
        if (op === '~') return (item) => texts(item).some((t) => t.includes(wanted));
        if (op === '!~') return (item) => !texts(item).some((t) => t.includes(wanted));
        throw new TqlError(`the operator '${op}' cannot be used with the text field '${name}'`);
      }
      case 'bool': {
        const lower = value.text.toLowerCase();
        if (lower !== 'true' && lower !== 'false') throw new TqlError(`'${value.text}' is not a valid value for '${name}' (true or false)`);
        const wanted = lower === 'true';
        if (op === '=') return (item) => field.values(item).includes(wanted);
        if (op === '!=') return (item) => !field.values(item).includes(wanted);
        throw new TqlError(`the operator '${op}' cannot be used with the field '${name}'`);
      }
      case 'number': {
        const wanted = Number(value.text);
        if (!Number.isFinite(wanted)) throw new TqlError(`'${value.text}' is not a number`);
        return this.ordered(field, op, name, wanted, wanted);
      }
      case 'date': {
        const range = this.dateRange(value.text);
        return this.ordered(field, op, name, range.start, range.end - 1);
      }
    }
  }

  /** Comparison of a number or date against [low, high] (a date literal covers its whole day, minute or second). */
  private ordered(field: TqlField<T>, op: string, name: string, low: number, high: number): Node<T> {
    const n = (item: T) => field.values(item)[0];
    const pick: Record<string, (v: number) => boolean> = {
      '=': (v) => v >= low && v <= high,
      '!=': (v) => v < low || v > high,
      '>': (v) => v > high,
      '>=': (v) => v >= low,
      '<': (v) => v < low,
      '<=': (v) => v <= high,
    };
    const check = pick[op];
    if (!check) throw new TqlError(`the operator '${op}' cannot be used with the field '${name}'`);
    return (item) => {
      const v = n(item);
      return typeof v === 'number' && check(v);
    };
  }

  /**
   * `2026-11-01`, `2026-11-01 10:30`, `2026-11-01T10:30:00Z`, `…+13:00`. Without a zone the
   * literal is local time in the request's `timeZone` (§3.3; default UTC).
   */
  private dateRange(text: string): { start: number; end: number } {
    const m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
    if (!m) throw new TqlError(`'${text}' is not a valid date (use yyyy-MM-dd or yyyy-MM-dd HH:mm)`);
    const [, y, mo, d, h, mi, s, zone] = m;
    const local = Date.UTC(+y, +mo - 1, +d, +(h ?? 0), +(mi ?? 0), +(s ?? 0));
    if (Number.isNaN(local) || new Date(local).getUTCDate() !== +d) throw new TqlError(`'${text}' is not a valid date`);
    const width = s !== undefined ? 1_000 : h !== undefined ? 60_000 : 86_400_000;
    let start: number;
    if (zone) {
      const sign = zone.toUpperCase() === 'Z' ? 0 : zone[0] === '-' ? -1 : 1;
      const digits = zone.replace(/[^0-9]/g, '');
      start = local - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000;
    } else {
      start = local - this.offsetOf(local);
    }
    return { start, end: start + width };
  }

  private field(name: string): TqlField<T> {
    const field = this.schema[name.toLowerCase()];
    if (!field) throw new TqlError(`unknown field '${name}' (known: ${Object.keys(this.schema).join(', ')})`);
    return field;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private next(what: string): Token {
    const token = this.tokens[this.pos];
    if (!token) throw new TqlError(`expected ${what} at the end of the query`);
    this.pos += 1;
    return token;
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t?.kind === 'word' && t.text.toLowerCase() === word;
  }

  private isPunct(p: string): boolean {
    const t = this.peek();
    return t?.kind === 'punct' && t.text === p;
  }

  private expectKeyword(word: string): void {
    if (!this.isKeyword(word)) throw new TqlError(`expected ${word.toUpperCase()} at position ${this.peek()?.at ?? 'end'}`);
    this.pos += 1;
  }

  private expectPunct(p: string): void {
    if (!this.isPunct(p)) throw new TqlError(`expected '${p}' at position ${this.peek()?.at ?? 'end'}`);
    this.pos += 1;
  }
}

/** Nulls sort first; text compares case-insensitively. */
export function compareScalars(a: TqlScalar, b: TqlScalar): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (typeof a === 'string' && typeof b === 'string') return a.localeCompare(b, 'en', { sensitivity: 'base' });
  return Number(a) < Number(b) ? -1 : Number(a) > Number(b) ? 1 : 0;
}

/**
 * ET runs on .NET/Windows, whose TimeZoneInfo ids are Windows names ("New Zealand Standard
 * Time"); the exact ids the parameter accepts are unverified, so common Windows names and any
 * IANA name Node knows are both accepted. An unknown zone is a validation failure.
 */
const WINDOWS_ZONES: Record<string, string> = {
  utc: 'UTC',
  'gmt standard time': 'Europe/London',
  'w. europe standard time': 'Europe/Berlin',
  'central europe standard time': 'Europe/Budapest',
  'romance standard time': 'Europe/Paris',
  'eastern standard time': 'America/New_York',
  'central standard time': 'America/Chicago',
  'mountain standard time': 'America/Denver',
  'pacific standard time': 'America/Los_Angeles',
  'aus eastern standard time': 'Australia/Sydney',
  'new zealand standard time': 'Pacific/Auckland',
  'india standard time': 'Asia/Kolkata',
  'tokyo standard time': 'Asia/Tokyo',
};

/** Returns local-minus-UTC in ms for a wall-clock time (given as if it were UTC) in the zone. */
function zoneOffsetFn(timeZone: string): (localMs: number) => number {
  const iana = WINDOWS_ZONES[timeZone.trim().toLowerCase()] ?? timeZone.trim();
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: iana,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    throw new TqlError(`unknown time zone '${timeZone}'`);
  }
  const offsetAt = (utcMs: number) => {
    const parts = Object.fromEntries(format.formatToParts(new Date(utcMs)).map((p) => [p.type, p.value]));
    const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
    return wall - Math.floor(utcMs / 1000) * 1000;
  };
  return (localMs) => {
    const first = offsetAt(localMs);
    return offsetAt(localMs - first);
  };
}
