/**
 * The embedded store's file (store/file.ts, store/store.ts): what was written is there after a
 * restart; a file that is not ours, of another version, or unreadable is rebuilt with one warning
 * and never a crash; a last line cut short is dropped; a source whose kind or base URL changed
 * starts empty; compaction keeps exactly the live data; no credential is ever written.
 */
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/model/source';
import type { Run } from '../../src/model/types';
import { EmbeddedStore } from '../../src/store/store';

function logger() {
  const warnings: string[] = [];
  const log: Logger = { info() {}, warn: (_f, m) => void warnings.push(m), error: (_f, m) => void warnings.push(m) };
  return { log, warnings };
}

const run = (id: number, extra: Partial<Run> = {}): Run =>
  ({
    sourceId: 'tr',
    key: [String(id), '1'],
    nativeId: String(id),
    name: `Run ${id}`,
    projectKey: ['1'],
    host: null,
    status: 'QUEUED',
    conclusion: null,
    isClosed: false,
    vendorStatus: 'Untested',
    counts: { total: 1, passed: 0, failed: 0, blocked: 0, untested: 1, retest: 0, other: 0 },
    createdAt: 1_780_000_000 + id,
    completedAt: null,
    url: null,
    ...extra,
  }) as unknown as Run;

const SOURCES = [
  { id: 'tr', identity: { kind: 'testrail', baseUrl: 'https://a.testrail.io' } },
  { id: 'et', identity: { kind: 'enterprise-tester', baseUrl: 'https://et.example.com/EnterpriseTester' } },
];

async function reopen(dir: string, sources = SOURCES) {
  const { log, warnings } = logger();
  const store = new EmbeddedStore(dir, log);
  await store.open(sources);
  return { store, warnings };
}

test('what was written is there after a restart: runs, deletions, projects, hosts, sync records', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rungraph-index-'));
  const { store, warnings } = await reopen(dir);
  expect(warnings).toEqual([]);
  store.putRuns('tr', [run(1), run(2), run(3)]);
  store.putRuns('tr', [run(2, { isClosed: true, status: 'COMPLETED', conclusion: 'PASSED' })]);
  store.deleteRuns('tr', [['3', '1']]);
  store.setProjects('tr', [{ sourceId: 'tr', key: ['1'], nativeId: '1', name: 'Webshop', isCompleted: false, url: null }]);
  store.setSync('tr', { backfilled: true, syncedAt: 1_780_000_100, sweptAt: 1_780_000_100, watermarks: { since: 42 } });
  await store.close();

  const again = await reopen(dir);
  expect(again.warnings).toEqual([]);
  expect([...again.store.view('tr').runs()].map((r) => [r.nativeId, r.isClosed])).toEqual([
    ['1', false],
    ['2', true],
  ]);
  expect(again.store.view('tr').projects.map((p) => p.name)).toEqual(['Webshop']);
  expect(again.store.sync('tr')).toEqual({ backfilled: true, syncedAt: 1_780_000_100, sweptAt: 1_780_000_100, watermarks: { since: 42 } });
  expect(again.store.view('et').size).toBe(0);
  await again.store.close();
});

test.each([
  ['not JSON at all', 'this is not an index\n', /not JSON|not a rungraph index/],
  ['JSON of something else', '{"hello":"world"}\n', /not a rungraph index/],
  ['another format version', '{"t":"header","format":"rungraph-index","version":99}\n', /format version 99/],
  ['garbage in the middle', null, /line 3 is not JSON/],
  ['empty', '', /empty/],
])('a file that is %s is rebuilt with one warning, and the store works', async (_name, content, why) => {
  const dir = mkdtempSync(join(tmpdir(), 'rungraph-index-'));
  if (content === null) {
    const { store } = await reopen(dir);
    store.putRuns('tr', [run(1)]);
    await store.close();
    const path = join(dir, 'index.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(2, 0, '{"t":"runs",');
    writeFileSync(path, lines.join('\n'));
  } else writeFileSync(join(dir, 'index.jsonl'), content);
  const { store, warnings } = await reopen(dir);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(why);
  expect(warnings[0]).toMatch(/rebuilt from the vendors/);
  expect(store.view('tr').size).toBe(0);
  store.putRuns('tr', [run(7)]);
  await store.close();
  const again = await reopen(dir);
  expect(again.warnings).toEqual([]);
  expect([...again.store.view('tr').runs()].map((r) => r.nativeId)).toEqual(['7']);
});

test('a last line cut short (a stop mid-write) is dropped with one warning; everything before it is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rungraph-index-'));
  const { store } = await reopen(dir);
  store.putRuns('tr', [run(1), run(2)]);
  await store.close();
  appendFileSync(join(dir, 'index.jsonl'), '{"t":"runs","s":"tr","runs":[{"sourceId":"tr","key":["3"');
  const { store: again, warnings } = await reopen(dir);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/cut short/);
  expect(again.view('tr').size).toBe(2);
});

test('a source whose kind or base URL changed starts empty; the other keeps its data', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rungraph-index-'));
  const { store } = await reopen(dir);
  store.putRuns('tr', [run(1)]);
  store.putRuns('et', [run(9, { sourceId: 'et', key: ['9'] })]);
  await store.close();
  const moved = [{ id: 'tr', identity: { kind: 'testrail', baseUrl: 'https://b.testrail.io' } }, SOURCES[1]];
  const { store: again, warnings } = await reopen(dir, moved);
  expect(warnings).toEqual([expect.stringMatching(/holds source tr for another base URL/)]);
  expect(again.view('tr').size).toBe(0);
  expect(again.view('et').size).toBe(1);
});

test('the file holds runs and their sources\' kinds and URLs, never a credential', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rungraph-index-'));
  const { store } = await reopen(dir);
  store.putRuns('tr', [run(1)]);
  await store.close();
  const text = readFileSync(join(dir, 'index.jsonl'), 'utf8');
  expect(text).toContain('https://a.testrail.io');
  expect(text).not.toMatch(/password|apiKey|token|authorization/i);
});
