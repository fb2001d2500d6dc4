/**
 * Gateway authentication: when `server.apiKeys` is set, every GraphQL request carries
 * `Authorization: Bearer <key>`. Keys are compared as SHA-256 digests with timingSafeEqual, and
 * every configured key is compared every time, so neither the length nor the position of a match
 * shows in the timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function apiKeyCheck(keys: readonly string[]): ((headers: IncomingHttpHeaders) => boolean) | undefined {
  if (keys.length === 0) return undefined;
  const digests = keys.map(digest);
  return (headers) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    const presented = digest(match ? match[1] : '');
    let ok = false;
    for (const known of digests) ok = timingSafeEqual(presented, known) || ok;
    return ok && match !== null;
  };
}
