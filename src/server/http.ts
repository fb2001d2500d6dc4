/**
 * The HTTP surface around Apollo, on plain node:http (no framework): /healthz, /readyz, /metrics (metrics.ts), the explorer,
 * /graphql (POST, and GET for queries with Apollo's CSRF prevention on), and what is about HTTP —
 * the body size limit, API-key authentication, malformed bodies, the request id and deadline every
 * upstream call sees, the response size cap — and a listener whose stop lets every in-flight
 * request finish.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import type { GraphContext } from '../graph/context';
import type { Logger } from '../model/source';
import { withCallContext } from '../http/context';
import { apiKeyCheck } from './auth';
import type { ServerConfig } from './config';
import { createExplorer } from './explorer/serve';
import type { AnswerCache } from './answers';
import type { Service } from './lifecycle';
import type { GatewayMetrics, GraphqlObservation } from './metrics';
import { isGraphQLPath, type Tracing } from './telemetry';

export interface HandlerParts {
  apollo: ApolloServer<GraphContext>;
  settings: ServerConfig;
  log: Logger;
  newContext(requestId: string): GraphContext;
  /** True once shutdown began: answers then close their connections. */
  draining(): boolean;
  /** With the run index on: answers computed only from it, kept while it is unchanged (answers.ts). */
  answers?: AnswerCache;
  /** The index's generation now (answers.ts). */
  generation?: () => number;
  /** What keeps the gateway from being ready to serve (empty when ready), for /readyz. */
  notReady(): string[];
  /** Counts every /graphql request; serves the scrape here unless metrics.port gives it a listener of its own. */
  metrics?: GatewayMetrics;
  /** With tracing on: each GraphQL request runs in its span (telemetry.ts). */
  tracing?: Tracing;
}

