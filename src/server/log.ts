/**
 * Structured logs: JSON lines (pino) on stderr, so stdout stays for what a person reads (the demo
 * banner). Credentials never reach a log call; the redact list is a second line of defence for
 * field names that could carry one.
 */
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream } from 'pino';
import type { Logger } from '../model/source';

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      base: { service: 'rungraph' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // With tracing on, every line written inside a request or a sync cycle names its trace.
      // (A new object each time: pino merges the line's fields into it.)
      mixin: () => {
        const traceId = activeTraceId();
        return traceId ? { traceId } : {};
      },
    },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** The active span's trace id, if there is one (tracing on, inside a request or a sync cycle). */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const spanContext = span.spanContext();
  return isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** For tests and tools that want silence. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
