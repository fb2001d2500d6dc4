/**
 * Traffic control, the same for every vendor: a circuit breaker, a request-rate budget (token
 * bucket), a concurrency cap and a retry budget, held together per source by TrafficControl. Every
 * call a source makes goes through its one TrafficControl, whatever API or credentials the call
 * uses, so a source's budget is the source's; and one vendor's bad day never slows the others.
 *
 * The rate budget is a seam (RateBudget): by default this process's own token bucket; with several
 * replicas on one PostgreSQL (index.postgres) the composition root plugs in a budget all replicas
 * share (SharedBudgets below; the PostgreSQL side is src/store/postgres-budget.ts).
 */
import { ErrorCode, GatewayError } from '../model/errors';
import { currentCallContext } from './context';

export interface TrafficPolicy {
  /** Per upstream call (headers and body each), ms. */
  timeoutMs: number;
  /** TCP/TLS connect, ms. */
  connectTimeoutMs: number;
  /** Extra attempts for an idempotent read. */
  maxRetries: number;
  /** A Retry-After above this is reported as RATE_LIMITED at once. */
  maxRetryAfterSeconds: number;
  /** Calls in flight at once; more wait their turn. */
  concurrency: number;
  /** Requests per minute the vendor allows us, or null for no budget. */
  requestsPerMinute: number | null;
  /** How many requests may go at once before the rate applies (defaults to a 10th of a minute's budget). */
  burst: number | null;
  /** Consecutive failures that open the breaker. */
  breakerFailures: number;
  /** How long an open breaker fails fast before letting one probe through, ms. */
  breakerCooldownMs: number;
  /** Largest answer body read; a larger one is UPSTREAM_ERROR (a vendor bug or a wrong URL). */
  maxResponseBytes: number;
  /** The share of the rate budget the run index's sync may take (index.budgetShare); live reads and writes keep the rest. */
  syncShare: number;
  /** Not a config key: where a budget shared with other replicas comes from, when the gateway has one (index.postgres). */
  budgets?: SharedBudgets;
}

export const DEFAULT_POLICY: TrafficPolicy = {
  syncShare: 0.5,
  timeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  maxRetries: 2,
  maxRetryAfterSeconds: 30,
  concurrency: 8,
  requestsPerMinute: null,
  burst: null,
  breakerFailures: 5,
  breakerCooldownMs: 5_000,
  maxResponseBytes: 32 * 1024 * 1024,
};

/**
 * The breaker's refusal: UPSTREAM_UNAVAILABLE for the client, and for the transport a call that was
 * never sent, so it says nothing about the vendor's health. Recognised by its class.
 */
export class CircuitOpenError extends GatewayError {
  constructor(sourceId: string, retryInSeconds: number) {
    super(
      ErrorCode.UPSTREAM_UNAVAILABLE,
      `${sourceId} is failing, so rungraph pauses its calls to it to let it recover; it tries again in about ${retryInSeconds} s.`,
      { source: sourceId },
    );
    this.name = 'CircuitOpenError';
  }
}

/**
 * Closed: calls flow, consecutive failures are counted. Open: calls fail at once with
 * UPSTREAM_UNAVAILABLE until the cooldown ends. Half-open: one probe goes; its success closes the
 * breaker, its failure opens it for another cooldown. Only "the vendor is unwell" failures count
 * (5xx, timeouts, resets); a 404 or 401 says nothing about the vendor's health.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly sourceId: string,
    private readonly threshold: number,
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.failures < this.threshold) return 'closed';
    return this.now() < this.openUntil ? 'open' : 'half-open';
  }

  /** Throws when the call must not go; otherwise returns whether this call is the probe. */
  admit(): boolean {
    const state = this.state;
    if (state === 'closed') return false;
    if (state === 'open' || this.probing) {
      throw new CircuitOpenError(this.sourceId, Math.max(1, Math.ceil((this.openUntil - this.now()) / 1000)));
    }
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
  }

  failure(): void {
    this.failures += 1;
    this.probing = false;
    if (this.failures >= this.threshold) this.openUntil = this.now() + this.cooldownMs;
  }

  /** A call that ended without saying anything about the vendor's health (e.g. a 400). */
  neutral(): void {
    if (this.probing) this.success();
  }
}

/**
 * What a request takes before it leaves: resolves true once it may go, or false when `deadline`
 * (epoch ms) came first — then nothing was taken and the request must not be sent.
 */
export interface RateBudget {
  take(deadline?: number): Promise<boolean>;
}

