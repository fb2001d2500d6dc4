/**
 * The config's JSON Schema, for editors (`"$schema": "./node_modules/rungraph/rungraph.schema.json"`),
 * made from the tables the parser itself checks with (config.ts CONFIG_KEYS and INTEGER_RANGES, each
 * kind's keySchemas), so the two agree by construction; `npm run config-schema` writes it and CI
 * checks the committed file is current. The parser stays the judge: what the schema cannot say (a
 * key at least 16 characters long, a URL without credentials, a real time zone) it reports itself.
 */
import { SOURCE_KINDS } from '../sources/registry';
import { CONFIG_KEYS, INTEGER_RANGES } from './config';

type Schema = Record<string, unknown>;

/** Every string may hold `${VAR}`; an integer may be written as one too (the environment has only strings). */
const ENV = { type: 'string', pattern: '^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$' };
const integer = ([minimum, maximum]: readonly [number, number]): Schema => ({ anyOf: [{ type: 'integer', minimum, maximum }, ENV] });
const boolean: Schema = { type: 'boolean' };
const string = (description?: string): Schema => ({ type: 'string', minLength: 1, ...(description ? { description } : {}) });

function object(keys: readonly string[], properties: Record<string, Schema>, extra: Schema = {}): Schema {
  const missing = keys.filter((k) => !(k in properties));
  if (missing.length > 0) throw new Error(`config-schema: no schema for ${missing.join(', ')}`);
  return { type: 'object', additionalProperties: false, properties: Object.fromEntries(keys.map((k) => [k, properties[k]])), ...extra };
}

function integers<S extends keyof typeof INTEGER_RANGES>(section: S): Record<string, Schema> {
  return Object.fromEntries(Object.entries(INTEGER_RANGES[section]).map(([k, range]) => [k, integer(range as readonly [number, number])]));
}

export function configSchema(): Schema {
  const kinds = Object.keys(SOURCE_KINDS);
  const kindKeys: Record<string, Schema> = {};
  for (const spec of Object.values(SOURCE_KINDS)) Object.assign(kindKeys, spec?.keySchemas);
  const source = object([...CONFIG_KEYS.source, ...Object.keys(kindKeys)], {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$', description: 'Your name for the source; it appears in IDs and errors.' },
    kind: { enum: kinds },
    name: string('Display name.'),
    baseUrl: string('Absolute http or https URL, without credentials, query or fragment.'),
    auth: object(CONFIG_KEYS.auth, { username: string(), password: string('Use ${VAR}.') }, { required: ['username', 'password'] }),
    ...integers('source'),
    rateLimit: { anyOf: [{ type: 'null' }, object(CONFIG_KEYS.rateLimit, integers('rateLimit'), { required: ['requestsPerMinute'] })] },
    breaker: object(CONFIG_KEYS.breaker, integers('breaker')),
    index: { type: 'boolean', description: 'false turns the run index off for this source.' },
    ...kindKeys,
  });
  // A kind's own keys belong to that kind alone.
  (source as Schema).allOf = Object.entries(SOURCE_KINDS).map(([kind, spec]) => ({
    if: { properties: { kind: { const: kind } }, required: ['kind'] },
    then: { propertyNames: { enum: [...CONFIG_KEYS.source, ...(spec?.optionalKeys ?? [])] } },
  }));
  (source as Schema).required = ['id', 'kind', 'name', 'baseUrl', 'auth'];

  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://rungraph.dev/rungraph.schema.json',
    title: 'rungraph config',
    description: 'Made by `npm run config-schema` from the tables the gateway checks a config with; `rungraph check-config FILE` is the judge.',
    ...object(
      CONFIG_KEYS.top,
      {
        $schema: { type: 'string' },
        sources: { type: 'array', minItems: 1, items: source },
        server: object(CONFIG_KEYS.server, {
          host: string(),
          apiKeys: { type: 'array', items: { type: 'string' }, description: 'Each at least 16 characters; use ${VAR}.' },
          introspection: boolean,
          ...integers('server'),
          limits: object(CONFIG_KEYS.limits, integers('limits')),
          federation: object(CONFIG_KEYS.federation, { node: boolean }),
        }),
        index: object(CONFIG_KEYS.index, {
          enabled: boolean,
          path: string(),
          ...integers('index'),
          budgetShare: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
          postgres: string('postgres://user:password@host:port/database; put the password in ${VAR}.'),
        }),
        metrics: object(CONFIG_KEYS.metrics, {
          enabled: boolean,
          path: { type: 'string', pattern: '^/[A-Za-z0-9._~/-]*$', description: 'Not /graphql, /healthz, /readyz or /explorer.' },
          ...integers('metrics'),
          apiKey: string('At least 16 characters; use ${VAR}. Scrapes then need Authorization: Bearer <apiKey>.'),
        }),
        telemetry: object(CONFIG_KEYS.telemetry, {
          otlpEndpoint: string('OTLP/HTTP collector, e.g. http://collector:4318; traces go to its /v1/traces. Setting it turns tracing on.'),
          serviceName: string('service.name of the spans (default: OTEL_SERVICE_NAME, else rungraph).'),
          sampleRatio: { type: 'number', minimum: 0, maximum: 1, description: 'Share of new traces recorded; a continued trace follows its caller.' },
        }),
      },
      { required: ['sources'] },
    ),
  };
}
