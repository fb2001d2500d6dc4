/**
 * The run index's store: an in-memory view that every indexed read is answered from (memory.ts),
 * and a persistence behind it. The embedded store persists to a JSON-lines file (file.ts); a
 * shared PostgreSQL store (issue #10) implements the same interface, keeping each replica's view
 * current from the database. Writers — the sync jobs and the write-through of mutations — call the
 * mutating methods; every change bumps `generation`, which keys anything computed from the index.
 */
import type { Logger } from '../model/source';
import type { Host, Key, Project, Run } from '../model/types';
import { LogWriter, readLog, type LogRecord, type SourceIdentity, type SyncRecord } from './file';
import { keyString, SourceIndex } from './memory';

export type { SourceIdentity, SyncRecord } from './file';

export interface StoreSource {
  id: string;
  identity: SourceIdentity;
}

export interface IndexStore {
  /** Loads what was persisted; a source whose identity changed, or a store that cannot be read, starts empty. */
  open(sources: readonly StoreSource[]): Promise<void>;
  view(sourceId: string): SourceIndex;
  sync(sourceId: string): SyncRecord | undefined;
  /** Bumped by every change. */
  readonly generation: number;

  putRuns(sourceId: string, runs: readonly Run[]): void;
  deleteRuns(sourceId: string, keys: readonly Key[]): void;
  setProjects(sourceId: string, projects: Project[]): void;
  setHosts(sourceId: string, hosts: Host[]): void;
  setSync(sourceId: string, record: SyncRecord): void;
  /** Drops everything of one source (a full sweep replaces it). */
  reset(sourceId: string): void;
  close(): Promise<void>;
}

/** Compaction when the log has this many times more lines than the index has records, and at least this many lines. */
const COMPACT_RATIO = 3;
const COMPACT_MIN_LINES = 10_000;

export class EmbeddedStore implements IndexStore {
  private readonly views = new Map<string, SourceIndex>();
  private readonly syncs = new Map<string, SyncRecord>();
  private readonly identities = new Map<string, SourceIdentity>();
  private readonly writer: LogWriter;
  generation = 0;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
  ) {
    this.writer = new LogWriter(dir);
  }

  async open(sources: readonly StoreSource[]): Promise<void> {
    for (const s of sources) {
      this.views.set(s.id, new SourceIndex(s.id));
      this.identities.set(s.id, s.identity);
    }
    const loaded = await readLog(this.dir, this.log);
    if (!loaded) {
      this.writer.open(true);
      this.writeIdentities();
      return;
    }
    for (const s of sources) {
      const data = loaded.get(s.id);
      if (!data) continue;
      if (!data.identity || data.identity.kind !== s.identity.kind || data.identity.baseUrl !== s.identity.baseUrl) {
        this.log.warn({ source: s.id }, `the run index holds source ${s.id} for another ${data.identity?.kind !== s.identity.kind ? 'kind' : 'base URL'}; its part is rebuilt from the vendor`);
        continue;
      }
      const view = this.views.get(s.id)!;
      view.putMany([...data.runs.values()]);
      view.projects = data.projects;
      view.hosts = data.hosts;
      if (data.sync) this.syncs.set(s.id, data.sync);
    }
    // Start from a compact file that holds exactly what was kept (sources no longer configured go).
    this.writer.open(false);
    this.compact();
  }

  view(sourceId: string): SourceIndex {
    const view = this.views.get(sourceId);
    if (!view) throw new Error(`the run index has no source ${sourceId}`);
    return view;
  }

  sync(sourceId: string): SyncRecord | undefined {
    return this.syncs.get(sourceId);
  }

  putRuns(sourceId: string, runs: readonly Run[]): void {
    if (runs.length === 0) return;
    const view = this.view(sourceId);
    if (runs.length === 1) view.put(runs[0]);
    else view.putMany(runs);
    this.persist([{ t: 'runs', s: sourceId, runs: [...runs] }]);
  }

  deleteRuns(sourceId: string, keys: readonly Key[]): void {
    const view = this.view(sourceId);
    const gone = keys.filter((k) => view.delete(k));
    if (gone.length > 0) this.persist([{ t: 'del', s: sourceId, keys: gone }]);
  }

  setProjects(sourceId: string, projects: Project[]): void {
    const view = this.view(sourceId);
    if (JSON.stringify(view.projects) === JSON.stringify(projects)) return;
    view.projects = projects;
    this.persist([{ t: 'projects', s: sourceId, items: projects }]);
  }

  setHosts(sourceId: string, hosts: Host[]): void {
    const view = this.view(sourceId);
    if (JSON.stringify(view.hosts) === JSON.stringify(hosts)) return;
    view.hosts = hosts;
    this.persist([{ t: 'hosts', s: sourceId, items: hosts }]);
  }

  setSync(sourceId: string, record: SyncRecord): void {
    this.syncs.set(sourceId, record);
    // Sync bookkeeping changes no answer: no new generation.
    this.writer.append([{ t: 'sync', s: sourceId, sync: record }]);
  }

  reset(sourceId: string): void {
    this.view(sourceId).clear();
    this.syncs.delete(sourceId);
    this.persist([{ t: 'reset', s: sourceId }]);
  }

  async close(): Promise<void> {
    this.writer.close();
  }

  private persist(records: LogRecord[]): void {
    this.generation += 1;
    this.writer.append(records);
    let size = 0;
    for (const view of this.views.values()) size += view.size;
    if (this.writer.lines > COMPACT_MIN_LINES && this.writer.lines > COMPACT_RATIO * (size / 500 + this.views.size * 4)) this.compact();
  }

  private writeIdentities(): void {
    this.writer.append([...this.identities].map(([s, identity]) => ({ t: 'source' as const, s, identity })));
  }

  /** The index as it is now, as a fresh file: identities, runs in chunks of 500, projects, hosts, sync records. */
  private compact(): void {
    const views = this.views;
    const identities = this.identities;
    const syncs = this.syncs;
    this.writer.rewrite(
      (function* () {
        for (const [s, identity] of identities) yield { t: 'source', s, identity } as LogRecord;
        for (const [s, view] of views) {
          let chunk: Run[] = [];
          for (const run of view.runs()) {
            chunk.push(run);
            if (chunk.length === 500) {
              yield { t: 'runs', s, runs: chunk } as LogRecord;
              chunk = [];
            }
          }
          if (chunk.length > 0) yield { t: 'runs', s, runs: chunk } as LogRecord;
          yield { t: 'projects', s, items: view.projects } as LogRecord;
          yield { t: 'hosts', s, items: view.hosts } as LogRecord;
          const sync = syncs.get(s);
          if (sync) yield { t: 'sync', s, sync } as LogRecord;
        }
      })(),
    );
  }
}

export { keyString };
