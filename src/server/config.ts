/**
 * Config: a JSON (or YAML) file given with `--config FILE` or RUNGRAPH_CONFIG (the flag wins).
 * `${VAR}` in any string comes from the environment. Every problem names its field, all problems
 * are reported at once, and nothing starts half-configured (decisions.md, "Config").
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { checkBaseUrl, type SourceConfig } from '../sources/config';
import { defaultRequestsPerMinute, SOURCE_KINDS } from '../sources/registry';
import type { SourceKind } from '../model/types';
import type { TrafficPolicy } from '../http/traffic';

export interface ServerLimits {
  /** Deepest selection a query may have. */
  maxDepth: number;
  /** Most aliased fields in one operation. */
  maxAliases: number;
  /** Largest request body, bytes. */
  maxBodyBytes: number;
  /** Highest estimated cost (fields the response can hold, list sizes multiplied; src/server/cost.ts). */
  maxCost: number;
  /** Largest query response, bytes; a larger one is replaced by an error (mutations are never cut). */
  maxResponseBytes: number;
}

export interface ServerConfig {
  host: string;
  port: number;
  /** When non-empty, every GraphQL request needs `Authorization: Bearer <one of these>`. */
  apiKeys: string[];
  /** Schema introspection (and so the explorer's docs); turn off in production if you like. */
  introspection: boolean;
  /** The most one GraphQL request may spend on upstream calls, ms. */
  requestTimeoutMs: number;
  /** On SIGTERM, how long in-flight requests may take to finish, ms. */
  shutdownGraceMs: number;
  /**
   * On SIGTERM, how long /readyz answers 503 while requests are still accepted, before the listener
   * closes and in-flight requests drain: the time a load balancer needs to notice (probe period ×
   * failure threshold). 0 closes the listener at once.
   */
  readinessDelayMs: number;
  limits: ServerLimits;
  /** How rungraph shows itself to a federation supergraph (README, Federation). */
  federation: FederationConfig;
}

export interface FederationConfig {
  /** `Query.node` in the subgraph schema; false when another subgraph of the supergraph owns it. */
  node: boolean;
}

/** Server settings given in code (tests, the bench): any subset; the rest are the defaults. */
export type ServerSettings = Partial<Omit<ServerConfig, 'limits'>> & { limits?: Partial<ServerLimits> };

/** The run index (decisions.md, Run index). */
export interface IndexConfig {
  /** False: every read is LIVE and every Source.sync.state is OFF. */
  enabled: boolean;
  /** Where the embedded store keeps its file. */
  path: string;
  /** Seconds from the end of one refresh cycle to the start of the next. */
  refreshSeconds: number;
  /** The share of a source's rate budget the sync may take (0–1); live reads and writes keep the rest. */
  budgetShare: number;
  /** Hours between full sweeps, which drop runs the vendor deleted. */
  sweepHours: number;
  /** A postgres:// connection URL: the shared PostgreSQL store for several replicas (issue #15) instead of the embedded one. Never logged with its password. */
  postgres?: string;
}

/** Prometheus metrics (README, Operations). */
export interface MetricsConfig {
  /** False: no /metrics, and nothing is measured. */
  enabled: boolean;
  /** Where the scrape answers. */
  path: string;
  /** A listener of its own on server.host (e.g. a port only Prometheus reaches); absent: the gateway's port. */
  port?: number;
  /** When set, a scrape needs `Authorization: Bearer <apiKey>`; server.apiKeys never apply to it. */
  apiKey?: string;
  /** The first this many distinct operation names keep their label; later ones (and unnamed operations) are `other`. */
  operationNames: number;
}

/** OpenTelemetry traces (src/server/telemetry.ts); off unless an OTLP endpoint is configured here or in the environment. */
export interface TelemetryConfig {
  /** The OTLP/HTTP collector, e.g. http://collector:4318 (traces go to its /v1/traces). */
  otlpEndpoint?: string;
  /** `service.name` of the spans; absent: OTEL_SERVICE_NAME, else "rungraph". */
  serviceName?: string;
  /** The share of new traces recorded (0–1); a continued trace follows its caller's sampling decision. */
  sampleRatio: number;
}

