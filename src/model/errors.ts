/**
 * The contract's error codes (schema.graphql header) and the one error class the model, the
 * sources and the HTTP layer throw. It carries `extensions`, so graphql-js copies `code` and
 * `source` onto the GraphQL error unchanged when a resolver throws it (see locatedError).
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  UNSUPPORTED_OPERATION: 'UNSUPPORTED_OPERATION',
  RATE_LIMITED: 'RATE_LIMITED',
  UPSTREAM_UNAVAILABLE: 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_ERROR: 'UPSTREAM_ERROR',
  /**
   * Not in the contract's list, which is about vendors: the request's own time budget
   * (server.requestTimeoutMs) ran out — the gateway's limit, never a verdict on the vendor.
   */
  GATEWAY_TIMEOUT: 'GATEWAY_TIMEOUT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface GatewayErrorDetails {
  /** The Source id the error is about. */
  source?: string;
  /** The vendor's own message, when it is safe and useful to pass on (never credentials). */
  vendorMessage?: string;
  /** The vendor's HTTP status, when there was one. */
  status?: number;
  /** Seconds the vendor asked us to wait (RATE_LIMITED). */
  retryAfter?: number;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly extensions: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: GatewayErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'GatewayError';
    this.code = code;
    const extensions: Record<string, unknown> = { code };
    if (details.source !== undefined) extensions.source = details.source;
    if (details.status !== undefined) extensions.status = details.status;
    if (details.vendorMessage !== undefined) extensions.vendorMessage = details.vendorMessage;
    if (details.retryAfter !== undefined) extensions.retryAfter = details.retryAfter;
    this.extensions = extensions;
  }

  get source(): string | undefined {
    return this.extensions.source as string | undefined;
  }

  /** The same error, attributed to a source (errors raised below the source layer do not know it). */
  withSource(source: string): GatewayError {
    if (this.extensions.source === source) return this;
    const copy = new GatewayError(this.code, this.message, {
      source,
      status: this.extensions.status as number | undefined,
      vendorMessage: this.extensions.vendorMessage as string | undefined,
      retryAfter: this.extensions.retryAfter as number | undefined,
      cause: this.cause,
    });
    return copy;
  }
}

export const badInput = (message: string, source?: string) =>
  new GatewayError(ErrorCode.BAD_USER_INPUT, message, { source });

export const notFound = (message: string, source?: string) =>
  new GatewayError(ErrorCode.NOT_FOUND, message, { source });

export const unsupported = (message: string, source?: string) =>
  new GatewayError(ErrorCode.UNSUPPORTED_OPERATION, message, { source });

/** Anything a source throws that is not already a GatewayError is a bug or an unexpected payload. */
export function asGatewayError(error: unknown, source: string): GatewayError {
  if (error instanceof GatewayError) return error.withSource(source);
  return new GatewayError(ErrorCode.UPSTREAM_ERROR, 'The source answered something rungraph could not understand.', {
    source,
    cause: error,
  });
}
