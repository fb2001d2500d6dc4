/**
 * The four writes, the same for every vendor, each announced on the change stream with what the
 * vendor answered once it has answered (a write that failed changed nothing we know of, so it
 * announces nothing). The graph checks the input first; this is where every write goes out.
 */
import type { ChangeStream } from './changes';
import type { AddRunRequest, DeleteOutcome, RequestScope } from './source';
import type { SourceSet } from './sources';
import type { Key, Run } from './types';

export class RunWrites {
  /**
   * `settle`, when given, is awaited after each write is announced and before the mutation
   * answers: with a shared run index it resolves once the write has reached the database and every
   * replica (read-your-writes on any replica). It may resolve late or give up; the write stands.
   */
  constructor(
    private readonly sources: SourceSet,
    private readonly changes: ChangeStream,
    private readonly settle: () => Promise<unknown> = async () => undefined,
  ) {}

  async addRun(scope: RequestScope, sourceId: string, request: AddRunRequest): Promise<Run> {
    const run = await this.sources.ofId(sourceId).addRun(scope, request);
    this.changes.publish({ type: 'added', sourceId, run });
    await this.settle();
    return run;
  }

  async restartRun(scope: RequestScope, sourceId: string, key: Key): Promise<Run> {
    const run = await this.sources.ofId(sourceId).restartRun(scope, key);
    this.changes.publish({ type: 'added', sourceId, run, from: key });
    await this.settle();
    return run;
  }

  async closeRun(scope: RequestScope, sourceId: string, key: Key): Promise<Run> {
    const run = await this.sources.ofId(sourceId).closeRun(scope, key);
    this.changes.publish({ type: 'closed', sourceId, run });
    await this.settle();
    return run;
  }

  async deleteRun(scope: RequestScope, sourceId: string, key: Key, dryRun: boolean): Promise<DeleteOutcome> {
    const outcome = await this.sources.ofId(sourceId).deleteRun(scope, key, dryRun);
    if (outcome.deleted) {
      this.changes.publish({ type: 'deleted', sourceId, key });
      await this.settle();
    }
    return outcome;
  }
}
