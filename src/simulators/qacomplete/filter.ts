/**
 * The `filter` query parameter (qacomplete.md §5): `FieldName Operation Value` conditions joined
 * with AND / OR / NOT and parentheses.
 *
 *   numeric  =  !=  >  <  >=  <=  in {1,2}  not in {…}  is empty  is not empty
 *   string   ~ (contains)  =  !=   — quoted with '…' or "…" ('' inside '…' is a quote)
 *   boolean  = true / = false
 *
 * Field names match the response keys case-insensitively and with or without underscores, so
 * `StatusCode`, `status_code`, `statuscode` and `releaseId` all work, as clients use them
 * [client]. Choices where the reference is silent (unverified): string comparison ignores case
 * (the vendor runs on SQL Server's default case-insensitive collation); string values must be
 * quoted — a bare word other than true/false is a syntax error; an unknown field, an operator the
 * field's type does not support, or a value of the wrong type is a 400, like a syntax error; dates
 * compare as instants, a value without offset being read in the server's zone like the dates the
 * API writes; `status` on a record without such a field means `status_code`.
 */

export class FilterError extends Error {}

type Literal = { kind: 'number'; value: number; text: string } | { kind: 'string'; value: string } | { kind: 'bool'; value: boolean };
type Op = '=' | '!=' | '>' | '<' | '>=' | '<=' | '~';
type Node =
  | { type: 'and' | 'or'; left: Node; right: Node }
  | { type: 'not'; operand: Node }
  | { type: 'cmp'; field: string; op: Op; value: Literal }
  | { type: 'in'; field: string; negated: boolean; values: Literal[] }
  | { type: 'empty'; field: string; negated: boolean };

type Token = { t: 'punct' | 'op' | 'word' | 'string' | 'number'; v: string; at: number };

const OPS = ['>=', '<=', '!=', '=', '>', '<', '~'];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i += 1; continue; }
    if ('(){},'.includes(c)) { tokens.push({ t: 'punct', v: c, at: i }); i += 1; continue; }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op) { tokens.push({ t: 'op', v: op, at: i }); i += op.length; continue; }
    if (c === "'" || c === '"') {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new FilterError(`Unterminated string starting at position ${i}`);
        if (text[j] === c && text[j + 1] === c) { value += c; j += 2; continue; }
        if (text[j] === c) break;
        value += text[j];
        j += 1;
      }
      tokens.push({ t: 'string', v: value, at: i });
      i = j + 1;
      continue;
    }
    const number = /^-?\d+(\.\d+)?/.exec(text.slice(i));
    if (number) { tokens.push({ t: 'number', v: number[0], at: i }); i += number[0].length; continue; }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (word) { tokens.push({ t: 'word', v: word[0], at: i }); i += word[0].length; continue; }
    throw new FilterError(`Unexpected character '${c}' at position ${i}`);
  }
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    if (this.tokens.length === 0) throw new FilterError('Empty filter');
    const node = this.or();
    const extra = this.peek();
    if (extra) throw new FilterError(`Unexpected '${extra.v}' at position ${extra.at}`);
    return node;
  }

  private peek(): Token | undefined { return this.tokens[this.pos]; }
  private keyword(word: string): boolean {
    const token = this.peek();
    if (token?.t === 'word' && token.v.toLowerCase() === word) { this.pos += 1; return true; }
    return false;
  }
  private punct(p: string): boolean {
    const token = this.peek();
    if (token?.t === 'punct' && token.v === p) { this.pos += 1; return true; }
    return false;
  }
  private expectPunct(p: string): void {
    if (!this.punct(p)) throw new FilterError(`Expected '${p}' ${this.where()}`);
  }
  private where(): string {
    const token = this.peek();
    return token ? `at position ${token.at}` : 'at end of filter';
  }

  private or(): Node {
    let left = this.and();
    while (this.keyword('or')) left = { type: 'or', left, right: this.and() };
    return left;
  }
  private and(): Node {
    let left = this.not();
    while (this.keyword('and')) left = { type: 'and', left, right: this.not() };
    return left;
  }
  private not(): Node {
    if (this.keyword('not')) return { type: 'not', operand: this.not() };
    if (this.punct('(')) {
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    return this.condition();
  }

  private condition(): Node {
    const fieldToken = this.peek();
    if (fieldToken?.t !== 'word' || ['and', 'or', 'not'].includes(fieldToken.v.toLowerCase())) throw new FilterError(`Expected a field name ${this.where()}`);
    this.pos += 1;
    const field = fieldToken.v;
    if (this.keyword('is')) {
      const negated = this.keyword('not');
      if (!this.keyword('empty')) throw new FilterError(`Expected 'empty' ${this.where()}`);
      return { type: 'empty', field, negated };
    }
    const negatedIn = this.keyword('not');
    if (this.keyword('in')) {
      this.expectPunct('{');
      const values: Literal[] = [this.literal()];
      while (this.punct(',')) values.push(this.literal());
      this.expectPunct('}');
      return { type: 'in', field, negated: negatedIn, values };
    }
    if (negatedIn) throw new FilterError(`Expected 'in' ${this.where()}`);
    const opToken = this.peek();
    if (opToken?.t !== 'op') throw new FilterError(`Expected an operator after '${field}' ${this.where()}`);
    this.pos += 1;
    return { type: 'cmp', field, op: opToken.v as Op, value: this.literal() };
  }

  private literal(): Literal {
    const token = this.peek();
    if (!token) throw new FilterError('Expected a value at end of filter');
    this.pos += 1;
    if (token.t === 'number') return { kind: 'number', value: Number(token.v), text: token.v };
    if (token.t === 'string') return { kind: 'string', value: token.v };
    if (token.t === 'word' && /^(true|false)$/i.test(token.v)) return { kind: 'bool', value: token.v.toLowerCase() === 'true' };
    throw new FilterError(`Expected a value at position ${token.at} (quote strings: '…')`);
  }
}

