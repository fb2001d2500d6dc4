/**
 * What a source kind is given and must provide. The server reads the config file and checks the
 * keys every source shares (src/server/config.ts); everything about one kind — its own keys, their
 * checks, its default rate budget, how its Source is built — is the kind's (sources/<vendor>/kind.ts),
 * so the sources never reach back into the server.
 */
import type { TrafficPolicy } from '../http/traffic';
import type { UpstreamObserver } from '../http/upstream';
import type { Logger, Source } from '../model/source';
import type { SourceKind } from '../model/types';

/** A source's config after ${VAR} expansion and the common checks (server/config.ts). */
export interface SourceConfig {
  id: string;
  kind: SourceKind;
  name: string;
  /** Without a trailing slash. */
  baseUrl: string;
  auth: { username: string; password: string };
  timeoutMs?: number;
  /** Traffic policy from the common keys (timeoutMs, retries, rateLimit, breaker, …). */
  policy?: Partial<TrafficPolicy>;
  /** Not a config key: the server's metrics, which every call of the source reports to. */
  observer?: UpstreamObserver;
  /** The kind's own optional keys, as given. */
  [key: string]: unknown;
}

export interface SourceKindSpec {
  /** Optional keys beyond id, kind, name, baseUrl, auth, timeoutMs. */
  optionalKeys: readonly string[];
  /** JSON Schema of those keys, by key, for the config's schema (server/config-schema.ts); `check` stays the judge. */
  keySchemas?: Readonly<Record<string, unknown>>;
  /** Problems with the kind's own keys, each as `<path>: <problem>`. */
  check(raw: Record<string, unknown>, at: string): string[];
  /**
   * The requests per minute a source of this kind gets when its config sets no `rateLimit`, or
   * null for none. decisions.md: a default applies only to a vendor's own cloud, whose published
   * limit the kind knows; a kind without one leaves this out.
   */
  defaultRequestsPerMinute?(baseUrl: string): number | null;
  create(config: SourceConfig, log: Logger): Source;
}

/** Absolute http(s), no credentials, query or fragment; a trailing slash is dropped. */
export function checkBaseUrl(value: unknown, at: string, problems: string[]): string | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${at}: required, an absolute http or https URL`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${at}: "${value}" is not a URL`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${at}: must use http or https, not ${url.protocol}`);
  else if (url.username || url.password) problems.push(`${at}: must not contain credentials; put them under auth`);
  else if (url.search || url.hash || value.includes('?') || value.includes('#')) problems.push(`${at}: must not contain a query or fragment`);
  else return value.replace(/\/+$/, '');
  return undefined;
}

/** The host name of a URL, lower-cased; undefined when it does not parse. */
export function hostOf(baseUrl: string): string | undefined {
  try {
    return new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}
