/**
 * The `testrail` source kind. It takes no keys beyond the common ones: `baseUrl` is the instance
 * root (the client adds `/index.php?/api/v2/…`), `auth` the login email with a password or API key.
 *
 *   {"id": "tr", "kind": "testrail", "name": "TestRail", "baseUrl": "https://example.testrail.io",
 *    "auth": {"username": "qa@example.com", "password": "${TESTRAIL_API_KEY}"}}
 */
import { hostOf, type SourceKindSpec } from '../config';
import { openConnection } from '../connection';
import { TestRailSource } from './source';

/** TestRail Cloud's host names; a TestRail Server elsewhere has no published limit. */
const TESTRAIL_CLOUD = /\.testrail\.(io|com|net)$/;

/** TestRail's published API limit for Cloud Professional (decisions.md, "Rate budgets"). */
const TESTRAIL_CLOUD_REQUESTS_PER_MINUTE = 180;

export const TESTRAIL_KIND: SourceKindSpec = {
  optionalKeys: [],
  check: () => [],
  defaultRequestsPerMinute: (baseUrl) => (TESTRAIL_CLOUD.test(hostOf(baseUrl) ?? '') ? TESTRAIL_CLOUD_REQUESTS_PER_MINUTE : null),
  create: (config, log) => new TestRailSource(openConnection(config, log)),
};