export function createHandler({ apollo, settings, log, newContext, draining, answers, generation, notReady, metrics, tracing }: HandlerParts) {
  const maxBodyBytes = settings.limits.maxBodyBytes;
  const authorized = apiKeyCheck(settings.apiKeys);
  const explorer = createExplorer();
  // Never behind server.apiKeys: a scrape has its own key (metrics.apiKey) or none.
  const scrapePath = metrics && metrics.settings.port === undefined ? metrics.settings.path : undefined;
  const handle = async (req: IncomingMessage, res: ServerResponse, observed?: GraphqlObservation) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Liveness: the process answers. Readiness: it should be sent traffic (load balancers, Kubernetes).
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz') {
      const waiting = draining() ? ['shutting down', ...notReady()] : notReady();
      return sendJson(res, waiting.length === 0 ? 200 : 503, waiting.length === 0 ? { status: 'ready' } : { status: 'not ready', waiting });
    }
    if (url.pathname === scrapePath) return metrics!.serve(req, res);
    // Browsers asking for /graphql get the offline GraphiQL page; its static assets live under /explorer/.
    if (await explorer.handle(req, res, url)) return;
    if (url.pathname !== '/graphql') return sendJson(res, 404, { error: `Nothing at ${url.pathname}; GraphQL is at /graphql.` });
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('allow', 'GET, POST');
      return sendJson(res, 405, { error: 'GraphQL takes GET (queries) and POST.' });
    }
    // Counted as an error of no operation until Apollo says otherwise.
    if (observed) observed.graphql = true;
    if (authorized && !authorized(req.headers)) {
      res.setHeader('www-authenticate', 'Bearer realm="rungraph"');
      return sendJson(res, 401, {
        errors: [{ message: 'rungraph needs an API key: send Authorization: Bearer <key>.', extensions: { code: 'UNAUTHENTICATED' } }],
      });
    }
    let body: unknown;
    let raw = url.search;
    if (req.method === 'POST') {
      const read = await readBody(req, maxBodyBytes);
      raw = read.text;
      if (read.tooLarge) {
        return sendJson(res, 413, {
          errors: [{ message: `The request body is over the limit (server.limits.maxBodyBytes = ${maxBodyBytes} bytes).`, extensions: { code: 'BAD_REQUEST' } }],
        });
      }
      const parsed = parseBody(read.text, req.headers['content-type']);
      if ('invalid' in parsed) {
        return sendJson(res, 400, {
          errors: [{ message: `The request body is not valid JSON (${parsed.invalid}). Send {"query": "…", "variables": {…}} with content-type: application/json.`, extensions: { code: 'BAD_REQUEST' } }],
        });
      }
      body = parsed.body;
    }
    const persisted = persistedQueryMismatch(body, url.searchParams);
    if (persisted) return sendJson(res, 400, { errors: [{ message: persisted, extensions: { code: 'PERSISTED_QUERY_HASH_MISMATCH' } }] });
    const cacheKey = answers?.key(req.method, req.headers.authorization, raw);
    const kept = cacheKey ? answers!.get(cacheKey) : undefined;
    if (kept) {
      if (observed) Object.assign(observed, { operation: kept.operation, result: 'ok' });
      res.writeHead(kept.status, { 'content-type': kept.contentType, 'content-length': kept.body.length, 'x-rungraph-answer': 'kept' });
      if (tracing && kept.traceIdAt >= 0) return tracing.endKept(req, res, kept.body, kept.traceIdAt);
      return void res.end(kept.body);
    }
    const generationBefore = generation?.();
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: req.method, headers, search: url.search, body };
    const requestId = typeof req.headers['x-request-id'] === 'string' && /^[\w.-]{1,100}$/.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
    const deadline = Date.now() + settings.requestTimeoutMs;
    const context = newContext(requestId);
    const execute = () => withCallContext({ requestId, deadline, tracer: tracing?.tracer }, () => apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest, context: async () => context }));
    const response = await (tracing ? tracing.within(req, execute) : execute());
    if (observed) Object.assign(observed, metrics!.outcome(context.operation));
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.setHeader('x-request-id', requestId);
    // While draining, each answer closes its connection, so keep-alive clients reconnect elsewhere.
    if (draining()) res.shouldKeepAlive = false;
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const size = Buffer.byteLength(response.body.string);
      // A mutation's answer is never replaced: it may report a write that happened.
      if (size > settings.limits.maxResponseBytes && context.operation.type !== 'mutation') {
        // After the traced execution: the trace id is named here, not by the log's mixin.
        log.warn({ requestId, traceId: tracing?.traceIdOf(req), bytes: size, limit: settings.limits.maxResponseBytes }, 'response over server.limits.maxResponseBytes, not sent');
        if (observed) observed.result = 'error';
        return sendJson(res, 400, {
          errors: [
            {
              message: `The response would be ${size} bytes, over the limit (server.limits.maxResponseBytes = ${settings.limits.maxResponseBytes} bytes). Ask for fewer items or fields.`,
              extensions: { code: 'BAD_USER_INPUT', limit: 'maxResponseBytes' },
            },
          ],
        });
      }
      // Kept only when every read came from the index (none went to a vendor) and nothing failed.
      if (cacheKey && generationBefore !== undefined && context.operation.type === 'query' && res.statusCode === 200 && context.reads.wentLive?.(context.scope) === false && !response.body.string.includes('"errors":')) {
        const body = response.body.string;
        answers!.set(cacheKey, generationBefore, res.statusCode, String(res.getHeader('content-type') ?? 'application/json'), body, observed?.operation, tracing ? tracing.traceIdIndex(body) : -1);
      }
      res.end(response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
  };
  // Timed to the end of the handler, when the answer is written; a listener per response would cost more than the count.
  const counted = !metrics
    ? handle
    : async (req: IncomingMessage, res: ServerResponse) => {
        const observed = metrics.startRequest();
        try {
          await handle(req, res, observed);
        } finally {
          metrics.finishRequest(observed);
        }
      };
  if (!tracing) return counted;
  return (req: IncomingMessage, res: ServerResponse) => (isGraphQLPath(req) ? tracing.serve(req, res, counted) : counted(req, res));
}

