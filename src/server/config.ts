/**
 * Config: a JSON (or YAML) file given with `--config FILE` or RUNGRAPH_CONFIG (the flag wins).
 * `${VAR}` in any string comes from the environment. Every problem names its field, all problems
 * are reported at once, and nothing starts half-configured (decisions.md, "Config").
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PLANNED_KINDS, SOURCE_KINDS, type SourceConfig } from '../sources/registry';
import type { SourceKind } from '../model/types';

export interface ServerConfig {
  host: string;
  port: number;
}

export interface Config {
  server: ServerConfig;
  sources: SourceConfig[];
}

export const DEFAULT_SERVER: ServerConfig = { host: '127.0.0.1', port: 4000 };

export class ConfigError extends Error {
  constructor(
    readonly origin: string,
    readonly problems: string[],
  ) {
    super(`${origin}: ${problems.length} problem(s) in the config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const COMMON_SOURCE_KEYS = ['id', 'kind', 'name', 'baseUrl', 'auth', 'timeoutMs'];
const SOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(extname(path)) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, [`not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message}`]);
  }
  return parseConfig(raw, path, env);
}

export function parseConfig(raw: unknown, origin: string, env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const expanded = expandEnv(raw, '', env, problems);
  const top = asObject(expanded, '(top level)', problems);
  if (!top) throw new ConfigError(origin, problems);
  unknownKeys(top, ['server', 'sources'], '', problems);

  const server = { ...DEFAULT_SERVER };
  if (top.server !== undefined) {
    const s = asObject(top.server, 'server', problems);
    if (s) {
      unknownKeys(s, ['host', 'port'], 'server', problems);
      if (s.host !== undefined) {
        if (typeof s.host === 'string' && s.host.length > 0) server.host = s.host;
        else problems.push('server.host: must be a host name or address');
      }
      if (s.port !== undefined) {
        const port = typeof s.port === 'string' && /^\d+$/.test(s.port) ? Number(s.port) : s.port;
        if (typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535) server.port = port;
        else problems.push('server.port: must be an integer from 0 to 65535');
      }
    }
  }

  const sources: SourceConfig[] = [];
  if (!Array.isArray(top.sources) || top.sources.length === 0) {
    problems.push('sources: must be a non-empty list of sources');
  } else {
    const seen = new Set<string>();
    top.sources.forEach((entry, i) => {
      const source = parseSource(entry, `sources[${i}]`, problems);
      if (!source) return;
      if (seen.has(source.id)) problems.push(`sources[${i}].id: "${source.id}" is used by another source; ids must be unique`);
      seen.add(source.id);
      sources.push(source);
    });
  }
  if (problems.length > 0) throw new ConfigError(origin, problems);
  return { server, sources };
}

function parseSource(entry: unknown, at: string, problems: string[]): SourceConfig | undefined {
  const o = asObject(entry, at, problems);
  if (!o) return undefined;
  const before = problems.length;
  const kind = o.kind;
  const spec = typeof kind === 'string' ? SOURCE_KINDS[kind] : undefined;
  if (typeof kind !== 'string') problems.push(`${at}.kind: required (one of ${Object.keys(SOURCE_KINDS).join(', ')})`);
  else if (!spec) {
    problems.push(
      PLANNED_KINDS.includes(kind)
        ? `${at}.kind: "${kind}" is not implemented in this version of rungraph yet`
        : `${at}.kind: unknown kind "${kind}" (known: ${Object.keys(SOURCE_KINDS).join(', ')})`,
    );
  }
  unknownKeys(o, [...COMMON_SOURCE_KEYS, ...(spec?.optionalKeys ?? [])], at, problems);

  if (typeof o.id !== 'string' || !SOURCE_ID.test(o.id)) {
    problems.push(`${at}.id: required; letters, digits, "-" and "_", starting with a letter or digit, at most 64`);
  }
  if (typeof o.name !== 'string' || o.name.trim() === '') problems.push(`${at}.name: required, a non-empty string`);
  const baseUrl = checkBaseUrl(o.baseUrl, `${at}.baseUrl`, problems);
  const auth = asObject(o.auth, `${at}.auth`, problems);
  if (auth) {
    unknownKeys(auth, ['username', 'password'], `${at}.auth`, problems);
    for (const field of ['username', 'password']) {
      if (typeof auth[field] !== 'string' || auth[field] === '') problems.push(`${at}.auth.${field}: required, a non-empty string`);
    }
  }
  if (o.timeoutMs !== undefined && !(Number.isInteger(o.timeoutMs) && (o.timeoutMs as number) > 0 && (o.timeoutMs as number) <= 600_000)) {
    problems.push(`${at}.timeoutMs: must be an integer number of milliseconds from 1 to 600000`);
  }
  if (spec) problems.push(...spec.check(o, at));
  if (problems.length > before) return undefined;
  return {
    ...o,
    id: o.id as string,
    kind: kind as SourceKind,
    name: (o.name as string).trim(),
    baseUrl: baseUrl!,
    auth: { username: auth!.username as string, password: auth!.password as string },
    timeoutMs: o.timeoutMs as number | undefined,
  };
}

/** Absolute http(s), no credentials, query or fragment; a trailing slash is dropped. */
export function checkBaseUrl(value: unknown, at: string, problems: string[]): string | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${at}: required, an absolute http or https URL`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${at}: "${value}" is not a URL`);
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`${at}: must use http or https, not ${url.protocol}`);
  else if (url.username || url.password) problems.push(`${at}: must not contain credentials; put them under auth`);
  else if (url.search || url.hash || value.includes('?') || value.includes('#')) problems.push(`${at}: must not contain a query or fragment`);
  else return value.replace(/\/+$/, '');
  return undefined;
}

function expandEnv(value: unknown, at: string, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (placeholder, name: string) => {
      const v = env[name];
      if (v === undefined || v === '') {
        problems.push(`${at || '(top level)'}: environment variable ${name} is not set`);
        // Keep the placeholder so the field's own checks do not report it a second time.
        return placeholder;
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, `${at}[${i}]`, env, problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, at ? `${at}.${k}` : k, env, problems)]));
  }
  return value;
}

function asObject(value: unknown, at: string, problems: string[]): Record<string, unknown> | undefined {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  problems.push(`${at}: must be an object`);
  return undefined;
}

function unknownKeys(o: Record<string, unknown>, allowed: readonly string[], at: string, problems: string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) problems.push(`${at ? `${at}.` : ''}${key}: unknown key (allowed: ${allowed.join(', ')})`);
  }
}
