/**
 * A local Enterprise Tester (Catch Software) REST API for tests and the demo: a real HTTP server
 * that serves the API under an application path, like an on-premise install
 * (`http://127.0.0.1:PORT/EnterpriseTester/api/...`). Behaviour follows
 * ../shared/vendors/enterprise-tester.md; every choice the reference leaves open is marked
 * "unverified" at the code that makes it.
 */
import { SimulatorServer } from '../harness';
import { guidFrom } from './model';
import { seedDemo } from './seed';
import { createEnterpriseTesterHandler } from './server';
import { EnterpriseTesterStore } from './store';

export { EnterpriseTesterStore, EtApiError } from './store';
export type { NewAssignment, NewPackage, NewProject, NewRun, NewScript, NewUser, RunUpdate } from './model';
export { ET_ROUTES, ET_OUTSIDE_APP_SUFFIX, ET_UNKNOWN_ROUTE_SUFFIX } from './routes';
export type { EtRouteName } from './routes';
export { ET_DEFAULT_TOP } from './server';
export { DEMO_ASSIGNMENTS, DEMO_PACKAGES, DEMO_PAYMENTS_RUN_COUNT, DEMO_PROJECTS, DEMO_RUNS, DEMO_USERS } from './seed';
export { completedStatus, EMPTY_GUID, normalizeGuid, OUTCOMES, RUN_STATUS } from './model';
export type { EtExecutionPackage, EtProject, EtScript, EtScriptAssignment, EtScriptRun, EtScriptStep, EtStepResult, EtUser, Outcome, RunStatusText } from './model';

/** The demo's fixed, public login (decisions.md: demo credentials may be printed). */
export const ET_DEMO_USER = { username: 'demo', password: 'demo-et-password' };

export interface EnterpriseTesterSimulatorOptions {
  /** `demo` (default): the fixed data set of seed.ts. `empty`: only the login users. */
  seed?: 'demo' | 'empty';
  /** Who may log in with HTTP Basic; default `[ET_DEMO_USER]`. A name already in the seed gets the password. */
  users?: Array<{ username: string; password: string }>;
  /** Default `/EnterpriseTester`; `''` serves the API at the host root. */
  appPath?: string;
}

export class EnterpriseTesterSimulator {
  readonly server: SimulatorServer;
  readonly store: EnterpriseTesterStore;
  readonly appPath: string;

  constructor(options: EnterpriseTesterSimulatorOptions = {}) {
    this.appPath = normalizeAppPath(options.appPath ?? '/EnterpriseTester');
    this.store = new EnterpriseTesterStore();
    if ((options.seed ?? 'demo') === 'demo') seedDemo(this.store);
    for (const { username, password } of options.users ?? [ET_DEMO_USER]) {
      const existing = this.store.userByName(username);
      if (existing) existing.Password = password;
      else this.store.addUser({ Id: guidFrom(`enterprise-tester-simulator:login:${username.toLowerCase()}`), UserName: username, Password: password });
    }
    const { routeOf, handle } = createEnterpriseTesterHandler(this.store, this.appPath, () => this.server.origin);
    this.server = new SimulatorServer({ name: 'enterprise-tester', routeOf, handle });
  }

  /** Starts on 127.0.0.1 and resolves to the application root; clients append `/api/...`. */
  async start(port?: number): Promise<string> {
    const origin = await this.server.start(port);
    return `${origin}${this.appPath}`;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}

/** `EnterpriseTester/` → `/EnterpriseTester`; `/` or `''` → `''`. */
function normalizeAppPath(path: string): string {
  const trimmed = path.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}
