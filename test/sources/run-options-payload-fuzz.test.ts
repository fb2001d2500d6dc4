/**
 * The addRun-option mappers at the vendor boundary: whatever JSON a vendor sends for a suite,
 * case, milestone, test, test set, release, configuration, script assignment or user, the mapper
 * returns exactly the option the vendor's reference says the payload means (an oracle written here
 * with test/support/fuzz.ts, not the mappers' helpers), or throws UPSTREAM_ERROR when it means
 * nothing — never a TypeError, never a default standing in for a value that was wrong. Valid
 * payloads are the simulators' own answers.
 */
import fc from 'fast-check';
import type { EnterpriseTesterTesterOption, QACompleteConfigurationOption, QACompleteReleaseOption, QACompleteTestOption, QACompleteTestSetOption, TestRailCaseOption, TestRailMilestoneOption, TestRailSuiteOption } from '../../src/model/types';
import { DEMO_PROJECTS, ET_DEMO_USER, EnterpriseTesterSimulator } from '../../src/simulators/enterprise-tester';
import { QACompleteSimulator, QACOMPLETE_DEMO_PROJECTS, QACOMPLETE_DEMO_USER } from '../../src/simulators/qacomplete';
import { DEMO_IDS, TESTRAIL_DEMO_USER, TestRailSimulator } from '../../src/simulators/testrail';
import { parseAssignmentOption, parseTester, type EtAssignmentOption } from '../../src/sources/enterprise-tester/map';
import { mapConfigurationOption, mapReleaseOption, mapTestOption, mapTestSetOption } from '../../src/sources/qacomplete/map';
import { mapCaseOption, mapMilestoneOption, mapSuiteOption } from '../../src/sources/testrail/map';
import { ABSENT, enterpriseTester, fuzzMapper, qacomplete, read, someGuid, someInstant, someText } from '../support/fuzz';

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

const optionalText = fc.oneof(someText, fc.constantFrom(null, ABSENT));
/** A flag as TestRail writes it (JSON boolean or 1/0), or left out by an older server. */
const trFlag = fc.constantFrom(true, false, 1, 0);
const trOptFlag = fc.constantFrom(true, false, 1, 0, null, ABSENT);
const qacId = fc.oneof(fc.nat(), fc.nat().map(String), fc.nat(99).map((n) => ` 0${n} `));
const qacOptFlag = fc.constantFrom(true, false, 1, 0, 'true', 'False', null, ABSENT);

// ------------------------------------------------------------------- the oracles (testrail.md §3.6, §3.8)

function suiteOracle(payload: unknown): TestRailSuiteOption {
  const o = read.object(payload);
  return {
    id: `${read.int(o.id, 'id')}`,
    name: read.str(o.name, 'name'),
    description: read.optStr(o.description, 'description'),
    // Older servers lack the flags: a suite is then neither master nor completed.
    isMaster: read.optFlag(o.is_master, 'is_master', false),
    isCompleted: read.optFlag(o.is_completed, 'is_completed', false),
  };
}

function caseOracle(payload: unknown): TestRailCaseOption {
  const o = read.object(payload);
  return { id: `${read.int(o.id, 'id')}`, title: read.str(o.title, 'title'), refs: read.optStr(o.refs, 'refs') };
}

function milestoneOracle(payload: unknown): TestRailMilestoneOption {
  const o = read.object(payload);
  const parent = read.optInt(o.parent_id, 'parent_id');
  return {
    id: `${read.int(o.id, 'id')}`,
    name: read.str(o.name, 'name'),
    isStarted: read.optFlag(o.is_started, 'is_started', false),
    isCompleted: read.flag(o.is_completed, 'is_completed'),
    dueOn: read.optInt(o.due_on, 'due_on'),
    parentId: parent === null ? null : `${parent}`,
  };
}

// ---------------------------------------------------------------------------- QAComplete (§3.9, quirk 4)

