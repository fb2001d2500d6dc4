/**
 * One vendor connection's HTTP traffic: its undici pool, auth headers, timeouts, the traffic
 * policy of traffic.ts (breaker, rate budget, concurrency cap, retry budget), body limits, one log
 * line per call, and the translation of HTTP failures into the contract's error codes. Vendor
 * clients stay small: they build paths, read envelopes and say how their own error bodies map
 * (`vendorError`).
 *
 * Retry rules (decisions.md): reads only, at most `maxRetries` more attempts, on 429, 502, 503,
 * 504 and dropped connections, with exponential backoff and jitter, within the retry budget and
 * the request's deadline. A `Retry-After` up to `maxRetryAfterSeconds` is honoured; a longer one is
 * RATE_LIMITED at once. Writes are sent exactly once whatever happens: a retried POST could create
 * a second run.
 */
import { Agent, errors as undiciErrors, request } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, GatewayError } from '../model/errors';
import type { Logger } from '../model/source';
import { startCallClock } from './clock';
import { currentCallContext } from './context';
import { CircuitBreaker, DEFAULT_POLICY, RetryBudget, Semaphore, TokenBucket, type TrafficPolicy } from './traffic';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface UpstreamRequest {
  method: Method;
  /** Appended to the base URL as is (vendors differ in how paths and query strings look). */
  path: string;
  /** The route pattern for logs and metrics, without ids (e.g. `get_run/{id}`). */
  route: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Reads are retried; defaults to true for GET only. */
  idempotent?: boolean;
}

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface UpstreamOptions {
  sourceId: string;
  /** Base URL without a trailing slash. */
  baseUrl: string;
  /** Static headers (authorization); never logged. */
  headers: Record<string, string>;
  log: Logger;
  /** Shorthand for `policy.timeoutMs`. */
  timeoutMs?: number;
  policy?: Partial<TrafficPolicy>;
  /**
   * The vendor's reading of a non-2xx answer. Return undefined to fall back to the standard
   * mapping below (401, 403, 404, 408, 409, 429, 5xx, anything else).
   */
  vendorError?: (response: UpstreamResponse, request: UpstreamRequest) => GatewayError | undefined;
}

// 408 is the vendor saying "retry later" (QAComplete documents it so); the others are overload or rate limits.
const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504]);

/** Transport failures that never reached the vendor's logic (kept off the public extensions). */
const retryableTransportErrors = new WeakSet<GatewayError>();

/** Errors raised before a request was sent; they must not count against the vendor's health. */
const notSent = new WeakSet<GatewayError>();

/** Every connection pool made here and not yet closed, so process shutdown can close them all. */
const agents = new Set<Agent>();

export async function closeAllUpstreams(): Promise<void> {
  const all = [...agents];
  agents.clear();
  await Promise.all(all.map((a) => a.close()));
}

export class Upstream {
  readonly policy: TrafficPolicy;
  readonly breaker: CircuitBreaker;
  private readonly agent: Agent;
  private readonly slots: Semaphore;
  private readonly bucket: TokenBucket | undefined;
  private readonly retryBudget = new RetryBudget();

