#!/usr/bin/env node
/**
 * Builds the offline GraphiQL explorer into dist/explorer/ (git-ignored): esbuild bundles
 * src/server/explorer/explorer.tsx with GraphiQL, React and Monaco into one script and one
 * stylesheet, plus Monaco's three web workers (editor, json, graphql). File names carry a content
 * hash so the gateway can serve them as immutable; index.html and manifest.json name them.
 *
 * Skips the work when dist/explorer/ was built from the same inputs (sources, this script,
 * package-lock.json); `--force` rebuilds anyway, `--quiet` does not say that it skipped. Run by `npm run build` (and so by `npm start`)
 * and by the explorer's end-to-end test.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src', 'server', 'explorer');
const outDir = join(root, 'dist', 'explorer');
const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');
const say = (message) => console.log(`build-explorer: ${message}`);

const inputs = [
  fileURLToPath(import.meta.url),
  join(srcDir, 'explorer.tsx'),
  join(srcDir, 'index.html'),
  join(srcDir, 'dashboard.graphql'),
  join(root, 'package-lock.json'),
];

function stampOf() {
  const hash = createHash('sha256');
  for (const file of inputs) hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

function upToDate(stamp) {
  try {
    const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8'));
    return manifest.stamp === stamp && Object.keys(manifest.files).every((name) => existsSync(join(outDir, name)));
  } catch {
    return false;
  }
}

const stamp = stampOf();
if (!force && upToDate(stamp)) {
  if (!quiet) say('dist/explorer is up to date');
  process.exit(0);
}

const started = Date.now();
const esbuild = await import('esbuild');
const tmpDir = join(root, 'dist', `.explorer-${process.pid}`);
rmSync(tmpDir, { recursive: true, force: true });
mkdirSync(tmpDir, { recursive: true });

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'linked',
  metafile: true,
  outdir: tmpDir,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};

/** Output file names by entry name, from esbuild's metafile. */
function outputsOf(result) {
  const byEntry = {};
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    if (!info.entryPoint) continue;
    const name = basename(file);
    const entry = name.replace(/-[A-Z0-9]+\.js$/, '');
    byEntry[entry] = name;
    if (info.cssBundle) byEntry[`${entry}.css`] = basename(info.cssBundle);
  }
  return byEntry;
}

try {
  const workers = outputsOf(
    await esbuild.build({
      ...common,
      entryPoints: [
        { in: 'monaco-editor/esm/vs/editor/editor.worker.js', out: 'editor.worker' },
        { in: 'monaco-editor/esm/vs/language/json/json.worker.js', out: 'json.worker' },
        { in: 'monaco-graphql/esm/graphql.worker.js', out: 'graphql.worker' },
      ],
      entryNames: '[name]-[hash]',
    }),
  );
  const main = outputsOf(
    await esbuild.build({
      ...common,
      entryPoints: [{ in: join(srcDir, 'explorer.tsx'), out: 'explorer' }],
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      jsx: 'automatic',
      loader: { '.graphql': 'text', '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
      define: {
        ...common.define,
        RUNGRAPH_EXPLORER_WORKERS: JSON.stringify({ editor: workers['editor.worker'], json: workers['json.worker'], graphql: workers['graphql.worker'] }),
      },
    }),
  );
  if (!main.explorer || !main['explorer.css'] || Object.keys(workers).length !== 3) throw new Error(`unexpected outputs: ${JSON.stringify({ main, workers })}`);

  const html = readFileSync(join(srcDir, 'index.html'), 'utf8').replace('{{css}}', main['explorer.css']).replace('{{js}}', main.explorer);
  if (/\{\{\w+\}\}/.test(html)) throw new Error('index.html has a placeholder the build does not fill');
  writeFileSync(join(tmpDir, 'index.html'), html);

  // Precompressed copies for clients that accept gzip (the gateway picks them; a browser on
  // another machine then loads ~2 MB instead of ~7 MB).
  const files = {};
  for (const name of readdirSync(tmpDir)) {
    const body = readFileSync(join(tmpDir, name));
    const entry = { bytes: body.length };
    if (/\.(js|css|html|txt|ttf)$/.test(name) && body.length > 1024) {
      const gz = gzipSync(body, { level: 9 });
      writeFileSync(join(tmpDir, `${name}.gz`), gz);
      entry.gzipBytes = gz.length;
    }
    files[name] = entry;
  }
  const manifest = { stamp, page: 'index.html', files };
  writeFileSync(join(tmpDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  // Swap in whole, so a gateway never sees a half-written folder.
  const oldDir = join(root, 'dist', `.explorer-old-${process.pid}`);
  if (existsSync(outDir)) renameSync(outDir, oldDir);
  renameSync(tmpDir, outDir);
  rmSync(oldDir, { recursive: true, force: true });

  const total = Object.values(files).reduce((sum, f) => sum + f.bytes, 0);
  const gzip = Object.values(files).reduce((sum, f) => sum + (f.gzipBytes ?? f.bytes), 0);
  say(`built dist/explorer in ${((Date.now() - started) / 1000).toFixed(1)} s: ${Object.keys(files).length} files, ${(total / 1e6).toFixed(1)} MB (${(gzip / 1e6).toFixed(1)} MB gzipped)`);
} catch (error) {
  rmSync(tmpDir, { recursive: true, force: true });
  console.error(`build-explorer: failed: ${error?.message ?? error}`);
  process.exit(1);
} finally {
  await esbuild.stop?.();
}
