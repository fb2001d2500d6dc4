/**
 * The `rungraph` command as an operator types it (node dist/main.js …): --help, check-config with
 * every problem of a broken config in one run and its exit codes, and arguments that contradict.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'dist', 'main.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, RUNGRAPH_CONFIG: '' } });

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}, 60_000);

function file(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rungraph-cli-')), 'rungraph.json');
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

test('--help lists the commands and options and exits 0', () => {
  const res = run('--help');
  expect(res.status).toBe(0);
  for (const word of ['--config FILE', '--demo', 'check-config FILE', 'PORT']) expect(res.stdout).toContain(word);
});

test('check-config prints every problem of a broken config with its key path, and exits 1', () => {
  const res = run('check-config', file({ server: { port: '80', limits: { maxCost: 0 } }, index: { refreshSecs: 5 }, sources: [{ id: 'x y', kind: 'jira' }] }));
  expect(res.status).toBe(1);
  for (const line of [
    'server.port: must be a number, not the string "80"',
    'server.limits.maxCost: must be an integer',
    'index.refreshSecs: unknown key',
    'sources[0].kind: unknown kind "jira"',
    'sources[0].id: required',
    'sources[0].baseUrl: required',
  ]) {
    expect(res.stderr).toContain(line);
  }
  expect(res.stderr).toMatch(/(\d+) problem\(s\) in the config/);
});

test('check-config of a good config says OK and exits 0; "$schema" is allowed', () => {
  const res = run('check-config', file({ $schema: './rungraph.schema.json', sources: [{ id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl: 'https://tr.example.com', auth: { username: 'a', password: 'b' } }] }));
  expect(res.stderr).toBe('');
  expect(res.stdout).toMatch(/OK \(1 source\(s\): tr \(testrail\)\)/);
  expect(res.status).toBe(0);
});

test('an unreadable file and contradicting arguments are refused clearly', () => {
  const missing = run('check-config', '/nonexistent/rungraph.json');
  expect(missing.status).toBe(1);
  expect(missing.stderr).toMatch(/cannot read the file/);
  const both = run('--demo', '--config', 'x.json');
  expect(both.status).toBe(2);
  expect(both.stderr).toMatch(/--demo and --config exclude each other/);
  const unknown = run('--frobnicate');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/unknown argument --frobnicate/);
});