  constructor(private readonly options: UpstreamOptions) {
    const given = Object.fromEntries(Object.entries(options.policy ?? {}).filter(([, v]) => v !== undefined));
    this.policy = { ...DEFAULT_POLICY, ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}), ...given };
    this.breaker = new CircuitBreaker(options.sourceId, this.policy.breakerFailures, this.policy.breakerCooldownMs);
    this.slots = new Semaphore(this.policy.concurrency);
    const rpm = this.policy.requestsPerMinute;
    if (rpm !== null) this.bucket = new TokenBucket(rpm, this.policy.burst ?? Math.max(1, Math.floor(rpm / 10)));
    this.agent = new Agent({
      connections: Math.max(4, this.policy.concurrency * 2),
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      connect: { timeout: this.policy.connectTimeoutMs },
    });
    agents.add(this.agent);
  }

  get sourceId(): string {
    return this.options.sourceId;
  }

  /** Closes this connection's sockets; the owning source calls it on shutdown. */
  async close(): Promise<void> {
    agents.delete(this.agent);
    await this.agent.close();
  }

  /** Sends the request and returns a 2xx answer; anything else becomes a GatewayError. */
  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const idempotent = req.idempotent ?? req.method === 'GET';
    const context = currentCallContext();
    const started = Date.now();
    let retries = 0;
    for (;;) {
      const outcome = await this.attempt(req, context?.deadline);
      if (idempotent && retries < this.policy.maxRetries) {
        const wait = this.retryDelay(outcome, retries);
        if (wait !== undefined && (context === undefined || Date.now() + wait < context.deadline) && this.retryBudget.tryRetry()) {
          retries += 1;
          await sleep(wait);
          continue;
        }
      }
      const error = outcome instanceof GatewayError ? outcome : this.errorFor(outcome, req);
      this.options.log.info(
        {
          requestId: context?.requestId,
          source: this.options.sourceId,
          method: req.method,
          route: req.route,
          status: outcome instanceof GatewayError ? (outcome.extensions.status as number | undefined) : outcome.status,
          error: error?.code,
          durationMs: Date.now() - started,
          retries,
        },
        'upstream call',
      );
      if (error) throw error;
      return outcome as UpstreamResponse;
    }
  }

  /** Parses a JSON body; a body that is not JSON is the vendor answering something we cannot read. */
  json(response: UpstreamResponse, req: UpstreamRequest): unknown {
    try {
      return JSON.parse(response.text);
    } catch {
      const type = String(response.headers['content-type'] ?? 'no content type');
      throw new GatewayError(
        ErrorCode.UPSTREAM_ERROR,
        `${req.route} answered ${response.status} with a body that is not JSON (${type}).`,
        { source: this.options.sourceId, status: response.status },
      );
    }
  }

  /** One try: breaker, rate budget, a concurrency slot, then the wire. Never throws. */
  private async attempt(req: UpstreamRequest, deadline: number | undefined): Promise<UpstreamResponse | GatewayError> {
    const source = this.options.sourceId;
    try {
      this.breaker.admit();
      this.retryBudget.recordRequest();
      // The token is taken inside the concurrency slot, right before the request leaves: a token
      // taken while waiting for a slot would let requests pile up and then go out in a burst.
      const response = await this.slots.run(async () => {
        if (this.bucket) await this.bucket.take();
        if (deadline !== undefined && deadline <= Date.now()) {
          const late = new GatewayError(ErrorCode.GATEWAY_TIMEOUT, `${outOfTime(deadline)} before ${source} could be asked (${req.route}).`, { source });
          notSent.add(late);
          throw late;
        }
        return this.once(req, deadline);
      });
      if (response.status >= 500 || response.status === 408) this.breaker.failure();
      else if (response.status < 300) this.breaker.success();
      else this.breaker.neutral();
      return response;
    } catch (error) {
      // Refused before anything was sent (open breaker, no time left), or cut by the gateway's own
      // deadline: says nothing of the vendor's health.
      if (error instanceof GatewayError && (notSent.has(error) || error.code === ErrorCode.GATEWAY_TIMEOUT || /circuit open/.test(error.message))) return error;
      const failure = this.transportError(error, req);
      if (failure.code === ErrorCode.UPSTREAM_UNAVAILABLE) this.breaker.failure();
      else this.breaker.neutral();
      return failure;
    }
  }

  private async once(req: UpstreamRequest, deadline: number | undefined): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers };
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    // undici's own header/body timers are off: they would fire after any stall of the gateway's
    // event loop. The clock (clock.ts) measures the vendor's time and the request's deadline.
    const clock = startCallClock(this.policy.timeoutMs, deadline);
    try {
      const response = await request(this.options.baseUrl + req.path, {
        method: req.method,
        headers,
        body,
        dispatcher: this.agent,
        headersTimeout: 0,
        bodyTimeout: 0,
        signal: clock.signal,
      });
      clock.nextPhase();
      const text = await readLimited(response.body, this.policy.maxResponseBytes);
      return { status: response.statusCode, headers: response.headers, text };
    } catch (error) {
      if (clock.outcome === 'vendor') throw new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, `${this.options.sourceId} did not answer ${req.route} within ${this.policy.timeoutMs} ms.${writeNote(req)}`, { source: this.options.sourceId });
      if (clock.outcome === 'deadline') {
        const stalled = Math.round(clock.stalledMs());
        throw new GatewayError(
          ErrorCode.GATEWAY_TIMEOUT,
          `${outOfTime(deadline!)} while ${this.options.sourceId} was answering ${req.route}` +
            `${stalled >= 100 ? ` (the gateway itself was busy for ${stalled} ms of it)` : ''}.${writeNote(req)}`,
          { source: this.options.sourceId },
        );
      }
      throw error;
    } finally {
      clock.dispose();
    }
  }

  /** How long to wait before the next attempt, or undefined when this outcome is final. */
  private retryDelay(outcome: UpstreamResponse | GatewayError, retries: number): number | undefined {
    // Exponential backoff with full jitter around the base.
    const backoff = () => Math.round(200 * 2 ** retries * (0.5 + Math.random()));
    if (outcome instanceof GatewayError) {
      return retryableTransportErrors.has(outcome) ? backoff() : undefined;
    }
    if (!RETRYABLE_STATUS.has(outcome.status)) return undefined;
    const retryAfter = parseRetryAfter(outcome.headers['retry-after']);
    if (retryAfter === undefined) return backoff();
    if (retryAfter > this.policy.maxRetryAfterSeconds) return undefined;
    return retryAfter * 1000;
  }

  private errorFor(response: UpstreamResponse, req: UpstreamRequest): GatewayError | undefined {
    if (response.status >= 200 && response.status < 300) return undefined;
    const vendor = this.options.vendorError?.(response, req);
    if (vendor) return vendor.withSource(this.options.sourceId);
    const source = this.options.sourceId;
    const status = response.status;
    const vendorMessage = vendorMessageOf(response.text);
    const make = (code: ErrorCode, message: string, extra: { retryAfter?: number } = {}) =>
      new GatewayError(code, message, { source, status, vendorMessage, ...extra });
    if (status === 401) return make(ErrorCode.UNAUTHENTICATED, `${source} rejected the configured credentials.`);
    if (status === 403) return make(ErrorCode.FORBIDDEN, `${source} refused ${req.route} for the configured credentials.`);
    if (status === 404) return make(ErrorCode.NOT_FOUND, `${source} has no such object (${req.route}).`);
    if (status === 429) {
      const retryAfter = parseRetryAfter(response.headers['retry-after']);
      return make(ErrorCode.RATE_LIMITED, `${source} kept answering 429 (rate limited).`, retryAfter === undefined ? {} : { retryAfter });
    }
    if (status === 408 || status === 409 || status >= 500) {
      return make(ErrorCode.UPSTREAM_UNAVAILABLE, `${source} is unavailable: it answered ${status} to ${req.route}.`);
    }
    return make(ErrorCode.UPSTREAM_ERROR, `${source} answered ${status} to ${req.route}, which rungraph does not expect.`);
  }

  private transportError(error: unknown, req: UpstreamRequest): GatewayError {
    const source = this.options.sourceId;
    if (error instanceof GatewayError) return error.withSource(source);
    const code = (error as { code?: string }).code;
    const name = (error as { name?: string }).name;
    if (
      error instanceof undiciErrors.HeadersTimeoutError ||
      error instanceof undiciErrors.BodyTimeoutError ||
      error instanceof undiciErrors.ConnectTimeoutError ||
      name === 'TimeoutError' ||
      name === 'AbortError'
    ) {
      return new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, `${source} did not answer ${req.route} within ${this.policy.timeoutMs} ms.${writeNote(req)}`, { source });
    }
    const unavailable = new GatewayError(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      `${source} could not be reached for ${req.route} (${code ?? name ?? 'connection error'}).${writeNote(req)}`,
      { source, cause: error },
    );
    // A dropped or refused connection never reached the vendor's logic: safe to retry a read.
    retryableTransportErrors.add(unavailable);
    return unavailable;
  }
}

