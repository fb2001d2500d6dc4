/**
 * Serves the offline GraphiQL explorer that scripts/build-explorer.mjs builds into dist/explorer/:
 *
 * - `GET /graphql` from a browser (Accept: text/html, no `query` parameter) → the explorer page;
 *   `GET /` from a browser → a redirect to it. API clients (Accept: application/json, or a `query`
 *   parameter) never see the page: their requests go on to Apollo as before.
 * - `GET|HEAD /explorer/<file>` → the page's assets, only the files the build's manifest lists.
 *   Their names carry a content hash, so they are cached as immutable; gzip when the client takes it.
 *
 * The page's Content-Security-Policy allows nothing but this origin (plus data: fonts and images),
 * so the browser itself refuses any request that would leave the machine. When the assets are
 * missing (a checkout where `npm run build` has not run), the page and the assets answer 503 and
 * say so; nothing throws.
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

/** dist/explorer at the project root: the same from src/server/explorer (tests) and dist/server/explorer. */
export const EXPLORER_DIR = resolve(__dirname, '..', '..', '..', 'dist', 'explorer');
/** Where the assets are served; the page links them relative to itself (`explorer/<file>`). */
export const EXPLORER_ASSET_PREFIX = '/explorer/';

export const EXPLORER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  // Monaco and GraphiQL set inline styles.
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

interface Manifest {
  stamp: string;
  page: string;
  files: Record<string, { bytes: number; gzipBytes?: number }>;
}

export interface Explorer {
  /** Answers the request and resolves true when it is the explorer's; false leaves it to the caller. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
}

export function createExplorer(options: { dir?: string } = {}): Explorer {
  const dir = options.dir ?? EXPLORER_DIR;

  // Read per request (a few hundred bytes), so a rebuild while the gateway runs is picked up.
  const manifest = (): Manifest | undefined => {
    try {
      const parsed = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
      return parsed && typeof parsed.files === 'object' && typeof parsed.page === 'string' ? parsed : undefined;
    } catch {
      return undefined;
    }
  };

  return {
    async handle(req, res, url) {
      const method = req.method ?? 'GET';
      if (url.pathname.startsWith(EXPLORER_ASSET_PREFIX)) {
        if (method !== 'GET' && method !== 'HEAD') {
          res.setHeader('allow', 'GET, HEAD');
          sendText(res, 405, 'The explorer assets take GET and HEAD.');
          return true;
        }
        await serveAsset(req, res, decodeName(url.pathname.slice(EXPLORER_ASSET_PREFIX.length)), method === 'HEAD');
        return true;
      }
      if (method !== 'GET' || !wantsHtml(req) || url.searchParams.has('query')) return false;
      if (url.pathname === '/') {
        res.writeHead(302, { location: 'graphql', 'content-length': 0 });
        res.end();
        return true;
      }
      if (url.pathname !== '/graphql') return false;
      servePage(res);
      return true;
    },
  };

  function servePage(res: ServerResponse): void {
    const current = manifest();
    let html: string | undefined;
    try {
      if (current) html = readFileSync(join(dir, current.page), 'utf8');
    } catch {
      html = undefined;
    }
    if (!html) return sendNotBuilt(res, true);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(html),
      'cache-control': 'no-cache',
      'content-security-policy': EXPLORER_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(html);
  }

  async function serveAsset(req: IncomingMessage, res: ServerResponse, name: string | undefined, head: boolean): Promise<void> {
    const current = manifest();
    if (!current) return sendNotBuilt(res, false);
    const entry = name !== undefined && name !== current.page && Object.hasOwn(current.files, name) ? current.files[name] : undefined;
    if (!name || !entry) return sendText(res, 404, 'No such explorer asset. (Reload the page: the explorer may have been rebuilt.)');
    const gzip = entry.gzipBytes !== undefined && acceptsGzip(req) && existsSync(join(dir, `${name}.gz`));
    const file = join(dir, gzip ? `${name}.gz` : name);
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      return sendNotBuilt(res, false);
    }
    const headers: Record<string, string | number> = {
      'content-type': CONTENT_TYPES[extension(name)] ?? 'application/octet-stream',
      'content-length': size,
      // Hashed names: a new build means new names, so a file never changes under its name.
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
    };
    if (gzip) headers['content-encoding'] = 'gzip';
    res.writeHead(200, headers);
    if (head) {
      res.end();
      return;
    }
    await pipeline(createReadStream(file), res);
  }

  function sendNotBuilt(res: ServerResponse, html: boolean): void {
    const message = `The rungraph explorer is not built (dist/explorer/ has no assets). Run \`npm run build\` (\`npm start\` does it too), then reload. GraphQL itself works without it: POST to /graphql.`;
    res.setHeader('retry-after', '10');
    if (!html) return sendText(res, 503, message);
    const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>rungraph explorer: not built</title></head><body><h1>Explorer not built</h1><p>${escapeHtml(message)}</p></body></html>`;
    res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'" });
    res.end(body);
  }
}

function wantsHtml(req: IncomingMessage): boolean {
  const accept = req.headers.accept;
  return typeof accept === 'string' && /\btext\/html\b/i.test(accept);
}

function acceptsGzip(req: IncomingMessage): boolean {
  const encoding = req.headers['accept-encoding'];
  return typeof encoding === 'string' && /\bgzip\b(?!\s*;\s*q=0(\.0*)?\b)/i.test(encoding);
}

/** A plain file name or nothing: no separators, no dot-segments, no encoded tricks. */
function decodeName(raw: string): string | undefined {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return /^[\w][\w.-]*$/.test(name) && !name.includes('..') ? name : undefined;
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot).toLowerCase();
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
