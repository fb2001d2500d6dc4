/**
 * The `enterprise-tester` source kind. It takes no keys beyond the common ones: `baseUrl` is the
 * application root (decisions.md, "Config"), and TQL date bounds are sent as UTC instants with
 * `timeZone=UTC`, so no time-zone key is needed.
 *
 *   {"id": "et", "kind": "enterprise-tester", "name": "Enterprise Tester",
 *    "baseUrl": "https://et.example.com/EnterpriseTester",
 *    "auth": {"username": "qa", "password": "${ET_PASSWORD}"}}
 */
import type { SourceKindSpec } from '../config';
import { openConnection } from '../connection';
import { EnterpriseTesterSource } from './source';

export const ENTERPRISE_TESTER_KIND: SourceKindSpec = {
  optionalKeys: [],
  check: () => [],
  create: (config, log) => new EnterpriseTesterSource(openConnection(config, log)),
};
