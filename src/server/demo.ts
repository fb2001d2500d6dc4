/**
 * The embedded default: built-in vendor simulators with demo data on free loopback ports, and a
 * config pointing the gateway at them. The simulators' credentials are fixed public demo values
 * (decisions.md), so printing them is fine; real credentials are never printed.
 */
import { TestRailSimulator, TESTRAIL_DEMO_USER } from '../simulators/testrail';
import { QACompleteSimulator, QACOMPLETE_DEMO_HOSTS, QACOMPLETE_DEMO_USER } from '../simulators/qacomplete';
import { EnterpriseTesterSimulator, ET_DEMO_USER } from '../simulators/enterprise-tester';
import type { SimulatorServer } from '../simulators/harness';
import type { Config } from './config';
import { DEFAULT_SERVER } from './config';

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
  config: Config;
  simulators: DemoSimulator[];
  stop(): Promise<void>;
}

export async function startDemo(server = DEFAULT_SERVER): Promise<Demo> {
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
  const config: Config = {
    server,
    sources: [
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
    ],
  };
  return {
    config,
    simulators,
    stop: async () => {
      await Promise.all(simulators.map((s) => s.stop()));
    },
  };
}
