/**
 * Credentials never appear in a response, an error or a log line — in any form a leak would take:
 * the password itself, the Basic header value, or its base64 part.
 */
import { encodeId } from '../../src/graph/ids';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { operation, startStack, type Stack } from '../support/stack';

const USER = 'qa-lead@example.com';
const SECRET = 'Sup3r-Secret-TestRail-Key-7f3a9c';
const WRONG = 'Wr0ng-But-Still-Secret-Key-11d2';

function forms(user: string, password: string): string[] {
  const basic = Buffer.from(`${user}:${password}`).toString('base64');
  return [password, basic, `Basic ${basic}`, encodeURIComponent(password)];
}

function expectClean(stack: Stack, secrets: string[]): void {
  const haystack = [...stack.logs, ...stack.responses];
  expect(haystack.length).toBeGreaterThan(10);
  for (const secret of secrets) {
    const leaks = haystack.filter((line) => line.includes(secret));
    expect(leaks).toEqual([]);
  }
}

test('no credential in any response or log line, across reads, writes and failures', async () => {
  const stack = await startStack({
    testrail: { users: [{ id: 1, email: USER, password: SECRET }] },
    sourceConfig: { tr: { auth: { username: USER, password: SECRET } } },
  });
  try {
    const run = encodeId('Run', 'tr', [String(DEMO_IDS.runs.inProgress), '1']);
    await stack.gql(operation('Dashboard'), { first: 30 });
    await stack.gql(operation('Projects'), {});
    await stack.gql(operation('NodeLookup'), { id: run });
    await stack.gql(operation('NodeLookup'), { id: encodeId('Run', 'tr', ['424242', '1']) });
    await stack.gql(operation('AddRun'), { input: { projectId: encodeId('Project', 'tr', ['1']), name: 'secret check' } });
    await stack.gql(operation('AddRun'), { input: { projectId: encodeId('Project', 'tr', ['2']), testrail: { suiteId: '999' } } });
    await stack.gql(operation('CloseRun'), { id: run });
    await stack.gql(operation('DeleteRun'), { id: run, dryRun: true });
    stack.testrail!.server.injectFault({ route: 'GET get_run', status: 500, times: 3 });
    await stack.gql(operation('NodeLookup'), { id: run });
    stack.testrail!.server.injectFault({ route: 'GET get_run', reset: true, times: 3 });
    await stack.gql(operation('NodeLookup'), { id: run });
    expect(stack.logs.some((l) => /"msg":"upstream call"/.test(l))).toBe(true);
    expectClean(stack, forms(USER, SECRET));
  } finally {
    await stack.stop();
  }
});

test('rejected credentials are not echoed either', async () => {
  const stack = await startStack({ sourceConfig: { tr: { auth: { username: USER, password: WRONG } } } });
  try {
    const res = await stack.gql(operation('Dashboard'), { first: 5 });
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    await stack.gql(operation('Projects'), {});
    for (let i = 0; i < 8; i++) await stack.gql('{ sources { id name } }');
    expectClean(stack, forms(USER, WRONG));
  } finally {
    await stack.stop();
  }
});
