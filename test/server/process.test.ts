/**
 * The gateway as an operator runs it: `node dist/main.js --config FILE` in its own process, sent
 * real signals. Checks the start-up word from every source and a shutdown that lets every
 * in-flight request finish (slow ones, and a large answer a slow client is still reading).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestRailSimulator, TESTRAIL_DEMO_USER } from '../../src/simulators/testrail';
import { parsePrometheus, sum } from '../support/prometheus';

const ROOT = join(__dirname, '..', '..');
const WRONG_PASSWORD = 'not-the-testrail-key-0x5eed';

interface Gateway {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startProcess(config: unknown): Promise<Gateway> {
  const dir = mkdtempSync(join(tmpdir(), 'rungraph-process-'));
  const file = join(dir, 'rungraph.json');
  writeFileSync(file, JSON.stringify(config));
  // Jest sets NODE_ENV=test, under which Apollo leaves signals alone; an operator's process has none.
  const { NODE_ENV: _jest, ...env } = process.env;
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js'), '--config', file], {
    cwd: ROOT,
    env: { ...env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = Date.now();
  while (!/GraphQL at (\S+)/.test(out)) {
    if (child.exitCode !== null || Date.now() - started > 15_000) throw new Error(`the gateway did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { child, url: /GraphQL at (\S+)/.exec(out)![1], output: () => out, exited };
}

function logLines(output: string): Array<Record<string, any>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** POSTs a query and reads the answer; with `slowReader`, pauses after the first chunk, like a client on a slow link. */
function query(url: string, q: string, slowReader = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      let paused = false;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        if (slowReader && !paused) {
          paused = true;
          res.pause();
          setTimeout(() => res.resume(), 600);
        }
      });
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ query: q }));
  });
}

