/**
 * Id bookkeeping for the store: one table per entity with its own sequence, as TestRail's
 * database tables have (a run id, a test id and a case id are unrelated numbers), and GUIDs for
 * plan entries. Everything is deterministic so two simulators built alike hand out the same ids.
 */

export class Table<T extends { id: number }> extends Map<number, T> {
  private nextId = 1;

  constructor(private readonly kind: string) {
    super();
  }

  /**
   * The id for a new record: `wanted` when a test or the seed chooses one, else the next in
   * sequence. Ids are never reused after a delete, like auto-increment columns.
   */
  take(wanted?: number): number {
    const id = wanted ?? this.nextId;
    if (!Number.isInteger(id) || id < 1) throw new Error(`${this.kind} id must be a positive integer, got ${id}`);
    if (this.has(id)) throw new Error(`${this.kind} ${id} already exists`);
    this.nextId = Math.max(this.nextId, id + 1);
    return id;
  }

  /** For arrange calls, which fail loudly on a wrong id instead of answering like the API. */
  must(id: number): T {
    const value = this.get(id);
    if (value === undefined) throw new Error(`no ${this.kind} ${id} in the TestRail simulator store`);
    return value;
  }

  sorted(): T[] {
    return [...this.values()].sort((a, b) => a.id - b.id);
  }
}

/** Version-4-shaped GUIDs (TestRail plan entry ids) from a fixed-seed xorshift. */
export class GuidSource {
  private state = 0x7e57a11;

  next(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${'89ab'[parseInt(this.hex(1), 16) % 4]}${this.hex(3)}-${this.hex(12)}`;
  }

  private hex(digits: number): string {
    let out = '';
    while (out.length < digits) {
      let x = this.state;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.state = x >>> 0;
      out += this.state.toString(16).padStart(8, '0');
    }
    return out.slice(0, digits);
  }
}
