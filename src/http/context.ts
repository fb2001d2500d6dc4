/**
 * What an upstream call needs to know about the GraphQL request it serves, without every vendor
 * client passing it along: the request id for its log line, and the request's deadline. The server
 * runs each request inside `withCallContext`; AsyncLocalStorage carries it through every await,
 * DataLoader batch and vendor client below.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CallContext {
  requestId: string;
  /** Epoch ms after which no new upstream call starts and running ones are cut short. */
  deadline: number;
}

const storage = new AsyncLocalStorage<CallContext>();

export function withCallContext<T>(context: CallContext, work: () => T): T {
  return storage.run(context, work);
}

export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}
