/**
 * The OData v2/v3 subset ET's "OData" collections take (vendor reference §3.2): `$filter` and
 * `$orderby` over an entity's JSON properties. ET says it is not OData-compliant; this covers
 * its documented examples (`Name eq 'john'`, `substringof('test',Name) eq true`,
 * `year(CreatedAt) eq 2011`) and the usual neighbours:
 *   eq ne gt ge lt le · and or not · ( ) · 'text' (with '' escape) · numbers · true false null ·
 *   datetime'2026-11-01T00:00:00' · guid'…' · substringof startswith endswith tolower toupper
 *   length trim · year month day hour minute second.
 * Property names are case-sensitive, as in OData; text comparisons are case-insensitive, as ET's
 * SQL Server collation makes them (unverified). Errors become ODataError → 400.
 */
export class ODataError extends Error {}

export type ODataType = 'string' | 'guid' | 'date' | 'bool' | 'number';
export type ODataProps = Record<string, ODataType>;
type Value = string | number | boolean | null | { date: number };
type Expr = (row: Record<string, unknown>) => Value;
type Token = { kind: 'word' | 'string' | 'number' | 'typed' | 'punct'; text: string; prefix?: string };

export interface CompiledOData {
  matches(row: Record<string, unknown>): boolean;
  compare: ((a: Record<string, unknown>, b: Record<string, unknown>) => number) | null;
}

export function compileOData(filter: string | null, orderby: string | null, props: ODataProps, typeName: string): CompiledOData {
  let matches: CompiledOData['matches'] = () => true;
  if (filter !== null && filter.trim() !== '') {
    const parser = new FilterParser(tokenize(filter), props, typeName);
    const expr = parser.parseAll();
    matches = (row) => expr(row) === true;
  }
  return { matches, compare: orderby ? compileOrderBy(orderby, props, typeName) : null };
}

function compileOrderBy(text: string, props: ODataProps, typeName: string): CompiledOData['compare'] {
  const keys = text.split(',').map((part) => {
    const [name, dir, ...rest] = part.trim().split(/\s+/);
    if (!name || rest.length > 0 || (dir && !/^(asc|desc)$/i.test(dir))) throw new ODataError(`'${part.trim()}' is not a valid $orderby clause.`);
    const type = props[name];
    if (!type) throw new ODataError(`Could not find a property named '${name}' on type '${typeName}'.`);
    return { get: property(name, type), dir: dir?.toLowerCase() === 'desc' ? -1 : 1 };
  });
  return (a, b) => {
    for (const key of keys) {
      const c = compareValues(key.get(a), key.get(b));
      if (c !== 0) return c * key.dir;
    }
    return 0;
  };
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const readQuoted = (start: number): [string, number] => {
    let value = '';
    let j = start + 1;
    for (;;) {
      if (j >= text.length) throw new ODataError(`Unterminated string literal at position ${start}.`);
      if (text[j] === "'" && text[j + 1] === "'") {
        value += "'";
        j += 2;
      } else if (text[j] === "'") return [value, j + 1];
      else value += text[j++];
    }
  };
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) i += 1;
    else if (c === '(' || c === ')' || c === ',') tokens.push({ kind: 'punct', text: text[i++] });
    else if (c === "'") {
      const [value, next] = readQuoted(i);
      tokens.push({ kind: 'string', text: value });
      i = next;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(\.\d+)?[mMdDlLfF]?/.exec(text.slice(i));
      if (!m) throw new ODataError(`Syntax error at position ${i}.`);
      tokens.push({ kind: 'number', text: m[0].replace(/[mMdDlLfF]$/, '') });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      i += m[0].length;
      if (text[i] === "'" && /^(datetime|datetimeoffset|guid|time)$/i.test(m[0])) {
        const [value, next] = readQuoted(i);
        tokens.push({ kind: 'typed', text: value, prefix: m[0].toLowerCase() });
        i = next;
      } else tokens.push({ kind: 'word', text: m[0] });
    } else throw new ODataError(`Syntax error at position ${i} in '${text}'.`);
  }
  return tokens;
}

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