export interface Config {
  server: ServerConfig;
  sources: SourceConfig[];
  index: IndexConfig;
  metrics: MetricsConfig;
  telemetry: TelemetryConfig;
}

export const DEFAULT_METRICS: MetricsConfig = { enabled: true, path: '/metrics', operationNames: 100 };
export const DEFAULT_TELEMETRY: TelemetryConfig = { sampleRatio: 1 };

export const DEFAULT_INDEX: IndexConfig = { enabled: true, path: '.rungraph', refreshSeconds: 30, budgetShare: 0.5, sweepHours: 24 };

export const DEFAULT_SERVER: ServerConfig = {
  host: '127.0.0.1',
  port: 4000,
  apiKeys: [],
  introspection: true,
  requestTimeoutMs: 30_000,
  shutdownGraceMs: 10_000,
  readinessDelayMs: 0,
  limits: { maxDepth: 12, maxAliases: 30, maxBodyBytes: 1024 * 1024, maxCost: 20_000, maxResponseBytes: 8 * 1024 * 1024 },
  federation: { node: true },
};

export class ConfigError extends Error {
  constructor(
    readonly origin: string,
    readonly problems: string[],
  ) {
    super(`${origin}: ${problems.length} problem(s) in the config:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const COMMON_SOURCE_KEYS: readonly string[] = COMMON_SOURCE_KEYS_LIST();
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
  fromEnvironment.clear();
  const expanded = expandEnv(raw, '', env, problems);
  const top = asObject(expanded, '(top level)', problems);
  if (!top) throw new ConfigError(origin, problems);
  // `$schema` lets an editor find the config's JSON Schema; it configures nothing.
  unknownKeys(top, [...new Set([...CONFIG_KEYS.top, ...Object.keys(SECTIONS)])], '', problems);

  const server: ServerConfig = { ...DEFAULT_SERVER, limits: { ...DEFAULT_SERVER.limits } };
  const index: IndexConfig = { ...DEFAULT_INDEX };
  const metrics: MetricsConfig = { ...DEFAULT_METRICS };
  const telemetry: TelemetryConfig = { ...DEFAULT_TELEMETRY };
  const sections: { [K in keyof typeof SECTIONS]: Parameters<(typeof SECTIONS)[K]>[1] } = { server, index, metrics, telemetry };
  for (const key of Object.keys(SECTIONS) as Array<keyof typeof SECTIONS>) {
    if (top[key] === undefined) continue;
    const o = asObject(top[key], key, problems);
    if (o) SECTIONS[key](o, sections[key] as never, problems);
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
  if (metrics.port !== undefined && metrics.port !== 0 && metrics.port === server.port) problems.push(`metrics.port: ${metrics.port} is server.port; leave metrics.port out to serve ${metrics.path} on the gateway's port`);
  if (problems.length > 0) throw new ConfigError(origin, problems);
  return { server, sources, index, metrics, telemetry };
}

/**
 * The optional top-level sections beside `sources`, each with its own parser that fills its
 * defaults in place. A new section (metrics, telemetry) is one entry here and one parser.
 */
const SECTIONS = {
  server: (o: Record<string, unknown>, into: ServerConfig, problems: string[]) => parseServer(o, into, problems),
  index: (o: Record<string, unknown>, into: IndexConfig, problems: string[]) => parseIndex(o, into, problems),
  metrics: (o: Record<string, unknown>, into: MetricsConfig, problems: string[]) => parseMetrics(o, into, problems),
  telemetry: (o: Record<string, unknown>, into: TelemetryConfig, problems: string[]) => parseTelemetry(o, into, problems),
};

/** Paths the gateway serves itself; /metrics may not take one of them. */
const RESERVED_PATHS = /^\/(graphql|healthz|readyz|explorer)(\/|$)/;

function parseMetrics(o: Record<string, unknown>, metrics: MetricsConfig, problems: string[]): void {
  unknownKeys(o, CONFIG_KEYS.metrics, 'metrics', problems);
  if (o.enabled !== undefined) {
    if (typeof o.enabled === 'boolean') metrics.enabled = o.enabled;
    else problems.push('metrics.enabled: must be true or false');
  }
  if (o.path !== undefined) {
    if (typeof o.path === 'string' && /^\/[A-Za-z0-9._~/-]*$/.test(o.path) && !RESERVED_PATHS.test(o.path)) metrics.path = o.path;
    else problems.push('metrics.path: must be a URL path starting with "/" (letters, digits, . _ ~ - /), other than /graphql, /healthz, /readyz and /explorer');
  }
  metrics.port = ranged('metrics', 'port', o.port, 'metrics.port', problems) ?? metrics.port;
  metrics.operationNames = ranged('metrics', 'operationNames', o.operationNames, 'metrics.operationNames', problems) ?? metrics.operationNames;
  // The value is never echoed in a problem: it is a secret.
  if (o.apiKey !== undefined) {
    if (typeof o.apiKey === 'string' && o.apiKey.trim().length >= 16) metrics.apiKey = o.apiKey.trim();
    else problems.push('metrics.apiKey: must be a string of at least 16 characters (put it in ${VAR})');
  }
}

function parseTelemetry(o: Record<string, unknown>, telemetry: TelemetryConfig, problems: string[]): void {
  unknownKeys(o, CONFIG_KEYS.telemetry, 'telemetry', problems);
  if (o.otlpEndpoint !== undefined) {
    const url = typeof o.otlpEndpoint === 'string' && URL.canParse(o.otlpEndpoint.trim()) ? new URL(o.otlpEndpoint.trim()) : undefined;
    if (url && (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash && !url.username && !url.password) telemetry.otlpEndpoint = (o.otlpEndpoint as string).trim().replace(/\/+$/, '');
    else problems.push('telemetry.otlpEndpoint: must be an http or https URL of an OTLP/HTTP collector without credentials, query or fragment, e.g. http://collector:4318 (a collector\'s auth header goes in OTEL_EXPORTER_OTLP_HEADERS)');
  }
  if (o.serviceName !== undefined) {
    if (typeof o.serviceName === 'string' && o.serviceName.trim() !== '') telemetry.serviceName = o.serviceName.trim();
    else problems.push('telemetry.serviceName: must be a non-empty string');
  }
  if (o.sampleRatio !== undefined) {
    if (typeof o.sampleRatio === 'number' && o.sampleRatio >= 0 && o.sampleRatio <= 1) telemetry.sampleRatio = o.sampleRatio;
    else problems.push('telemetry.sampleRatio: must be a number from 0 to 1');
  }
}

function parseIndex(o: Record<string, unknown>, index: IndexConfig, problems: string[]): void {
  unknownKeys(o, CONFIG_KEYS.index, 'index', problems);
  if (o.enabled !== undefined) {
    if (typeof o.enabled === 'boolean') index.enabled = o.enabled;
    else problems.push('index.enabled: must be true or false');
  }
  if (o.path !== undefined) {
    if (typeof o.path === 'string' && o.path.trim() !== '') index.path = o.path;
    else problems.push('index.path: must be a directory path');
  }
  index.refreshSeconds = ranged('index', 'refreshSeconds', o.refreshSeconds, 'index.refreshSeconds', problems) ?? index.refreshSeconds;
  index.sweepHours = ranged('index', 'sweepHours', o.sweepHours, 'index.sweepHours', problems) ?? index.sweepHours;
  if (o.budgetShare !== undefined) {
    if (typeof o.budgetShare === 'number' && o.budgetShare > 0 && o.budgetShare <= 1) index.budgetShare = o.budgetShare;
    else problems.push('index.budgetShare: must be a number above 0 and at most 1');
  }
  // The shared store (issue #15). The value is never echoed in a problem: it may hold a password.
  if (o.postgres !== undefined) {
    if (typeof o.postgres === 'string' && /^postgres(ql)?:\/\/[^\s]+$/.test(o.postgres.trim())) index.postgres = o.postgres.trim();
    else problems.push('index.postgres: must be a PostgreSQL connection URL, postgres://user:password@host:port/database (put the password in ${VAR})');
  }
}

function parseServer(s: Record<string, unknown>, server: ServerConfig, problems: string[]): void {
  unknownKeys(s, CONFIG_KEYS.server, 'server', problems);
  if (s.host !== undefined) {
    if (typeof s.host === 'string' && s.host.length > 0) server.host = s.host;
    else problems.push('server.host: must be a host name or address');
  }
  const port = ranged('server', 'port', s.port, 'server.port', problems);
  if (port !== undefined) server.port = port;
  if (s.apiKeys !== undefined) {
    if (!Array.isArray(s.apiKeys) || s.apiKeys.some((k) => typeof k !== 'string')) problems.push('server.apiKeys: must be a list of strings');
    else {
      // An empty entry (e.g. an unset variable left empty) must not become a key everyone knows.
      const keys = (s.apiKeys as string[]).filter((k) => k.trim() !== '');
      if (keys.some((k) => k.length < 16)) problems.push('server.apiKeys: every key must be at least 16 characters long');
      server.apiKeys = keys;
    }
  }
  if (s.introspection !== undefined) {
    if (typeof s.introspection === 'boolean') server.introspection = s.introspection;
    else problems.push('server.introspection: must be true or false');
  }
  server.requestTimeoutMs = ranged('server', 'requestTimeoutMs', s.requestTimeoutMs, 'server.requestTimeoutMs', problems) ?? server.requestTimeoutMs;
  server.shutdownGraceMs = ranged('server', 'shutdownGraceMs', s.shutdownGraceMs, 'server.shutdownGraceMs', problems) ?? server.shutdownGraceMs;
  server.readinessDelayMs = ranged('server', 'readinessDelayMs', s.readinessDelayMs, 'server.readinessDelayMs', problems) ?? server.readinessDelayMs;
  if (s.limits !== undefined) {
    const l = asObject(s.limits, 'server.limits', problems);
    if (l) {
      unknownKeys(l, CONFIG_KEYS.limits, 'server.limits', problems);
      server.limits.maxDepth = ranged('limits', 'maxDepth', l.maxDepth, 'server.limits.maxDepth', problems) ?? server.limits.maxDepth;
      server.limits.maxAliases = ranged('limits', 'maxAliases', l.maxAliases, 'server.limits.maxAliases', problems) ?? server.limits.maxAliases;
      server.limits.maxBodyBytes = ranged('limits', 'maxBodyBytes', l.maxBodyBytes, 'server.limits.maxBodyBytes', problems) ?? server.limits.maxBodyBytes;
      server.limits.maxCost = ranged('limits', 'maxCost', l.maxCost, 'server.limits.maxCost', problems) ?? server.limits.maxCost;
      server.limits.maxResponseBytes = ranged('limits', 'maxResponseBytes', l.maxResponseBytes, 'server.limits.maxResponseBytes', problems) ?? server.limits.maxResponseBytes;
    }
  }
  if (s.federation !== undefined) {
    const f = asObject(s.federation, 'server.federation', problems);
    if (f) {
      unknownKeys(f, CONFIG_KEYS.federation, 'server.federation', problems);
      // A new object: the default's must not change.
      server.federation = { ...server.federation };
      if (f.node !== undefined) {
        if (typeof f.node === 'boolean') server.federation.node = f.node;
        else problems.push('server.federation.node: must be true or false');
      }
    }
  }
}

/** The traffic policy keys every source takes (src/http/traffic.ts), checked and translated. */
function parsePolicy(o: Record<string, unknown>, kind: string, baseUrl: string | undefined, at: string, problems: string[]): Partial<TrafficPolicy> {
  const policy: Partial<TrafficPolicy> = {};
  policy.timeoutMs = ranged('source', 'timeoutMs', o.timeoutMs, `${at}.timeoutMs`, problems);
  policy.connectTimeoutMs = ranged('source', 'connectTimeoutMs', o.connectTimeoutMs, `${at}.connectTimeoutMs`, problems);
  policy.maxRetries = ranged('source', 'retries', o.retries, `${at}.retries`, problems);
  policy.concurrency = ranged('source', 'concurrency', o.concurrency, `${at}.concurrency`, problems);
  policy.maxResponseBytes = ranged('source', 'maxResponseBytes', o.maxResponseBytes, `${at}.maxResponseBytes`, problems);
  if (o.rateLimit === null) policy.requestsPerMinute = null;
  else if (o.rateLimit !== undefined) {
    const r = asObject(o.rateLimit, `${at}.rateLimit`, problems);
    if (r) {
      unknownKeys(r, CONFIG_KEYS.rateLimit, `${at}.rateLimit`, problems);
      const rpm = ranged('rateLimit', 'requestsPerMinute', r.requestsPerMinute, `${at}.rateLimit.requestsPerMinute`, problems);
      if (rpm === undefined && r.requestsPerMinute === undefined) problems.push(`${at}.rateLimit.requestsPerMinute: required`);
      policy.requestsPerMinute = rpm;
      policy.burst = ranged('rateLimit', 'burst', r.burst, `${at}.rateLimit.burst`, problems);
    }
  } else if (baseUrl) {
    policy.requestsPerMinute = defaultRequestsPerMinute(kind, baseUrl);
  }
  if (o.breaker !== undefined) {
    const b = asObject(o.breaker, `${at}.breaker`, problems);
    if (b) {
      unknownKeys(b, CONFIG_KEYS.breaker, `${at}.breaker`, problems);
      policy.breakerFailures = ranged('breaker', 'failures', b.failures, `${at}.breaker.failures`, problems);
      policy.breakerCooldownMs = ranged('breaker', 'cooldownMs', b.cooldownMs, `${at}.breaker.cooldownMs`, problems);
    }
  }
  return Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined));
}

/**
 * The integer keys and their ranges, by section: the parser checks them and the JSON Schema
 * (config-schema.ts) is made from them, so the two cannot disagree.
 */
export const INTEGER_RANGES = {
  server: { port: [0, 65535], requestTimeoutMs: [100, 600_000], shutdownGraceMs: [0, 600_000], readinessDelayMs: [0, 120_000] },
  limits: { maxDepth: [1, 100], maxAliases: [0, 1000], maxBodyBytes: [1024, 64 * 1024 * 1024], maxCost: [1, 10_000_000], maxResponseBytes: [1024, 1024 * 1024 * 1024] },
  index: { refreshSeconds: [1, 86_400], sweepHours: [1, 24 * 365] },
  metrics: { port: [0, 65535], operationNames: [1, 1000] },
  source: { timeoutMs: [1, 600_000], connectTimeoutMs: [1, 600_000], retries: [0, 5], concurrency: [1, 256], maxResponseBytes: [1024, 1024 * 1024 * 1024] },
  rateLimit: { requestsPerMinute: [1, 1_000_000], burst: [1, 1_000_000] },
  breaker: { failures: [1, 1000], cooldownMs: [100, 3_600_000] },
} as const satisfies Record<string, Record<string, readonly [number, number]>>;

/** The keys each object of the config allows (unknown keys are errors that name them). */
export const CONFIG_KEYS = {
  top: ['$schema', 'sources', 'server', 'index', 'metrics', 'telemetry'],
  server: ['host', 'port', 'apiKeys', 'introspection', 'requestTimeoutMs', 'shutdownGraceMs', 'readinessDelayMs', 'limits', 'federation'],
  limits: ['maxDepth', 'maxAliases', 'maxBodyBytes', 'maxCost', 'maxResponseBytes'],
  federation: ['node'],
  index: ['enabled', 'path', 'refreshSeconds', 'budgetShare', 'sweepHours', 'postgres'],
  metrics: ['enabled', 'path', 'port', 'apiKey', 'operationNames'],
  telemetry: ['otlpEndpoint', 'serviceName', 'sampleRatio'],
  source: COMMON_SOURCE_KEYS_LIST(),
  auth: ['username', 'password'],
  rateLimit: ['requestsPerMinute', 'burst'],
  breaker: ['failures', 'cooldownMs'],
} as const;

function COMMON_SOURCE_KEYS_LIST() {
  return ['id', 'kind', 'name', 'baseUrl', 'auth', 'timeoutMs', 'connectTimeoutMs', 'retries', 'concurrency', 'rateLimit', 'breaker', 'maxResponseBytes', 'index'] as const;
}

function ranged<S extends keyof typeof INTEGER_RANGES>(section: S, key: keyof (typeof INTEGER_RANGES)[S], value: unknown, at: string, problems: string[]): number | undefined {
  const [min, max] = INTEGER_RANGES[section][key] as readonly [number, number];
  return integer(value, at, min, max, problems);
}

/**
 * Config paths whose string came from `${VAR}`: the environment only has strings, so a number
 * there may be written `"${PORT}"`. A number written in quotes by hand is a mistake worth naming.
 * Filled by expandEnv at the start of each (synchronous) parseConfig.
 */
const fromEnvironment = new Set<string>();

function integer(value: unknown, at: string, min: number, max: number, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && !fromEnvironment.has(at)) {
    problems.push(`${at}: must be a number, not the string ${JSON.stringify(value)}${/^\d+$/.test(value) ? ` (write ${value} without quotes)` : ''}`);
    return undefined;
  }
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max) return n;
  problems.push(`${at}: must be an integer from ${min} to ${max}`);
  return undefined;
}

