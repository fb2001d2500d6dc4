/**
 * OpenTelemetry traces, on only when configured (`telemetry.otlpEndpoint`, or the standard
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Each /graphql request is one
 * server span, named after its operation once Apollo has resolved it (`query Dashboard`), that
 * continues an incoming W3C `traceparent`; each request sent to a vendor is a client span under it
 * (src/http/upstream.ts) and carries `traceparent` out; each sync cycle is a span of its own
 * (src/sync/sync.ts). The code below the server speaks only `@opentelemetry/api`, handed a tracer
 * through the call context, so with tracing off there is no span, no header and no context switch.
 *
 * Each gateway has its own tracer provider (tests start several in one process, each with its own
 * exporter); what OpenTelemetry keeps per process — the context manager that lets a vendor call
 * find its operation's span across awaits and DataLoader batches, the propagator, the diagnostics
 * logger — is registered once, by the first gateway that traces, and left to an embedding
 * application that registered its own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  diag,
  DiagLogLevel,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Tracer,
} from '@opentelemetry/api';
import type { ApolloServerPlugin } from '@apollo/server';
import type { BasicTracerProvider, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { GraphContext } from '../graph/context';
import type { Logger } from '../model/source';
import type { TelemetryConfig } from './config';
import type { Service } from './lifecycle';

/** What startGateway takes: where spans go, and how they are named and sampled. */
export interface TracingOptions {
  /** OTLP/HTTP collector (its /v1/traces is added unless the URL already ends so). */
  otlpEndpoint?: string;
  /** Export over OTLP to what the OTEL_EXPORTER_OTLP_* variables say (the exporter reads them). */
  otlpFromEnvironment?: boolean;
  /** Further destinations, e.g. a SimpleSpanProcessor over an InMemorySpanExporter in tests. */
  spanProcessors?: SpanProcessor[];
  serviceName?: string;
  sampleRatio?: number;
}

/**
 * The config section and the environment, read the way OpenTelemetry's SDKs read them: tracing is
 * on with an endpoint from either; OTEL_SDK_DISABLED=true turns it off; OTEL_SERVICE_NAME names
 * the service unless the config does. Undefined: tracing off.
 */
export function tracingOptions(config: TelemetryConfig, env: NodeJS.ProcessEnv = process.env): TracingOptions | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const fromEnvironment = Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
  if (!config.otlpEndpoint && !fromEnvironment) return undefined;
  return {
    ...(config.otlpEndpoint ? { otlpEndpoint: config.otlpEndpoint } : { otlpFromEnvironment: true }),
    serviceName: config.serviceName ?? (env.OTEL_SERVICE_NAME?.trim() || 'rungraph'),
    sampleRatio: config.sampleRatio,
  };
}

/**
 * Tracing is on when the options name a destination. The SDK is loaded only then (about 90 ms of
 * start-up that a gateway without tracing does not pay).
 */
export async function createTracing(options: TracingOptions | undefined, log: Logger): Promise<Tracing | undefined> {
  if (!options) return undefined;
  const processors = [...(options.spanProcessors ?? [])];
  if (options.otlpEndpoint || options.otlpFromEnvironment) {
    const [{ BatchSpanProcessor }, { OTLPTraceExporter }] = await Promise.all([import('@opentelemetry/sdk-trace-base'), import('@opentelemetry/exporter-trace-otlp-http')]);
    const url = options.otlpEndpoint && (/\/v1\/traces$/.test(options.otlpEndpoint) ? options.otlpEndpoint : `${options.otlpEndpoint}/v1/traces`);
    // An export, its retries included, ends within EXPORT_LIMIT_MS, so stopping never waits on a collector that does not answer.
    processors.push(new BatchSpanProcessor(new OTLPTraceExporter({ ...(url ? { url } : {}), timeoutMillis: EXPORT_LIMIT_MS })));
  }
  if (processors.length === 0) return undefined;
  const [{ AlwaysOnSampler, BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ]);
  await registerProcessWide(log);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'rungraph' }),
    // A caller's sampling decision (the traceparent's flag) wins; new traces are sampled by ratio.
    sampler: new ParentBasedSampler({ root: (options.sampleRatio ?? 1) >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(options.sampleRatio) }),
    spanProcessors: processors,
  });
  return new Tracing(provider, log);
}

/** How long one export may take, retries included, and stopping wait for the last spans to reach the collector. */
const EXPORT_LIMIT_MS = 4_000;
const FLUSH_LIMIT_MS = 5_000;

export class Tracing implements Service {
  readonly name = 'tracing';
  readonly tracer: Tracer;
  /** The Apollo plugin that names the operation span and puts the trace id in `extensions`. */
  readonly plugin: ApolloServerPlugin<GraphContext> = operationSpanPlugin;

  constructor(
    private readonly provider: BasicTracerProvider,
    private readonly log: Logger,
  ) {
    this.tracer = provider.getTracer('rungraph');
  }

