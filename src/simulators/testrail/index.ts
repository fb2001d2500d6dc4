/**
 * A TestRail API v2 simulator over real HTTP, faithful to ../../../../shared/vendors/testrail.md.
 * Give a client `await sim.start()` as its base URL; it appends `/index.php?/api/v2/…` itself.
 * Tests arrange and inspect state through `sim.store`, count requests and inject faults through
 * `sim.server` (route names: `GET get_runs`, `POST add_run`, `POST close_run`, …).
 */
import { SimulatorServer } from '../harness';
import { DEFAULT_COMPAT, type TestRailCompat } from './http';
import { seedDemo } from './seed';
import { createHandler, routeOf } from './server';
import { TestRailStore } from './store';

export interface TestRailSimulatorOptions {
  seed?: 'demo' | 'empty';
  users?: Array<{ id?: number; name?: string; email: string; password: string }>;
}

export const TESTRAIL_DEMO_USER = { email: 'demo@rungraph.local', password: 'demo-testrail-key' };

export class TestRailSimulator {
  readonly server: SimulatorServer;
  readonly store: TestRailStore;
  /** Response-shape switches (legacy bare arrays, get_suites/get_users envelopes); change them per test. */
  readonly compat: TestRailCompat = { ...DEFAULT_COMPAT };

  constructor(options: TestRailSimulatorOptions = {}) {
    this.store = new TestRailStore();
    if ((options.seed ?? 'demo') === 'demo') seedDemo(this.store);
    for (const login of options.users ?? [TESTRAIL_DEMO_USER]) this.addLogin(login);
    this.server = new SimulatorServer({
      name: 'testrail',
      routeOf,
      handle: createHandler(this.store, this.compat, () => this.server.origin),
    });
  }

  /** Resolves to the base URL to give a client, e.g. http://127.0.0.1:PORT. */
  start(port?: number): Promise<string> {
    return this.server.start(port);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  /**
   * A login becomes credentials on an existing user (same id, else same e-mail) or a new user:
   * with the demo seed the default login is user 1, the seed's administrator. With an empty seed
   * the first login is made an administrator, so get_users works without a project for it.
   */
  private addLogin(login: { id?: number; name?: string; email: string; password: string }): void {
    const existing = (login.id !== undefined ? this.store.user(login.id) : undefined) ?? this.store.userByEmail(login.email);
    if (existing) {
      existing.email = login.email;
      existing.password = login.password;
      if (login.name) existing.name = login.name;
      return;
    }
    const first = this.store.allUsers().length === 0;
    this.store.addUser({ id: login.id, name: login.name, email: login.email, password: login.password, is_admin: first, ...(first ? { role_id: 1, role: 'Lead' } : {}) });
  }
}

export { TestRailStore } from './store';
export type { RunInput, PlanInput, PlanEntryInput, ResultInput } from './store';
export { DEMO_IDS } from './seed';
export { AUTH_FAILED, TESTRAIL_METHODS } from './server';
export type { TestRailCompat } from './http';
export type { Counters, RunRecord, TestRecord, ResultRecord, PlanRecord, PlanEntryRecord, ProjectRecord, UserRecord } from './model';
