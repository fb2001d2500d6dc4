import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULT_METRICS, DEFAULT_SERVER, loadConfigFile, parseConfig } from '../../src/server/config';

const source = (over: Record<string, unknown> = {}) => ({
  id: 'tr',
  kind: 'testrail',
  name: 'TestRail',
  baseUrl: 'https://example.testrail.io/',
  auth: { username: 'qa@example.com', password: '${TESTRAIL_API_KEY}' },
  ...over,
});

function problemsOf(raw: unknown, env: Record<string, string> = { TESTRAIL_API_KEY: 'k' }): string[] {
  try {
    parseConfig(raw, 'test.json', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  test('the documented shape loads, ${VAR} comes from the environment, defaults fill server', () => {
    const config = parseConfig({ sources: [source()] }, 'test.json', { TESTRAIL_API_KEY: 'secret-key' });
    expect(config.server).toEqual(DEFAULT_SERVER);
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 4000, apiKeys: [] });
    expect(config.sources[0]).toMatchObject({
      id: 'tr',
      kind: 'testrail',
      baseUrl: 'https://example.testrail.io',
      auth: { username: 'qa@example.com', password: 'secret-key' },
    });
  });

  test('an unset variable names the field and the variable, and never its value', () => {
    expect(problemsOf({ sources: [source()] }, {})).toEqual(['sources[0].auth.password: environment variable TESTRAIL_API_KEY is not set']);
  });

  test.each([
    [{ sources: [source({ kind: 'jira' })] }, 'sources[0].kind: unknown kind "jira"'],
    [{ sources: [source({ kind: undefined })] }, 'sources[0].kind: required'],
    [{ sources: [source({ name: '' })] }, 'sources[0].name: required'],
    [{ sources: [source({ baseUrl: 'ftp://x' })] }, 'sources[0].baseUrl: must use http or https'],
    [{ sources: [source({ baseUrl: 'https://u:p@x.io' })] }, 'sources[0].baseUrl: must not contain credentials'],
    [{ sources: [source({ baseUrl: 'https://x.io/?a=1' })] }, 'sources[0].baseUrl: must not contain a query or fragment'],
    [{ sources: [source({ baseUrl: 'not a url' })] }, 'sources[0].baseUrl: "not a url" is not a URL'],
    [{ sources: [source({ auth: { username: 'a' } })] }, 'sources[0].auth.password: required'],
    [{ sources: [source({ tiemoutMs: 5 })] }, 'sources[0].tiemoutMs: unknown key'],
    [{ sources: [source({ timeoutMs: -1 })] }, 'sources[0].timeoutMs: must be an integer'],
    [{ sources: [source(), source()] }, 'sources[1].id: "tr" is used by another source'],
    [{ sources: [] }, 'sources: must be a non-empty list'],
    [{ sources: [source()], server: { port: 70000 } }, 'server.port: must be an integer from 0 to 65535'],
    [{ sources: [source()], extra: 1 }, 'extra: unknown key'],
    [{ sources: [source()], server: { apiKeys: ['short'] } }, 'server.apiKeys: every key must be at least 16 characters long'],
    [{ sources: [source()], server: { limits: { maxDepth: 0 } } }, 'server.limits.maxDepth: must be an integer from 1 to 100'],
    [{ sources: [source({ rateLimit: { burst: 5 } })] }, 'sources[0].rateLimit.requestsPerMinute: required'],
    [{ sources: [source({ breaker: { failures: 0 } })] }, 'sources[0].breaker.failures: must be an integer from 1 to 1000'],
    [{ sources: [source({ retries: 9 })] }, 'sources[0].retries: must be an integer from 0 to 5'],
    [{ sources: [source()], server: { port: '4100' } }, 'server.port: must be a number, not the string "4100" (write 4100 without quotes)'],
    [{ sources: [source({ timeoutMs: '2500' })] }, 'sources[0].timeoutMs: must be a number, not the string "2500"'],
    [{ sources: [source()], server: { limits: { maxCost: 0 } } }, 'server.limits.maxCost: must be an integer from 1 to 10000000'],
    [{ sources: [source()], index: { refreshSecs: 5 } }, 'index.refreshSecs: unknown key (allowed: enabled, path, refreshSeconds, budgetShare, sweepHours'],
    [{ sources: [source()], index: { budgetShare: 1.5 } }, 'index.budgetShare: must be a number above 0 and at most 1'],
    [{ sources: [source()], index: { enabled: 'yes' } }, 'index.enabled: must be true or false'],
    [{ sources: [source({ index: 'off' })] }, 'sources[0].index: false turns the run index off for this source'],
    [{ sources: [source()], server: { limits: { maxResponseBytes: 10 } } }, 'server.limits.maxResponseBytes: must be an integer from 1024'],
    [{ sources: [source()], telemetry: { otlpEndpoint: 'collector:4318' } }, 'telemetry.otlpEndpoint: must be an http or https URL'],
    [{ sources: [source()], telemetry: { otlpEndpoint: 'https://u:secret@collector:4318' } }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ sources: [source()], telemetry: { sampleRatio: 2 } }, 'telemetry.sampleRatio: must be a number from 0 to 1'],
    [{ sources: [source()], telemetry: { serviceName: ' ' } }, 'telemetry.serviceName: must be a non-empty string'],
    [{ sources: [source()], telemetry: { endpoint: 'http://c:4318' } }, 'telemetry.endpoint: unknown key (allowed: otlpEndpoint, serviceName, sampleRatio)'],
  ])('%j is refused: %s', (raw, expected) => {
    expect(problemsOf(raw).join('\n')).toContain(expected);
  });

  test('traffic policy: TestRail Cloud gets its published budget by default, anything else none unless set', () => {
    const env = { TESTRAIL_API_KEY: 'k' };
    const cloud = parseConfig({ sources: [source()] }, 't', env).sources[0];
    expect(cloud.policy?.requestsPerMinute).toBe(180);
    const server = parseConfig({ sources: [source({ baseUrl: 'https://testrail.intra.example.com' })] }, 't', env).sources[0];
    expect(server.policy?.requestsPerMinute).toBeNull();
    const custom = parseConfig(
      { sources: [source({ rateLimit: { requestsPerMinute: 60, burst: 3 }, retries: 1, timeoutMs: 2500, breaker: { failures: 3, cooldownMs: 5000 } })] },
      't',
      env,
    ).sources[0];
    expect(custom.policy).toEqual({ requestsPerMinute: 60, burst: 3, maxRetries: 1, timeoutMs: 2500, breakerFailures: 3, breakerCooldownMs: 5000 });
  });

  test('index: defaults, and every key of decisions.md', () => {
    const env = { TESTRAIL_API_KEY: 'k' };
    expect(parseConfig({ sources: [source()] }, 't', env).index).toEqual({ enabled: true, path: '.rungraph', refreshSeconds: 30, budgetShare: 0.5, sweepHours: 24 });
    const config = parseConfig({ index: { enabled: false, path: '/var/lib/rungraph', refreshSeconds: 5, budgetShare: 0.25, sweepHours: 6 }, sources: [source({ index: false })] }, 't', env);
    expect(config.index).toEqual({ enabled: false, path: '/var/lib/rungraph', refreshSeconds: 5, budgetShare: 0.25, sweepHours: 6 });
    expect(config.sources[0].index).toBe(false);
  });

  test('telemetry: off by default; the endpoint, service name and sample ratio as given', () => {
    const env = { TESTRAIL_API_KEY: 'k', COLLECTOR: 'http://otel.internal:4318' };
    expect(parseConfig({ sources: [source()] }, 't', env).telemetry).toEqual({ sampleRatio: 1 });
    expect(parseConfig({ telemetry: { otlpEndpoint: '${COLLECTOR}/', serviceName: 'qa-graph', sampleRatio: 0.1 }, sources: [source()] }, 't', env).telemetry).toEqual({
      otlpEndpoint: 'http://otel.internal:4318',
      serviceName: 'qa-graph',
      sampleRatio: 0.1,
    });
  });

  test('a number may come from the environment, where every value is a string', () => {
    const config = parseConfig({ server: { port: '${RG_PORT}', limits: { maxCost: '${RG_COST}' } }, sources: [source()] }, 't', { TESTRAIL_API_KEY: 'k', RG_PORT: '4100', RG_COST: '5000' });
    expect(config.server.port).toBe(4100);
    expect(config.server.limits.maxCost).toBe(5000);
    expect(problemsOf({ server: { port: '${RG_PORT}' }, sources: [source()] }, { TESTRAIL_API_KEY: 'k', RG_PORT: 'http' }).join('\n')).toContain('server.port: must be an integer from 0 to 65535');
  });

  test('server keys: api keys from the environment, limits, introspection', () => {
    const config = parseConfig(
      { server: { apiKeys: ['${KEY_A}', ''], introspection: false, limits: { maxDepth: 5 } }, sources: [source()] },
      't',
      { TESTRAIL_API_KEY: 'k', KEY_A: 'a-long-enough-api-key-123' },
    );
    expect(config.server).toMatchObject({ apiKeys: ['a-long-enough-api-key-123'], introspection: false, limits: { maxDepth: 5, maxAliases: 30 } });
  });

  test('metrics keys: on at /metrics on the gateway port by default; a port, path and key of their own; a secret never echoed', () => {
    expect(parseConfig({ sources: [source()] }, 't', { TESTRAIL_API_KEY: 'k' }).metrics).toEqual(DEFAULT_METRICS);
    expect(DEFAULT_METRICS).toEqual({ enabled: true, path: '/metrics', operationNames: 100 });
    const env = { TESTRAIL_API_KEY: 'k', METRICS_KEY: 'a-long-enough-metrics-key', METRICS_PORT: '9464' };
    const config = parseConfig({ metrics: { path: '/internal/metrics', port: '${METRICS_PORT}', apiKey: '${METRICS_KEY}', operationNames: 20 }, sources: [source()] }, 't', env);
    expect(config.metrics).toEqual({ enabled: true, path: '/internal/metrics', port: 9464, apiKey: 'a-long-enough-metrics-key', operationNames: 20 });
    const problems = problemsOf({ server: { port: 4100 }, metrics: { port: 4100, path: '/graphql', apiKey: 'short-secret', operationNames: 0, enabled: 1, extra: true }, sources: [source()] }).join('\n');
    expect(problems).toContain('metrics.port: 4100 is server.port');
    expect(problems).toContain('metrics.path: must be a URL path');
    expect(problems).toContain('metrics.apiKey: must be a string of at least 16 characters');
    expect(problems).toContain('metrics.operationNames: must be an integer from 1 to 1000');
    expect(problems).toContain('metrics.enabled: must be true or false');
    expect(problems).toContain('metrics.extra: unknown key');
    expect(problems).not.toContain('short-secret');
  });

  test('enterprise-tester is a kind with no keys of its own; an unknown kind is a clear error', () => {
    const et = source({ id: 'et', kind: 'enterprise-tester', baseUrl: 'https://et.example.com/EnterpriseTester/' });
    expect(parseConfig({ sources: [et] }, 't', { TESTRAIL_API_KEY: 'k' }).sources[0]).toMatchObject({ kind: 'enterprise-tester', baseUrl: 'https://et.example.com/EnterpriseTester' });
    expect(problemsOf({ sources: [{ ...et, timeZone: 'UTC' }] }).join('\n')).toMatch(/sources\[0\]\.timeZone/);
    expect(problemsOf({ sources: [source({ kind: 'zephyr' })] }).join('\n')).toMatch(/sources\[0\]\.kind: unknown kind "zephyr"/);
  });

  test('files: JSON and YAML; unreadable or invalid files are reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rungraph-config-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ sources: [source()] }));
    writeFileSync(join(dir, 'c.yaml'), 'sources:\n  - id: tr\n    kind: testrail\n    name: TR\n    baseUrl: http://127.0.0.1:1\n    auth: { username: u, password: p }\n');
    writeFileSync(join(dir, 'bad.json'), '{"sources": [');
    expect(loadConfigFile(join(dir, 'c.json'), { TESTRAIL_API_KEY: 'k' }).sources).toHaveLength(1);
    expect(loadConfigFile(join(dir, 'c.yaml'), {}).sources[0].baseUrl).toBe('http://127.0.0.1:1');
    expect(() => loadConfigFile(join(dir, 'bad.json'))).toThrow(/not valid JSON/);
    expect(() => loadConfigFile(join(dir, 'missing.json'))).toThrow(/cannot read the file \(ENOENT\)/);
  });
});

