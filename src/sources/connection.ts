/**
 * What every vendor source is built from: the common config keys, already checked by
 * server/config.ts. Kinds with keys of their own (QAComplete) add them on top.
 */
import type { TrafficPolicy } from '../http/traffic';
import type { SourceConfig } from './config';

export interface ConnectionConfig {
  id: string;
  name: string;
  baseUrl: string;
  username: string;
  password: string;
  timeoutMs?: number;
  policy?: Partial<TrafficPolicy>;
  /** Off only in tests that prove filters give the same answer pushed down or not. */
  pushdown?: boolean;
}

export function connectionConfig(config: SourceConfig): ConnectionConfig {
  return {
    id: config.id,
    name: config.name,
    baseUrl: config.baseUrl,
    username: config.auth.username,
    password: config.auth.password,
    timeoutMs: config.timeoutMs,
    policy: config.policy,
    // Not a config key (config files reject it): tests hand `pushdown: false` straight to create().
    pushdown: config.pushdown === false ? false : undefined,
  };
}
