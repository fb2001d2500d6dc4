/**
 * Enterprise Tester's REST API over HTTP (../shared/vendors/enterprise-tester.md). What differs
 * from other vendors:
 * - The API lives under the application's virtual path: the configured `baseUrl` is the
 *   application root (`https://et.example.com/EnterpriseTester`) and every path is `/api/…` (§1).
 * - Two collection styles (§3): OData collections (`/api/projects`) answer `{Items}` unless
 *   `$inlinecount=allpages` adds `Skip/Top/Total`; TQL collections (`/api/scriptruns`) take
 *   `tql=` and always answer `{Skip, Top, Total, Items}` with a default `Top` of 25.
 * - POST …/runs is create-or-return: 201 for a new run, 200 for an unfinished one that already
 *   existed. The two are told apart by status only, never by body (§10).
 * - 403 means both "no permission" and "validation failed" (§9): see `enterpriseTesterError`.
 */
import { ErrorCode, GatewayError } from '../../model/errors';
import { vendorMessageOf, type Method, type Upstream, type UpstreamRequest, type UpstreamResponse } from '../../http/upstream';
import type { SourceConnection } from '../connection';
import { readAllPages } from '../paging';
import { array, object } from '../payload';

/** OData pages rungraph asks for; the maximum `$top` is unverified (§13), a vendor test shows 100. */
export const ET_ODATA_PAGE = 100;

export type Params = Record<string, string | number | undefined>;

/** One page of a collection: its items, and the vendor's `Total` where it sent one. */
export interface CollectionPage {
  items: unknown[];
  total: number | null;
}

/** A write's answer: the status decides what happened (201 created, 200 existing), the body is the entity. */
export interface WriteAnswer {
  status: number;
  body: unknown;
}

export class EnterpriseTesterClient {
  private readonly upstream: Upstream;

  constructor(connection: SourceConnection) {
    this.upstream = connection.api(enterpriseTesterError);
  }

  /**
   * GET `/api/{path}`. `route` is the path pattern without ids (`scriptrun/{id}`), for logs;
   * `args` fill its `{id}`s in order.
   */
  async get(route: string, args: readonly string[] = [], params: Params = {}): Promise<unknown> {
    return (await this.call('GET', route, args, params)).body;
  }

  /** A write, sent exactly once (never retried: a second POST …/runs could start a second run). */
  async write(method: Exclude<Method, 'GET'>, route: string, args: readonly string[], params: Params = {}, body?: unknown): Promise<WriteAnswer> {
    return this.call(method, route, args, params, body);
  }

  /** One page of a TQL collection (§3.3): `{Skip, Top, Total, Items}`. */
  async tqlPage(route: string, params: Params): Promise<CollectionPage> {
    return readPage(await this.get(route, [], params), route);
  }

  /**
   * Every item of an OData collection (§3.2): `$top`/`$skip` pages with `$inlinecount=allpages`
   * so the envelope carries `Total`. A server that leaves `Total` out is read until a short page.
   */
  async odataAll(route: string, params: Params = {}): Promise<unknown[]> {
    return readAllPages(route, this.upstream.sourceId, async (skip) => {
      const { items, total } = readPage(await this.get(route, [], { ...params, $top: ET_ODATA_PAGE, $skip: skip, $inlinecount: 'allpages' }), route);
      const read = skip + items.length;
      const last = items.length === 0 || (total !== null ? read >= total : items.length < ET_ODATA_PAGE);
      return { items, next: last ? null : read };
    });
  }

  private async call(method: Method, route: string, args: readonly string[], params: Params, body?: unknown): Promise<WriteAnswer> {
    const req: UpstreamRequest = { method, route: `${method} /api/${route}`, path: pathFor(route, args, params), body };
    const response = await this.upstream.send(req);
    // DELETE answers 200 with an empty body (§7.6).
    if (response.text.trim() === '') return { status: response.status, body: null };
    return { status: response.status, body: this.upstream.json(response, req) };
  }
}

