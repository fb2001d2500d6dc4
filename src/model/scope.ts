/**
 * Scopes: what one unit of work — a GraphQL request, or a background job such as a sync cycle —
 * owns while it calls sources: an id for its log lines, a logger that adds it, and a memo that
 * shares one upstream read between everyone in the unit (request deduplication, like
 * RESTDataSource's). Nothing in a scope outlives the unit, and no failure is remembered at all.
 *
 * A job makes its own with `createScope` and, for a deadline, runs its calls inside
 * `withCallContext` (src/http/context.ts) — the same two things the server does per request.
 */
import type { Logger, RequestScope } from './source';

export interface ScopeOptions {
  /** The request id, or a job's name and run (e.g. `sync:tr:42`); it appears in every log line. */
  id: string;
  log: Logger;
  /** Off only in the benchmark's naive contender: every read then goes upstream. */
  memoize?: boolean;
}

export function createScope(options: ScopeOptions): RequestScope {
  const { id: requestId, log: parent } = options;
  const memoize = options.memoize ?? true;
  const memo = new Map<string, Promise<unknown>>();
  const log: Logger = {
    info: (fields, message) => parent.info({ requestId, ...fields }, message),
    warn: (fields, message) => parent.warn({ requestId, ...fields }, message),
    error: (fields, message) => parent.error({ requestId, ...fields }, message),
  };
  return {
    requestId,
    log,
    memo<T>(key: string, load: () => Promise<T>): Promise<T> {
      if (!memoize) return load();
      const known = memo.get(key);
      if (known) return known as Promise<T>;
      const promise = load();
      memo.set(key, promise);
      promise.catch(() => {
        if (memo.get(key) === promise) memo.delete(key);
      });
      return promise;
    },
    peek<T>(key: string): Promise<T> | undefined {
      return memo.get(key) as Promise<T> | undefined;
    },
  };
}
