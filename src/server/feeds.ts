/**
 * Which change detection each vendor kind's sources use for the run index, and how the store
 * recognises a source's data. The composition root asks here; the feeds live in their vendors'
 * folders (src/sources/<vendor>/changes.ts).
 */
import type { RunFeed } from '../model/feed';
import { createEnterpriseTesterFeed } from '../sources/enterprise-tester/changes';
import type { EnterpriseTesterSource } from '../sources/enterprise-tester/source';
import { createQACompleteFeed } from '../sources/qacomplete/changes';
import type { QACompleteSource } from '../sources/qacomplete/source';
import { createTestRailFeed } from '../sources/testrail/changes';
import type { TestRailSource } from '../sources/testrail/source';
import type { Source } from '../model/source';
import type { SourceConfig } from '../sources/config';
import type { SourceIdentity } from '../store/store';

/** A kind without a feed would be served live (Source.sync OFF). */
const FEEDS: Partial<Record<Source['info']['kind'], (source: Source) => RunFeed>> = {
  testrail: (source) => createTestRailFeed({ source, client: (source as TestRailSource).client }),
  'enterprise-tester': (source) => createEnterpriseTesterFeed({ source, client: (source as EnterpriseTesterSource).client }),
  qacomplete: (source) => createQACompleteFeed({ source, client: (source as QACompleteSource).client, timeZone: (source as QACompleteSource).zone }),
};

export function feedOf(source: Source): RunFeed | undefined {
  return FEEDS[source.info.kind]?.(source);
}

export function identities(configs: readonly SourceConfig[]): (source: Source) => SourceIdentity {
  const byId = new Map(configs.map((c) => [c.id, { kind: c.kind, baseUrl: c.baseUrl }]));
  return (source) => byId.get(source.info.id) ?? { kind: source.info.kind, baseUrl: '' };
}
