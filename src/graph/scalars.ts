/**
 * DateTime: ISO 8601 in UTC with `Z` and whole seconds on the way out (decisions.md). Inside,
 * an instant is seconds since the epoch. Input may carry any offset and fractions; a string that
 * is not a full date-time with a zone is rejected at validation (BAD_USER_INPUT).
 */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

export function formatDateTime(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function parseDateTime(value: unknown): number {
  if (typeof value !== 'string' || !ISO_WITH_ZONE.test(value)) {
    throw new GraphQLError(`DateTime must be an ISO 8601 date-time with a zone, e.g. 2026-11-27T10:00:00Z (got ${JSON.stringify(value)}).`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new GraphQLError(`DateTime ${JSON.stringify(value)} is not a real instant.`, { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return ms / 1000;
}

export const DateTimeScalar = new GraphQLScalarType<number, string>({
  name: 'DateTime',
  description: 'An instant in UTC, ISO 8601 with whole seconds and a `Z`.',
  serialize: (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new GraphQLError('DateTime cannot represent a non-instant.');
    return formatDateTime(value);
  },
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) {
      throw new GraphQLError('DateTime must be a string such as "2026-11-27T10:00:00Z".', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return parseDateTime(ast.value);
  },
});