async function readLimited(body: AsyncIterable<Buffer | Uint8Array> & { destroy?: () => void }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy?.();
      throw new GatewayError(ErrorCode.UPSTREAM_ERROR, `The answer was larger than ${limit} bytes (maxResponseBytes).`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The `Authorization` value for HTTP Basic, which every vendor here uses. */
export function basicAuth(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;
}

/** A write whose answer never came may still have been applied: say so, since we will not retry it. */
function writeNote(req: UpstreamRequest): string {
  return req.method === 'GET' ? '' : ' The vendor may or may not have applied this write; rungraph did not retry it — check before trying again.';
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\s*\d+\s*$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** A short, credential-free message from a vendor error body, whatever its shape. */
export function vendorMessageOf(text: string): string | undefined {
  let message: unknown;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    message =
      body?.error ??
      body?.Message ??
      body?.message ??
      (Array.isArray(body?.errors) ? (body.errors[0] as Record<string, unknown>)?.message : undefined);
  } catch {
    return undefined;
  }
  return typeof message === 'string' && message.length > 0 ? message.slice(0, 500) : undefined;
}

/** The start of a GATEWAY_TIMEOUT message; the budget is the server's, not the vendor's. */
function outOfTime(deadline: number): string {
  return `This request used up its time budget (server.requestTimeoutMs; it ended ${Math.max(0, Date.now() - deadline)} ms ago)`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
