/**
 * TestRail API v2 over HTTP (../shared/vendors/testrail.md). What differs from other vendors:
 * - The route lives in the query string: `{base}/index.php?/api/v2/get_runs/1&limit=250` (§2), so
 *   parameters are appended with `&`, never a second `?`.
 * - Lists come in an envelope `{offset, limit, size, _links: {next, prev}, <collection>}` since 6.7;
 *   older servers send bare arrays (§5, §7.1). We accept both and always page with limit 250.
 * - A missing entity is a 400 `Field :x is not a valid …`, not a 404 (§6); a 404 means the route
 *   does not exist, which in practice is a wrong baseUrl (decisions.md).
 */
import { ErrorCode, GatewayError } from '../../model/errors';
import { vendorMessageOf, type Method, type Upstream, type UpstreamRequest, type UpstreamResponse } from '../../http/upstream';
import type { SourceConnection } from '../connection';
import { readAllPages } from '../paging';
import { array, object, type Json } from '../payload';

export const TESTRAIL_PAGE_LIMIT = 250;

export type Params = Record<string, string | number | boolean | readonly (string | number)[] | undefined>;

export class TestRailClient {
  private readonly upstream: Upstream;

  constructor(connection: SourceConnection) {
    this.upstream = connection.api(testRailError);
  }

  /**
   * `route` names the method and its positional arguments as TestRail's docs do
   * (`get_run/{run_id}`); `args` fills them in order.
   */
  async get(route: string, args: readonly (string | number)[] = [], params: Params = {}): Promise<unknown> {
    return this.call('GET', route, args, params);
  }

  /** Writes are POSTs in TestRail; they are sent exactly once. An empty answer body is `null`. */
  async post(route: string, args: readonly (string | number)[] = [], body?: unknown, params: Params = {}): Promise<unknown> {
    return this.call('POST', route, args, params, body ?? {});
  }

  /**
   * Every item of a paged list from `offset` on. Follows `_links.next`, but only reads offset and
   * limit from it and rebuilds the URL with our own filters (whether TestRail echoes filters there
   * is unverified).
   */
  async all(route: string, args: readonly (string | number)[], collection: string, params: Params = {}, offset = 0): Promise<unknown[]> {
    return readAllPages(route, this.upstream.sourceId, (at) => this.page(route, args, collection, params, at), offset);
  }

  /** One page of a paged list, and the offset of the next page (null: this was the last). */
  async page(route: string, args: readonly (string | number)[], collection: string, params: Params, offset: number): Promise<{ items: unknown[]; next: number | null }> {
    const body = await this.get(route, args, { ...params, limit: TESTRAIL_PAGE_LIMIT, offset });
    if (Array.isArray(body)) {
      // Pre-6.7 servers: a bare array; a short page is the last one.
      return { items: body, next: body.length < TESTRAIL_PAGE_LIMIT ? null : offset + body.length };
    }
    const envelope = object(body, `${route} answer`);
    const items = array(envelope[collection], `${route} answer.${collection}`);
    const next = nextOffset(envelope, route);
    return { items, next: next === null || items.length === 0 ? null : next };
  }

  /**
   * Items `offset` to `offset + limit` of a paged list, and whether more follow: one call asking
   * for one item more than wanted (the look-ahead), which works for the envelope and for bare
   * arrays alike. A pre-6.7 server that ignored the paging answers the whole list: it is cut here.
   */
  async window(route: string, args: readonly (string | number)[], collection: string, params: Params, offset: number, limit: number): Promise<{ items: unknown[]; hasMore: boolean }> {
    const asked = limit + 1;
    const body = await this.get(route, args, { ...params, limit: asked, offset });
    const items = Array.isArray(body) ? body : array(object(body, `${route} answer`)[collection], `${route} answer.${collection}`);
    if (Array.isArray(body) && items.length > asked) return { items: items.slice(offset, offset + limit), hasMore: items.length > offset + limit };
    return { items: items.slice(0, limit), hasMore: items.length > limit };
  }

  private async call(method: Method, route: string, args: readonly (string | number)[], params: Params, body?: unknown): Promise<unknown> {
    const req: UpstreamRequest = { method, route, path: pathFor(route, args, params), body };
    const response = await this.upstream.send(req);
    if (response.text.trim() === '') return null;
    return this.upstream.json(response, req);
  }
}

function pathFor(route: string, args: readonly (string | number)[], params: Params): string {
  const name = route.split('/')[0];
  let path = `/index.php?/api/v2/${name}`;
  for (const arg of args) path += `/${encodeURIComponent(String(arg))}`;
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    const text = typeof value === 'boolean' ? (value ? '1' : '0') : Array.isArray(value) ? value.join(',') : String(value);
    path += `&${key}=${encodeURIComponent(text)}`;
  }
  return path;
}

function nextOffset(envelope: Json, route: string): number | null {
  const links = envelope._links;
  if (links === undefined || links === null) return null;
  const next = object(links, `${route} answer._links`).next;
  if (next === null || next === undefined) return null;
  if (typeof next !== 'string') throw new GatewayError(ErrorCode.UPSTREAM_ERROR, `${route} answered a _links.next that is not text.`);
  const match = /[&?]offset=(\d+)/.exec(next);
  if (match) return Number(match[1]);
  const offset = typeof envelope.offset === 'number' ? envelope.offset : 0;
  const size = typeof envelope.size === 'number' ? envelope.size : TESTRAIL_PAGE_LIMIT;
  return offset + size;
}

/**
 * TestRail's 400 says which field was wrong. When that field is the object the call addresses
 * (`get_run/{run_id}` → `:run_id`, older servers `:run`) the object is gone: NOT_FOUND. When it is
 * a reference inside the input (`suite_id` on add_run) the caller sent a bad value: BAD_USER_INPUT.
 */
export function testRailError(response: UpstreamResponse, req: UpstreamRequest): GatewayError | undefined {
  const vendorMessage = vendorMessageOf(response.text);
  const status = response.status;
  if (status === 400) {
    const field = /Field\s*:\s*(\w+)/.exec(vendorMessage ?? '')?.[1];
    const addressed = /\{(\w+)\}/.exec(req.route)?.[1];
    const isAddressed =
      field !== undefined && addressed !== undefined && (field === addressed || `${field}_id` === addressed) && /not a valid/.test(vendorMessage ?? '');
    return new GatewayError(
      isAddressed ? ErrorCode.NOT_FOUND : ErrorCode.BAD_USER_INPUT,
      isAddressed ? `TestRail has no such ${addressed.replace(/_id$/, '')}.` : `TestRail refused ${req.route.split('/')[0]}: ${vendorMessage ?? 'bad request'}`,
      { status, vendorMessage },
    );
  }
  if (status === 404) {
    return new GatewayError(
      ErrorCode.UPSTREAM_ERROR,
      'TestRail answered 404 for an API route: the configured baseUrl is probably not the TestRail instance root.',
      { status, vendorMessage },
    );
  }
  return undefined;
}
