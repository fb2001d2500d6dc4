/**
 * The installable command (issue #16): `npm pack` makes a tarball that installs in an empty folder
 * (its dependencies from the registry) and whose `npx rungraph --demo` serves the contract's
 * Dashboard operation and the offline explorer, with the config's JSON Schema shipped beside it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { operation } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('the packed tarball installs, and npx rungraph --demo serves the Dashboard operation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rungraph-pack-'));
  // Pack what prepack would build, from a staging copy: other test files compile into dist/ and run
  // dist/main.js meanwhile, and a pack reading dist/ while tsc rewrites it fails now and then.
  const stage = join(dir, 'stage');
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-explorer.mjs'), '--quiet'], { cwd: ROOT, stdio: 'pipe' });
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', join(stage, 'dist')], { cwd: ROOT, stdio: 'pipe' });
  cpSync(join(ROOT, 'dist', 'explorer'), join(stage, 'dist', 'explorer'), { recursive: true });
  for (const entry of ['package.json', 'README.md', 'rungraph.schema.json', 'schema']) cpSync(join(ROOT, entry), join(stage, entry), { recursive: true });
  execFileSync(NPM, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: stage, stdio: 'pipe' });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  const app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'uses-rungraph', private: true }));
  execFileSync(NPM, ['install', join(dir, tarball), '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'ignore' });
  expect(existsSync(join(app, 'node_modules', 'rungraph', 'rungraph.schema.json'))).toBe(true);
  expect(existsSync(join(app, 'node_modules', 'rungraph', 'schema'))).toBe(true);

  const { NODE_ENV: _jest, ...env } = process.env;
  const child = spawn(NPM, ['exec', '--no', '--', 'rungraph', '--demo'], { cwd: app, env: { ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  try {
    const started = Date.now();
    while (!/GraphQL at (\S+)/.test(out)) {
      if (child.exitCode !== null || Date.now() - started > 30_000) throw new Error(`rungraph did not start:\n${out}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const url = /GraphQL at (\S+)/.exec(out)![1];
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: operation('Dashboard'), variables: { first: 10 } }) });
    const body = (await res.json()) as any;
    expect(body.errors).toBeUndefined();
    expect(body.data.runs.edges).toHaveLength(10);
    expect(body.data.sources.map((s: any) => s.id)).toEqual(['tr', 'qac', 'et']);
    const page = await fetch(url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<title>[^<]*rungraph/i);
  } finally {
    // npm exec runs rungraph as its child: stop the whole group.
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  }
}, 240_000);
