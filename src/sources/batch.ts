/**
 * Looking up a batch of objects by key (Source.getRuns) where the vendor reads them one by one or
 * lists a whole group (a project's runs), and nothing in between: a get per key, until a group
 * holds LIST_INSTEAD_OF_GET keys of the batch — then one listing of that group answers all of them.
 * A listing this request already holds answers its keys whatever their number. Each key's failure
 * stays in its own slot (DataLoader style), attributed to the source.
 */
import { GatewayError } from '../model/errors';
import type { Batch } from '../model/source';
import type { Key } from '../model/types';

/** At this many keys of one group in one batch, one listing is cheaper than a get each. */
export const LIST_INSTEAD_OF_GET = 3;

export interface GetOrList<P, T> {
  /** The key in vendor terms; throws a GatewayError for a key that is not one of this source's. */
  parse(key: Key): P;
  /** The group whose listing holds the key, from the key as given (counted before parsing). */
  group(key: Key): string;
  get(key: P): Promise<T>;
  list(key: P): Promise<readonly T[]>;
  /** The group's listing, when this request has already read (or is reading) it. */
  held?(key: P): Promise<readonly T[]> | undefined;
  find(listed: readonly T[], key: P): T | undefined;
  notFound(key: P): GatewayError;
}

export function getOrList<P, T>(sourceId: string, keys: readonly Key[], how: GetOrList<P, T>): Promise<Batch<T>> {
  const perGroup = new Map<string, number>();
  for (const key of keys) perGroup.set(how.group(key), (perGroup.get(how.group(key)) ?? 0) + 1);
  return Promise.all(
    keys.map(async (key) => {
      try {
        const parsed = how.parse(key);
        const held = how.held?.(parsed);
        if (!held && (perGroup.get(how.group(key)) ?? 0) < LIST_INSTEAD_OF_GET) return await how.get(parsed);
        const listed = await (held ?? how.list(parsed));
        return how.find(listed, parsed) ?? how.notFound(parsed);
      } catch (error) {
        if (error instanceof GatewayError) return error.withSource(sourceId);
        throw error;
      }
    }),
  );
}