/**
 * The listening server. `stop` stops accepting at once, lets every request already received run to
 * its end and write its whole answer (closing each connection as it goes idle), and cuts what is
 * still running after the grace period.
 */
export class HttpListener implements Service {
  readonly name = 'http';
  readonly server: Server;
  private inFlight = 0;
  private stopping = false;
  private drained: (() => void) | undefined;

  constructor(
    handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
    private readonly log: Logger,
    private readonly host: string,
    private readonly port: number,
    private readonly readinessDelayMs = 0,
  ) {
    this.server = createServer((req, res) => {
      this.inFlight += 1;
      res.once('close', () => {
        this.inFlight -= 1;
        // A keep-alive connection that just went idle would otherwise hold the drain open.
        if (this.stopping) this.server.closeIdleConnections();
        if (this.inFlight === 0) this.drained?.();
      });
      handler(req, res).catch((error: unknown) => {
        log.error({ err: { message: (error as Error)?.message } }, 'request handler failed');
        if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
        else res.end();
      });
    });
  }

  get draining(): boolean {
    return this.stopping;
  }

  /** e.g. http://127.0.0.1:4000 */
  get origin(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    // Readiness first: /readyz answers 503 while the listener still accepts, so a load balancer stops
    // sending new work before the port closes.
    if (this.readinessDelayMs > 0) {
      this.log.info({ readinessDelayMs: this.readinessDelayMs }, 'not ready any more; still accepting until the load balancer notices');
      await new Promise((resolve) => setTimeout(resolve, this.readinessDelayMs));
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
      this.log.info({ inFlight: this.inFlight, graceMs }, 'waiting for in-flight requests');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.drained = resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
      if (this.inFlight > 0) this.log.warn({ inFlight: this.inFlight }, 'grace period over; closing the remaining connections');
    }
    this.server.closeAllConnections();
    await closed;
  }
}

async function readBody(req: IncomingMessage, limit: number): Promise<{ text: string; tooLarge: boolean }> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return { text: '', tooLarge: true };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return { text: '', tooLarge: true };
    chunks.push(chunk as Buffer);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), tooLarge: false };
}

/**
 * Apollo wants a parsed JSON body. A JSON body that does not parse is answered here, with the
 * parser's own words (they name the position); other content types go to Apollo as text, and
 * Apollo answers 400 naming the content types it takes.
 */
function parseBody(text: string, contentType: string | undefined): { body: unknown } | { invalid: string } {
  if (contentType && /application\/(graphql-response\+)?json/i.test(contentType)) {
    try {
      return { body: JSON.parse(text) };
    } catch (error) {
      return { invalid: text.trim() === '' ? 'the body is empty' : (error as Error).message };
    }
  }
  return { body: text };
}

/**
 * Automatic persisted queries: a client that sends the query text with a hash that is not its
 * SHA-256 has a bug in its hashing; Apollo reports that as an error without a code. Checked here
 * so the client learns what to change. (A hash without the query text is Apollo's
 * PERSISTED_QUERY_NOT_FOUND, which APQ clients expect.)
 */
function persistedQueryMismatch(body: unknown, search: URLSearchParams): string | undefined {
  let query: unknown;
  let extensions: unknown;
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    ({ query, extensions } = body as { query?: unknown; extensions?: unknown });
  } else if (search.has('extensions')) {
    query = search.get('query') ?? undefined;
    try {
      extensions = JSON.parse(search.get('extensions')!);
    } catch {
      return undefined;
    }
  }
  const hash = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
  if (typeof query !== 'string' || typeof hash !== 'string') return undefined;
  const actual = createHash('sha256').update(query).digest('hex');
  if (actual === hash.toLowerCase()) return undefined;
  return `extensions.persistedQuery.sha256Hash (${hash.slice(0, 64)}) is not the SHA-256 of the query text (${actual}): hash the exact query string as sent (UTF-8, hex), or leave out extensions.persistedQuery.`;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}