function testOracle(payload: unknown): QACompleteTestOption {
  const o = read.object(payload);
  return {
    id: qacomplete.id(o.id, 'id'),
    title: read.str(o.title, 'title'),
    // A test's activity flag is `active`, unlike the other entities' `is_active`; listed means active.
    isActive: qacomplete.optFlag(o.active, 'active', true),
    executionType: read.optStr(o.execution_type, 'execution_type'),
    folderName: read.optStr(o.folder_name, 'folder_name'),
  };
}

function testSetOracle(payload: unknown): QACompleteTestSetOption {
  const o = read.object(payload);
  return {
    id: qacomplete.id(o.id, 'id'),
    title: read.str(o.title, 'title'),
    isActive: qacomplete.optFlag(o.is_active, 'is_active', true),
    isSequential: qacomplete.optFlag(o.is_sequential, 'is_sequential', false),
    executionType: read.optStr(o.execution_type, 'execution_type'),
    folderName: read.optStr(o.folder_name, 'folder_name'),
  };
}

function releaseOracle(payload: unknown): QACompleteReleaseOption {
  const o = read.object(payload);
  // The vendor writes parent_id 0 for a release without a parent.
  const parent = o.parent_id === undefined || o.parent_id === null ? null : qacomplete.id(o.parent_id, 'parent_id');
  return {
    id: qacomplete.id(o.id, 'id'),
    title: read.str(o.title, 'title'),
    releaseType: read.optStr(o.release_type, 'release_type'),
    statusCode: read.optStr(o.status_code, 'status_code'),
    isActive: qacomplete.optFlag(o.is_active, 'is_active', true),
    parentId: parent === '0' ? null : parent,
  };
}

function configurationOracle(payload: unknown): QACompleteConfigurationOption {
  const o = read.object(payload);
  return { id: qacomplete.id(o.id, 'id'), title: read.str(o.title, 'title'), isActive: qacomplete.optFlag(o.is_active, 'is_active', true) };
}

// ------------------------------------------------------------------------- Enterprise Tester (§4.5, §4.8)

function assignmentOracle(payload: unknown): EtAssignmentOption {
  const o = read.object(payload);
  const inlined = o.Package === undefined || o.Package === null ? null : read.object(o.Package, 'Package');
  const pkg = inlined && {
    id: enterpriseTester.guid(inlined.Id, 'Package.Id'),
    projectId: enterpriseTester.optGuid(inlined.ProjectId, 'Package.ProjectId'),
    parentId: enterpriseTester.optGuid(inlined.ParentId, 'Package.ParentId'),
    name: read.str(inlined.Name, 'Package.Name'),
  };
  return {
    option: {
      id: enterpriseTester.guid(o.Id, 'Id'),
      name: read.str(o.Name, 'Name'),
      status: read.str(o.Status, 'Status'),
      packageName: pkg ? pkg.name : null,
      assignedTo: read.optStr(o.AssignedTo, 'AssignedTo'),
    },
    package: pkg,
    packageId: enterpriseTester.guid(o.PackageId, 'PackageId'),
  };
}

function testerOracle(payload: unknown): EnterpriseTesterTesterOption {
  const o = read.object(payload);
  // The display name: first and last name as given, blank parts left out; none when both are blank.
  const parts = [read.optStr(o.FirstName, 'FirstName'), read.optStr(o.LastName, 'LastName')].filter((p): p is string => p !== null && p.trim().length > 0);
  return { id: enterpriseTester.guid(o.Id, 'Id'), userName: read.str(o.UserName, 'UserName'), name: parts.length === 0 ? null : parts.join(' ') };
}

const etOptGuid = fc.oneof(someGuid, fc.constantFrom(null, ABSENT, '', '00000000-0000-0000-0000-000000000000'));
const etPackage = fc.record({ Id: someGuid, ProjectId: etOptGuid, ParentId: etOptGuid, Name: someText }).map((p) => {
  const out: Json = { ...(samples.assignment.Package as Json) };
  for (const [k, v] of Object.entries(p)) if (v === ABSENT) delete out[k]; else out[k] = v;
  return out;
});