/**
 * The bucket that keeps a budget of `requestsPerMinute` in every 60 s window, as the vendor counts
 * them. A token bucket of capacity B refilled at R a minute lets B + R through in a minute (B at
 * once, then R), so one refilled at the whole budget would overshoot by its burst. This one holds
 * B = `burst` (default a tenth of the budget, at most half of it, since what the burst takes the
 * rate gives up) and refills at (requestsPerMinute − B) · 60/61 a minute: even a 61 s window of
 * departures holds fewer than B + (requestsPerMinute − B) = requestsPerMinute, so requests that
 * bunch up by up to a second on their way (a busy event loop, the network, the database's answer)
 * still arrive within budget in every 60 s window the vendor sees. The 61st second costs about 2%
 * of the rate after the burst.
 */
export function windowedBucket(requestsPerMinute: number, burst: number | null): { capacity: number; perMinute: number } {
  const capacity = Math.max(1, Math.min(Math.floor(burst ?? requestsPerMinute / 10), Math.floor(requestsPerMinute / 2)));
  // Below 2 a minute the one-token burst leaves no room: a trickle of at most half a token a minute keeps it within.
  return { capacity, perMinute: Math.max(((requestsPerMinute - capacity) * 60) / 61, Math.min(requestsPerMinute / 2, 0.5)) };
}

interface Waiter {
  resolve(ok: boolean): void;
  timer?: NodeJS.Timeout;
}

/**
 * A token bucket: `capacity` tokens, refilled at `perMinute` a minute (windowedBucket gives both
 * for a budget). `take()` waits, first come first served, so a heavy query queues instead of
 * provoking a 429 storm; a waiter whose deadline passes leaves the queue without a token.
 */
export class TokenBucket implements RateBudget {
  private tokens: number;
  private last: number;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly perMinute: number,
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
    /** Tokens at the start (default full). */
    initial = capacity,
  ) {
    this.tokens = Math.min(capacity, initial);
    this.last = now();
  }

  take(deadline?: number): Promise<boolean> {
    if (this.tryTake()) return Promise.resolve(true);
    if (deadline !== undefined && deadline <= this.now()) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve };
      if (deadline !== undefined) {
        waiter.timer = setTimeout(() => {
          const at = this.queue.indexOf(waiter);
          if (at >= 0) this.queue.splice(at, 1);
          resolve(false);
        }, deadline - this.now());
        waiter.timer.unref?.();
      }
      this.queue.push(waiter);
      this.schedule();
    });
  }

  /** A token now if one is there and nobody is waiting before us; never waits. */
  tryTake(): boolean {
    this.refill();
    if (this.queue.length > 0 || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  get waiting(): number {
    return this.queue.length;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.perMinute) / 60_000);
    this.last = now;
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) * 60_000) / this.perMinute));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.queue.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        const waiter = this.queue.shift()!;
        clearTimeout(waiter.timer);
        waiter.resolve(true);
      }
      this.schedule();
    }, wait);
    this.timer.unref?.();
  }
}

/**
 * Retries may add at most 20% to the traffic of the last ten seconds (plus a few to start with),
 * so that retries cannot multiply load on a vendor that is already struggling.
 */
export class RetryBudget {
  private readonly requests: number[] = [];
  private readonly retries: number[] = [];

  constructor(
    private readonly ratio = 0.2,
    private readonly floor = 10,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  recordRequest(): void {
    this.requests.push(this.now());
  }

  /** Takes one retry from the budget, or answers false when it is spent. */
  tryRetry(): boolean {
    const since = this.now() - this.windowMs;
    while (this.requests.length > 0 && this.requests[0] < since) this.requests.shift();
    while (this.retries.length > 0 && this.retries[0] < since) this.retries.shift();
    if (this.retries.length >= this.floor + this.ratio * this.requests.length) return false;
    this.retries.push(this.now());
    return true;
  }
}

/** A simple FIFO semaphore. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

/** A policy with every key given, from the keys a config set (undefined ones take the default). */
export function trafficPolicy(given: Partial<TrafficPolicy> = {}): TrafficPolicy {
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_POLICY, ...set };
}

/** The sync's requests in flight at once (decisions.md, "Budget": at most 2 per source). */
const SYNC_IN_FLIGHT = 2;

/** A source's budget as its replica's config gives it, for a budget shared with other replicas. */
export interface BudgetRule {
  sourceId: string;
  requestsPerMinute: number;
  /** As configured; null: the default (windowedBucket). */
  burst: number | null;
}

/** Where shared budgets come from (src/store/postgres-budget.ts: one kept in PostgreSQL). */
export interface BudgetProvider {
  budget(rule: BudgetRule): RateBudget;
}

/**
 * The sources of one gateway and the budget they may share with other replicas. Sources are built
 * (and their TrafficControls with them) before the gateway opens its store, so each TrafficControl
 * with a rate budget joins here at construction, and the composition root plugs a provider in once
 * it has one — only with index.postgres — and unplugs it at stop (back to the local buckets).
 */
