/**
 * Answers computed from an unchanged index need not be computed again. A query whose every read
 * came from the run index is kept, keyed by what the client sent (method, body or query string) and
 * who sent it (the Authorization header), together with the index's generation; any change to the
 * index — a sync cycle that changed something, a write-through — makes a new generation, so a kept
 * answer is never served once the index no longer holds what it says. Answers that read a vendor
 * live, carry errors, or come from a mutation are never kept, and an answer is kept only the second
 * time it is computed, so one-off requests hold no memory. An entry lives at most `ttlMs`, so
 * the time-dependent parts (`lagSeconds`, `extensions.sync`) are at most that old.
 */
interface Entry {
  generation: number;
  at: number;
  status: number;
  contentType: string;
  /** Encoded once, so serving it again copies nothing. */
  body: Buffer;
  /** Byte offset of the 32 hex digits of `extensions.traceId` in `body` (tracing on), else -1: each request puts its own there. */
  traceIdAt: number;
  /** The operation's metrics label (metrics.ts), so a kept answer is counted under its name. */
  operation: string;
}

export class AnswerCache {
  private readonly entries = new Map<string, Entry>();
  /** Requests seen once in this generation: an answer is kept the second time it is asked for, so one-off requests cost no memory. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly generation: () => number,
    private readonly ttlMs = 1_000,
    private readonly maxEntries = 1_000,
    private readonly maxBytes = 256 * 1024,
  ) {}

  /** The request itself is the key (no hash to compute on every request; entries are few and bounded). */
  key(method: string, authorization: string | undefined, request: string): string {
    return `${method}\n${authorization ?? ''}\n${request}`;
  }

  get(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.generation !== this.generation() || Date.now() - entry.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    // Most recently used last, so the oldest goes first when full.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** `traceIdAt`: where in `body` (a string index) the trace id's digits start, or -1. */
  set(key: string, generation: number, status: number, contentType: string, body: string, operation = 'other', traceIdAt = -1): void {
    if (body.length > this.maxBytes || generation !== this.generation()) return;
    if (this.seen.get(key) !== generation) {
      this.seen.set(key, generation);
      if (this.seen.size > this.maxEntries * 4) this.seen.delete(this.seen.keys().next().value!);
      return;
    }
    this.seen.delete(key);
    const at = traceIdAt < 0 ? -1 : Buffer.byteLength(body.slice(0, traceIdAt));
    this.entries.set(key, { generation, at: Date.now(), status, contentType, body: Buffer.from(body), traceIdAt: at, operation });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
