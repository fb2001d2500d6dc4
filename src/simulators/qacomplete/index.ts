/**
 * A local SmartBear QAComplete: the main REST API (projects v1, test runs v2 and their items, the
 * test library) and the Test Automation REST API (hosts, departments, current runs, agent
 * results) under `/rest-api/service`, as ../../../../shared/vendors/qacomplete.md describes them.
 *
 *   const sim = new QACompleteSimulator();              // demo seed
 *   const root = await sim.start();                      // http://127.0.0.1:PORT
 *   fetch(`${root}/rest-api/service/api/v2/projects/11873/testruns`, { headers: basic(QACOMPLETE_DEMO_USER) });
 */
import type { SimulatorServer } from '../harness';
import { createQACompleteServer } from './server';
import { QACOMPLETE_DEMO_DEPT, QACOMPLETE_DEMO_USER_ID, seedDemo } from './seed';
import { QACompleteStore } from './store';

export { QACOMPLETE_ROUTES, QACOMPLETE_PREFIX, type QACompleteRoute, type QACompleteRouteKey } from './routes';
export { QACOMPLETE_DEMO_HOSTS, QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_DEMO_DEPT, QACOMPLETE_DEMO_USER_ID } from './seed';
export { QACompleteStore, RUN_STATUS, ITEM_STATUSES, FINAL_RUN_STATUSES, deriveRunStatus } from './store';
export type {
  QACDept, QACUser, QACProject, QACTest, QACTestSet, QACConfiguration, QACRelease, QACHost, QACRun, QACRunItem, QACStepResult,
  RunInput, ItemSpec, ItemChange, DeptInput, UserInput, ProjectInput, TestInput, TestSetInput, ConfigurationInput, ReleaseInput, HostInput,
} from './types';
export { UNSET_DATE, PROJECT_UNSET_DATE, localDate, runJson, itemJson, projectJson, hostJson } from './json';

export const QACOMPLETE_DEMO_USER = { email: 'demo@rungraph.local', password: 'demo-qacomplete-password' };

export interface QACompleteSimulatorOptions {
  /** 'demo' (default): the data of seed.ts. 'empty': the demo department and the users only. */
  seed?: 'demo' | 'empty';
  /**
   * Users besides the demo user; one with the demo user's email replaces it (to restrict or
   * re-password it). `projectIds`: the projects this user may access; default all.
   */
  users?: Array<{ email: string; password: string; projectIds?: number[] }>;
}

export class QACompleteSimulator {
  readonly store: QACompleteStore;
  readonly server: SimulatorServer;

  constructor(options: QACompleteSimulatorOptions = {}) {
    this.store = new QACompleteStore();
    this.store.addDept({ ...QACOMPLETE_DEMO_DEPT, company: 'Rungraph Demo Co', dateCreated: new Date('2026-09-01T08:00:00.000Z') });
    const users = options.users ?? [];
    const demoOverride = users.find((u) => u.email.toLowerCase() === QACOMPLETE_DEMO_USER.email);
    this.store.addUser({ ...QACOMPLETE_DEMO_USER, ...demoOverride, id: QACOMPLETE_DEMO_USER_ID, firstName: 'Demo', lastName: 'User' });
    for (const user of users) if (user !== demoOverride) this.store.addUser({ ...user });
    if ((options.seed ?? 'demo') === 'demo') seedDemo(this.store);
    this.server = createQACompleteServer(this.store);
  }

  /** Resolves to the server root (e.g. http://127.0.0.1:PORT); clients append /rest-api/service/…. */
  start(port?: number): Promise<string> {
    return this.server.start(port);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
