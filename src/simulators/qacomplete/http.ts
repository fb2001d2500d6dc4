/**
 * The ServiceStack conventions both QAComplete APIs share: the error body, the list envelope and
 * its paging, case-insensitive query names and request-body keys.
 */
import type { SimRequest, SimResponse } from '../harness';
import { FULL_ACL } from './json';
import { compileFilter, FilterError } from './filter';
import type { QACompleteStore } from './store';
import type { QACHost, QACUser } from './types';

/** Thrown by handlers; the dispatcher turns it into the vendor's error body. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** The automation API's documented error body (§7); the main API's shape is unverified and assumed the same. */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): SimResponse {
  return { status, headers, body: { errors: [{ message, code: status }] } };
}

export const ok = (body: unknown): SimResponse => ({ status: 200, body });

export const ACCESS_DENIED = 'Access is denied';
export const NOT_FOUND = 'File or directory not found';

/** ServiceStack binds query names case-insensitively (`Filter` = `filter`); the first value wins. */
export class Query {
  private readonly values = new Map<string, string>();
  constructor(search: string) {
    for (const [name, value] of new URLSearchParams(search)) {
      if (!this.values.has(name.toLowerCase())) this.values.set(name.toLowerCase(), value);
    }
  }
  get(name: string): string | undefined {
    return this.values.get(name.toLowerCase());
  }
}

export function parseTarget(target: string): { path: string; query: Query } {
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    path = rawPath;
  }
  return { path, query: new Query(q < 0 ? '' : target.slice(q + 1)) };
}

function nonNegativeInt(query: Query, name: string, fallback: number): number {
  const raw = query.get(name);
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new HttpError(400, `'${raw}' is not a valid value for ${name}`);
  return Number(raw.trim());
}

/**
 * Filters and pages a list the vendor's way: offset 0 and limit 25 by default, no documented
 * maximum, and `limit=0` answers metadata only — the reference says "returns only metadata", so
 * `results` is left out entirely (a client must treat a missing `results` as empty).
 */
export function listResponse(query: Query, records: Array<Record<string, unknown>>, template: Record<string, unknown>, offsetMinutes: number): SimResponse {
  const offset = nonNegativeInt(query, 'offset', 0);
  const limit = nonNegativeInt(query, 'limit', 25);
  const filterText = query.get('filter');
  let matching = records;
  if (filterText !== undefined && filterText.trim() !== '') {
    try {
      const predicate = compileFilter(filterText, template, offsetMinutes);
      matching = records.filter(predicate);
    } catch (error) {
      if (error instanceof FilterError) throw new HttpError(400, `Invalid filter: ${error.message}`);
      throw error;
    }
  }
  const page = limit === 0 ? [] : matching.slice(offset, offset + limit);
  const metadata = { result_set: { count: page.length, offset, limit, total: matching.length }, permissions: { acl: FULL_ACL } };
  return ok(limit === 0 ? { metadata } : { metadata, results: page });
}

export type Body = Record<string, unknown>;

/**
 * A request body as ServiceStack reads it: JSON, or a form (a client posted `TestId=…` as
 * application/x-www-form-urlencoded and got 200 [client]); an empty body is an empty DTO (restart
 * documents `Content-Length: 0`).
 */
export function readBody(request: SimRequest): Body {
  const text = request.body.toString('utf8').trim();
  if (text === '') return {};
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'The request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'The request body must be a JSON object');
  return parsed as Body;
}

const normKey = (key: string) => key.replace(/_/g, '').toLowerCase();

/**
 * A body value by DTO property name, matched the way ServiceStack's lowercase-underscore mode
 * does: `StatusCode`, `statusCode` and `status_code` are one property (§2: both casings seen
 * accepted; unverified in the docs).
 */
export function field(body: Body, name: string): unknown {
  const wanted = normKey(name);
  for (const [key, value] of Object.entries(body)) if (normKey(key) === wanted) return value;
  return undefined;
}

/** An int property; numeric strings are accepted (ServiceStack converts them; forms only carry text). */
export function intField(body: Body, name: string): number | undefined {
  const value = field(body, name);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  throw new HttpError(400, `${name} must be an integer`);
}

export function boolField(body: Body, name: string): boolean | undefined {
  const value = field(body, name);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw new HttpError(400, `${name} must be true or false`);
}

export function stringField(body: Body, name: string): string | undefined {
  const value = field(body, name);
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new HttpError(400, `${name} must be a string`);
}

/** Path ids are ints (§2); anything else cannot bind, which ServiceStack answers with 400. */
export function pathInt(value: string | undefined, name: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new HttpError(400, `'${value ?? ''}' is not a valid ${name}`);
  return Number(value);
}

/** What a handler sees: the parsed request plus who authenticated (a user or a test host). */
export interface HandlerContext<Who> {
  store: QACompleteStore;
  request: SimRequest;
  params: Record<string, string>;
  query: Query;
  who: Who;
}

/** A main-API or user-scoped automation call: Basic `email:password`. */
export type UserContext = HandlerContext<QACUser>;
/** A host-scoped automation call: Basic `hostId:securityToken`. */
export type HostContext = HandlerContext<QACHost>;
/** One route's answer; the dispatcher (server.ts) picks it by route key for both APIs. */
export type Handler<C> = (ctx: C) => SimResponse;
