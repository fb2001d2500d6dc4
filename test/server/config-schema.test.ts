/**
 * The config's JSON Schema (rungraph.schema.json, made by src/server/config-schema.ts from the
 * parser's own tables) agrees with the parser: the committed file is current (UPDATE_CONFIG_SCHEMA=1
 * rewrites it, except under CI), and over a corpus of configs — each key, each range edge, each
 * wrong type — the schema accepts exactly what the parser accepts; where a schema cannot state a
 * rule, it is looser than the parser, never stricter. The validator below is a small one for the draft-07 keywords the file uses.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema } from '../../src/server/config-schema';
import { ConfigError, INTEGER_RANGES, parseConfig } from '../../src/server/config';

const FILE = join(__dirname, '..', '..', 'rungraph.schema.json');
const schema = configSchema();

test('the committed rungraph.schema.json is the one the tables make', () => {
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (process.env.UPDATE_CONFIG_SCHEMA === '1' && !process.env.CI) writeFileSync(FILE, text);
  expect(readFileSync(FILE, 'utf8')).toBe(text);
});

type S = Record<string, any>;
function valid(s: S, v: unknown): boolean {
  if (s.anyOf && !s.anyOf.some((x: S) => valid(x, v))) return false;
  if (s.allOf && !s.allOf.every((x: S) => valid(x, v))) return false;
  if (s.if) {
    if (valid(s.if, v)) {
      if (s.then && !valid(s.then, v)) return false;
    }
  }
  if (s.const !== undefined && v !== s.const) return false;
  if (s.enum && !s.enum.includes(v)) return false;
  if (s.type) {
    const t = v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
    if (!(t === s.type || (s.type === 'number' && t === 'integer'))) return false;
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) return false;
    if (s.maximum !== undefined && v > s.maximum) return false;
    if (s.exclusiveMinimum !== undefined && v <= s.exclusiveMinimum) return false;
  }
  if (typeof v === 'string') {
    if (s.minLength !== undefined && v.length < s.minLength) return false;
    if (s.pattern && !new RegExp(s.pattern).test(v)) return false;
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) return false;
    if (s.items && !v.every((x) => valid(s.items, x))) return false;
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const key of s.required ?? []) if (!(key in o)) return false;
    for (const [key, value] of Object.entries(o)) {
      if (s.propertyNames && !valid(s.propertyNames, key)) return false;
      if (s.properties?.[key]) {
        if (!valid(s.properties[key], value)) return false;
      } else if (s.additionalProperties === false) return false;
    }
  }
  return true;
}

const ENV = { TESTRAIL_API_KEY: 'k', PORT_VAR: '4100', KEY: 'a-long-enough-api-key-123' };
const parses = (raw: unknown) => {
  try {
    parseConfig(raw, 'corpus', ENV);
    return true;
  } catch (error) {
    if (error instanceof ConfigError) return false;
    throw error;
  }
};

const tr = (extra: Record<string, unknown> = {}) => ({ id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl: 'https://example.testrail.io', auth: { username: 'u', password: '${TESTRAIL_API_KEY}' }, ...extra });
const qac = (extra: Record<string, unknown> = {}) => ({ id: 'qac', kind: 'qacomplete', name: 'QAC', baseUrl: 'https://qac.example.com', auth: { username: 'u', password: 'p' }, ...extra });

function corpus(): Array<[string, unknown]> {
  const cases: Array<[string, unknown]> = [
    ['minimal', { sources: [tr()] }],
    ['$schema', { $schema: './rungraph.schema.json', sources: [tr()] }],
    ['no sources', { sources: [] }],
    ['unknown top key', { sources: [tr()], metricz: {} }],
    ['unknown server key', { sources: [tr()], server: { prot: 1 } }],
    ['port from env', { sources: [tr()], server: { port: '${PORT_VAR}' } }],
    ['port as a quoted number', { sources: [tr()], server: { port: '4100' } }],
    ['introspection not boolean', { sources: [tr()], server: { introspection: 'no' } }],
    ['federation node', { sources: [tr()], server: { federation: { node: false } } }],
    ['federation unknown', { sources: [tr()], server: { federation: { nod: false } } }],
    ['index keys', { sources: [tr({ index: false })], index: { enabled: false, path: '/tmp/x', refreshSeconds: 5, budgetShare: 0.25, sweepHours: 6 } }],
    ['budgetShare 0', { sources: [tr()], index: { budgetShare: 0 } }],
    ['budgetShare 1', { sources: [tr()], index: { budgetShare: 1 } }],
    ['source index not boolean', { sources: [tr({ index: 'off' })] }],
    ['unknown kind', { sources: [tr({ kind: 'jira' })] }],
    ['missing auth', { sources: [{ id: 'tr', kind: 'testrail', name: 'T', baseUrl: 'https://x.io' }] }],
    ['auth extra key', { sources: [tr({ auth: { username: 'u', password: 'p', token: 'x' } })] }],
    ['bad id', { sources: [tr({ id: 'x y' })] }],
    ['rateLimit null', { sources: [tr({ rateLimit: null })] }],
    ['rateLimit without rpm', { sources: [tr({ rateLimit: { burst: 3 } })] }],
    ['breaker', { sources: [tr({ breaker: { failures: 3, cooldownMs: 500 } })] }],
    ['qac keys', { sources: [qac({ timeZone: 'Europe/Berlin', automationBaseUrl: 'https://a.example.com', hosts: [{ id: 143, token: 't' }, { id: '144', token: 't' }] })] }],
    ['qac host without token', { sources: [qac({ hosts: [{ id: 143 }] })] }],
    ['qac key on testrail', { sources: [tr({ timeZone: 'UTC' })] }],
    ['retries as float', { sources: [tr({ retries: 1.5 })] }],
    ['metrics keys', { sources: [tr()], metrics: { enabled: false, path: '/prometheus', port: 9464, apiKey: '${KEY}', operationNames: 20 } }],
    ['metrics unknown key', { sources: [tr()], metrics: { prefix: 'x' } }],
    ['metrics path without a slash', { sources: [tr()], metrics: { path: 'metrics' } }],
    ['metrics enabled not boolean', { sources: [tr()], metrics: { enabled: 'yes' } }],
    ['telemetry keys', { sources: [tr()], telemetry: { otlpEndpoint: 'http://collector:4318', serviceName: 'qa-graph', sampleRatio: 0.25 } }],
    ['telemetry sampleRatio 0', { sources: [tr()], telemetry: { sampleRatio: 0 } }],
    ['telemetry sampleRatio over 1', { sources: [tr()], telemetry: { sampleRatio: 1.5 } }],
    ['telemetry sampleRatio as text', { sources: [tr()], telemetry: { sampleRatio: 'half' } }],
    ['telemetry empty serviceName', { sources: [tr()], telemetry: { serviceName: '' } }],
    ['telemetry unknown key', { sources: [tr()], telemetry: { endpoint: 'http://collector:4318' } }],
  ];
  // Every range edge, inside and out.
  const place: Record<string, (k: string, v: unknown) => unknown> = {
    server: (k, v) => ({ sources: [tr()], server: { [k]: v } }),
    limits: (k, v) => ({ sources: [tr()], server: { limits: { [k]: v } } }),
    index: (k, v) => ({ sources: [tr()], index: { [k]: v } }),
    metrics: (k, v) => ({ sources: [tr()], metrics: { [k]: v } }),
    source: (k, v) => ({ sources: [tr({ [k]: v })] }),
    rateLimit: (k, v) => ({ sources: [tr({ rateLimit: { requestsPerMinute: 60, [k]: v } })] }),
    breaker: (k, v) => ({ sources: [tr({ breaker: { [k]: v } })] }),
  };
  for (const [section, keys] of Object.entries(INTEGER_RANGES)) {
    for (const [key, [min, max]] of Object.entries(keys as Record<string, readonly [number, number]>)) {
      for (const v of [min, max, min - 1, max + 1, 'text']) cases.push([`${section}.${key} = ${v}`, place[section](key, v)]);
    }
  }
  return cases;
}

test.each(corpus())('%s: the schema and the parser agree', (name, raw) => {
  expect({ name, bySchema: valid(schema, raw) }).toEqual({ name, bySchema: parses(raw) });
});

test('what a schema cannot say is left to the parser, and the schema is looser there, never stricter', () => {
  // A short API key, credentials in a baseUrl, a time zone that does not exist: only check-config catches them.
  for (const raw of [
    { sources: [tr()], server: { apiKeys: ['short'] } },
    { sources: [tr({ baseUrl: 'https://u:p@example.testrail.io' })] },
    { sources: [qac({ timeZone: 'Mars/Olympus' })] },
    { sources: [tr()], metrics: { apiKey: 'short' } },
    { sources: [tr()], metrics: { path: '/graphql' } },
    { sources: [tr()], telemetry: { otlpEndpoint: 'collector:4318' } },
  ]) {
    expect({ parser: parses(raw), bySchema: valid(schema, raw) }).toEqual({ parser: false, bySchema: true });
  }
});
