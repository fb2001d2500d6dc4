/**
 * Timeouts that measure the vendor, not the gateway. A timer is an event-loop callback: when the
 * process is busy (a huge response being built, a long synchronous stretch) every timer fires late,
 * all at once, and a vendor that answered in 20 ms looks as if it had not answered in 10 s —
 * its answer sits unread in the socket while the timeout callback runs first.
 *
 * So the process keeps a record of its own stalls (gaps between ticks of a short interval timer),
 * and a call's timer, when it fires, subtracts the stalled time from what it elapsed: if the vendor
 * has not yet had its full time, the timer is set again for the rest. The call is cut only when the
 * vendor really had `timeoutMs` of the gateway's attention, or when the request's own deadline
 * passes — which is then the gateway's timeout, reported as such.
 */
import { performance } from 'node:perf_hooks';

const TICK_MS = 50;
/** Gaps shorter than this are timer jitter, not stalls. */
const MIN_STALL_MS = 20;
const KEEP_STALLS = 512;

interface Stall {
  /** performance.now() when the loop came back. */
  end: number;
  /** How much later than due the tick ran. */
  ms: number;
}

const stalls: Stall[] = [];
let lastTick = 0;
let ticker: NodeJS.Timeout | undefined;

function watchLoop(): void {
  if (ticker) return;
  lastTick = performance.now();
  ticker = setInterval(() => {
    const now = performance.now();
    const late = now - lastTick - TICK_MS;
    if (late >= MIN_STALL_MS) {
      stalls.push({ end: now, ms: late });
      if (stalls.length > KEEP_STALLS) stalls.splice(0, stalls.length - KEEP_STALLS);
    }
    lastTick = now;
  }, TICK_MS);
  // Watching must never keep a process alive.
  ticker.unref();
}

/** Milliseconds the event loop was stalled since `since` (performance.now() time), including a stall under way. */
export function stalledSince(since: number): number {
  const now = performance.now();
  let total = 0;
  for (let i = stalls.length - 1; i >= 0; i--) {
    const stall = stalls[i];
    if (stall.end <= since) break;
    total += Math.min(stall.ms, stall.end - since);
  }
  // The ticker itself may be among the callbacks delayed by the stall that is ending right now.
  const current = now - Math.max(lastTick + TICK_MS, since);
  if (current >= MIN_STALL_MS) total += current;
  return total;
}

export type ClockOutcome = 'vendor' | 'deadline';

export interface CallClock {
  /** Aborted when the vendor's time or the request's deadline is up; `outcome` says which. */
  readonly signal: AbortSignal;
  readonly outcome: ClockOutcome | undefined;
  /** Starts the next phase (the body after the headers) with a fresh `timeoutMs`. */
  nextPhase(): void;
  /** Milliseconds the gateway was stalled during this call so far. */
  stalledMs(): number;
  dispose(): void;
}

/** A call's timer: `timeoutMs` of vendor time per phase, and never past `deadline` (epoch ms). */
export function startCallClock(timeoutMs: number, deadline: number | undefined): CallClock {
  watchLoop();
  const controller = new AbortController();
  const callStart = performance.now();
  let phaseStart = callStart;
  let outcome: ClockOutcome | undefined;
  let timer: NodeJS.Timeout | undefined;

  const arm = (ms: number) => {
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(1, Math.ceil(ms)));
  };
  const untilDeadline = () => (deadline === undefined ? Infinity : deadline - Date.now());
  const check = () => {
    if (untilDeadline() <= 0) return stop('deadline');
    const vendorMs = performance.now() - phaseStart - stalledSince(phaseStart);
    if (vendorMs >= timeoutMs) return stop('vendor');
    arm(Math.min(timeoutMs - vendorMs, untilDeadline()));
  };
  const stop = (why: ClockOutcome) => {
    outcome = why;
    controller.abort(new Error(why === 'vendor' ? 'vendor timeout' : 'request deadline'));
  };
  arm(Math.min(timeoutMs, untilDeadline()));

  return {
    signal: controller.signal,
    get outcome() {
      return outcome;
    },
    nextPhase() {
      if (outcome) return;
      phaseStart = performance.now();
      arm(Math.min(timeoutMs, untilDeadline()));
    },
    stalledMs: () => stalledSince(callStart),
    dispose: () => clearTimeout(timer),
  };
}