class FilterParser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly props: ODataProps,
    private readonly typeName: string,
  ) {}

  parseAll(): Expr {
    const expr = this.parseOr();
    if (this.pos < this.tokens.length) throw new ODataError(`Syntax error: unexpected '${this.tokens[this.pos].text}'.`);
    return expr;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.word('or')) {
      const l = left;
      const r = this.parseAnd();
      left = (row) => l(row) === true || r(row) === true;
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.word('and')) {
      const l = left;
      const r = this.parseNot();
      left = (row) => l(row) === true && r(row) === true;
    }
    return left;
  }

  private parseNot(): Expr {
    if (this.word('not')) {
      const inner = this.parseNot();
      return (row) => inner(row) !== true;
    }
    return this.parseComparison();
  }

  private parseComparison(): Expr {
    const left = this.parsePrimary();
    const next = this.tokens[this.pos];
    if (next?.kind !== 'word' || !COMPARISONS.has(next.text)) return left;
    this.pos += 1;
    const right = this.parsePrimary();
    const op = next.text;
    return (row) => {
      const a = left(row);
      const b = right(row);
      if (op === 'eq') return compareValues(a, b) === 0 && (a === null) === (b === null);
      if (op === 'ne') return !(compareValues(a, b) === 0 && (a === null) === (b === null));
      if (a === null || b === null) return false;
      const c = compareValues(a, b);
      return op === 'gt' ? c > 0 : op === 'ge' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
    };
  }

  private parsePrimary(): Expr {
    const token = this.tokens[this.pos++];
    if (!token) throw new ODataError('Syntax error: the expression ended unexpectedly.');
    if (token.kind === 'punct' && token.text === '(') {
      const inner = this.parseOr();
      this.expect(')');
      return inner;
    }
    if (token.kind === 'string') return () => token.text;
    if (token.kind === 'number') return () => Number(token.text);
    if (token.kind === 'typed') return this.typedLiteral(token);
    if (token.kind === 'word') {
      if (token.text === 'true' || token.text === 'false') return () => token.text === 'true';
      if (token.text === 'null') return () => null;
      if (this.tokens[this.pos]?.text === '(') return this.parseCall(token.text);
      const type = this.props[token.text];
      if (!type) throw new ODataError(`Could not find a property named '${token.text}' on type '${this.typeName}'.`);
      return property(token.text, type);
    }
    throw new ODataError(`Syntax error: unexpected '${token.text}'.`);
  }

  private parseCall(name: string): Expr {
    this.expect('(');
    const args: Expr[] = [];
    if (this.tokens[this.pos]?.text !== ')') {
      args.push(this.parseOr());
      while (this.tokens[this.pos]?.text === ',') {
        this.pos += 1;
        args.push(this.parseOr());
      }
    }
    this.expect(')');
    const arity = (n: number) => {
      if (args.length !== n) throw new ODataError(`The function '${name}' takes ${n} argument(s).`);
    };
    const text = (v: Value) => (typeof v === 'string' ? v.toLowerCase() : null);
    const dateOf = (v: Value): Date | null => (v !== null && typeof v === 'object' ? new Date(v.date) : null);
    const part = (pick: (d: Date) => number): Expr => {
      arity(1);
      return (row) => {
        const d = dateOf(args[0](row));
        return d ? pick(d) : null;
      };
    };
    switch (name) {
      case 'substringof':
        arity(2);
        return (row) => {
          const [needle, hay] = [text(args[0](row)), text(args[1](row))];
          return needle !== null && hay !== null && hay.includes(needle);
        };
      case 'startswith':
      case 'endswith':
        arity(2);
        return (row) => {
          const [hay, needle] = [text(args[0](row)), text(args[1](row))];
          if (hay === null || needle === null) return false;
          return name === 'startswith' ? hay.startsWith(needle) : hay.endsWith(needle);
        };
      case 'tolower':
      case 'toupper':
      case 'trim':
      case 'length':
        arity(1);
        return (row) => {
          const v = args[0](row);
          if (typeof v !== 'string') return null;
          return name === 'tolower' ? v.toLowerCase() : name === 'toupper' ? v.toUpperCase() : name === 'trim' ? v.trim() : v.length;
        };
      case 'year':
        return part((d) => d.getUTCFullYear());
      case 'month':
        return part((d) => d.getUTCMonth() + 1);
      case 'day':
        return part((d) => d.getUTCDate());
      case 'hour':
        return part((d) => d.getUTCHours());
      case 'minute':
        return part((d) => d.getUTCMinutes());
      case 'second':
        return part((d) => d.getUTCSeconds());
      default:
        throw new ODataError(`Unknown function '${name}'.`);
    }
  }

  private typedLiteral(token: Token): Expr {
    if (token.prefix === 'guid') {
      const value = token.text.toLowerCase();
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) throw new ODataError(`Unrecognized 'Edm.Guid' literal 'guid'${token.text}''.`);
      return () => value;
    }
    // datetime'…' has no zone in OData v2/v3; ET's values are UTC, so it is read as UTC.
    const hasZone = /(Z|[+-]\d{2}:\d{2})$/i.test(token.text);
    const ms = Date.parse(hasZone ? token.text : `${token.text}Z`);
    if (!Number.isFinite(ms)) throw new ODataError(`Unrecognized 'Edm.DateTime' literal '${token.prefix}'${token.text}''.`);
    return () => ({ date: ms });
  }

  private word(w: string): boolean {
    const t = this.tokens[this.pos];
    if (t?.kind === 'word' && t.text === w) {
      this.pos += 1;
      return true;
    }
    return false;
  }

  private expect(p: string): void {
    const t = this.tokens[this.pos++];
    if (t?.text !== p) throw new ODataError(`Syntax error: expected '${p}'.`);
  }
}

function property(name: string, type: ODataType): Expr {
  return (row) => {
    const v = row[name];
    if (v === undefined || v === null) return null;
    if (type === 'date') return typeof v === 'string' ? { date: Date.parse(v) } : null;
    if (type === 'guid') return String(v).toLowerCase();
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
  };
}

/** Dates compare as instants (a text side is parsed); text case-insensitively; nulls first. */
function compareValues(a: Value, b: Value): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const asDate = (v: Value) => (typeof v === 'object' && v !== null ? v.date : typeof v === 'string' ? Date.parse(v) : NaN);
  if (typeof a === 'object' || typeof b === 'object') {
    const [x, y] = [asDate(a), asDate(b)];
    return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
  }
  if (typeof a === 'string' && typeof b === 'string') return a.localeCompare(b, 'en', { sensitivity: 'base' });
  if (typeof a !== typeof b) return NaN;
  return a < b ? -1 : a > b ? 1 : 0;
}