describe('the gateway process', () => {
  let testrail: TestRailSimulator;
  let baseUrl: string;
  beforeAll(async () => {
    // The process runs what `npm start` runs: the compiled gateway.
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    testrail = new TestRailSimulator({ seed: 'demo' });
    baseUrl = await testrail.start();
    // A project whose runs make a multi-megabyte answer when listed under every run.
    const project = testrail.store.addProject({ name: 'Large', suite_mode: 1 });
    for (let i = 0; i < 100; i++) testrail.store.addRun(project.id, { name: `Large run ${i} ${'x'.repeat(200)}` });
  }, 60_000);
  afterAll(() => testrail.stop());

  const source = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    kind: 'testrail',
    name: `TestRail ${id}`,
    baseUrl,
    auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password },
    ...extra,
  });

  test('at start, each source that cannot be read is named once in the log, without secrets, and the gateway serves anyway', async () => {
    const gateway = await startProcess({
      index: { enabled: false },
      sources: [
        source('good'),
        source('badauth', { auth: { username: TESTRAIL_DEMO_USER.email, password: WRONG_PASSWORD } }),
        // Nothing listens on port 9 of loopback (discard): the connection is refused.
        source('down', { baseUrl: 'http://127.0.0.1:9', retries: 0 }),
      ],
    });
    try {
      const deadline = Date.now() + 15_000;
      const checks = () => logLines(gateway.output()).filter((l) => l.msg === 'source answered' || /did not answer the start-up check/.test(l.msg));
      while (checks().length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const bySource = Object.fromEntries(checks().map((l) => [l.source, l]));
      expect(checks()).toHaveLength(3);
      expect(bySource.good).toMatchObject({ level: 30, msg: 'source answered' });
      expect(bySource.good.projects).toBeGreaterThan(0);
      expect(bySource.badauth).toMatchObject({ level: 40, code: 'UNAUTHENTICATED' });
      expect(bySource.badauth.msg).toMatch(/^source badauth \(TestRail badauth\) did not answer the start-up check: badauth rejected the configured credentials\./);
      expect(bySource.down).toMatchObject({ level: 40, code: 'UPSTREAM_UNAVAILABLE' });
      expect(gateway.output()).not.toContain(WRONG_PASSWORD);
      expect(gateway.output()).not.toContain(TESTRAIL_DEMO_USER.password);

      const res = await query(gateway.url, '{ runs(first: 2, filter: { sourceIds: ["good"] }) { nodes { id } } }');
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text).data.runs.nodes).toHaveLength(2);

      // The command wires metrics into every source: the start-up checks are there, per source and outcome.
      const metricsUrl = /Prometheus metrics at (\S+)/.exec(gateway.output())![1];
      expect(metricsUrl).toBe(gateway.url.replace(/\/graphql$/, '/metrics'));
      const scrape = parsePrometheus(await (await fetch(metricsUrl)).text());
      expect(sum(scrape, 'rungraph_vendor_calls_total', { source: 'good', status_class: '2xx' })).toBeGreaterThan(0);
      expect(sum(scrape, 'rungraph_vendor_calls_total', { source: 'badauth', status_class: '4xx', error: 'UNAUTHENTICATED' })).toBeGreaterThan(0);
      expect(sum(scrape, 'rungraph_vendor_calls_total', { source: 'down', status_class: 'no_answer', error: 'UPSTREAM_UNAVAILABLE' })).toBeGreaterThan(0);
      expect(sum(scrape, 'rungraph_graphql_requests_total', { operation: 'other', result: 'ok' })).toBe(1);
      expect(JSON.stringify(scrape)).not.toContain(WRONG_PASSWORD);
      expect(JSON.stringify(scrape)).not.toContain(TESTRAIL_DEMO_USER.password);
    } finally {
      gateway.child.kill('SIGKILL');
      await gateway.exited;
    }
  });

  test('SIGTERM during slow and large answers: every client gets its whole answer, new connections are refused, exit 0', async () => {
    const gateway = await startProcess({
      server: { limits: { maxCost: 100_000, maxResponseBytes: 64 * 1024 * 1024 } },
      index: { path: mkdtempSync(join(tmpdir(), 'rungraph-process-index-')) },
      sources: [source('tr')],
    });
    try {
      // Prove the large query's answer is large, before any latency is added.
      const large = '{ runs(first: 100, filter: { sourceIds: ["tr"] }) { nodes { id project { runs(first: 100) { nodes { id name url createdAt } } } } } }';
      const full = await query(gateway.url, large);
      const expectedLarge = JSON.parse(full.text);
      expect(full.text.length).toBeGreaterThan(2_000_000);

      testrail.server.latencyMs = 250;
      const slow = [1, 2, 3].map((n) => query(gateway.url, `{ runs(first: ${n}) { nodes { id name } } }`));
      const slowReader = query(gateway.url, large, true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      gateway.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refused = await query(gateway.url, '{ sources { id } }').then(
        () => 'answered',
        (e: NodeJS.ErrnoException) => e.code,
      );

      const answers = await Promise.all(slow);
      for (const [i, answer] of answers.entries()) {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.text).data.runs.nodes).toHaveLength(i + 1);
      }
      const largeAnswer = await slowReader;
      expect(largeAnswer.status).toBe(200);
      // Whole: it parses, and holds every row the same query gave before the signal.
      expect(JSON.parse(largeAnswer.text).data).toEqual(expectedLarge.data);
      expect(refused).toBe('ECONNREFUSED');
      expect(await gateway.exited).toBe(0);
      const messages = logLines(gateway.output()).map((l) => l.msg);
      expect(messages).toContain('waiting for in-flight requests');
      expect(messages).not.toContain('grace period over; closing the remaining connections');
    } finally {
      testrail.server.latencyMs = 0;
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    }
  }, 60_000);

  test('with server.readinessDelayMs, SIGTERM first turns /readyz to 503 while /healthz and queries still answer, then drains and exits 0', async () => {
    const gateway = await startProcess({ server: { readinessDelayMs: 1500 }, index: { enabled: false }, sources: [source('tr')] });
    try {
      const origin = gateway.url.replace(/\/graphql$/, '');
      expect((await fetch(`${origin}/readyz`)).status).toBe(200);
      gateway.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const ready = await fetch(`${origin}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as any).waiting).toContain('shutting down');
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
      const res = await query(gateway.url, '{ runs(first: 2) { nodes { id } } }');
      expect(JSON.parse(res.text).data.runs.nodes).toHaveLength(2);
      expect(await gateway.exited).toBe(0);
    } finally {
      if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    }
  }, 30_000);
});