  /**
   * Runs one /graphql request with its server span, continuing the caller's trace if it sent one.
   * The span's context is entered only around the request's execution (`within`), not around the
   * whole handler: a kept answer, which calls nothing, then skips the context switch and the
   * async-context bookkeeping it would cost every promise.
   */
  async serve(req: IncomingMessage, res: ServerResponse, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<void> {
    const parent = req.headers.traceparent === undefined ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, req.headers);
    const span = this.tracer.startSpan(
      `${req.method} /graphql`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'http.route': '/graphql', 'url.path': '/graphql', 'url.scheme': 'http' } },
      parent,
    );
    requestContexts.set(req, trace.setSpan(parent, span));
    try {
      await handle(req, res);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    } catch (error) {
      span.setAttribute('error.type', (error as Error)?.name ?? '_OTHER');
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  }

  /**
   * Where an answer's trace id digits start, for a kept answer (answers.ts) to carry each request's
   * own. `extensions` is the last member of an Apollo answer and the plugin adds `traceId` last, so
   * the last `"traceId":"` is it (a data key of that name, an alias, would come before it; a string
   * value would have its quotes escaped). -1 when there is none.
   */
  /** The request's trace id, for a log line written outside `within`. */
  traceIdOf(req: IncomingMessage): string | undefined {
    const ctx = requestContexts.get(req);
    const spanContext = ctx && trace.getSpan(ctx)?.spanContext();
    return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
  }

  /** Runs the request's execution in its span's context: its vendor calls' spans are children, its log lines name the trace. */
  within<T>(req: IncomingMessage, work: () => T): T {
    const ctx = requestContexts.get(req);
    return ctx ? context.with(ctx, work) : work();
  }

  /** Where the trace id digits of an answer start (see endKept), or -1. */
  traceIdIndex(body: string): number {
    const at = body.lastIndexOf(TRACE_ID_KEY);
    return at < 0 ? -1 : at + TRACE_ID_KEY.length;
  }

  /**
   * Sends a kept answer with this request's trace id in place of the one it was kept with: the
   * parts around the id go as they are and the id between them, corked into one write (profiled
   * cheaper than writing over a 10 KB copy, which allocates a fresh buffer every request).
   */
  endKept(req: IncomingMessage, res: ServerResponse, body: Buffer, traceIdAt: number): void {
    const ctx = requestContexts.get(req);
    const span = ctx && trace.getSpan(ctx);
    const traceId = span?.spanContext().traceId;
    if (!span || !traceId || !isSpanContextValid(span.spanContext())) return void res.end(body);
    span.setAttribute('rungraph.answer', 'kept');
    res.cork();
    res.write(body.subarray(0, traceIdAt));
    res.write(Buffer.from(traceId, 'latin1'));
    res.end(body.subarray(traceIdAt + 32));
  }

  async stop(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      this.provider.shutdown().then(
        () => true,
        () => false,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), FLUSH_LIMIT_MS))),
    ]);
    clearTimeout(timer);
    if (!flushed) this.log.warn({ limitMs: FLUSH_LIMIT_MS }, 'tracing: the last spans could not be sent to the collector and are lost');
  }
}

const TRACE_ID_KEY = '"traceId":"';

/** Each traced request's context (its server span), for `within` and `endKept`. */
const requestContexts = new WeakMap<IncomingMessage, Context>();

/**
 * The server span becomes the operation span: named `<type> <name>` (GraphQL semantic
 * conventions), with the outcome — `ok`, `partial` (data and errors: a source failed) or `error`
 * (no data) — and the error codes. Listed after the partial-failures plugin, so its errors count.
 * The trace id goes into `extensions.traceId` for the client to quote.
 */
const operationSpanPlugin: ApolloServerPlugin<GraphContext> = {
  async requestDidStart() {
    const span = trace.getActiveSpan();
    if (!span) return;
    return {
      async didResolveOperation({ operation }) {
        if (!operation) return;
        const type = operation.operation;
        const name = operation.name?.value;
        span.updateName(name ? `${type} ${name}` : type);
        span.setAttribute('graphql.operation.type', type);
        if (name) span.setAttribute('graphql.operation.name', name);
      },
      async willSendResponse({ response }) {
        if (response.body.kind !== 'single') return;
        const result = response.body.singleResult;
        const errors = result.errors ?? [];
        const outcome = errors.length === 0 ? 'ok' : result.data == null ? 'error' : 'partial';
        span.setAttribute('rungraph.graphql.result', outcome);
        if (errors.length > 0) {
          span.setAttribute('rungraph.graphql.errors', errors.length);
          span.setAttribute('rungraph.graphql.error_codes', [...new Set(errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))]);
        }
        if (outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
        const traceId = span.spanContext().traceId;
        result.extensions = { ...result.extensions, traceId };
      },
    };
  },
};

/** One registration per process; gateways started at once all wait for it. */
let registration: Promise<void> | undefined;

function registerProcessWide(log: Logger): Promise<void> {
  registration ??= register(log);
  return registration;
}

async function register(log: Logger): Promise<void> {
  const [{ AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }] = await Promise.all([import('@opentelemetry/context-async-hooks'), import('@opentelemetry/core')]);
  // Each returns false, and changes nothing, when the embedding application registered its own.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // The SDK reports export failures (collector down, refused) through diag; one line a minute is enough.
  let last = 0;
  const report = (message: string) => {
    if (Date.now() - last < 60_000) return;
    last = Date.now();
    log.warn({ component: 'opentelemetry' }, `tracing: ${message.slice(0, 500)}`);
  };
  diag.setLogger(
    { error: report, warn: report, info: () => undefined, debug: () => undefined, verbose: () => undefined },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

/** Only GraphQL requests are traced: the probes (/healthz, /readyz) and the explorer's assets are not. */
export function isGraphQLPath(req: IncomingMessage): boolean {
  const url = req.url ?? '/';
  return url === '/graphql' || url.startsWith('/graphql?');
}
