/**
 * The vendor kinds rungraph can connect to. Each kind names the optional config keys it takes
 * beyond the common ones, checks them, and builds its Source. Adding a vendor is one entry here.
 */
import type { Logger, Source } from '../model/source';
import type { SourceKind } from '../model/types';
import type { TrafficPolicy } from '../http/traffic';
import { TestRailSource } from './testrail/source';
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
  testrail: {
    optionalKeys: [],
    check: () => [],
    create: (config, log) =>
      new TestRailSource(
        {
          id: config.id,
          name: config.name,
          baseUrl: config.baseUrl,
          username: config.auth.username,
          password: config.auth.password,
          timeoutMs: config.timeoutMs,
          policy: config.policy,
        },
        log,
      ),
  },
  qacomplete: QACOMPLETE_KIND,
  'enterprise-tester': ENTERPRISE_TESTER_KIND,
};

/** Kinds the contract names whose implementation has not landed yet: a clear config error. */
export const PLANNED_KINDS: readonly string[] = [];
