/**
 * The `testrail` source kind. It takes no keys beyond the common ones: `baseUrl` is the instance
 * root (the client adds `/index.php?/api/v2/…`), `auth` the login email with a password or API key.
 *
 *   {"id": "tr", "kind": "testrail", "name": "TestRail", "baseUrl": "https://example.testrail.io",
 *    "auth": {"username": "qa@example.com", "password": "${TESTRAIL_API_KEY}"}}
 */
import { connectionConfig } from '../connection';
import type { SourceKindSpec } from '../registry';
import { TestRailSource } from './source';

export const TESTRAIL_KIND: SourceKindSpec = {
  optionalKeys: [],
  check: () => [],
  create: (config, log) => new TestRailSource(connectionConfig(config), log),
};
