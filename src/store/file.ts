/**
 * The embedded store's file: one JSON-lines log under `index.path`, so a restart serves at once
 * and refreshes incrementally instead of backfilling. Every change is one appended line; when the
 * log holds much more than the live data it is rewritten (compaction: a new file, then a rename,
 * so a crash leaves either the old file or the new one). No server to run, no native module.
 *
 * The vendors are the source of truth, so the file is a cache: a file that is not ours, of another
 * version, or unreadable is set aside and rebuilt by a new backfill with one warning, never a
 * crash; a last line cut short by a crash is dropped, since what it held will be read again.
 * Credentials are never written: a source is recognised by its kind and base URL only.
 */
import { createReadStream, existsSync, mkdirSync, openSync, closeSync, writeSync, renameSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../model/source';
import type { Host, Key, Project, Run } from '../model/types';

export const FORMAT = 'rungraph-index';
export const VERSION = 1;
const FILE = 'index.jsonl';

/** What identifies a source's data: a source whose kind or base URL changed starts over. */
export interface SourceIdentity {
  kind: string;
  baseUrl: string;
}

/** The sync's own record of one source (watermarks are the vendor feed's, opaque here). */
export interface SyncRecord {
  backfilled: boolean;
  /** Epoch seconds: when the newest completed cycle began. */
  syncedAt: number | null;
  /** Epoch seconds of the last full sweep. */
  sweptAt: number | null;
  watermarks: unknown;
  /**
   * With a shared store, what the leading replica says of the cycle under way, so every replica
   * reports it: why the last cycle failed (cleared by the next success) and the backfill's progress.
   */
  lastError?: string | null;
  progress?: number | null;
}

export type LogRecord =
  | { t: 'header'; format: string; version: number }
  | { t: 'source'; s: string; identity: SourceIdentity }
  | { t: 'reset'; s: string }
  | { t: 'runs'; s: string; runs: Run[] }
  | { t: 'del'; s: string; keys: Key[] }
  | { t: 'projects'; s: string; items: Project[] }
  | { t: 'hosts'; s: string; items: Host[] }
  | { t: 'sync'; s: string; sync: SyncRecord };

export interface LoadedSource {
  identity: SourceIdentity | undefined;
  runs: Map<string, Run>;
  projects: Project[];
  hosts: Host[];
  sync: SyncRecord | undefined;
}

/** Reads the log; undefined (with one warning) when there is none to trust. */
export async function readLog(dir: string, log: Logger): Promise<Map<string, LoadedSource> | undefined> {
  const path = join(dir, FILE);
  if (!existsSync(path)) return undefined;
  const sources = new Map<string, LoadedSource>();
  const of = (id: string) => {
    let entry = sources.get(id);
    if (!entry) sources.set(id, (entry = { identity: undefined, runs: new Map(), projects: [], hosts: [], sync: undefined }));
    return entry;
  };
  let lineNo = 0;
  let pending: string | undefined;
  let problem: string | undefined;
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (problem) continue;
    // A line that failed to parse is only forgiven when it turns out to be the last (a torn write).
    if (pending !== undefined) {
      problem = `line ${lineNo} is not JSON`;
      continue;
    }
    lineNo += 1;
    if (line === '') continue;
    let record: LogRecord;
    try {
      record = JSON.parse(line) as LogRecord;
    } catch {
      if (lineNo === 1) problem = 'it is not a rungraph index';
      else pending = line;
      continue;
    }
    if (lineNo === 1) {
      if (record.t !== 'header' || record.format !== FORMAT) problem = 'it is not a rungraph index';
      else if (record.version !== VERSION) problem = `it is format version ${String(record.version)}, this rungraph reads ${VERSION}`;
      continue;
    }
    problem = apply(record, of);
  }
  if (!problem && lineNo === 0) problem = 'it is empty';
  if (problem) {
    log.warn({ path, problem }, `the run index at ${path} cannot be used (${problem}); it is rebuilt from the vendors`);
    return undefined;
  }
  if (pending !== undefined) log.warn({ path, line: lineNo }, 'the run index ended in a line cut short (an earlier stop mid-write); that line is dropped and read again from the vendor');
  return sources;
}

function apply(record: LogRecord, of: (id: string) => LoadedSource): string | undefined {
  switch (record.t) {
    case 'source':
      of(record.s).identity = record.identity;
      return undefined;
    case 'reset': {
      const entry = of(record.s);
      entry.runs.clear();
      entry.projects = [];
      entry.hosts = [];
      entry.sync = undefined;
      return undefined;
    }
    case 'runs':
      for (const run of record.runs) of(record.s).runs.set(run.key.join('\u0000'), run);
      return undefined;
    case 'del':
      for (const key of record.keys) of(record.s).runs.delete(key.join('\u0000'));
      return undefined;
    case 'projects':
      of(record.s).projects = record.items;
      return undefined;
    case 'hosts':
      of(record.s).hosts = record.items;
      return undefined;
    case 'sync':
      of(record.s).sync = record.sync;
      return undefined;
    default:
      return `an unknown record ${JSON.stringify((record as { t?: unknown }).t)}`;
  }
}

/** Appends records; rewrites the whole file on `compact`. Writes are synchronous and small, so a cycle's changes are on disk when it ends. */
export class LogWriter {
  private fd: number | undefined;
  /** Lines in the file, to decide when compaction pays. */
  lines = 0;

  constructor(private readonly dir: string) {}

  open(fresh: boolean): void {
    mkdirSync(this.dir, { recursive: true });
    if (fresh) this.rewrite([]);
    else this.fd = openSync(join(this.dir, FILE), 'a');
  }

  append(records: readonly LogRecord[]): void {
    if (this.fd === undefined || records.length === 0) return;
    writeSync(this.fd, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    this.lines += records.length;
  }

  /** The whole index anew: header, then `records` (chunked by the caller), then a rename over the old file. */
  rewrite(records: Iterable<LogRecord>): void {
    const path = join(this.dir, FILE);
    const temp = `${path}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w');
    let lines = 1;
    try {
      writeSync(fd, JSON.stringify({ t: 'header', format: FORMAT, version: VERSION }) + '\n');
      let chunk: string[] = [];
      for (const record of records) {
        chunk.push(JSON.stringify(record));
        lines += 1;
        if (chunk.length >= 500) {
          writeSync(fd, chunk.join('\n') + '\n');
          chunk = [];
        }
      }
      if (chunk.length > 0) writeSync(fd, chunk.join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (this.fd !== undefined) closeSync(this.fd);
    renameSync(temp, path);
    this.fd = openSync(path, 'a');
    this.lines = lines;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