describe('config: QAComplete keys', () => {
  const qac = (over: Record<string, unknown> = {}) =>
    source({ id: 'qac', kind: 'qacomplete', name: 'QAComplete', baseUrl: 'https://qac.example.com/', auth: { username: 'qa@example.com', password: 'p' }, ...over });

  test('hosts, timeZone and automationBaseUrl load; host tokens take ${VAR}', () => {
    const config = parseConfig(
      { sources: [qac({ timeZone: 'Europe/Berlin', automationBaseUrl: 'https://agents.example.com/', hosts: [{ id: 143, token: '${QAC_HOST_TOKEN}' }, { id: '144', token: 't' }] })] },
      'test.json',
      { QAC_HOST_TOKEN: 'token-from-env' },
    );
    expect(config.sources[0]).toMatchObject({
      kind: 'qacomplete',
      baseUrl: 'https://qac.example.com',
      timeZone: 'Europe/Berlin',
      hosts: [{ id: 143, token: 'token-from-env' }, { id: '144', token: 't' }],
    });
  });

  test.each([
    [qac({ hosts: { id: 1, token: 't' } }), 'sources[0].hosts: must be a list'],
    [qac({ hosts: ['143'] }), 'sources[0].hosts[0]: must be an object with id and token'],
    [qac({ hosts: [{ token: 't' }] }), 'sources[0].hosts[0].id: required'],
    [qac({ hosts: [{ id: 'abc', token: 't' }] }), 'sources[0].hosts[0].id: required'],
    [qac({ hosts: [{ id: 1.5, token: 't' }] }), 'sources[0].hosts[0].id: required'],
    [qac({ hosts: [{ id: 143 }] }), 'sources[0].hosts[0].token: required'],
    [qac({ hosts: [{ id: 143, token: '' }] }), 'sources[0].hosts[0].token: required'],
    [qac({ hosts: [{ id: 143, token: 't', name: 'x' }] }), 'sources[0].hosts[0].name: unknown key'],
    [qac({ hosts: [{ id: 143, token: 't' }, { id: '143', token: 'u' }] }), 'sources[0].hosts[1].id: host 143 is listed twice'],
    [qac({ timeZone: 'Mars/Olympus_Mons' }), 'sources[0].timeZone: must be an IANA time zone name'],
    [qac({ timeZone: 2 }), 'sources[0].timeZone: must be an IANA time zone name'],
    [qac({ automationBaseUrl: 'ftp://x' }), 'sources[0].automationBaseUrl: must use http or https'],
    [qac({ automationBaseUrl: 'https://u:p@x.io' }), 'sources[0].automationBaseUrl: must not contain credentials'],
    [qac({ automationBaseUrl: 'https://x.io/?a=1' }), 'sources[0].automationBaseUrl: must not contain a query or fragment'],
    [qac({ timezone: 'UTC' }), 'sources[0].timezone: unknown key'],
    [source({ hosts: [] }), 'sources[0].hosts: unknown key'],
  ])('%j is refused: %s', (entry, expected) => {
    expect(problemsOf({ sources: [entry] }).join('\n')).toContain(expected);
  });

  test('an unset host token variable names the field, never a value', () => {
    expect(problemsOf({ sources: [qac({ hosts: [{ id: 143, token: '${QAC_HOST_TOKEN}' }] })] }, {})).toEqual([
      'sources[0].hosts[0].token: environment variable QAC_HOST_TOKEN is not set',
    ]);
  });
});
