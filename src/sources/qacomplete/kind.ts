/**
 * The `qacomplete` source kind: its own config keys (decisions.md, "Config"), their checks, and
 * the Source built from them.
 *
 *   {"id": "qac", "kind": "qacomplete", "name": "QAComplete", "baseUrl": "https://qac.example.com",
 *    "auth": {"username": "qa@example.com", "password": "${QAC_PASSWORD}"},
 *    "timeZone": "Europe/Berlin", "automationBaseUrl": "https://qac-automation.example.com",
 *    "hosts": [{"id": 143, "token": "${QAC_HOST_143_TOKEN}"}]}
 */
import { checkBaseUrl, type SourceKindSpec } from '../config';
import { openConnection } from '../connection';
import { isTimeZone } from './dates';
import { QACompleteSource } from './source';

export interface QACompleteHostConfig {
  id: number;
  token: string;
}

function hostProblems(value: unknown, at: string): string[] {
  if (!Array.isArray(value)) return [`${at}: must be a list of {"id": <host id>, "token": "<security token>"}`];
  const problems: string[] = [];
  const seen = new Set<number>();
  value.forEach((entry, i) => {
    const here = `${at}[${i}]`;
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      problems.push(`${here}: must be an object with id and token`);
      return;
    }
    const o = entry as Record<string, unknown>;
    for (const key of Object.keys(o)) if (key !== 'id' && key !== 'token') problems.push(`${here}.${key}: unknown key (allowed: id, token)`);
    const id = hostId(o.id);
    if (id === undefined) problems.push(`${here}.id: required, the host's id (an integer, or digits as text)`);
    else if (seen.has(id)) problems.push(`${here}.id: host ${id} is listed twice`);
    else seen.add(id);
    if (typeof o.token !== 'string' || o.token.trim() === '') problems.push(`${here}.token: required, the host's security token (a non-empty string)`);
  });
  return problems;
}

function hostId(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim()) && Number(value) > 0) return Number(value);
  return undefined;
}

export const QACOMPLETE_KIND: SourceKindSpec = {
  optionalKeys: ['hosts', 'timeZone', 'automationBaseUrl'],
  keySchemas: {
    hosts: {
      description: 'Test hosts rungraph may act as (Test Automation API): each host id with its security token.',
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'token'],
        properties: { id: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^\\s*\\d{1,15}\\s*$|^\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}$' }] }, token: { type: 'string', minLength: 1 } },
      },
    },
    timeZone: { description: 'IANA time zone of vendor times without one (default UTC).', type: 'string' },
    automationBaseUrl: { description: 'Where the Test Automation API lives (default: baseUrl).', type: 'string' },
  },
  check(raw, at) {
    const problems: string[] = [];
    if (raw.hosts !== undefined) problems.push(...hostProblems(raw.hosts, `${at}.hosts`));
    if (raw.timeZone !== undefined && (typeof raw.timeZone !== 'string' || !isTimeZone(raw.timeZone))) {
      problems.push(`${at}.timeZone: must be an IANA time zone name such as "UTC" or "Europe/Berlin"`);
    }
    if (raw.automationBaseUrl !== undefined) checkBaseUrl(raw.automationBaseUrl, `${at}.automationBaseUrl`, problems);
    return problems;
  },
  create: (config, log) =>
    new QACompleteSource(openConnection(config, log), {
      automationBaseUrl: typeof config.automationBaseUrl === 'string' ? config.automationBaseUrl.replace(/\/+$/, '') : undefined,
      hosts: Array.isArray(config.hosts) ? (config.hosts as Array<Record<string, unknown>>).map((h) => ({ id: hostId(h.id)!, token: String(h.token) })) : [],
      timeZone: typeof config.timeZone === 'string' ? config.timeZone : undefined,
      // Not a config key (the parser refuses it): tests that build a SourceConfig directly use it
      // to prove paging over small lists.
      pageLimit: typeof config.pageLimit === 'number' ? config.pageLimit : undefined,
    }),
};
