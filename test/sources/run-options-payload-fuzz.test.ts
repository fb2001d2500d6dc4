/**
 * The addRun-option mappers at the vendor boundary: whatever JSON a vendor sends for a suite,
 * case, milestone, test, test set, release, configuration, script assignment or user, the mapper
 * returns an option whose id and label are non-empty text, or throws UPSTREAM_ERROR — never a
 * TypeError. Valid payloads are the simulators' own answers.
 */
import fc from 'fast-check';
import { GatewayError } from '../../src/model/errors';
import { DEMO_PROJECTS, ET_DEMO_USER, EnterpriseTesterSimulator } from '../../src/simulators/enterprise-tester';
import { QACompleteSimulator, QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_DEMO_USER } from '../../src/simulators/qacomplete';
import { DEMO_IDS, TESTRAIL_DEMO_USER, TestRailSimulator } from '../../src/simulators/testrail';
import { parseAssignmentOption, parseTester } from '../../src/sources/enterprise-tester/map';
import { mapConfigurationOption, mapReleaseOption, mapTestOption, mapTestSetOption } from '../../src/sources/qacomplete/map';
import { mapCaseOption, mapMilestoneOption, mapSuiteOption } from '../../src/sources/testrail/map';
import { mutated } from '../support/fuzz';

type Json = Record<string, unknown>;
const samples: Record<string, Json> = {};

async function first(url: string, user: string, password: string, pick: (body: any) => Json): Promise<Json> {
  const res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, accept: 'application/json' } });
  expect(res.status).toBe(200);
  return pick(await res.json());
}

beforeAll(async () => {
  const tr = new TestRailSimulator();
  const qac = new QACompleteSimulator();
  const et = new EnterpriseTesterSimulator();
  try {
    const t = `${await tr.start()}/index.php?/api/v2`;
    const trGet = (path: string, pick: (body: any) => Json) => first(`${t}/${path}`, TESTRAIL_DEMO_USER.email, TESTRAIL_DEMO_USER.password, pick);
    samples.suite = await trGet(`get_suites/${DEMO_IDS.projects.mobile}`, (b) => b[0]);
    samples.case = await trGet(`get_cases/${DEMO_IDS.projects.webshop}`, (b) => b.cases[0]);
    samples.milestone = await trGet(`get_milestones/${DEMO_IDS.projects.webshop}`, (b) => b.milestones[0]);
    const q = `${await qac.start()}/rest-api/service/api`;
    const p = QACOMPLETE_DEMO_PROJECTS.checkoutWeb;
    const qacGet = (path: string) => first(`${q}/${path}`, QACOMPLETE_DEMO_USER.email, QACOMPLETE_DEMO_USER.password, (b) => b.results.at(-1));
    samples.test = await qacGet(`v2/projects/${p}/tests`);
    samples.testSet = await qacGet(`v2/projects/${p}/testsets`);
    samples.release = await qacGet(`v1/projects/${p}/releases`);
    samples.configuration = await qacGet(`v2/projects/${p}/configurations`);
    const e = `${await et.start()}/api`;
    const etGet = (path: string) => first(`${e}/${path}`, ET_DEMO_USER.username, ET_DEMO_USER.password, (b) => b.Items[0]);
    samples.assignment = await etGet(`scriptassignments?tql=${encodeURIComponent(`Project = "${DEMO_PROJECTS.mobile}"`)}&$expand=Package`);
    samples.tester = await etGet(`project/${DEMO_PROJECTS.mobile}/assignees`);
  } finally {
    await Promise.all([tr.stop(), qac.stop(), et.stop()]);
  }
});

const CASES: Array<[string, string, (value: unknown) => { id: string } & Json, string]> = [
  ['TestRail suite', 'suite', (v) => ({ ...mapSuiteOption(v) }), 'name'],
  ['TestRail case', 'case', (v) => ({ ...mapCaseOption(v) }), 'title'],
  ['TestRail milestone', 'milestone', (v) => ({ ...mapMilestoneOption(v) }), 'name'],
  ['QAComplete test', 'test', (v) => ({ ...mapTestOption(v) }), 'title'],
  ['QAComplete test set', 'testSet', (v) => ({ ...mapTestSetOption(v) }), 'title'],
  ['QAComplete release', 'release', (v) => ({ ...mapReleaseOption(v) }), 'title'],
  ['QAComplete configuration', 'configuration', (v) => ({ ...mapConfigurationOption(v) }), 'title'],
  ['Enterprise Tester script assignment', 'assignment', (v) => ({ ...parseAssignmentOption(v).option }), 'name'],
  ['Enterprise Tester tester', 'tester', (v) => ({ ...parseTester(v) }), 'userName'],
];

describe.each(CASES)('%s', (_name, sample, map, label) => {
  test('the simulator\'s payload maps', () => {
    const option = map(samples[sample]);
    expect(option.id.length).toBeGreaterThan(0);
    expect(typeof option[label]).toBe('string');
  });

  test('mutated and garbage payloads map to a well-typed option or fail as UPSTREAM_ERROR', () => {
    fc.assert(
      fc.property(mutated(samples[sample]), (payload) => {
        let option;
        try {
          option = map(payload);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          expect((error as GatewayError).code).toBe('UPSTREAM_ERROR');
          return;
        }
        expect(typeof option.id === 'string' && option.id.length > 0).toBe(true);
        expect(typeof option[label]).toBe('string');
        for (const value of Object.values(option)) expect(['string', 'boolean', 'number', 'object'].includes(typeof value)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
