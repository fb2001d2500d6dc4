/**
 * The vendor kinds rungraph can connect to. Each kind names the optional config keys it takes
 * beyond the common ones, checks them, knows its vendor's default rate budget, and builds its
 * Source (sources/config.ts). Adding a vendor is one entry here.
 */
import type { SourceKindSpec } from './config';
import { TESTRAIL_KIND } from './testrail/kind';
import { QACOMPLETE_KIND } from './qacomplete/kind';
import { ENTERPRISE_TESTER_KIND } from './enterprise-tester/kind';

export type { SourceConfig, SourceKindSpec } from './config';

export const SOURCE_KINDS: Readonly<Partial<Record<string, SourceKindSpec>>> = {
  testrail: TESTRAIL_KIND,
  qacomplete: QACOMPLETE_KIND,
  'enterprise-tester': ENTERPRISE_TESTER_KIND,
};

/** The budget a source of `kind` at `baseUrl` gets without a `rateLimit` key: its kind's, else none. */
export function defaultRequestsPerMinute(kind: string, baseUrl: string): number | null {
  return SOURCE_KINDS[kind]?.defaultRequestsPerMinute?.(baseUrl) ?? null;
}
