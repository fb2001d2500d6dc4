/**
 * The change stream: every write that rungraph makes announces what it changed, with the run as
 * the vendor answered. The run index (issue #9) applies these to stay current without waiting for
 * its next refresh (write-through); subscriptions may later forward them to clients.
 *
 * Listeners run synchronously, in subscription order, after the vendor has answered and before the
 * mutation returns, so a listener that updates an index makes the caller's next read see the write.
 * A listener that throws is logged and skipped: a write that happened is never reported as failed
 * because something downstream of it broke.
 */
import type { Logger } from './source';
import type { Key, Run } from './types';

export type RunChange =
  /** addRun, and restartRun's new run (`from` is the run it restarted). */
  | { type: 'added'; sourceId: string; run: Run; from?: Key }
  /** The run's state changed and it is still open. */
  | { type: 'changed'; sourceId: string; run: Run }
  /** closeRun: the run as the vendor reports it once closed. */
  | { type: 'closed'; sourceId: string; run: Run }
  | { type: 'deleted'; sourceId: string; key: Key };

export type ChangeListener = (change: RunChange) => void;

export class ChangeStream {
  private readonly listeners = new Set<ChangeListener>();

  constructor(private readonly log: Logger) {}

  /** Returns the function that unsubscribes. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(change: RunChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.log.error(
          { change: change.type, source: change.sourceId, err: { message: (error as Error)?.message } },
          'a change listener failed; the write itself succeeded',
        );
      }
    }
  }
}
