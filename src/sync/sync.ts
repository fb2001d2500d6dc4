/**
 * One background sync per source: it keeps that source's part of the run index current through the
 * source's feed (model/feed.ts, each vendor's changes.ts). A backfill at start — unless the store
 * already holds a backfilled copy, which is then refreshed incrementally — then refresh cycles,
 * each starting `refreshSeconds` after the previous one ended, and a full sweep every `sweepHours`
 * that drops what the vendor deleted. Every call goes through the source's usual client inside a
 * scope of the sync's own (lane `sync`: the source's traffic policy gives it at most its budget
 * share and two requests in flight). One failing source never stops another's sync; a failing
 * cycle leaves the index serving what it has (state FAILING, `lastError`), and the next cycle tries
 * again.
 */
import { context as otelContext, ROOT_CONTEXT, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { withCallContext } from '../http/context';
import { asGatewayError } from '../model/errors';
import type { FeedSink, KnownRuns, RunFeed } from '../model/feed';
import type { SyncState, SyncStatus } from '../model/reads';
import { createScope } from '../model/scope';
import type { Logger, Source } from '../model/source';
import type { Key, Run } from '../model/types';
import type { IndexStore, SyncRecord } from '../store/store';
import { keyString } from '../store/memory';
import type { SyncGate } from './leader';

export interface SyncSettings {
  /** Seconds between the end of one cycle and the start of the next. */
  refreshSeconds: number;
  /** Hours between full sweeps. */
  sweepHours: number;
}

/** One finished cycle, for the server's metrics. */
export interface SyncCycle {
  source: string;
  kind: 'backfill' | 'sweep' | 'refresh';
  failed: boolean;
  seconds: number;
  /** Vendor calls the cycle made. */
  calls: number;
}

/** No single cycle may run longer than this (a hung vendor must not stall the sync forever); long enough for a large instance read under a small budget share. */
const CYCLE_DEADLINE_MS = 6 * 3600_000;
/** How often a long backfill reports its progress in the log. */
const PROGRESS_EVERY_MS = 5_000;
/** How far the vendor's clock may be behind ours when a sweep judges a run it did not see (seconds). */
const SWEEP_CLOCK_MARGIN_S = 120;
/** A source's record before its first backfill ends (only a shared store's leader writes one, to report progress or a failure). */
const NO_RECORD: SyncRecord = { backfilled: false, syncedAt: null, sweptAt: null, watermarks: null };

export class SourceSync {
  private backfillProgress: number | null = null;
  private lastError: string | null = null;
  /** The state before the first cycle of this process ends: STALE when the store had a copy. */
  private phase: 'starting' | 'backfilling' | 'running' | 'failing' = 'starting';
  private cycles = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private calls = 0;
  /** Keys written by others (write-through) during a full read: it must not drop them. */
  private touchedDuringSweep: Set<string> | undefined;
  private readyListeners: Array<() => void> = [];
  // Leadership gate (issue #15): with a shared store, a cycle runs only on the replica that leads the source.
  private started = false;
  private leading = false;
  private unwatch: (() => void) | undefined;
  private readonly cycleWatchers: Array<(cycle: SyncCycle) => void> = [];

  constructor(
    readonly source: Source,
    private readonly feed: RunFeed,
    private readonly store: IndexStore,
    private readonly settings: SyncSettings,
    private readonly log: Logger,
    /** Absent (the embedded store): this process is the only one, and always runs the cycles. */
    private readonly gate?: SyncGate,
    /** With tracing on: each cycle is a span (a trace of its own), its vendor calls children of it. */
    private readonly tracer?: Tracer,
  ) {
    this.unwatch = gate?.watch((sourceId) => sourceId === this.id && this.gateChanged());
  }

  private get id(): string {
    return this.source.info.id;
  }

  private get record(): SyncRecord | undefined {
    return this.store.sync(this.id);
  }

  /** True once the source has a backfilled copy in the index: INDEXED reads may use it. */
  get usable(): boolean {
    return this.record?.backfilled === true;
  }

  /** When the newest completed cycle began (epoch seconds). */
  get syncedAt(): number | null {
    return this.record?.syncedAt ?? null;
  }

  status(): SyncStatus {
    const state = this.state();
    const indexedRuns = this.store.view(this.id).size;
    const leader = this.leader();
    if (this.gate && !this.gate.leads(this.id)) {
      // Another replica leads (or none does yet): what its record says.
      const record = this.record;
      return { state, syncedAt: this.syncedAt, indexedRuns, backfillProgress: state === 'BACKFILLING' ? record?.progress ?? 0 : null, lastError: record?.lastError ?? null, leader };
    }
    return {
      state,
      syncedAt: this.syncedAt,
      indexedRuns,
      backfillProgress: this.phase === 'backfilling' ? this.backfillProgress ?? 0 : null,
      lastError: this.phase === 'failing' ? this.lastError : null,
      leader,
    };
  }

  state(): SyncState {
    if (this.gate && !this.gate.leads(this.id)) return this.sharedState();
    if (this.phase === 'backfilling' || (this.phase === 'starting' && !this.usable)) return 'BACKFILLING';
    if (this.phase === 'failing') return 'FAILING';
    if (this.phase === 'starting') return 'STALE';
    const syncedAt = this.syncedAt;
    // A cycle starts refreshSeconds after the previous one ended; allow that cycle as long again before calling the copy stale.
    if (syncedAt === null || Date.now() / 1000 - syncedAt > 2 * this.settings.refreshSeconds + 5) return 'STALE';
    return 'FRESH';
  }

  /** Calls `watcher` after every cycle this replica runs. */
  watchCycles(watcher: (cycle: SyncCycle) => void): void {
    this.cycleWatchers.push(watcher);
  }

  /** Resolves once the source is usable from the index (at once if it already is). */
  ready(): Promise<void> {
    if (this.usable) return Promise.resolve();
    return new Promise((resolve) => this.readyListeners.push(resolve));
  }

  start(): void {
    this.started = true;
    if (!this.gate) this.schedule(0);
    else this.gateChanged();
  }

  /** The replica that leads this source's sync (null: none now, or no shared store). */
  leader(): string | null {
    return this.gate?.leaderOf(this.id) ?? null;
  }

  /** Where another replica leads: the shared record's state (its cycles, its watermarks). */
  private sharedState(): SyncState {
    if (this.record?.lastError) return 'FAILING';
    if (!this.usable) return 'BACKFILLING';
    const syncedAt = this.syncedAt;
    if (syncedAt === null || Date.now() / 1000 - syncedAt > 2 * this.settings.refreshSeconds + 5) return 'STALE';
    return 'FRESH';
  }

  /** The lead was gained or lost, or another replica changed the shared record. */
  private gateChanged(): void {
    if (this.usable) for (const resolve of this.readyListeners.splice(0)) resolve();
    if (!this.started || this.stopped) return;
    const leads = this.gate!.leads(this.id);
    if (leads === this.leading) return;
    this.leading = leads;
    if (!leads) return;
    // Resume the shared schedule: the next cycle is due refreshSeconds after the last one began (at once when never run).
    const syncedAt = this.record?.backfilled ? this.syncedAt : null;
    clearTimeout(this.timer);
    this.schedule(syncedAt === null ? 0 : Math.max(0, (syncedAt + this.settings.refreshSeconds) * 1000 - Date.now()));
  }

  /**
   * Stops scheduling and waits up to `graceMs` for the cycle under way. A cycle waiting on a small
   * budget may take minutes; it is left behind, and what it writes after the store closed is lost —
   * nothing is, in truth: the next start refreshes from the vendor.
   */
  async stop(graceMs = 1_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.unwatch?.();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  /** Write-through: a mutation's answer goes into the index at once. */
  applyWrite(runs: readonly Run[], deleted: readonly Key[]): void {
    this.store.putRuns(this.id, runs);
    this.store.deleteRuns(this.id, deleted);
    for (const run of runs) this.touchedDuringSweep?.add(keyString(run.key));
  }

  /** A live lookup found the run gone, or a live read found it: the index follows the vendor. */
  applyLive(runs: readonly Run[], gone: readonly Key[]): void {
    this.applyWrite(runs, gone);
  }

  /** Runs one cycle now (tests and the demo wait on it); the schedule continues after it. */
  async cycleNow(): Promise<void> {
    clearTimeout(this.timer);
    if (this.running) await this.running;
    await this.runCycle();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runCycle(), delayMs);
    this.timer.unref();
  }

  private async runCycle(): Promise<void> {
    if (this.stopped || this.running) return;
    // Not the leader: no cycle and no schedule; gaining the lead schedules the next one (gateChanged).
    if (this.gate && !this.gate.leads(this.id)) return;
    this.running = this.cycle().finally(() => {
      this.running = undefined;
      this.schedule(this.settings.refreshSeconds * 1000);
    });
    await this.running;
  }

  private async cycle(): Promise<void> {
    this.cycles += 1;
    const requestId = `sync:${this.id}:${this.cycles}`;
    const scope = createScope({ id: requestId, log: this.log });
    const startedAt = Math.floor(Date.now() / 1000);
    const callsBefore = this.calls;
    const started = Date.now();
    const record = this.record;
    const sweepDue = record?.backfilled && record.sweptAt !== null && startedAt - record.sweptAt >= this.settings.sweepHours * 3600;
    const kind = !record?.backfilled ? 'backfill' : sweepDue ? 'sweep' : 'refresh';
    if (kind === 'backfill') this.phase = 'backfilling';
    // A root: a cycle belongs to no request, even when a request's work scheduled it.
    const span = this.tracer?.startSpan(`sync ${kind}`, { root: true, attributes: { 'rungraph.source': this.id, 'rungraph.sync.cycle': kind } });
    const traced = <T>(work: () => T): T => (span ? otelContext.with(trace.setSpan(ROOT_CONTEXT, span), work) : work());
    // The lines below are written after the span's context is left; they name its trace themselves.
    const traceFields = span ? { traceId: span.spanContext().traceId } : {};
    try {
      await traced(() => withCallContext({ requestId, deadline: Date.now() + CYCLE_DEADLINE_MS, lane: 'sync', onCall: () => (this.calls += 1), tracer: this.tracer }, async () => {
        const [projects, hosts] = await Promise.all([this.source.listProjects(scope), this.source.info.capabilities.hosts ? this.source.listHosts(scope) : Promise.resolve([])]);
        this.store.setProjects(this.id, projects);
        this.store.setHosts(this.id, hosts);
        if (kind === 'refresh') {
          const watermarks = await this.feed.refresh(scope, record!.watermarks, this.known(), this.sink());
          this.store.setSync(this.id, { backfilled: true, syncedAt: startedAt, sweptAt: record!.sweptAt, watermarks });
        } else {
          const watermarks = await this.backfill(scope, kind === 'sweep', started);
          this.store.setSync(this.id, { backfilled: true, syncedAt: startedAt, sweptAt: startedAt, watermarks });
        }
      }));
      const wasFailing = this.phase === 'failing';
      this.phase = 'running';
      this.lastError = null;
      const fields = { source: this.id, cycle: kind, ms: Date.now() - started, calls: this.calls - callsBefore, indexedRuns: this.store.view(this.id).size, ...traceFields };
      span?.setAttributes({ 'rungraph.sync.outcome': 'ok', 'rungraph.sync.calls': fields.calls, 'rungraph.sync.indexed_runs': fields.indexedRuns });
      if (kind === 'backfill') this.log.info(fields, `run index ready for ${this.id}: ${fields.indexedRuns} runs in ${(fields.ms / 1000).toFixed(1)} s, ${fields.calls} vendor calls`);
      else if (kind === 'sweep' || wasFailing) this.log.info(fields, kind === 'sweep' ? 'run index swept' : 'run index sync recovered');
      for (const resolve of this.readyListeners.splice(0)) resolve();
    } catch (error) {
      const failure = asGatewayError(error, this.id);
      this.phase = 'failing';
      this.lastError = `${failure.code}: ${failure.message}`;
      span?.setAttributes({ 'rungraph.sync.outcome': 'failed', 'rungraph.sync.calls': this.calls - callsBefore, 'error.type': failure.code });
      span?.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      // Every replica reports the leader's failure from the shared record (cleared by the next success).
      if (this.gate) this.store.setSync(this.id, { ...(this.record ?? NO_RECORD), progress: null, lastError: this.lastError });
      this.log.warn({ source: this.id, cycle: kind, code: failure.code, ms: Date.now() - started, calls: this.calls - callsBefore, ...traceFields }, `run index ${kind} failed for ${this.id}; the index keeps serving what it has: ${failure.message}`);
    } finally {
      this.touchedDuringSweep = undefined;
      const cycle: SyncCycle = { source: this.id, kind, failed: this.phase === 'failing', seconds: (Date.now() - started) / 1000, calls: this.calls - callsBefore };
      for (const watcher of this.cycleWatchers) watcher(cycle);
      span?.end();
    }
  }

  /**
   * A backfill, or a sweep: the same full read, after which what it did not see is dropped — runs the
   * vendor deleted, or left over from a backfill an earlier stop cut short — unless a write-through
   * put it there while the read was under way.
   */
  private async backfill(scope: ReturnType<typeof createScope>, sweep: boolean, started: number): Promise<unknown> {
    const seen = new Set<string>();
    this.touchedDuringSweep = new Set();
    let runs = 0;
    let lastLog = Date.now();
    const sink: FeedSink = {
      runs: (batch) => {
        for (const run of batch) seen.add(keyString(run.key));
        runs += batch.length;
        this.store.putRuns(this.id, batch);
      },
      deleted: (keys) => this.store.deleteRuns(this.id, keys),
      progress: (done, total) => {
        this.backfillProgress = total ? Math.min(1, done / total) : null;
        if (Date.now() - lastLog >= PROGRESS_EVERY_MS) {
          lastLog = Date.now();
          if (this.gate) this.store.setSync(this.id, { ...(this.record ?? NO_RECORD), progress: this.backfillProgress });
          const seconds = (Date.now() - started) / 1000;
          const eta = total && done > 0 ? Math.round((seconds / done) * (total - done)) : null;
          this.log.info(
            { source: this.id, runs, calls: this.calls, done, total, runsPerSecond: Math.round(runs / seconds), etaSeconds: eta },
            `${sweep ? 'sweeping' : 'backfilling'} ${this.id}: ${runs} runs, ${this.calls} calls${total ? `, ${done} of ${total}` : ''}${eta !== null ? `, about ${eta} s left` : ''}`,
          );
        }
      },
    };
    const watermarks = await this.feed.backfill(scope, sink);
    const touched = this.touchedDuringSweep;
    // A run created after the full read began may be missing from it for no fault of its own: one
    // added through another replica (a write this replica's touched set never sees) is kept; the
    // margin allows for the vendor's clock. Refreshes and the next sweep settle such runs.
    const bornAfter = started / 1000 - SWEEP_CLOCK_MARGIN_S;
    const gone = [...this.store.view(this.id).runs()]
      .filter((r) => !seen.has(keyString(r.key)) && !touched.has(keyString(r.key)) && !(r.createdAt !== null && r.createdAt >= bornAfter))
      .map((r) => r.key);
    this.store.deleteRuns(this.id, gone);
    this.backfillProgress = null;
    return watermarks;
  }

  private sink(): FeedSink {
    return {
      runs: (runs) => this.store.putRuns(this.id, runs),
      deleted: (keys) => this.store.deleteRuns(this.id, keys),
      progress: () => undefined,
    };
  }

  private known(): KnownRuns {
    const view = this.store.view(this.id);
    return {
      get: (key) => view.run(key),
      *open() {
        for (const run of view.runs()) if (!run.isClosed) yield run;
      },
    };
  }
}