function parseSource(entry: unknown, at: string, problems: string[]): SourceConfig | undefined {
  const o = asObject(entry, at, problems);
  if (!o) return undefined;
  const before = problems.length;
  const kind = o.kind;
  const spec = typeof kind === 'string' ? SOURCE_KINDS[kind] : undefined;
  if (typeof kind !== 'string') problems.push(`${at}.kind: required (one of ${Object.keys(SOURCE_KINDS).join(', ')})`);
  else if (!spec) {
    problems.push(`${at}.kind: unknown kind "${kind}" (known: ${Object.keys(SOURCE_KINDS).join(', ')})`);
  }
  unknownKeys(o, [...COMMON_SOURCE_KEYS, ...(spec?.optionalKeys ?? [])], at, problems);

  if (typeof o.id !== 'string' || !SOURCE_ID.test(o.id)) {
    problems.push(`${at}.id: required; letters, digits, "-" and "_", starting with a letter or digit, at most 64`);
  }
  if (typeof o.name !== 'string' || o.name.trim() === '') problems.push(`${at}.name: required, a non-empty string`);
  const baseUrl = checkBaseUrl(o.baseUrl, `${at}.baseUrl`, problems);
  const auth = asObject(o.auth, `${at}.auth`, problems);
  if (auth) {
    unknownKeys(auth, CONFIG_KEYS.auth, `${at}.auth`, problems);
    for (const field of ['username', 'password']) {
      if (typeof auth[field] !== 'string' || auth[field] === '') problems.push(`${at}.auth.${field}: required, a non-empty string`);
    }
  }
  const policy = parsePolicy(o, String(kind), baseUrl, at, problems);
  if (o.index !== undefined && o.index !== false && o.index !== true) problems.push(`${at}.index: false turns the run index off for this source; true (the default) or false`);
  if (spec) problems.push(...spec.check(o, at));
  if (problems.length > before) return undefined;
  return {
    ...o,
    id: o.id as string,
    kind: kind as SourceKind,
    name: (o.name as string).trim(),
    baseUrl: baseUrl!,
    auth: { username: auth!.username as string, password: auth!.password as string },
    timeoutMs: policy.timeoutMs,
    policy,
  };
}

function expandEnv(value: unknown, at: string, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  if (typeof value === 'string') {
    if (value.includes('${')) fromEnvironment.add(at);
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
