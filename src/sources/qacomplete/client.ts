/**
 * SmartBear QAComplete over HTTP (../shared/vendors/qacomplete.md). Two APIs under one
 * ServiceStack application, each with its own credentials:
 * - the main REST API, `{baseUrl}/rest-api/service/api/v1|v2/…` (projects v1, test runs v2, §1),
 *   Basic `email:password` of a user;
 * - the Test Automation API, `{automationBaseUrl ?? baseUrl}/rest-api/service/automation/v2/…`,
 *   Basic `hostId:securityToken`, one pair per configured host.
 * Lists come in `{metadata: {result_set: {count, offset, limit, total}}, results}` (§5); we page by
 * `offset` until `offset >= total`. The default page is 25 and no maximum is documented; clients
 * use 1000 [client], so we ask for 1000 and advance by what actually arrived (a server that caps
 * the limit lower still pages correctly).
 */
import { ErrorCode, GatewayError } from '../../model/errors';
import { vendorMessageOf, type Method, type Upstream, type UpstreamRequest, type UpstreamResponse } from '../../http/upstream';
import type { SourceConnection } from '../connection';
import { readAllPages } from '../paging';
import { array, object, type Json } from '../payload';

export const QACOMPLETE_PAGE_LIMIT = 1000;
const SERVICE = '/rest-api/service';

export type Params = Record<string, string | number | undefined>;

/** What the QAComplete client takes beyond the source's connection (its baseUrl and user login). */
export interface QACompleteClientOptions {
  /** Where the Test Automation API lives; default the source's baseUrl. */
  automationBaseUrl?: string;
  /** The test hosts it may call the automation API as, each with its security token. */
  hosts: ReadonlyArray<{ id: number; token: string }>;
  pageLimit?: number;
}

/**
 * The docs write the SaaS base as `https://rest.qacomplete.smartbear.com/rest-api/service`: a
 * baseUrl given that way is accepted as the server root plus the service prefix.
 */
function serviceRoot(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.toLowerCase().endsWith(SERVICE) ? trimmed : trimmed + SERVICE;
}

export class QACompleteClient {
  private readonly main: Upstream;
  private readonly hosts = new Map<string, Upstream>();
  private readonly pageLimit: number;
  readonly sourceId: string;

  /**
   * One Upstream per API and credential (the user's login for the main API, each host's id and
   * token for the automation API), all made from the source's connection: one traffic policy.
   */
  constructor(connection: SourceConnection, options: QACompleteClientOptions) {
    this.sourceId = connection.id;
    this.pageLimit = options.pageLimit ?? QACOMPLETE_PAGE_LIMIT;
    this.main = connection.api(mainApiError, { baseUrl: serviceRoot(connection.baseUrl) });
    const automationRoot = serviceRoot(options.automationBaseUrl ?? connection.baseUrl);
    for (const host of options.hosts) {
      this.hosts.set(
        String(host.id),
        connection.api(automationApiError, { baseUrl: automationRoot, login: { username: String(host.id), password: host.token } }),
      );
    }
  }

  /**
   * `route` is the vendor's path pattern (`/api/v2/projects/{ProjectId}/testruns/{Id}`), `args`
   * fill its placeholders in order; the pattern is what logs show.
   */
  get(route: string, args: readonly (string | number)[], params: Params = {}): Promise<unknown> {
    return this.call(this.main, 'GET', route, args, params);
  }

  /** Writes are sent exactly once (Upstream never retries a non-GET). An empty answer is null. */
  post(route: string, args: readonly (string | number)[], body: unknown): Promise<unknown> {
    return this.call(this.main, 'POST', route, args, {}, body);
  }

  patch(route: string, args: readonly (string | number)[], body: unknown): Promise<unknown> {
    return this.call(this.main, 'PATCH', route, args, {}, body);
  }

  delete(route: string, args: readonly (string | number)[]): Promise<unknown> {
    return this.call(this.main, 'DELETE', route, args, {});
  }

  /** Every item of a list from `offset` on (and before `end`, if given: a part already read), page by page (§5). */
  async all(route: string, args: readonly (string | number)[], params: Params = {}, offset = 0, end = Infinity): Promise<unknown[]> {
    return readAllPages(route, this.sourceId, (at) => this.page(route, args, params, at), offset, end);
  }

  /**
   * One page of a list, where the next one starts (null: this was the last) and the list's total
   * when the server gave one. We advance by what arrived, so a server that caps the limit lower
   * still pages correctly.
   */
  async page(route: string, args: readonly (string | number)[], params: Params, offset: number): Promise<{ items: unknown[]; next: number | null; total: number | null }> {
    const body = await this.get(route, args, { ...params, offset, limit: this.pageLimit });
    const { results, total } = envelope(body, route);
    const end = offset + results.length;
    // Without a total (not seen, but cheap to survive) a short page is the last one.
    const last = results.length === 0 || (total === null ? results.length < this.pageLimit : end >= total);
    return { items: results, next: last ? null : end, total };
  }

