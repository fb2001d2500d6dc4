/**
 * OpenTelemetry traces through real HTTP against the three simulators, collected by the SDK's
 * in-memory exporter: one operation span per GraphQL request that continues the caller's
 * traceparent, one client span per request a simulator received (counted by the simulators) with
 * `traceparent` sent to it, a retried call as two spans, a span per sync cycle, the trace id in
 * log lines and in `extensions`, no credential in any span; and with tracing off none of it. The
 * OTLP path is checked against a collector on loopback that records what it is sent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { DEFAULT_TELEMETRY } from '../../src/server/config';
import { tracingOptions } from '../../src/server/telemetry';
import type { SimulatorServer } from '../../src/simulators/harness';
import { operation, startStack, watched, type Stack } from '../support/stack';

const PROJECTS = '{ projects { nodes { id name source { id } } } }';

function incomingTrace(sampled = true) {
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');
  return { traceId, parentSpanId, traceparent: `00-${traceId}-${parentSpanId}-${sampled ? '01' : '00'}` };
}

/** The spans of one trace, once its server span has ended (it ends just after the answer is written). */
async function traceOf(exporter: InMemorySpanExporter, traceId: string): Promise<{ server: ReadableSpan; clients: ReadableSpan[]; all: ReadableSpan[] }> {
  for (let i = 0; i < 200; i++) {
    const all = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const servers = all.filter((s) => s.kind === SpanKind.SERVER);
    if (servers.length > 0) {
      expect(servers).toHaveLength(1);
      return { server: servers[0], clients: all.filter((s) => s.kind === SpanKind.CLIENT), all };
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no server span for trace ${traceId}`);
}

const sims = (stack: Stack): Record<string, SimulatorServer> => ({ tr: stack.testrail!.server, qac: stack.qacomplete!.server, et: stack.enterpriseTester!.server });

describe('tracing on, three sources, live reads', () => {
  const exporter = new InMemorySpanExporter();
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ qacomplete: {}, enterpriseTester: {}, telemetry: { spanProcessors: [new SimpleSpanProcessor(exporter)] } });
  });
  afterAll(() => stack.stop());
  beforeEach(() => {
    exporter.reset();
    for (const sim of Object.values(sims(stack))) sim.resetCounts();
  });
  afterEach(() => {
    for (const sim of Object.values(sims(stack))) sim.clearFaults();
  });

  test('a cross-source query: one operation span continuing the caller\'s trace, one child per vendor request, traceparent at every vendor', async () => {
    const incoming = incomingTrace();
    const res = await stack.gql(operation('Dashboard'), { first: 10 }, { traceparent: incoming.traceparent });
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.extensions.traceId).toBe(incoming.traceId);

    const { server, clients, all } = await traceOf(exporter, incoming.traceId);
    expect(server.name).toBe('query Dashboard');
    expect(server.parentSpanContext?.spanId).toBe(incoming.parentSpanId);
    expect(server.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'Dashboard',
      'rungraph.graphql.result': 'ok',
      'http.request.method': 'POST',
      'http.response.status_code': 200,
    });
    expect(server.status.code).not.toBe(SpanStatusCode.ERROR);
    // Nothing else in the trace: the operation span and its vendor calls.
    expect(all.length).toBe(1 + clients.length);

    // One client span per request each simulator received, per source.
    const bySource = (id: string) => clients.filter((s) => s.attributes['rungraph.source'] === id);
    for (const [id, sim] of Object.entries(sims(stack))) {
      expect({ id, spans: bySource(id).length }).toEqual({ id, spans: sim.count() });
      expect(sim.count()).toBeGreaterThan(0);
      const port = Number(new URL(sim.origin).port);
      for (const span of bySource(id)) {
        expect(span.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
        expect(span.attributes).toMatchObject({ 'server.address': '127.0.0.1', 'server.port': port, 'http.response.status_code': 200 });
        expect(span.name).toBe(`${span.attributes['http.request.method']} ${span.attributes['url.template']}`);
        expect(span.attributes['http.request.resend_count']).toBeUndefined();
      }
      // Each request carried the trace and the span id of its own client span.
      const sent = sim.log.map((r) => r.traceparent);
      expect(sent.every((t) => t?.startsWith(`00-${incoming.traceId}-`) && t.endsWith('-01'))).toBe(true);
      expect(new Set(sent.map((t) => t!.split('-')[2]))).toEqual(new Set(bySource(id).map((s) => s.spanContext().spanId)));
    }
    expect(clients.length).toBe(Object.values(sims(stack)).reduce((n, sim) => n + sim.count(), 0));

    // The request's log lines name its trace, the vendor calls' lines included.
    const requestId = res.headers.get('x-request-id');
    const lines = stack.logs.map((l) => JSON.parse(l)).filter((l) => l.requestId === requestId);
    expect(lines.filter((l) => l.msg === 'upstream call')).toHaveLength(clients.length);
    expect(lines.every((l) => l.traceId === incoming.traceId)).toBe(true);
  });

  test('a read retried after a 503 is two client spans: the 503, then the resend with http.request.resend_count 1', async () => {
    stack.testrail!.server.injectFault({ route: 'GET get_projects', status: 503, times: 1 });
    const incoming = incomingTrace();
    const res = await stack.gql(PROJECTS, undefined, { traceparent: incoming.traceparent });
    expect(res.body.errors).toBeUndefined();
    const { server, clients } = await traceOf(exporter, incoming.traceId);
    expect(server.name).toBe('query');
    const calls = clients.filter((s) => s.attributes['rungraph.source'] === 'tr' && s.attributes['url.template'] === 'get_projects');
    expect(stack.testrail!.server.count('GET get_projects')).toBe(2);
    expect(calls).toHaveLength(2);
    const [first, second] = [...calls].sort((a, b) => Number(a.attributes['http.request.resend_count'] ?? 0) - Number(b.attributes['http.request.resend_count'] ?? 0));
    expect(first.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(first.attributes['http.request.resend_count']).toBeUndefined();
    expect(first.status.code).toBe(SpanStatusCode.ERROR);
    expect(second.attributes).toMatchObject({ 'http.response.status_code': 200, 'http.request.resend_count': 1 });
    expect(second.status.code).not.toBe(SpanStatusCode.ERROR);
    for (const span of calls) expect(span.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    const sent = stack.testrail!.server.log.filter((r) => r.route === 'GET get_projects').map((r) => r.traceparent!.split('-')[2]);
    expect(new Set(sent)).toEqual(new Set(calls.map((s) => s.spanContext().spanId)));
  });

  test('a source that keeps failing: the operation span says partial and names the code; the failed call\'s span says why', async () => {
    stack.enterpriseTester!.server.injectFault({ status: 401, times: 100 });
    const incoming = incomingTrace();
    const res = await stack.gql(PROJECTS, undefined, { traceparent: incoming.traceparent });
    expect(res.body.data.projects.nodes.length).toBeGreaterThan(0);
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const { server, clients } = await traceOf(exporter, incoming.traceId);
    expect(server.attributes).toMatchObject({ 'rungraph.graphql.result': 'partial', 'rungraph.graphql.errors': 1, 'rungraph.graphql.error_codes': ['UNAUTHENTICATED'] });
    const failed = clients.filter((s) => s.attributes['rungraph.source'] === 'et');
    expect(failed.length).toBe(stack.enterpriseTester!.server.count());
    for (const span of failed) {
      expect(span.attributes).toMatchObject({ 'http.response.status_code': 401, 'error.type': '401' });
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
    }
  });

  test('without a traceparent the request starts a trace of its own, and says which in extensions.traceId', async () => {
    const res = await stack.gql(PROJECTS);
    const traceId = res.body.extensions.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const { server, clients } = await traceOf(exporter, traceId);
    expect(server.parentSpanContext).toBeUndefined();
    expect(clients.length).toBe(Object.values(sims(stack)).reduce((n, sim) => n + sim.count(), 0));
    const again = await stack.gql(PROJECTS);
    expect(again.body.extensions.traceId).not.toBe(traceId);
  });

  test('a caller that did not sample its trace: the trace id is continued and sent on, nothing is recorded', async () => {
    const incoming = incomingTrace(false);
    const res = await stack.gql(PROJECTS, undefined, { traceparent: incoming.traceparent });
    expect(res.body.extensions.traceId).toBe(incoming.traceId);
    expect(stack.testrail!.server.log.every((r) => r.traceparent?.startsWith(`00-${incoming.traceId}-`) && r.traceparent.endsWith('-00'))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === incoming.traceId)).toEqual([]);
  });

  test('no span attribute or status holds a credential, a URL or a query string', async () => {
    stack.testrail!.server.injectFault({ route: 'GET get_projects', status: 503, times: 1 });
    await stack.gql(operation('Dashboard'), { first: 5 }, { traceparent: incomingTrace().traceparent });
    await stack.gql(PROJECTS);
    const spans = exporter.getFinishedSpans();
    expect(spans.length).toBeGreaterThan(5);
    const text = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, status: s.status, events: s.events })));
    const secrets = watched.flatMap((w) => w.secrets);
    expect(secrets.length).toBeGreaterThan(3);
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
    expect(text).not.toMatch(/authorization|url\.full|https?:\/\/|\?/i);
  });
});

describe('tracing with the run index', () => {
  const exporter = new InMemorySpanExporter();
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ index: { refreshSeconds: 3600 }, telemetry: { spanProcessors: [new SimpleSpanProcessor(exporter)] } });
  });
  afterAll(() => stack.stop());

  test('each sync cycle is a root span with its kind, source, outcome and calls; its vendor calls are its children', async () => {
    const backfill = exporter.getFinishedSpans().find((s) => s.name === 'sync backfill');
    expect(backfill).toBeDefined();
    const sim = stack.testrail!.server;
    const children = (span: ReadableSpan) => exporter.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId);
    expect(backfill!.parentSpanContext).toBeUndefined();
    expect(backfill!.attributes).toMatchObject({ 'rungraph.source': 'tr', 'rungraph.sync.cycle': 'backfill', 'rungraph.sync.outcome': 'ok', 'rungraph.sync.calls': sim.count() });
    expect(children(backfill!)).toHaveLength(sim.count());
    expect(sim.log.every((r) => r.traceparent?.startsWith(`00-${backfill!.spanContext().traceId}-`))).toBe(true);

    sim.resetCounts();
    await stack.gateway.syncs.get('tr')!.cycleNow();
    const refresh = exporter.getFinishedSpans().find((s) => s.name === 'sync refresh');
    expect(refresh!.attributes).toMatchObject({ 'rungraph.sync.cycle': 'refresh', 'rungraph.sync.outcome': 'ok', 'rungraph.sync.calls': sim.count() });
    expect(children(refresh!)).toHaveLength(sim.count());
    expect(refresh!.spanContext().traceId).not.toBe(backfill!.spanContext().traceId);
  });

  test('a failed cycle is an error span naming the code', async () => {
    stack.testrail!.server.injectFault({ status: 401, times: 100 });
    try {
      await stack.gateway.syncs.get('tr')!.cycleNow();
    } finally {
      stack.testrail!.server.clearFaults();
    }
    const failed = exporter.getFinishedSpans().filter((s) => s.name === 'sync refresh' && s.attributes['rungraph.sync.outcome'] === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].attributes['error.type']).toBe('UNAUTHENTICATED');
    expect(failed[0].status.code).toBe(SpanStatusCode.ERROR);
    const line = stack.logs.map((l) => JSON.parse(l)).find((l) => l.msg?.startsWith('run index refresh failed'));
    expect(line.traceId).toBe(failed[0].spanContext().traceId);
  });

  test('a kept answer (no vendor call) carries the trace id of the request it answers, not of the one that computed it', async () => {
    const ids: string[] = [];
    let kept = false;
    for (let i = 0; i < 3; i++) {
      const incoming = incomingTrace();
      const res = await stack.gql(PROJECTS, undefined, { traceparent: incoming.traceparent });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.extensions.traceId).toBe(incoming.traceId);
      ids.push(incoming.traceId);
      if (res.headers.get('x-rungraph-answer') === 'kept') {
        kept = true;
        const { server, clients } = await traceOf(exporter, incoming.traceId);
        expect(server.attributes['rungraph.answer']).toBe('kept');
        expect(clients).toEqual([]);
      }
    }
    expect(kept).toBe(true);
  });
});

describe('tracing off (the default)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({});
  });
  afterAll(() => stack.stop());

  test('no traceId in extensions, no traceparent sent to vendors, none in the log lines, even when the caller sends one', async () => {
    const incoming = incomingTrace();
    const res = await stack.gql(PROJECTS, undefined, { traceparent: incoming.traceparent });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.extensions?.traceId).toBeUndefined();
    expect(stack.testrail!.server.log.length).toBeGreaterThan(0);
    expect(stack.testrail!.server.log.every((r) => r.traceparent === undefined)).toBe(true);
    expect(stack.logs.some((l) => l.includes('traceId'))).toBe(false);
  });
});

describe('OTLP export', () => {
  let collector: Server;
  const received: Array<{ path: string; type: string; body: string }> = [];
  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    collector.closeAllConnections();
    return new Promise<void>((resolve) => collector.close(() => resolve()));
  });

  test('telemetry.otlpEndpoint sends the spans to the collector\'s /v1/traces, flushed when the gateway stops', async () => {
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const options = tracingOptions({ ...DEFAULT_TELEMETRY, otlpEndpoint: endpoint, serviceName: 'rungraph-test' }, {});
    const stack = await startStack({ telemetry: options });
    const res = await stack.gql(operation('Projects'));
    const traceId = res.body.extensions.traceId;
    await stack.stop();
    const traces = received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    const body = traces.map((r) => r.body).join('\n');
    expect(body).toContain(traceId);
    expect(body).toContain('rungraph-test');
    expect(body).toContain('query Projects');
  });

  test('a collector that cannot be reached costs no request: answers as usual, traceId included, and the gateway stops', async () => {
    // A port that was free a moment ago and has nothing listening now.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const stack = await startStack({ telemetry: tracingOptions({ ...DEFAULT_TELEMETRY, otlpEndpoint: `http://127.0.0.1:${port}` }, {}) });
    for (let i = 0; i < 3; i++) {
      const res = await stack.gql(PROJECTS);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.extensions.traceId).toMatch(/^[0-9a-f]{32}$/);
    }
    await stack.stop();
  });
});

describe('when tracing is on', () => {
  test('an endpoint in the config or the standard variables turns it on; OTEL_SDK_DISABLED turns it off; OTEL_SERVICE_NAME names it unless the config does', () => {
    expect(tracingOptions(DEFAULT_TELEMETRY, {})).toBeUndefined();
    expect(tracingOptions({ ...DEFAULT_TELEMETRY, otlpEndpoint: 'http://c:4318' }, {})).toEqual({ otlpEndpoint: 'http://c:4318', serviceName: 'rungraph', sampleRatio: 1 });
    expect(tracingOptions(DEFAULT_TELEMETRY, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'qa-graph' })).toEqual({ otlpFromEnvironment: true, serviceName: 'qa-graph', sampleRatio: 1 });
    expect(tracingOptions(DEFAULT_TELEMETRY, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toMatchObject({ otlpFromEnvironment: true });
    expect(tracingOptions({ ...DEFAULT_TELEMETRY, serviceName: 'mine' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'theirs' })?.serviceName).toBe('mine');
    expect(tracingOptions({ ...DEFAULT_TELEMETRY, otlpEndpoint: 'http://c:4318' }, { OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  });
});
