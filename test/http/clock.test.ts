/**
 * Vendor timeouts measure the vendor (src/http/clock.ts). The vendor here runs in a worker thread,
 * so it answers on time while the gateway's own thread is blocked — the situation in which a plain
 * timer would blame the vendor for the gateway's stall.
 */
import { Worker } from 'node:worker_threads';
import { VendorConnection, type Upstream } from '../../src/http/upstream';
import { withCallContext } from '../../src/http/context';
import { ErrorCode, GatewayError } from '../../src/model/errors';

/** An HTTP server in its own thread that answers every request after `delayMs` (from the URL: /?delay=N). */
const VENDOR = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const server = http.createServer((req, res) => {
  const delay = Number(new URL(req.url, 'http://x').searchParams.get('delay') ?? 0);
  setTimeout(() => res.end(JSON.stringify({ ok: true, delay })), delay);
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;

const quiet = { info() {}, warn() {}, error() {} };

describe('vendor timeouts', () => {
  let worker: Worker;
  let connection: VendorConnection;
  let upstream: Upstream;
  beforeAll(async () => {
    worker = new Worker(VENDOR, { eval: true });
    const port = await new Promise<number>((resolve) => worker.once('message', resolve));
    connection = new VendorConnection({ sourceId: 'v', log: quiet, policy: { timeoutMs: 400, maxRetries: 0 } });
    upstream = connection.api({ baseUrl: `http://127.0.0.1:${port}`, headers: {} });
  });
  afterAll(async () => {
    await connection.close();
    worker.postMessage('stop');
    await new Promise((resolve) => worker.once('exit', resolve));
  });

  function blockThisThread(ms: number): void {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      // the gateway busy with something else: no timer, no socket is served meanwhile
    }
  }

  test('a vendor that answered in time is not reported as unavailable when the gateway itself stalled', async () => {
    const call = upstream.send({ method: 'GET', path: '/?delay=50', route: 'r' });
    // The answer arrives after 50 ms; the gateway is busy from 20 ms to 1,220 ms, three times the
    // timeout — in the check phase, as after an I/O callback, so the next turn of the loop runs the
    // due timers before it reads the socket that holds the answer.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setImmediate(resolve));
    blockThisThread(1200);
    const response = await call;
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toEqual({ ok: true, delay: 50 });
  });

  test('a vendor that really is slower than timeoutMs is UPSTREAM_UNAVAILABLE, naming the timeout', async () => {
    const started = Date.now();
    const error = await upstream.send({ method: 'GET', path: '/?delay=1500', route: 'slow' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
    expect((error as GatewayError).message).toBe('v did not answer slow within 400 ms.');
    expect(Date.now() - started).toBeLessThan(1400);
  });

  test('a stall does not stretch the vendor\'s time without end: its own slowness still times out', async () => {
    const call = upstream.send({ method: 'GET', path: '/?delay=3000', route: 'slow' }).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setImmediate(resolve));
    blockThisThread(600);
    const error = (await call) as GatewayError;
    expect(error.code).toBe(ErrorCode.UPSTREAM_UNAVAILABLE);
  });

  test('the request\'s own deadline is the gateway\'s timeout (GATEWAY_TIMEOUT), not the vendor\'s fault', async () => {
    const error = (await withCallContext({ requestId: 't', deadline: Date.now() + 150 }, () =>
      upstream.send({ method: 'GET', path: '/?delay=1000', route: 'r' }).catch((e: unknown) => e),
    )) as GatewayError;
    expect(error.code).toBe(ErrorCode.GATEWAY_TIMEOUT);
    expect(error.message).toMatch(/^This request used up its time budget \(server\.requestTimeoutMs; it ended \d+ ms ago\) while v was answering r\.$/);
    expect(error.extensions.source).toBe('v');
    // The vendor's health is not judged by the gateway's budget.
    expect(connection.traffic.breaker.state).not.toBe('open');
  });

  test('a call started after the deadline is not sent', async () => {
    const error = (await withCallContext({ requestId: 't', deadline: Date.now() - 1 }, () =>
      upstream.send({ method: 'GET', path: '/?delay=0', route: 'r' }).catch((e: unknown) => e),
    )) as GatewayError;
    expect(error.code).toBe(ErrorCode.GATEWAY_TIMEOUT);
    expect(error.message).toMatch(/before v could be asked \(r\)/);
  });
});
