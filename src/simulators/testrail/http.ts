/**
 * TestRail's wire conventions, independent of any endpoint: the route lives in the query string
 * (§2), errors are `{"error": …}` (§6), list filters are comma-separated and booleans 1/0 (§2), and
 * paged lists come in the 6.7+ envelope (§5.1). Handlers only deal in typed values and ApiErrors.
 *
 * Where the reference gives no wording for a validation error (bad limit, bad filter value, …) the
 * messages below follow TestRail's observed `Field :name …` pattern; their exact text is
 * unverified and clients must not match on it.
 */
import type { SimResponse } from '../harness';

export const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** Any 4xx the API answers, carried to the server loop, which renders `{"error": message}`. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export const badRequest = (message: string) => new ApiError(400, message);

/** What the simulator understood of a request to `/index.php?/api/v2/{method}/{args}&{params}`. */
export interface ApiCall {
  /** The API method name, e.g. `get_runs`. */
  method: string;
  /** Positional arguments after the method name, still as text. */
  args: string[];
  /** Decoded parameters in arrival order; a repeated key keeps its last value. */
  params: Map<string, string>;
}

/**
 * Parses a raw request target. Everything after the first `?` is split on `&`: the first piece is
 * the route, the rest are `k=v` pairs (§2 "simulator parsing notes"). Returns undefined for
 * anything that is not an API v2 route, which the server answers with 404.
 */
export function parseCall(target: string): ApiCall | undefined {
  const question = target.indexOf('?');
  if (question < 0) return undefined;
  // Official bindings append `/` to the base, so `//index.php` arrives; tolerate any run of slashes.
  if (!/^\/+index\.php$/.test(target.slice(0, question))) return undefined;
  const [route, ...pairs] = target.slice(question + 1).split('&');
  const match = /^\/api\/v2\/([A-Za-z0-9_]+)((?:\/[^/]*)*)$/.exec(decode(route));
  if (!match) return undefined;
  const params = new Map<string, string>();
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    // PHP's query parser keeps the last of repeated keys (`status_id=1&status_id=5` → 5); the
    // reference calls TestRail's behaviour here unverified (§7.4), so we mirror plain PHP.
    params.delete(key);
    params.set(key, eq < 0 ? '' : decode(pair.slice(eq + 1)));
  }
  return { method: match[1], args: match[2].split('/').filter((part) => part !== ''), params };
}

/** Percent-decoding as PHP does it (`+` is a space); a malformed escape is kept as sent. */
function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: { error: message } };
}

export function ok(body: unknown): SimResponse {
  return { status: 200, headers: JSON_HEADERS, body };
}

// ------------------------------------------------------------------------------ typed values

/** A positional id argument: missing → "required", not a positive integer → "not a valid ID". */
export function idArg(call: ApiCall, index: number, field: string): number {
  const raw = call.args[index];
  if (raw === undefined) throw badRequest(`Field :${field} is a required field.`);
  const id = toId(raw);
  if (id === undefined) throw badRequest(`Field :${field} is not a valid ID.`);
  return id;
}

/** PHP is lenient about JSON types: 5 and "5" both work as ids. */
export function toId(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value) && Number(value) > 0) return Number(value);
  return undefined;
}

/** Booleans as TestRail reads them: 1/0 in query strings (§2), also true/false in JSON bodies. */
export function toBool(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === '1' || value === 'true') return true;
  if (value === false || value === 0 || value === '0' || value === 'false') return false;
  return undefined;
}

/** An empty query value is treated as an absent filter, as PHP's `empty()` checks would. */
export function boolParam(call: ApiCall, name: string): boolean | undefined {
  const raw = call.params.get(name);
  if (raw === undefined || raw === '') return undefined;
  const value = toBool(raw);
  if (value === undefined) throw badRequest(`Field :${name} is not a valid boolean.`);
  return value;
}

export function timestampParam(call: ApiCall, name: string): number | undefined {
  const raw = call.params.get(name);
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw.trim())) throw badRequest(`Field :${name} is not a valid timestamp.`);
  return Number(raw);
}

/** A comma-separated id list (`created_by=1,2`). */
export function idListParam(call: ApiCall, name: string): number[] | undefined {
  const raw = call.params.get(name);
  if (raw === undefined || raw === '') return undefined;
  const ids = raw.split(',').map((part) => toId(part));
  if (ids.some((id) => id === undefined)) throw badRequest(`Field :${name} is not a valid ID.`);
  return ids as number[];
}

/** POST bodies: JSON objects; an empty body (close_run, delete_run) reads as `{}`. */
export function parseBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('Invalid JSON in the request body.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('The request body must be a JSON object.');
  return value as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------- paging

export const MAX_LIMIT = 250;

export interface Paging {
  limit: number;
  offset: number;
}

/** `limit` 1…250 (default 250) — a live audit saw 400 for 0 and for > 250 (§5.1). */
export function pagingOf(call: ApiCall): Paging {
  const rawLimit = call.params.get('limit');
  const rawOffset = call.params.get('offset');
  const limit = rawLimit === undefined || rawLimit === '' ? MAX_LIMIT : Number(rawLimit);
  if (!/^\d*$/.test(rawLimit ?? '') || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw badRequest(`Field :limit is not a valid limit (it must be between 1 and ${MAX_LIMIT}).`);
  }
  const offset = rawOffset === undefined || rawOffset === '' ? 0 : Number(rawOffset);
  if (!/^\d*$/.test(rawOffset ?? '') || !Number.isInteger(offset) || offset < 0) throw badRequest('Field :offset is not a valid offset.');
  return { limit, offset };
}

/** Response shape switches; the defaults are today's TestRail Cloud (§5.1, §4.3). */
export interface TestRailCompat {
  /** Pre-6.7 servers: paged lists are bare arrays (limit/offset still applied as filters). */
  legacyBareArrays: boolean;
  /** get_suites: a bare array in the docs; an envelope `suites` on TestRail ≥ 9.3.1 per clients. */
  suitesEnvelope: boolean;
  /** get_users: a bare array in the docs; an envelope `users` on ≥ 9.3.1 per dlenroc. */
  usersEnvelope: boolean;
}

export const DEFAULT_COMPAT: TestRailCompat = { legacyBareArrays: false, suitesEnvelope: false, usersEnvelope: false };

/**
 * One page of a list in the envelope `{offset, limit, size, _links: {next, prev}, <key>}`.
 * `_links` are relative and lack `index.php?` (§5.1). Whether TestRail echoes filters in them is
 * unverified; we echo them (in arrival order, before limit/offset) so that a client that follows
 * the link verbatim keeps its filters, while clients that rebuild the URL lose nothing.
 * `next` is null once the page reaches the end, so a full last page has no dangling link.
 */
export function paged<T>(call: ApiCall, key: string, items: T[], render: (item: T) => unknown, bare: boolean): SimResponse {
  const { limit, offset } = pagingOf(call);
  const page = items.slice(offset, offset + limit).map(render);
  if (bare) return ok(page);
  const link = (at: number) => {
    const filters = [...call.params].filter(([k]) => k !== 'limit' && k !== 'offset').map(([k, v]) => `&${k}=${encodeURIComponent(v).replace(/%2C/gi, ',')}`);
    const args = call.args.map((arg) => `/${arg}`).join('');
    return `/api/v2/${call.method}${args}${filters.join('')}&limit=${limit}&offset=${at}`;
  };
  return ok({
    offset,
    limit,
    size: page.length,
    _links: {
      next: offset + limit < items.length ? link(offset + limit) : null,
      prev: offset > 0 ? link(Math.max(0, offset - limit)) : null,
    },
    [key]: page,
  });
}
