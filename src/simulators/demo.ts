/**
 * The demo: the three vendor simulators with demo data on free loopback ports, and the source
 * configs that point a gateway at them. The caller (src/main.ts, the bench, the README test) adds
 * the server settings and builds the gateway; this file knows nothing of the gateway itself.
 *
 * This is the only door into src/simulators from the rest of src/ (.dependency-cruiser.cjs), so
 * the product never depends on a fake vendor except to start the demo. The simulators' credentials
 * are fixed public demo values (decisions.md), so printing them is fine; real credentials are never
 * printed.
 */
import type { SourceConfig } from '../sources/registry';
import type { SimulatorServer } from './harness';
import { TestRailSimulator, TESTRAIL_DEMO_USER } from './testrail';
import { QACompleteSimulator, QACOMPLETE_DEMO_HOSTS, QACOMPLETE_DEMO_USER } from './qacomplete';
import { EnterpriseTesterSimulator, ET_DEMO_USER } from './enterprise-tester';

export interface DemoSimulator {
  name: string;
  /** The source id the demo config gives it. */
  sourceId: string;
  url: string;
  credentials: string;
  /** Counters, latency and faults (benchmarks and the soak test use them). */
  server: SimulatorServer;
  stop(): Promise<void>;
}

export interface Demo {
  /** One source config per simulator, in the order of `simulators`. */
  sources: SourceConfig[];
  simulators: DemoSimulator[];
  stop(): Promise<void>;
}

export async function startDemo(): Promise<Demo> {
  const testrail = new TestRailSimulator({ seed: 'demo' });
  const testrailUrl = await testrail.start();
  const simulators: DemoSimulator[] = [
    {
      name: 'TestRail',
      sourceId: 'tr',
      server: testrail.server,
      url: testrailUrl,
      credentials: `${TESTRAIL_DEMO_USER.email} / ${TESTRAIL_DEMO_USER.password}`,
      stop: () => testrail.stop(),
    },
  ];
  const qacomplete = new QACompleteSimulator({ seed: 'demo' });
  const qacompleteUrl = await qacomplete.start();
  simulators.push({
    name: 'QAComplete',
    sourceId: 'qac',
    server: qacomplete.server,
    url: qacompleteUrl,
    credentials: `${QACOMPLETE_DEMO_USER.email} / ${QACOMPLETE_DEMO_USER.password}; test hosts ${QACOMPLETE_DEMO_HOSTS.map((h) => `${h.id}:${h.token}`).join(', ')}`,
    stop: () => qacomplete.stop(),
  });
  const enterpriseTester = new EnterpriseTesterSimulator({ seed: 'demo' });
  const enterpriseTesterUrl = await enterpriseTester.start();
  simulators.push({
    name: 'Enterprise Tester',
    sourceId: 'et',
    server: enterpriseTester.server,
    url: enterpriseTesterUrl,
    credentials: `${ET_DEMO_USER.username} / ${ET_DEMO_USER.password}`,
    stop: () => enterpriseTester.stop(),
  });
  const sources: SourceConfig[] = [
    {
      id: 'tr',
      kind: 'testrail',
      name: 'TestRail (demo)',
      baseUrl: testrailUrl,
      auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password },
    },
    {
      id: 'qac',
      kind: 'qacomplete',
      name: 'QAComplete (demo)',
      baseUrl: qacompleteUrl,
      auth: { username: QACOMPLETE_DEMO_USER.email, password: QACOMPLETE_DEMO_USER.password },
      hosts: QACOMPLETE_DEMO_HOSTS.map(({ id, token }) => ({ id, token })),
    },
    {
      id: 'et',
      kind: 'enterprise-tester',
      name: 'Enterprise Tester (demo)',
      baseUrl: enterpriseTesterUrl,
      auth: { username: ET_DEMO_USER.username, password: ET_DEMO_USER.password },
    },
  ];
  return {
    sources,
    simulators,
    stop: async () => {
      await Promise.all(simulators.map((s) => s.stop()));
    },
  };
}