  /**
   * Items `offset` to `offset + limit` of a list, and whether more follow, in one call: one item
   * more than wanted is asked for, and the envelope's `total` covers a server that caps `limit`.
   */
  async window(route: string, args: readonly (string | number)[], offset: number, limit: number): Promise<{ items: unknown[]; hasMore: boolean }> {
    const body = await this.get(route, args, { offset, limit: limit + 1 });
    const { results, total } = envelope(body, route);
    return { items: results.slice(0, limit), hasMore: results.length > limit || (total !== null && offset + limit < total) };
  }

  /** How many items a list holds, from one metadata-only page (`limit=0`, §5). */
  async total(route: string, args: readonly (string | number)[]): Promise<number> {
    const body = await this.get(route, args, { offset: 0, limit: 0 });
    const { total } = envelope(body, route);
    if (total === null) throw new GatewayError(ErrorCode.UPSTREAM_ERROR, `${route} answered no metadata.result_set.total.`, { source: this.sourceId });
    return total;
  }

  /** GET /automation/v2/hosts/{id} as that host (its own id and token). */
  async host(hostId: string): Promise<unknown> {
    const upstream = this.hosts.get(hostId);
    if (!upstream) throw new GatewayError(ErrorCode.NOT_FOUND, `Host ${hostId} is not configured.`, { source: this.sourceId });
    return this.call(upstream, 'GET', '/automation/v2/hosts/{id}', [hostId], {});
  }

  private async call(upstream: Upstream, method: Method, route: string, args: readonly (string | number)[], params: Params, body?: unknown): Promise<unknown> {
    const req: UpstreamRequest = { method, route: `${method} ${route}`, path: pathFor(route, args, params), body };
    const response = await upstream.send(req);
    if (response.text.trim() === '') return null;
    return upstream.json(response, req);
  }
}

function pathFor(route: string, args: readonly (string | number)[], params: Params): string {
  let i = 0;
  let path = route.replace(/\{\w+\}/g, () => {
    const arg = args[i++];
    if (arg === undefined) throw new Error(`missing argument for ${route}`);
    return encodeURIComponent(String(arg));
  });
  const query = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  if (query.length > 0) path += `?${query.join('&')}`;
  return path;
}

function envelope(body: unknown, route: string): { results: unknown[]; total: number | null } {
  const where = `${route} answer`;
  const o = object(body, where);
  // `limit=0` answers metadata only; a missing `results` is an empty page.
  const results = o.results === undefined || o.results === null ? [] : array(o.results, `${where}.results`);
  const resultSet = (o.metadata as Json | undefined)?.result_set as Json | undefined;
  const total = resultSet?.total;
  return { results, total: typeof total === 'number' && Number.isSafeInteger(total) && total >= 0 ? total : null };
}

const idIn = (path: string, segment: string) => new RegExp(`/${segment}/(\\d+)`).exec(path)?.[1];

/**
 * The main API's errors (§4.1, §7; decisions.md "Vendor errors"). The body is optional and its
 * shape unverified, so only the status decides; the message rides along as vendorMessage.
 * - 403 "Access is denied" means either that the project does not exist or that the user lacks the
 *   right: QAComplete does not say which, so neither do we guess.
 * - 404 "File or directory not found": the run or item addressed does not exist. On a collection
 *   (a list route) it can only mean the URL itself is wrong.
 * - 400: the request carried bad data (an unknown test, set, configuration, release or host id).
 */
export function mainApiError(response: UpstreamResponse, req: UpstreamRequest): GatewayError | undefined {
  const status = response.status;
  const vendorMessage = vendorMessageOf(response.text);
  const project = idIn(req.path, 'projects');
  if (status === 403) {
    return new GatewayError(
      ErrorCode.FORBIDDEN,
      `QAComplete denied access${project ? ` to project ${project}` : ''} ("Access is denied"): either the project does not exist, or the configured user lacks the right for ${req.route}.`,
      { status, vendorMessage },
    );
  }
  if (status === 404) {
    const run = idIn(req.path, 'testruns');
    const item = idIn(req.path, 'items');
    const what = item ? `item ${item} in test run ${run}` : run ? `test run ${run}${project ? ` in project ${project}` : ''}` : project && /\{ProjectId\}$/.test(req.route) ? `project ${project}` : undefined;
    return new GatewayError(
      ErrorCode.NOT_FOUND,
      what ? `QAComplete has no ${what}.` : `QAComplete answered 404 for ${req.route}: that URL does not exist there; check the source's baseUrl.`,
      { status, vendorMessage },
    );
  }
  if (status === 400) {
    return new GatewayError(ErrorCode.BAD_USER_INPUT, `QAComplete refused ${req.route}: ${vendorMessage ?? 'bad request'}`, { status, vendorMessage });
  }
  return undefined;
}

/** The automation API, called as a configured host (§7 lists its codes). */
export function automationApiError(response: UpstreamResponse, req: UpstreamRequest): GatewayError | undefined {
  const status = response.status;
  const vendorMessage = vendorMessageOf(response.text);
  const host = idIn(req.path, 'hosts');
  if (status === 401) {
    return new GatewayError(ErrorCode.UNAUTHENTICATED, `QAComplete rejected the id and security token configured for test host ${host}.`, { status, vendorMessage });
  }
  if (status === 404) {
    return new GatewayError(ErrorCode.NOT_FOUND, `QAComplete has no test host ${host}.`, { status, vendorMessage });
  }
  return undefined;
}
