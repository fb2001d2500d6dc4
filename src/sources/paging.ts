/**
 * Walking a vendor's paged list, the same for every vendor: each client says how one page is read
 * and where the next one starts (TestRail `_links.next`, QAComplete `offset` against `total`,
 * Enterprise Tester `$skip` against `Total`); the walk, its end and its guard live here.
 */
import { ErrorCode, GatewayError } from '../model/errors';

/**
 * Pages one walk reads at most. A vendor that keeps announcing a next page past this (a server bug,
 * or a proxy answering the same page for every offset) is an UPSTREAM_ERROR, never an endless loop.
 */
export const MAX_PAGES = 10_000;

export interface Page<T> {
  items: T[];
  /** Where the next page starts; null when this one was the last. */
  next: number | null;
}

/**
 * Every item from `offset` on, page by page, stopping before `end` when given (the part from there
 * is already read).
 */
export async function readAllPages<T>(
  route: string,
  sourceId: string,
  read: (offset: number) => Promise<Page<T>>,
  offset = 0,
  end = Infinity,
): Promise<T[]> {
  const items: T[] = [];
  let next: number | null = offset;
  for (let page = 0; page < MAX_PAGES && next !== null; page++) {
    if (next >= end) return items;
    const answer = await read(next);
    items.push(...answer.items);
    next = answer.next;
  }
  if (next !== null) throw new GatewayError(ErrorCode.UPSTREAM_ERROR, `${route} kept announcing more pages.`, { source: sourceId });
  return items;
}

/**
 * `work` for every item, at most `limit` at a time (a feed reads a few projects at once). After the
 * first failure no new item starts; the ones running finish, and the first failure is thrown.
 */
export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
