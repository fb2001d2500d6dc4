/**
 * The indexed read service (decisions.md, Run index): each source answers from the run index once
 * its backfill is done and the read asks for INDEXED (the default), and live — exactly as
 * LiveReads does — until then, for `consistency: LIVE`, and for sources whose index is off. One
 * answer may mix both, source by source; `answeredBy` says which, and the order, cursors, filters
 * and limits are the same either way, because both sides are sliced by the same rules.
 *
 * Lookups answer from the index; an object the index does not hold is read live once and indexed,
 * and a live "no such object" removes it from the index. Stale data is served, never an error.
 */
import { GatewayError, ErrorCode } from '../model/errors';
import { LiveReads, mergeRunPages, pageLists, type ListParticipant, type RunPageParticipant } from '../model/live';
import type { Consistency, ListPage, OffsetListQuery, ReadService, RunListQuery, RunPage, SyncStatus } from '../model/reads';
import type { Batch, RequestScope, RunOptionRequest } from '../model/source';
import type { SourceSet } from '../model/sources';
import type { Host, Key, Project, Run, RunOptionList, RunOptionLists, RunOptionPage } from '../model/types';
import type { IndexStore } from '../store/store';
import { keyString } from '../store/memory';
import type { SourceSync } from './sync';

const OFF: SyncStatus = { state: 'OFF', syncedAt: null, indexedRuns: 0, backfillProgress: null, lastError: null, leader: null };

export class IndexedReads implements ReadService {
  private readonly vendors: LiveReads;
  /** Per request: the sources it read from the index, for `extensions.sync`. */
  private readonly used = new WeakMap<RequestScope, Set<string>>();
  /** Requests that read anything from a vendor: their answers are not kept (server/answers.ts). */
  private readonly live = new WeakSet<RequestScope>();

  constructor(
    private readonly sources: SourceSet,
    private readonly store: IndexStore,
    /** Only sources with an index; the others are OFF and always live. */
    private readonly syncs: ReadonlyMap<string, SourceSync>,
  ) {
    this.vendors = new LiveReads(sources);
  }

  wentLive(scope: RequestScope): boolean {
    return this.live.has(scope);
  }

  syncStatus(sourceId: string): SyncStatus {
    return this.syncs.get(sourceId)?.status() ?? OFF;
  }

  /** The sources this request read from the index, in config order. */
  indexedSources(scope: RequestScope): string[] {
    const used = this.used.get(scope);
    return used ? this.sources.all.map((s) => s.info.id).filter((id) => used.has(id)) : [];
  }

  pageRuns(scope: RequestScope, query: RunListQuery): RunPage | Promise<RunPage> {
    const participants: RunPageParticipant[] = this.sources.all
      .filter((s) => query.filters.has(s.info.id))
      .map((source) => {
        const sourceId = source.info.id;
        const sync = this.indexed(scope, sourceId, query.consistency);
        if (!sync) {
          this.live.add(scope);
          return { sourceId, mode: 'LIVE', syncedAt: null, slice: (q) => source.listRuns(scope, q) };
        }
        const view = this.store.view(sourceId);
        const filter = query.filters.get(sourceId)!;
        return { sourceId, mode: 'INDEXED', syncedAt: sync.syncedAt, slice: (q) => view.slice(q), count: () => view.count(filter) };
      });
    return mergeRunPages(scope, query, participants);
  }

