/**
 * What an upstream call needs to know about the GraphQL request it serves, without every vendor
 * client passing it along: the request id for its log line, and the request's deadline. The server
 * runs each request inside `withCallContext`; AsyncLocalStorage carries it through every await,
 * DataLoader batch and vendor client below.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Tracer } from '@opentelemetry/api';

export interface CallContext {
  requestId: string;
  /** Epoch ms after which no new upstream call starts and running ones are cut short. */
  deadline: number;
  /**
   * `sync`: a background sync of the run index. Its calls get at most the source's budget share and
   * two requests in flight, so live reads and writes keep the rest. Absent: a client's request.
   */
  lane?: 'sync';
  /** Told of every request that leaves for the vendor (the sync counts its calls). */
  onCall?: () => void;
  /**
   * With tracing on (src/server/telemetry.ts): each request sent to a vendor becomes a client span
   * under the active span (the operation's or the sync cycle's). Absent: no span, no header, no cost.
   */
  tracer?: Tracer;
}

const storage = new AsyncLocalStorage<CallContext>();

export function withCallContext<T>(context: CallContext, work: () => T): T {
  return storage.run(context, work);
}

export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}