type Kind = 'number' | 'bool' | 'string' | 'date';
type Record_ = Record<string, unknown>;
export type Predicate = (record: Record_) => boolean;

const norm = (name: string) => name.replace(/_/g, '').toLowerCase();
const isDateKey = (key: string) => /^date_|_date$|_started$/.test(key);

/** Wall-clock milliseconds of a date text in the server's zone (offset given in minutes). */
export function parseLocalDate(text: string, offsetMinutes: number): number | undefined {
  const m = /^(\d{4,5})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
  if (!m) return undefined;
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), Math.floor(Number(`0.${m[7] ?? '0'}`) * 1000));
  let wall = d.getTime();
  if (Number.isNaN(wall)) return undefined;
  if (m[8]) {
    const zone = m[8].toUpperCase() === 'Z' ? 0 : (m[8][0] === '-' ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(-2)));
    wall = wall - zone * 60_000 + offsetMinutes * 60_000;
  }
  return wall;
}

/**
 * Compiles a filter against the shape of the records it will see (`template`: one record, used for
 * field names and types, so a bad filter fails even on an empty list).
 */
export function compileFilter(text: string, template: Record_, offsetMinutes: number): Predicate {
  const fields = new Map<string, { key: string; kind: Kind }>();
  for (const [key, value] of Object.entries(template)) {
    const kind: Kind | undefined = typeof value === 'number' ? 'number' : typeof value === 'boolean' ? 'bool'
      : typeof value === 'string' ? (isDateKey(key) ? 'date' : 'string') : undefined;
    if (kind) fields.set(norm(key), { key, kind });
  }
  const resolve = (name: string) => {
    const field = fields.get(norm(name)) ?? fields.get(`${norm(name)}code`);
    if (!field) throw new FilterError(`Unknown field '${name}'`);
    return field;
  };
  const date = (raw: unknown) => parseLocalDate(String(raw), offsetMinutes) ?? Number.NaN;

  const compare = (field: { key: string; kind: Kind }, op: Op, literal: Literal): Predicate => {
    const bad = () => new FilterError(`Operator '${op}' with value ${JSON.stringify('value' in literal ? literal.value : '')} does not apply to field '${field.key}'`);
    const ordered = (a: number, b: number) => ({ '=': a === b, '!=': a !== b, '>': a > b, '<': a < b, '>=': a >= b, '<=': a <= b, '~': false })[op];
    switch (field.kind) {
      case 'number': {
        const n = literal.kind === 'number' ? literal.value : literal.kind === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(literal.value) ? Number(literal.value) : undefined;
        if (n === undefined || op === '~') throw bad();
        return (r) => ordered(Number(r[field.key]), n);
      }
      case 'bool': {
        const b = literal.kind === 'bool' ? literal.value : literal.kind === 'number' && (literal.value === 0 || literal.value === 1) ? literal.value === 1
          : literal.kind === 'string' && /^(true|false)$/i.test(literal.value) ? literal.value.toLowerCase() === 'true' : undefined;
        if (b === undefined || (op !== '=' && op !== '!=')) throw bad();
        return (r) => (r[field.key] === b) === (op === '=');
      }
      case 'date': {
        if (literal.kind !== 'string' || op === '~') throw bad();
        const t = parseLocalDate(literal.value, offsetMinutes);
        if (t === undefined) throw new FilterError(`'${literal.value}' is not a date`);
        return (r) => ordered(date(r[field.key]), t);
      }
      case 'string': {
        if (literal.kind === 'bool') throw bad();
        const wanted = (literal.kind === 'number' ? literal.text : literal.value).toLowerCase();
        if (op === '~') return (r) => String(r[field.key]).toLowerCase().includes(wanted);
        if (op === '=' || op === '!=') return (r) => (String(r[field.key]).toLowerCase() === wanted) === (op === '=');
        // Ordering on text: numerically when both sides are numbers (v1 ids are strings), else by text.
        return (r) => {
          const have = String(r[field.key]).toLowerCase();
          const numeric = /^-?\d+(\.\d+)?$/;
          if (numeric.test(have) && numeric.test(wanted)) return ordered(Number(have), Number(wanted));
          return ordered(have.localeCompare(wanted), 0);
        };
      }
    }
  };

  const build = (node: Node): Predicate => {
    switch (node.type) {
      case 'and': { const l = build(node.left); const r = build(node.right); return (x) => l(x) && r(x); }
      case 'or': { const l = build(node.left); const r = build(node.right); return (x) => l(x) || r(x); }
      case 'not': { const inner = build(node.operand); return (x) => !inner(x); }
      case 'cmp': return compare(resolve(node.field), node.op, node.value);
      case 'in': {
        const field = resolve(node.field);
        const tests = node.values.map((value) => compare(field, '=', value));
        return (x) => tests.some((test) => test(x)) !== node.negated;
      }
      case 'empty': {
        const field = resolve(node.field);
        const empty = (value: unknown) => value === '' || value === 0 || (field.kind === 'date' && (date(value) < 0 || Number.isNaN(date(value))));
        if (field.kind === 'bool') throw new FilterError(`'is empty' does not apply to field '${field.key}'`);
        return (x) => empty(x[field.key]) !== node.negated;
      }
    }
  };

  return build(new Parser(tokenize(text)).parse());
}