/**
 * `/api/scriptrun/{id}` with ids filled in and the query string built by hand: `$top`, `$skip`
 * and friends keep their literal `$` (servers that read OData options from the raw query may not
 * decode `%24`), values are percent-encoded (a space is `%20`, never `+`).
 */
function pathFor(route: string, args: readonly string[], params: Params): string {
  let i = 0;
  const filled = route.replace(/\{\w+\}/g, () => encodeURIComponent(args[i++] ?? ''));
  const query = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `/api/${filled}${query ? `?${query}` : ''}`;
}

function readPage(body: unknown, route: string): CollectionPage {
  const envelope = object(body, `${route} answer`);
  const items = array(envelope.Items, `${route} answer.Items`);
  const total = envelope.Total;
  return { items, total: typeof total === 'number' && Number.isSafeInteger(total) && total >= 0 ? total : null };
}

/**
 * Words that mark a 403 as a refusal for lack of rights (the vendor's own pages say "You do not
 * have permission to …"). Real permission texts are unverified (§9, §13), so the rule leans on
 * the request too, see `enterpriseTesterError`.
 */
const PERMISSION_WORDS = /permission|not authori[sz]ed|unauthori[sz]ed|access (is )?denied|not allowed|forbidden|do not have|don't have|insufficient|privilege|licen[cs]e/i;

/**
 * ET's error answers (§9, decisions.md "Vendor errors → codes"):
 * - 403 is both "no permission" and "validation failed". Rule: a 403 to a write (POST, PUT,
 *   DELETE) whose `Message` says what was wrong with the input — any message that does not speak
 *   of permission, access or licences — is BAD_USER_INPUT; every other 403 (reads, a message about
 *   permission, or no message at all) is FORBIDDEN. Reads carry no user input that a 403 could
 *   reject: rungraph writes the TQL itself, so a rejected query is reported as the vendor's
 *   refusal with its message, not blamed on the caller.
 * - 400 is malformed input → BAD_USER_INPUT.
 * - 404 → NOT_FOUND — except when the answer is not the API's JSON (IIS's HTML page outside the
 *   application path) or Web API's "No HTTP resource was found" (no such route): then the
 *   configured baseUrl is not the application root, which is UPSTREAM_ERROR saying so.
 * 401, 5xx, 429 and the rest take the shared mapping in http/upstream.ts.
 */
export function enterpriseTesterError(response: UpstreamResponse, req: UpstreamRequest): GatewayError | undefined {
  const status = response.status;
  const vendorMessage = vendorMessageOf(response.text);
  const details = { status, vendorMessage };
  const said = vendorMessage ? `: ${vendorMessage}` : '.';
  if (status === 403) {
    const validation = req.method !== 'GET' && vendorMessage !== undefined && !PERMISSION_WORDS.test(vendorMessage);
    return validation
      ? new GatewayError(ErrorCode.BAD_USER_INPUT, `Enterprise Tester rejected ${req.route}${said}`, details)
      : new GatewayError(ErrorCode.FORBIDDEN, `Enterprise Tester refused ${req.route} for the configured credentials${said}`, details);
  }
  if (status === 400) return new GatewayError(ErrorCode.BAD_USER_INPUT, `Enterprise Tester found the request for ${req.route} invalid${said}`, details);
  if (status === 404) {
    const json = /json/i.test(String(response.headers['content-type'] ?? ''));
    if (!json || /^No HTTP resource was found/i.test(vendorMessage ?? '')) {
      return new GatewayError(
        ErrorCode.UPSTREAM_ERROR,
        'Enterprise Tester answered 404 for an API route: the configured baseUrl is probably not the application root (e.g. https://host/EnterpriseTester).',
        details,
      );
    }
    return new GatewayError(ErrorCode.NOT_FOUND, `Enterprise Tester has no such object (${req.route})${said}`, details);
  }
  return undefined;
}