export class SharedBudgets {
  private readonly members: TrafficControl[] = [];

  join(control: TrafficControl): void {
    this.members.push(control);
  }

  /** The rules of the sources that have a rate budget. */
  get rules(): BudgetRule[] {
    return this.members.flatMap((c) => (c.rule ? [c.rule] : []));
  }

  plug(provider: BudgetProvider): void {
    for (const control of this.members) if (control.rule) control.shareBudget(provider.budget(control.rule));
  }

  unplug(): void {
    for (const control of this.members) control.shareBudget(undefined);
  }
}

/**
 * One source's traffic policy in force: its breaker, rate budget, concurrency cap and retry
 * budget, shared by every call the source makes. QAComplete calls its user API with the user's
 * login and each test host's automation API with that host's token; those are still one source's
 * calls to one vendor, so they take from one budget, count towards one breaker and wait for one
 * cap, instead of each credential getting a budget of its own.
 */
export class TrafficControl {
  readonly policy: TrafficPolicy;
  readonly breaker: CircuitBreaker;
  /** The source's budget as configured, or undefined for none. */
  readonly rule: BudgetRule | undefined;
  private readonly slots: Semaphore;
  private readonly localBudget: TokenBucket | undefined;
  /** The local bucket, or one shared with other replicas (SharedBudgets). */
  private budget: RateBudget | undefined;
  private readonly retryBudget = new RetryBudget();
  /** The sync's own lane (decisions.md, Budget): at most 2 of its requests in flight, at most its share of the rate. */
  private readonly syncSlots = new Semaphore(SYNC_IN_FLIGHT);
  private readonly syncBucket: TokenBucket | undefined;

  constructor(
    readonly sourceId: string,
    policy: Partial<TrafficPolicy> = {},
  ) {
    this.policy = trafficPolicy(policy);
    this.breaker = new CircuitBreaker(sourceId, this.policy.breakerFailures, this.policy.breakerCooldownMs);
    this.slots = new Semaphore(this.policy.concurrency);
    const rpm = this.policy.requestsPerMinute;
    if (rpm !== null) {
      this.rule = { sourceId, requestsPerMinute: rpm, burst: this.policy.burst };
      const whole = windowedBucket(rpm, this.policy.burst);
      this.budget = this.localBudget = new TokenBucket(whole.perMinute, whole.capacity);
      // Only the sync leader syncs, so the share's bucket can stay local even when the budget is shared.
      const share = windowedBucket(rpm * this.policy.syncShare, Math.floor((this.policy.burst ?? rpm / 10) * this.policy.syncShare));
      this.syncBucket = new TokenBucket(share.perMinute, share.capacity);
    }
    this.policy.budgets?.join(this);
  }

  /** Takes from `budget` from now on (a budget shared with other replicas); undefined: the local bucket again. */
  shareBudget(budget: RateBudget | undefined): void {
    if (this.rule) this.budget = budget ?? this.localBudget;
  }

  /** Lets one attempt start, or throws CircuitOpenError; an admitted attempt counts for the retry budget. */
  admit(): void {
    this.breaker.admit();
    this.retryBudget.recordRequest();
  }

  /**
   * Runs `send` in a concurrency slot, once the rate budget allows. The token is taken inside the
   * slot, right before the request leaves: a token taken while waiting for a slot would let
   * requests pile up and then go out in a burst. A request whose deadline passes while it waits
   * for the budget is not sent (GATEWAY_TIMEOUT), and took no token from it.
   */
  run<T>(send: () => Promise<T>, lane?: 'sync'): Promise<T> {
    const deadline = currentCallContext()?.deadline;
    const go = () =>
      this.slots.run(async () => {
        if (this.budget && !(await this.budget.take(deadline))) throw this.outOfTime();
        return send();
      });
    if (lane !== 'sync') return go();
    // A sync request waits for its share outside the source's concurrency slots, so a throttled
    // sync never holds a slot live reads could use; then it takes from the whole budget like everyone.
    return this.syncSlots.run(async () => {
      if (this.syncBucket && !(await this.syncBucket.take(deadline))) throw this.outOfTime();
      return go();
    });
  }

  /** Takes one retry from the retry budget, or answers false when it is spent. */
  tryRetry(): boolean {
    return this.retryBudget.tryRetry();
  }

  private outOfTime(): GatewayError {
    return new GatewayError(
      ErrorCode.GATEWAY_TIMEOUT,
      `This request used up its time budget (server.requestTimeoutMs) waiting for ${this.sourceId}'s rate budget ` +
        `(rateLimit.requestsPerMinute ${this.policy.requestsPerMinute}); the call was not sent.`,
      { source: this.sourceId },
    );
  }
}
