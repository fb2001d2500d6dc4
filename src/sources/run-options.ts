/**
 * What every source shares for listRunOptions (model/source.ts): dispatching a request to the
 * reader of its list, and paging a list that had to be read whole.
 */
import { unsupported } from '../model/errors';
import type { RequestScope, RunOptionRequest } from '../model/source';
import type { RunOptionList, RunOptionLists, RunOptionPage } from '../model/types';

export type RunOptionReaders<L extends RunOptionList> = {
  [K in L]: (scope: RequestScope, request: RunOptionRequest<K>) => Promise<RunOptionPage<RunOptionLists[K]>>;
};

/** The reader of the request's list; a list of another vendor is UNSUPPORTED_OPERATION (the graph never asks for one). */
export function readRunOptions<L extends RunOptionList, R extends RunOptionList>(
  readers: RunOptionReaders<L>,
  vendor: string,
  sourceId: string,
  scope: RequestScope,
  request: RunOptionRequest<R>,
): Promise<RunOptionPage<RunOptionLists[R]>> {
  const reader = (readers as Partial<Record<RunOptionList, (scope: RequestScope, request: RunOptionRequest) => Promise<RunOptionPage<unknown>>>>)[request.list];
  if (!reader) return Promise.reject(unsupported(`${vendor} has no ${request.list} list.`, sourceId));
  return reader(scope, request) as Promise<RunOptionPage<RunOptionLists[R]>>;
}

/** A page of a list read whole (short lists without vendor paging). */
export function pageOf<T>(items: readonly T[], offset: number, limit: number): RunOptionPage<T> {
  return { items: items.slice(offset, offset + limit), hasMore: items.length > offset + limit };
}

/** One memo key per list, project, parent and page: a request never reads the same page twice. */
export function optionMemoKey(sourceId: string, request: RunOptionRequest, extra = ''): string {
  return `${sourceId}:run-options:${request.list}:${request.projectKey.join('/')}:${request.parentId ?? ''}:${request.offset}:${request.limit}${extra}`;
}
