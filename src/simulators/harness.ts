/**
 * What every vendor simulator shares: a real HTTP server on loopback, per-route request
 * counters, a log of what arrived, injected latency and injected faults. A vendor simulator only
 * says how to name a request's route and how to answer it (see testrail/server.ts).
 *
 * Faults are matched in the order they were injected; each fires `times` times (default once)
 * and then disappears, so a test that injects one fault cannot leak it into the next.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SimRequest {
  method: string;
  /** The raw request target, e.g. `/index.php?/api/v2/get_runs/1&limit=250`. */
  target: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is; undefined as an empty body. */
  body?: unknown;
}

export interface Fault {
  /** Route name (as `routeOf` names it) or pattern; omitted = every route. */
  route?: string | RegExp;
  /** How many requests it applies to; default 1. */
  times?: number;
  /** Wait this long before doing anything else. */
  delayMs?: number;
  /** Destroy the socket without an answer (a connection reset). */
  reset?: boolean;
  /** Answer 200 with a body that is not valid JSON. */
  malformed?: boolean;
  /** Answer with this status (and optional body and headers) instead of the real handler. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface LoggedRequest {
  method: string;
  route: string;
  target: string;
  body: string;
  /** True when a fault answered instead of the real handler (the request changed nothing). */
  faulted: boolean;
  /** When it arrived (epoch ms). */
  at: number;
  /** The W3C trace context the caller sent, if any (tests of tracing follow it across the call). */
  traceparent?: string;
}

export interface SimulatorOptions {
  name: string;
  /** The route name requests are counted under, e.g. `GET get_runs`. */
  routeOf(request: SimRequest): string;
  handle(request: SimRequest): SimResponse | Promise<SimResponse>;
}

interface ActiveFault extends Fault {
  remaining: number;
}

export class SimulatorServer {
  readonly name: string;
  /** Added to every request, to model a vendor's network distance. */
  latencyMs = 0;
  readonly log: LoggedRequest[] = [];
  private readonly counts = new Map<string, number>();
  private faults: ActiveFault[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private url = '';

  constructor(private readonly options: SimulatorOptions) {
    this.name = options.name;
  }

  /** Starts on 127.0.0.1 (port 0 = a free one) and resolves to the server's origin. */
  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => void this.onRequest(req, res));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const { port: actual } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${actual}`;
    return this.url;
  }

  get origin(): string {
    if (!this.url) throw new Error(`${this.name} simulator is not started`);
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Requests received for a route (all routes when omitted), faulted ones included. */
  count(route?: string | RegExp): number {
    let total = 0;
    for (const [name, n] of this.counts) if (matches(route, name)) total += n;
    return total;
  }

  countsByRoute(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  resetCounts(): void {
    this.counts.clear();
    this.log.length = 0;
  }

  private takeFault(route: string): ActiveFault | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && matches(f.route, route));
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.faults = this.faults.filter((f) => f.remaining > 0);
    return fault;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: SimRequest = { method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
    let route: string;
    try {
      route = this.options.routeOf(request);
    } catch {
      route = `${request.method} ?`;
    }
    this.counts.set(route, (this.counts.get(route) ?? 0) + 1);
    const fault = this.takeFault(route);
    this.log.push({ method: request.method, route, target: request.target, body: request.body.toString('utf8'), faulted: Boolean(fault && (fault.reset || fault.malformed || fault.status)), at: Date.now(), traceparent: header(req.headers.traceparent) });
    if (this.log.length > 5_000) this.log.splice(0, this.log.length - 5_000);

    const delay = this.latencyMs + (fault?.delayMs ?? 0);
    if (delay > 0) await sleep(delay);
    if (res.destroyed) return;

    if (fault?.reset) {
      req.socket.destroy();
      return;
    }
    if (fault?.malformed) {
      send(res, { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"truncated": [1, 2' });
      return;
    }
    if (fault?.status) {
      send(res, { status: fault.status, headers: { 'content-type': 'application/json; charset=utf-8', ...fault.headers }, body: fault.body ?? '' });
      return;
    }
    try {
      send(res, await this.options.handle(request));
    } catch (error) {
      send(res, { status: 500, body: { error: `simulator bug: ${(error as Error).message}` } });
    }
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function matches(pattern: string | RegExp | undefined, route: string): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === 'string' ? pattern === route : pattern.test(route);
}

function send(res: ServerResponse, response: SimResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload: string | Buffer = '';
  if (typeof response.body === 'string' || Buffer.isBuffer(response.body)) payload = response.body;
  else if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(response.status, headers);
  res.end(payload);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Decodes `Authorization: Basic …`; null when absent or malformed. */
export function basicCredentials(headers: IncomingMessage['headers']): { username: string; password: string } | null {
  const value = headers.authorization;
  if (!value || !/^basic /i.test(value)) return null;
  const decoded = Buffer.from(value.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * The most timestamps (e.g. a simulator log's `at`) in any window `[t, t + windowMs)`: what a
 * vendor counting requests per window would see at its busiest. A densest window always starts at
 * one of them.
 */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (j < i) j = i;
    while (j < sorted.length && sorted[j] - sorted[i] < windowMs) j++;
    best = Math.max(best, j - i);
  }
  return best;
}
