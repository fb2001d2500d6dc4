/**
 * What a store can rely on in the records a Source maps, so it can filter and order them without
 * asking the source (issue #13, item 4): keys in the source's canonical form, the vendor's update
 * time where it has one, and one host rule (model/runs.ts runOnHost) that gives the source's own
 * answer. Real HTTP against the simulators, through the Source interface; expectations come from
 * the simulators' state.
 */
import { createScope } from '../../src/model/scope';
import { onAnyHost, sliceRuns, type RunQuery } from '../../src/model/runs';
import type { Source } from '../../src/model/source';
import type { Run } from '../../src/model/types';
import { SOURCE_KINDS, type SourceConfig } from '../../src/sources/registry';
import { DEMO_IDS, TESTRAIL_DEMO_USER, TestRailSimulator } from '../../src/simulators/testrail';
import { QACOMPLETE_DEMO_HOSTS, QACOMPLETE_DEMO_USER, QACompleteSimulator } from '../../src/simulators/qacomplete';
import { ET_DEMO_USER, EnterpriseTesterSimulator } from '../../src/simulators/enterprise-tester';

const quiet = { info() {}, warn() {}, error() {} };
const scope = () => createScope({ id: 'contract-test', log: quiet });
const make = (config: SourceConfig): Source => SOURCE_KINDS[config.kind]!.create(config, quiet);
const ALL: RunQuery = { filter: {}, limit: 100_000 };

function expectCanonical(source: Source, runs: readonly Run[]): void {
  expect(runs.length).toBeGreaterThan(0);
  for (const run of runs) {
    expect(source.canonicalKey(run.key)).toEqual(run.key);
    if (run.projectKey) expect(source.canonicalKey(run.projectKey)).toEqual(run.projectKey);
  }
}

describe('TestRail', () => {
  const sim = new TestRailSimulator();
  let source: Source;
  beforeAll(async () => {
    const baseUrl = await sim.start();
    source = make({ id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl, auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password } });
  });
  afterAll(async () => {
    await source.close();
    await sim.stop();
  });

  test('updatedAt is updated_on where the server sends it (6.5.2 and later), else null', async () => {
    const project = DEMO_IDS.projects.nightly;
    const edited = sim.store.addRun(project, { name: 'edited since', created_on: 1_800_000_000, updated_on: 1_800_000_600 });
    const { runs } = await source.listRuns(scope(), { filter: { projectKeys: [[String(project)]] }, limit: 100_000 });
    expect(runs.find((r) => r.nativeId === String(edited.id))?.updatedAt).toBe(1_800_000_600);
    const stored = new Map(sim.store.runsOf(project).map((r) => [String(r.id), r.updated_on]));
    for (const run of runs) expect(run.updatedAt).toBe(stored.get(run.nativeId) ?? null);
    expect(runs.some((r) => r.updatedAt === null)).toBe(true);
  });

  test('keys are canonical: numbers without leading zeros', async () => {
    expectCanonical(source, (await source.listRuns(scope(), ALL)).runs);
    expect(source.canonicalKey(['007', '01'])).toEqual(['7', '1']);
    expect(source.canonicalKey(['x7'])).toEqual(['x7']);
  });
});

describe('QAComplete', () => {
  const sim = new QACompleteSimulator();
  let source: Source;
  beforeAll(async () => {
    const baseUrl = await sim.start();
    source = make({
      id: 'qac',
      kind: 'qacomplete',
      name: 'QAComplete',
      baseUrl,
      auth: { username: QACOMPLETE_DEMO_USER.email, password: QACOMPLETE_DEMO_USER.password },
      hosts: QACOMPLETE_DEMO_HOSTS.map(({ id, token }) => ({ id, token })),
    });
  });
  afterAll(async () => {
    await source.close();
    await sim.stop();
  });

  test('updatedAt is null: the reference documents no update time on test runs', async () => {
    const { runs } = await source.listRuns(scope(), ALL);
    expect(runs.length).toBe(sim.store.runs().length);
    expect(runs.every((r) => r.updatedAt === null)).toBe(true);
    expectCanonical(source, runs);
    expect(source.canonicalKey(['0143'])).toEqual(['143']);
  });

  test("a store that holds the runs and the hosts finds each host's runs with the model's rule, as the source does", async () => {
    const all = (await source.listRuns(scope(), ALL)).runs;
    const hosts = await source.listHosts(scope());
    expect(hosts).toHaveLength(QACOMPLETE_DEMO_HOSTS.length);
    for (const host of hosts) {
      const query: RunQuery = { filter: { hostKeys: [host.key] }, limit: 100_000 };
      const live = (await source.listRuns(scope(), query)).runs.map((r) => r.nativeId);
      const stored = sliceRuns(all, query, onAnyHost(hosts.filter((h) => h.nativeId === host.nativeId))).runs.map((r) => r.nativeId);
      // Independently: the simulator's runs whose test_host is this host's name.
      const expected = sim.store.runs().filter((r) => r.testHost === host.name).map((r) => String(r.id));
      expect(live.length).toBeGreaterThan(0);
      expect(stored).toEqual(live);
      expect([...live].sort()).toEqual([...expected].sort());
    }
  });
});

describe('Enterprise Tester', () => {
  const sim = new EnterpriseTesterSimulator();
  let source: Source;
  beforeAll(async () => {
    const baseUrl = await sim.start();
    source = make({ id: 'et', kind: 'enterprise-tester', name: 'Enterprise Tester', baseUrl, auth: { username: ET_DEMO_USER.username, password: ET_DEMO_USER.password } });
  });
  afterAll(async () => {
    await source.close();
    await sim.stop();
  });

  test('updatedAt is LastUpdatedAt', async () => {
    const { runs } = await source.listRuns(scope(), ALL);
    expect(runs.length).toBe(sim.store.runs.size);
    for (const run of runs) expect(run.updatedAt).toBe(Math.floor(sim.store.runs.get(run.nativeId)!.LastUpdatedAt / 1000));
  });

  test('keys are canonical: GUIDs lower-case, so a key given in capitals finds the same runs', async () => {
    const { runs } = await source.listRuns(scope(), ALL);
    expectCanonical(source, runs);
    const projectKey = runs.find((r) => r.projectKey !== null)!.projectKey!;
    const shouted = projectKey.map((part) => part.toUpperCase());
    expect(source.canonicalKey(shouted)).toEqual(projectKey);
    const byShouted = await source.listRuns(scope(), { filter: { projectKeys: [shouted] }, limit: 100_000 });
    const byCanonical = await source.listRuns(scope(), { filter: { projectKeys: [projectKey] }, limit: 100_000 });
    expect(byShouted.runs.map((r) => r.nativeId)).toEqual(byCanonical.runs.map((r) => r.nativeId));
    expect(byCanonical.runs.length).toBeGreaterThan(0);
  });
});
