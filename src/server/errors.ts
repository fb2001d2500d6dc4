/**
 * The one place a thrown error becomes what a client sees. Our own errors (GatewayError, and
 * GraphQL's request errors) pass through with their code; anything else is a bug: the client gets
 * INTERNAL_SERVER_ERROR without details, the log gets the rest. Stack traces never leave.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { GatewayError } from '../model/errors';
import type { Logger } from '../model/source';

export function formatError(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GatewayError) {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: original.extensions };
    }
    const code = formatted.extensions?.code;
    // graphql-js and Apollo describe a request they cannot run with an uncoded GraphQLError that
    // has no path (no resolver ran): the client's mistake, not a fault of ours.
    if (code === undefined && formatted.path === undefined && original instanceof GraphQLError && original.originalError === undefined) {
      log.info({ message: formatted.message }, 'request refused');
      return { message: formatted.message, locations: formatted.locations, extensions: { code: 'BAD_REQUEST' } };
    }
    if (code === 'INTERNAL_SERVER_ERROR' || code === undefined) {
      log.error({ err: describe(original), path: formatted.path }, 'unexpected error in a resolver');
      return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
    const { stacktrace: _drop, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  };
}

function describe(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { value: String(error) };
}