  pageProjects(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Project>> {
    return pageLists(query, this.listParticipants(scope, query, (s) => s.listProjects(scope), (id) => this.store.view(id).projects));
  }

  pageHosts(scope: RequestScope, query: OffsetListQuery): Promise<ListPage<Host>> {
    const withHosts = { ...query, sourceIds: query.sourceIds.filter((id) => this.sources.ofId(id).info.capabilities.hosts) };
    return pageLists(withHosts, this.listParticipants(scope, withHosts, (s) => s.listHosts(scope), (id) => this.store.view(id).hosts));
  }

  async getRuns(scope: RequestScope, sourceId: string, keys: readonly Key[], consistency?: Consistency): Promise<Batch<Run>> {
    const source = this.sources.ofId(sourceId);
    const sync = this.indexed(scope, sourceId, consistency);
    if (!sync) {
      this.live.add(scope);
      const answers = await source.getRuns(scope, keys);
      // A live read is the vendor's word now: the index follows it.
      if (this.syncs.has(sourceId)) this.follow(sourceId, keys, answers);
      return answers;
    }
    const view = this.store.view(sourceId);
    const answers: Array<Run | GatewayError | undefined> = keys.map((k) => view.run(k));
    const missing = keys.filter((_, i) => answers[i] === undefined);
    if (missing.length > 0) {
      // Created behind the gateway's back since the last cycle, perhaps: read live once, and index it.
      this.live.add(scope);
      const found = await source.getRuns(scope, missing);
      this.follow(sourceId, missing, found);
      let j = 0;
      for (let i = 0; i < answers.length; i++) if (answers[i] === undefined) answers[i] = found[j++];
    }
    return answers as Batch<Run>;
  }

  peekProject(scope: RequestScope, sourceId: string, key: Key): Project | undefined {
    if (!this.syncs.get(sourceId)?.usable) return undefined;
    const project = this.store.view(sourceId).project(key);
    if (project) this.indexed(scope, sourceId, 'INDEXED');
    return project;
  }

  async getProjects(scope: RequestScope, sourceId: string, keys: readonly Key[], consistency?: Consistency): Promise<Batch<Project>> {
    return this.lookup(scope, sourceId, keys, consistency, (id) => this.store.view(id).projects, (s, k) => s.getProjects(scope, k));
  }

  async getHosts(scope: RequestScope, sourceId: string, keys: readonly Key[], consistency?: Consistency): Promise<Batch<Host>> {
    return this.lookup(scope, sourceId, keys, consistency, (id) => this.store.view(id).hosts, (s, k) => s.getHosts(scope, k));
  }

  async listHosts(scope: RequestScope, sourceId: string, consistency?: Consistency): Promise<Host[]> {
    if (!this.indexed(scope, sourceId, consistency)) return (this.live.add(scope), this.vendors.listHosts(scope, sourceId));
    return this.store.view(sourceId).hosts;
  }

  listRunOptions<L extends RunOptionList>(scope: RequestScope, sourceId: string, request: RunOptionRequest<L>): Promise<RunOptionPage<RunOptionLists[L]>> {
    this.live.add(scope);
    return this.vendors.listRunOptions(scope, sourceId, request);
  }

  /** The source's sync when this read may answer from the index; undefined when it must go live. */
  private indexed(scope: RequestScope, sourceId: string, consistency: Consistency | undefined): SourceSync | undefined {
    if (consistency === 'LIVE') return undefined;
    const sync = this.syncs.get(sourceId);
    if (!sync?.usable) return undefined;
    let used = this.used.get(scope);
    if (!used) this.used.set(scope, (used = new Set()));
    used.add(sourceId);
    return sync;
  }

  private listParticipants<T>(
    scope: RequestScope,
    query: OffsetListQuery,
    live: (source: ReturnType<SourceSet['ofId']>) => Promise<T[]>,
    indexed: (sourceId: string) => T[],
  ): ListParticipant<T>[] {
    return query.sourceIds.map((sourceId) => {
      const sync = this.indexed(scope, sourceId, query.consistency);
      const source = this.sources.ofId(sourceId);
      if (sync) return { sourceId, mode: 'INDEXED', syncedAt: sync.syncedAt, items: () => indexed(sourceId) };
      this.live.add(scope);
      return { sourceId, mode: 'LIVE', syncedAt: null, items: () => live(source) };
    });
  }

  private async lookup<T extends { key: Key }>(
    scope: RequestScope,
    sourceId: string,
    keys: readonly Key[],
    consistency: Consistency | undefined,
    indexed: (sourceId: string) => T[],
    live: (source: ReturnType<SourceSet['ofId']>, keys: readonly Key[]) => Promise<Batch<T>>,
  ): Promise<Batch<T>> {
    const source = this.sources.ofId(sourceId);
    if (!this.indexed(scope, sourceId, consistency)) {
      this.live.add(scope);
      return live(source, keys);
    }
    const byKey = new Map(indexed(sourceId).map((item) => [keyString(item.key), item]));
    const answers: Array<T | GatewayError | undefined> = keys.map((k) => byKey.get(keyString(k)));
    const missing = keys.filter((_, i) => answers[i] === undefined);
    if (missing.length > 0) {
      this.live.add(scope);
      const found = await live(source, missing);
      let j = 0;
      for (let i = 0; i < answers.length; i++) if (answers[i] === undefined) answers[i] = found[j++];
    }
    return answers as Batch<T>;
  }

  /** Puts what a live read found into the index and drops what it found gone. */
  private follow(sourceId: string, keys: readonly Key[], answers: Batch<Run>): void {
    const sync = this.syncs.get(sourceId);
    if (!sync) return;
    const found: Run[] = [];
    const gone: Key[] = [];
    answers.forEach((answer, i) => {
      if (answer instanceof GatewayError) {
        if (answer.code === ErrorCode.NOT_FOUND) gone.push(keys[i]);
      } else found.push(answer);
    });
    sync.applyLive(found, gone);
  }
}

