/**
 * Long-running parts of the gateway — the HTTP listener, Apollo, the sources' connection pools,
 * and from issue #9 the sync jobs — start in the order they are added and stop in reverse, so
 * that nothing stops while something that depends on it still runs (the listener drains before
 * the sources close). A part that fails to stop is logged and the others still stop.
 */
import type { Logger } from '../model/source';

export interface Service {
  /** For the log. */
  readonly name: string;
  start?(): Promise<void>;
  /** `graceMs`: how long in-flight work may take to finish (shutdownGraceMs). */
  stop(graceMs: number): Promise<void>;
}

export class Lifecycle {
  private readonly services: Service[] = [];
  private readonly started: Service[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  add(service: Service): this {
    this.services.push(service);
    return this;
  }

  /** Starts every service in order; when one fails, the ones already started are stopped again. */
  async start(): Promise<void> {
    for (const service of this.services) {
      try {
        await service.start?.();
      } catch (error) {
        await this.stop(0);
        throw error;
      }
      this.started.push(service);
    }
  }

  /** Stops what was started, last first. Safe to call more than once: later calls wait for the first. */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= (async () => {
      for (const service of [...this.started].reverse()) {
        try {
          await service.stop(graceMs);
        } catch (error) {
          this.log.error({ service: service.name, err: { message: (error as Error)?.message } }, 'a part of the gateway did not stop cleanly');
        }
      }
    })();
    return this.stopping;
  }
}
