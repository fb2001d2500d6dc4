/**
 * A source's HTTP traffic to its vendor. A VendorConnection is one source's: its undici pool, its
 * traffic policy in force (traffic.ts: breaker, rate budget, concurrency cap, retry budget) and its
 * log. An Upstream is one API of that source — a base URL, the credentials it is called with and
 * how the vendor's error bodies read — and sends every call through the connection's traffic
 * control, so a source with several APIs or credentials (QAComplete: the user API, each test
 * host's automation API) still has one budget. The Upstream owns timeouts, body limits, one log
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
import { context as otelContext, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { ErrorCode, GatewayError } from '../model/errors';
import type { Logger } from '../model/source';
import { startCallClock } from './clock';
import { currentCallContext } from './context';
import { CircuitOpenError, TrafficControl, type TrafficPolicy } from './traffic';

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

export interface VendorConnectionOptions {
  sourceId: string;
  log: Logger;
  /** The keys the config set; the rest are traffic.ts's defaults. */
  policy?: Partial<TrafficPolicy>;
  /** The server's metrics (src/server/metrics.ts); src/http knows no metrics library. */
  observer?: UpstreamObserver;
}

/** One call as its log line tells it, after its last attempt. */
export interface UpstreamCall {
  source: string;
  method: Method;
  /** The route template (`get_run/{run_id}`), never a path with ids. */
  route: string;
  /** The last attempt's HTTP status; undefined when no answer came. */
  status: number | undefined;
  /** True when the gateway never sent the last attempt (breaker open, no time left). */
  notSent: boolean;
  /** The contract error code it ended with; undefined on success. */
  error: string | undefined;
  seconds: number;
  retries: number;
}

/** What a source's traffic tells the server's metrics; every method is optional and must not throw. */
export interface UpstreamObserver {
  /** Once per connection, so its breaker and rate budget can be read when metrics are scraped. */
  connected?(traffic: TrafficControl): void;
  called?(call: UpstreamCall): void;
  /** Before a retry's wait: why (the status, or `connection`), and how much of the wait a Retry-After asked for (0 if none). */
  retrying?(source: string, reason: string, retryAfterSeconds: number): void;
  /** Every 429 answer, retried or not. */
  rateLimited?(source: string): void;
}

/** One API of a source, as VendorConnection.api makes it. */
export interface UpstreamOptions {
  /** Base URL without a trailing slash. */
  baseUrl: string;
  /** Static headers (authorization); never logged. */
  headers: Record<string, string>;
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

/**
 * One source's connection to its vendor: the pool and the traffic control that every API of the
 * source shares. The source closes it on shutdown.
 */
export class VendorConnection {
  readonly sourceId: string;
  readonly log: Logger;
  readonly traffic: TrafficControl;
  /** The pool every API of the source dispatches on (undici pools per origin inside it). */
  readonly agent: Agent;
  readonly observer: UpstreamObserver | undefined;

  constructor(options: VendorConnectionOptions) {
    this.sourceId = options.sourceId;
    this.log = options.log;
    this.observer = options.observer;
    this.traffic = new TrafficControl(options.sourceId, options.policy);
    this.observer?.connected?.(this.traffic);
    const policy = this.traffic.policy;
    this.agent = new Agent({
      connections: Math.max(4, policy.concurrency * 2),
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      connect: { timeout: policy.connectTimeoutMs },
    });
  }

  /** An API of this source: its base URL, its credentials, its error reading; the traffic is the source's. */
  api(options: UpstreamOptions): Upstream {
    return new Upstream(this, options);
  }

  /** Closes the source's sockets. */
  close(): Promise<void> {
    return this.agent.close();
  }
}

export class Upstream {
  /** The vendor's host, port and scheme for span attributes (parsed on the first traced call). */
  private server: { address: string; port: number; scheme: string } | undefined;

  constructor(
    private readonly connection: VendorConnection,
    private readonly options: UpstreamOptions,
  ) {}

  get sourceId(): string {
    return this.connection.sourceId;
  }

  private get policy(): TrafficPolicy {
    return this.connection.traffic.policy;
  }

