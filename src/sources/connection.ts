/**
 * What every vendor source is built from: the common config keys (already checked by
 * server/config.ts) opened into the source's one connection to its vendor. Every API a source
 * calls is made here, with HTTP Basic from the configured login or from credentials of its own
 * (QAComplete's test hosts), and all of them share the source's traffic policy (http/traffic.ts):
 * one budget, one breaker, one concurrency cap per source, whatever the credentials. Kinds with
 * keys of their own (QAComplete) read them beside this.
 */
import type { TrafficPolicy } from '../http/traffic';
import { basicAuth, VendorConnection, type Upstream, type UpstreamOptions } from '../http/upstream';
import type { Logger } from '../model/source';
import type { SourceConfig } from './config';

export interface ApiOptions {
  /** Where the API lives; default the source's baseUrl. A trailing slash is dropped. */
  baseUrl?: string;
  /** The HTTP Basic login it is called with; default the configured `auth`. */
  login?: { username: string; password: string };
}

export interface SourceConnection {
  id: string;
  name: string;
  /** Without a trailing slash. */
  baseUrl: string;
  /** Off only in tests that prove filters give the same answer pushed down or not. */
  pushdown?: boolean;
  /** One API of the source, read with the vendor's own error mapping; its traffic is the source's. */
  api(vendorError: UpstreamOptions['vendorError'], options?: ApiOptions): Upstream;
  /** Closes the sockets of every API made here. */
  close(): Promise<void>;
}

/** The policy the config gives: `timeoutMs` is shorthand for `policy.timeoutMs`, which wins when both are set. */
export function policyOf(config: Pick<SourceConfig, 'timeoutMs' | 'policy'>): Partial<TrafficPolicy> {
  return { ...config.policy, timeoutMs: config.policy?.timeoutMs ?? config.timeoutMs };
}

export function openConnection(config: SourceConfig, log: Logger): SourceConnection {
  const vendor = new VendorConnection({ sourceId: config.id, log, policy: policyOf(config), observer: config.observer });
  const auth = config.auth;
  return {
    id: config.id,
    name: config.name,
    baseUrl: config.baseUrl.replace(/\/+$/, ''),
    // Not a config key (config files reject it): tests hand `pushdown: false` straight to create().
    pushdown: config.pushdown === false ? false : undefined,
    api: (vendorError, options = {}) => {
      const login = options.login ?? auth;
      return vendor.api({
        baseUrl: (options.baseUrl ?? config.baseUrl).replace(/\/+$/, ''),
        headers: { authorization: basicAuth(login.username, login.password) },
        vendorError,
      });
    },
    close: () => vendor.close(),
  };
}
