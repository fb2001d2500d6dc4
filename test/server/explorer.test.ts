/**
 * The offline explorer: GraphiQL served by the gateway itself at GET /graphql (Accept: text/html),
 * with the contract's Dashboard operation preloaded. The HTTP tests check the page, its assets and
 * that API clients are unaffected; the browser test loads the page in headless Chromium (Debian's
 * `chromium`, driven by playwright-core), runs the operation, checks the result pane and proves that
 * no request left the machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Request } from 'playwright-core';
import { createExplorer, EXPLORER_CSP } from '../../src/server/explorer/serve';
import { operation, startStack, type Stack } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const SCREENSHOT = join(ROOT, '.artifacts', 'explorer.png');

/** Builds dist/explorer unless it is current (the script checks; a no-op then). */
function buildExplorer(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-explorer.mjs'), '--quiet'], { cwd: ROOT, stdio: 'inherit' });
}

/** Matches text as Monaco renders it (spaces become non-breaking spaces). */
const monacoText = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ +/g, '\\s+'));

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

test('the preloaded Dashboard operation is the contract file, verbatim', () => {
  expect(readFileSync(join(ROOT, 'src', 'server', 'explorer', 'dashboard.graphql'), 'utf8')).toBe(operation('Dashboard'));
});

describe('the explorer over HTTP', () => {
  let stack: Stack;
  beforeAll(async () => {
    buildExplorer();
    stack = await startStack();
  }, 120_000);
  afterAll(() => stack?.stop());

  test('a browser asking for /graphql gets the page, locked to this origin by its CSP', async () => {
    const res = await fetch(stack.gateway.graphqlUrl, { headers: { accept: BROWSER_ACCEPT } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toBe(EXPLORER_CSP);
    expect(EXPLORER_CSP).toMatch(/default-src 'none'/);
    expect(EXPLORER_CSP).toMatch(/connect-src 'self'/);
    const html = await res.text();
    expect(html).toContain('<div id="graphiql">');
    expect(html).not.toMatch(/https?:\/\//);
  });

  test('every asset the page and the bundle name is served with its type, immutable caching and gzip', async () => {
    const html = await (await fetch(stack.gateway.graphqlUrl, { headers: { accept: BROWSER_ACCEPT } })).text();
    const links = [...html.matchAll(/(?:href|src)="(explorer\/[^"]+)"/g)].map((m) => m[1]);
    expect(links).toEqual([expect.stringMatching(/^explorer\/explorer-\w+\.css$/), expect.stringMatching(/^explorer\/explorer-\w+\.js$/)]);
    const js = links[1];
    const plain = await fetch(new URL(js, stack.gateway.graphqlUrl), { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-encoding')).toBeNull();
    const bundle = await plain.text();
    // The bundle names the three Monaco workers; each is served too.
    const workers = [...new Set(bundle.match(/(?:editor|json|graphql)\.worker-\w+\.js/g))];
    expect(workers).toHaveLength(3);
    for (const worker of workers) {
      const res = await fetch(`${stack.gateway.origin}/explorer/${worker}`, { method: 'HEAD' });
      expect([worker, res.status, res.headers.get('content-type')]).toEqual([worker, 200, 'text/javascript; charset=utf-8']);
    }
    const css = await fetch(new URL(links[0], stack.gateway.graphqlUrl));
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    // Node's fetch asks for gzip and inflates transparently: the body is the same script.
    const zipped = await fetch(new URL(js, stack.gateway.graphqlUrl), { headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(zipped.headers.get('vary')).toBe('accept-encoding');
    expect(await zipped.text()).toBe(bundle);
  });

  test('only files the build lists are served: no manifest, no page, no path tricks', async () => {
    for (const path of ['/explorer/manifest.json', '/explorer/index.html', '/explorer/..%2Fmain.js', '/explorer/%2e%2e%2fpackage.json', '/explorer/', '/explorer/nope.js']) {
      const res = await fetch(`${stack.gateway.origin}${path}`);
      expect([path, res.status]).toEqual([path, 404]);
    }
    const post = await fetch(`${stack.gateway.origin}/explorer/x.js`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  test('API clients still reach GraphQL: GET with a query, GET without text/html, POST; / redirects browsers', async () => {
    const query = encodeURIComponent('{ sources { id } }');
    const get = await fetch(`${stack.gateway.graphqlUrl}?query=${query}`, { headers: { accept: BROWSER_ACCEPT, 'apollo-require-preflight': 'true' } });
    expect(get.headers.get('content-type')).toMatch(/application\/(graphql-response\+)?json/);
    expect(await get.json()).toEqual({ data: { sources: [{ id: 'tr' }] } });
    // A GET from a browser with a query but without the preflight header is still refused (CSRF).
    expect((await fetch(`${stack.gateway.graphqlUrl}?query=${query}`, { headers: { accept: BROWSER_ACCEPT } })).status).toBe(400);
    const json = await fetch(stack.gateway.graphqlUrl, { headers: { accept: 'application/json' } });
    expect(json.headers.get('content-type')).not.toMatch(/html/);
    const post = await stack.gql('{ sources { id } }', undefined, { accept: BROWSER_ACCEPT });
    expect(post.body).toEqual({ data: { sources: [{ id: 'tr' }] } });
    const root = await fetch(`${stack.gateway.origin}/`, { headers: { accept: BROWSER_ACCEPT }, redirect: 'manual' });
    expect([root.status, root.headers.get('location')]).toEqual([302, 'graphql']);
    expect((await fetch(`${stack.gateway.origin}/`)).status).toBe(404);
  });
});

describe('an explorer whose assets are not built', () => {
  let server: Server;
  let origin: string;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rungraph-explorer-empty-'));
    const explorer = createExplorer({ dir });
    server = createServer((req, res) => {
      void explorer.handle(req, res, new URL(req.url ?? '/', 'http://localhost')).then((handled) => {
        if (!handled) res.writeHead(418).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  test('answers 503 with the command to run, for the page and for assets', async () => {
    const page = await fetch(`${origin}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toMatch(/not built.*npm run build/s);
    const asset = await fetch(`${origin}/explorer/explorer-ABC.js`);
    expect(asset.status).toBe(503);
    expect(await asset.text()).toMatch(/npm run build/);
    // Not the explorer's: left to the caller.
    expect((await fetch(`${origin}/graphql`, { headers: { accept: 'application/json' } })).status).toBe(418);
  });
});

describe('the explorer in headless Chromium', () => {
  let stack: Stack;
  let profile: string;
  let context: BrowserContext | undefined;
  const requests: Request[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`No Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH.`);
    }
    buildExplorer();
    stack = await startStack();
    profile = mkdtempSync(join(tmpdir(), 'rungraph-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 1000 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    context.on('request', (request) => requests.push(request));
    context.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    context.on('weberror', (error) => problems.push(`page error: ${error.error().message}`));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await stack?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test('loads GraphiQL with Dashboard preloaded, runs it, shows the runs, and nothing leaves the machine', async () => {
    const expected = await stack.gql(operation('Dashboard'), { first: 10 });
    const edges = expected.body.data.runs.edges as Array<{ node: { id: string; name: string } }>;
    expect(edges).toHaveLength(10);

    const page = await context!.newPage();
    const violations: string[] = [];
    await page.exposeFunction('reportCspViolation', (what: string) => violations.push(what));
    // A browser-side script, as text: the node typecheck has no DOM types.
    await page.addInitScript({
      content: "document.addEventListener('securitypolicyviolation', (e) => window.reportCspViolation(e.violatedDirective + ' ' + e.blockedURI));",
    });
    const loaded = await page.goto(stack.gateway.graphqlUrl);
    expect(loaded?.status()).toBe(200);

    // The Dashboard operation and its variables are in the editors.
    await page.locator('.graphiql-query-editor').filter({ hasText: monacoText('query Dashboard($first: Int = 25') }).waitFor({ timeout: 30_000 });
    await page.locator('.graphiql-editor-tool').filter({ hasText: monacoText('"first": 10') }).waitFor({ timeout: 10_000 });

    // Run it; the page POSTs the operation as JSON to the gateway.
    const response = page.waitForResponse((r) => r.request().method() === 'POST' && (r.request().postData() ?? '').includes('query Dashboard'));
    await page.locator('.graphiql-execute-button').click();
    const answered = await response;
    expect(answered.status()).toBe(200);
    expect(answered.request().headers()['content-type']).toMatch(/^application\/json/);
    expect(answered.request().postDataJSON()).toMatchObject({ query: operation('Dashboard'), variables: { first: 10 } });
    expect(await answered.json()).toEqual(expected.body);

    // The result pane shows the run data.
    const result = page.locator('.graphiql-response');
    await result.filter({ hasText: monacoText(`"name": "${edges[0].node.name}"`) }).waitFor({ timeout: 15_000 });
    await expect(result.innerText()).resolves.toMatch(monacoText(`"id": "${edges[0].node.id}"`));
    await expect(result.innerText()).resolves.toMatch(monacoText('"hasNextPage": true'));

    mkdirSync(join(ROOT, '.artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });

    // GraphiQL introspected the schema, and Monaco's three workers came from the gateway.
    const introspection = requests.find((r) => r.method() === 'POST' && (r.postData() ?? '').includes('IntrospectionQuery'));
    expect((await introspection?.response())?.status()).toBe(200);
    const workerKinds = () => new Set(requests.map((r) => /\/explorer\/(editor|json|graphql)\.worker-\w+\.js$/.exec(r.url())?.[1]).filter(Boolean));
    for (let waited = 0; workerKinds().size < 3 && waited < 10_000; waited += 100) await page.waitForTimeout(100);
    expect([...workerKinds()].sort()).toEqual(['editor', 'graphql', 'json']);

    const urls = requests.map((r) => r.url());
    const offMachine = urls.filter((u) => !isLoopbackOrLocal(u));
    expect(offMachine).toEqual([]);
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
  }, 90_000);
});

/** data:, blob: and about: never touch the network; http(s)/ws(s) must stay on loopback. */
function isLoopbackOrLocal(raw: string): boolean {
  const url = new URL(raw);
  if (url.protocol === 'data:' || url.protocol === 'blob:' || url.protocol === 'about:') return true;
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return false;
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}