  /** Sends the request and returns a 2xx answer; anything else becomes a GatewayError. */
  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    const idempotent = req.idempotent ?? req.method === 'GET';
    const context = currentCallContext();
    const observer = this.connection.observer;
    const started = Date.now();
    let retries = 0;
    for (;;) {
      const outcome = await this.attempt(req, context?.deadline, retries);
      if (observer && !(outcome instanceof GatewayError) && outcome.status === 429) observer.rateLimited?.(this.sourceId);
      if (idempotent && retries < this.policy.maxRetries) {
        const wait = this.retryDelay(outcome, retries);
        if (wait !== undefined && (context === undefined || Date.now() + wait < context.deadline) && this.connection.traffic.tryRetry()) {
          if (observer) {
            const answered = !(outcome instanceof GatewayError);
            const retryAfter = answered && parseRetryAfter(outcome.headers['retry-after']) !== undefined ? wait / 1000 : 0;
            observer.retrying?.(this.sourceId, answered ? String(outcome.status) : 'connection', retryAfter);
          }
          retries += 1;
          await sleep(wait);
          continue;
        }
      }
      const error = outcome instanceof GatewayError ? outcome : this.errorFor(outcome, req);
      this.connection.log.info(
        {
          requestId: context?.requestId,
          source: this.sourceId,
          method: req.method,
          route: req.route,
          status: outcome instanceof GatewayError ? (outcome.extensions.status as number | undefined) : outcome.status,
          error: error?.code,
          durationMs: Date.now() - started,
          retries,
        },
        'upstream call',
      );
      observer?.called?.({
        source: this.sourceId,
        method: req.method,
        route: req.route,
        status: outcome instanceof GatewayError ? (outcome.extensions.status as number | undefined) : outcome.status,
        notSent: outcome instanceof CircuitOpenError || (outcome instanceof GatewayError && notSent.has(outcome)),
        error: error?.code,
        seconds: (Date.now() - started) / 1000,
        retries,
      });
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
        { source: this.sourceId, status: response.status },
      );
    }
  }

  /** One try: breaker, rate budget, a concurrency slot, then the wire. Never throws. */
  private async attempt(req: UpstreamRequest, deadline: number | undefined, resend: number): Promise<UpstreamResponse | GatewayError> {
    const source = this.sourceId;
    const traffic = this.connection.traffic;
    const context = currentCallContext();
    try {
      traffic.admit();
      const response = await traffic.run(async () => {
        if (deadline !== undefined && deadline <= Date.now()) {
          const late = new GatewayError(ErrorCode.GATEWAY_TIMEOUT, `${outOfTime(deadline)} before ${source} could be asked (${req.route}).`, { source });
          notSent.add(late);
          throw late;
        }
        context?.onCall?.();
        return context?.tracer ? this.traced(context.tracer, req, deadline, resend) : this.once(req, deadline);
      }, context?.lane);
      if (response.status >= 500 || response.status === 408) traffic.breaker.failure();
      else if (response.status < 300) traffic.breaker.success();
      else traffic.breaker.neutral();
      return response;
    } catch (error) {
      // Refused before anything was sent (open breaker, no time left), or cut by the gateway's own
      // deadline: says nothing of the vendor's health.
      if (error instanceof CircuitOpenError || (error instanceof GatewayError && (notSent.has(error) || error.code === ErrorCode.GATEWAY_TIMEOUT))) return error;
      const failure = this.transportError(error, req);
      if (failure.code === ErrorCode.UPSTREAM_UNAVAILABLE) traffic.breaker.failure();
      else traffic.breaker.neutral();
      return failure;
    }
  }

  /**
   * One request on the wire as an OpenTelemetry client span (HTTP client semantic conventions), its
   * `traceparent` sent to the vendor. The span names the route template, never the URL: paths and
   * query strings may carry ids and, for some vendors, tokens; the credentials are headers and stay
   * out too. Each resend is a span of its own with its ordinal in `http.request.resend_count`.
   */
  private async traced(tracer: Tracer, req: UpstreamRequest, deadline: number | undefined, resend: number): Promise<UpstreamResponse> {
    const span = tracer.startSpan(`${req.method} ${req.route}`, { kind: SpanKind.CLIENT, attributes: this.spanAttributes(req, resend) });
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(otelContext.active(), span), carrier);
    try {
      const response = await this.once(req, deadline, carrier);
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 400) {
        span.setAttribute('error.type', String(response.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return response;
    } catch (error) {
      // A GatewayError's message is written for clients (no credential, no URL); anything else is named by its code only.
      const gateway = error instanceof GatewayError ? error : undefined;
      span.setAttribute('error.type', gateway?.code ?? (error as { code?: string }).code ?? (error as Error)?.name ?? '_OTHER');
      span.setStatus({ code: SpanStatusCode.ERROR, ...(gateway ? { message: gateway.message } : {}) });
      throw error;
    } finally {
      span.end();
    }
  }

  private spanAttributes(req: UpstreamRequest, resend: number): Attributes {
    this.server ??= serverOf(this.options.baseUrl);
    return {
      'http.request.method': req.method,
      'url.template': req.route,
      'server.address': this.server.address,
      'server.port': this.server.port,
      'url.scheme': this.server.scheme,
      'rungraph.source': this.sourceId,
      ...(resend > 0 ? { 'http.request.resend_count': resend } : {}),
    };
  }

  private async once(req: UpstreamRequest, deadline: number | undefined, traceHeaders?: Record<string, string>): Promise<UpstreamResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.options.headers, ...traceHeaders };
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
        dispatcher: this.connection.agent,
        headersTimeout: 0,
        bodyTimeout: 0,
        signal: clock.signal,
      });
      clock.nextPhase();
      const text = await readLimited(response.body, this.policy.maxResponseBytes);
      return { status: response.statusCode, headers: response.headers, text };
    } catch (error) {
      if (clock.outcome === 'vendor') throw new GatewayError(ErrorCode.UPSTREAM_UNAVAILABLE, `${this.sourceId} did not answer ${req.route} within ${this.policy.timeoutMs} ms.${writeNote(req)}`, { source: this.sourceId });
      if (clock.outcome === 'deadline') {
        const stalled = Math.round(clock.stalledMs());
        throw new GatewayError(
          ErrorCode.GATEWAY_TIMEOUT,
          `${outOfTime(deadline!)} while ${this.sourceId} was answering ${req.route}` +
            `${stalled >= 100 ? ` (the gateway itself was busy for ${stalled} ms of it)` : ''}.${writeNote(req)}`,
          { source: this.sourceId },
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
    if (vendor) return vendor.withSource(this.sourceId);
    const source = this.sourceId;
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
    const source = this.sourceId;
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

function serverOf(baseUrl: string): { address: string; port: number; scheme: string } {
  const url = new URL(baseUrl);
  const scheme = url.protocol.replace(/:$/, '');
  return { address: url.hostname, port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80, scheme };
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