describe('addRun options at the vendor boundary', () => {
  fuzzMapper({
    name: 'TestRail suite',
    valid: () => samples.suite,
    map: mapSuiteOption,
    expected: suiteOracle,
    sample: { id: '2', name: 'iOS', isMaster: false },
    variants: { id: fc.integer(), name: someText, description: optionalText, is_master: trOptFlag, is_completed: trOptFlag },
  });
  fuzzMapper({
    name: 'TestRail case',
    valid: () => samples.case,
    map: mapCaseOption,
    expected: caseOracle,
    sample: { id: '1', refs: 'WEB-1' },
    variants: { id: fc.integer(), title: someText, refs: optionalText, estimate: optionalText },
  });
  fuzzMapper({
    name: 'TestRail milestone',
    valid: () => samples.milestone,
    map: mapMilestoneOption,
    expected: milestoneOracle,
    sample: { id: '1', isStarted: true, isCompleted: false, parentId: null },
    variants: {
      id: fc.integer(), name: someText, is_started: trOptFlag, is_completed: trFlag,
      due_on: fc.oneof(someInstant, fc.constantFrom(null, ABSENT)), parent_id: fc.oneof(fc.nat(), fc.constantFrom(null, ABSENT)),
    },
  });
  fuzzMapper({
    name: 'QAComplete test',
    valid: () => samples.test,
    map: mapTestOption,
    expected: testOracle,
    sample: { title: 'Check out as a guest', isActive: true, folderName: 'Checkout' },
    variants: { id: qacId, title: someText, active: qacOptFlag, is_active: qacOptFlag, execution_type: optionalText, folder_name: optionalText },
  });
  fuzzMapper({
    name: 'QAComplete test set',
    valid: () => samples.testSet,
    map: mapTestSetOption,
    expected: testSetOracle,
    sample: { id: '40101', isSequential: true },
    variants: { id: qacId, title: someText, is_active: qacOptFlag, is_sequential: qacOptFlag, execution_type: optionalText, folder_name: optionalText },
  });
  fuzzMapper({
    name: 'QAComplete release',
    valid: () => samples.release,
    map: mapReleaseOption,
    expected: releaseOracle,
    sample: { title: 'Sprint 47', releaseType: 'Iteration', parentId: '183121' },
    variants: {
      id: qacId, title: someText, release_type: optionalText, status_code: optionalText, is_active: qacOptFlag,
      parent_id: fc.oneof(qacId, fc.constantFrom(0, '0', ' 00 ', null, ABSENT)),
    },
  });
  fuzzMapper({
    name: 'QAComplete configuration',
    valid: () => samples.configuration,
    map: mapConfigurationOption,
    expected: configurationOracle,
    sample: { id: '7002', isActive: true },
    variants: { id: qacId, title: someText, is_active: qacOptFlag },
  });
  fuzzMapper({
    name: 'Enterprise Tester script assignment',
    valid: () => samples.assignment,
    map: parseAssignmentOption,
    expected: assignmentOracle,
    sample: () => ({ option: { id: String(samples.assignment.Id).toLowerCase(), name: 'Login with biometrics', status: 'Passed', packageName: 'Sprint 14', assignedTo: 'anna.k' } }),
    variants: {
      Id: someGuid, Name: someText, Status: someText, AssignedTo: optionalText, PackageId: someGuid,
      Package: fc.oneof(etPackage, fc.constantFrom(null, ABSENT)),
    },
    nearMisses: {
      // An inlined package with one field wrong.
      Package: fc.constantFrom('Id', 'Name', 'ProjectId').chain((field) =>
        fc.constantFrom(7, '', [], ABSENT).map((value) => {
          const pkg: Json = { ...(samples.assignment.Package as Json) };
          if (value === ABSENT) delete pkg[field];
          else pkg[field] = value;
          return pkg;
        }),
      ),
    },
  });
  fuzzMapper({
    name: 'Enterprise Tester tester',
    valid: () => samples.tester,
    map: parseTester,
    expected: testerOracle,
    sample: { userName: 'anna.k', name: 'Anna Kowalski' },
    variants: {
      Id: someGuid, UserName: someText,
      FirstName: fc.oneof(optionalText, fc.constantFrom(' ', ' Anna ')), LastName: fc.oneof(optionalText, fc.constant('  ')),
    },
  });
});
