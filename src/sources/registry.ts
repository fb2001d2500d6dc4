/**
 * The vendor kinds rungraph can connect to. Each kind names the optional config keys it takes
 * beyond the common ones, checks them, and builds its Source. Adding a vendor is one entry here.
 */
import type { Logger, Source } from '../model/source';
import type { SourceKind } from '../model/types';
import type { TrafficPolicy } from '../http/traffic';
import { TESTRAIL_KIND } from './testrail/kind';
import { QACOMPLETE_KIND } from './qacomplete/kind';
import { ENTERPRISE_TESTER_KIND } from './enterprise-tester/kind';

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
  /** The kind's own optional keys, as given. */
  [key: string]: unknown;
}

export interface SourceKindSpec {
  /** Optional keys beyond id, kind, name, baseUrl, auth, timeoutMs. */
  optionalKeys: readonly string[];
  /** Problems with the kind's own keys, each as `<path>: <problem>`. */
  check(raw: Record<string, unknown>, at: string): string[];
  create(config: SourceConfig, log: Logger): Source;
}

export const SOURCE_KINDS: Readonly<Partial<Record<string, SourceKindSpec>>> = {
  testrail: TESTRAIL_KIND,
  qacomplete: QACOMPLETE_KIND,
  'enterprise-tester': ENTERPRISE_TESTER_KIND,
};

