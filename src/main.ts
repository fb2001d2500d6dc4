#!/usr/bin/env node
/**
 * The `rungraph` command (and `npm start`). With a config (`--config FILE`, or RUNGRAPH_CONFIG) the
 * gateway serves those sources; with `--demo`, or with neither, it starts the embedded demo: vendor
 * simulators with demo data, and the gateway in front of them. `rungraph check-config FILE` checks a
 * config and prints every problem with its key path. PORT overrides the configured port.
 */
import './env';
import { ConfigError, DEFAULT_INDEX, DEFAULT_METRICS, DEFAULT_SERVER, DEFAULT_TELEMETRY, loadConfigFile, type Config } from './server/config';
import { GatewayMetrics } from './server/metrics';
import { startDemo, type Demo } from './simulators/demo';
import { startGateway } from './server/app';
import { createLogger } from './server/log';
import { checkSources } from './server/startup';
import { tracingOptions } from './server/telemetry';
import { feedOf, identities } from './server/feeds';
import { SOURCE_KINDS } from './sources/registry';
import { SharedBudgets } from './http/traffic';

const USAGE = `usage: rungraph [--config FILE | --demo]
       rungraph check-config FILE
  --config FILE        JSON or YAML config (or set RUNGRAPH_CONFIG)
  --demo               built-in vendor simulators with demo data (the default without a config)
  check-config FILE    check a config; print every problem with its key path; exit 1 on any
  -h, --help           this text
  env PORT             overrides server.port; LOG_LEVEL sets the log level (info)
From the repository, npm start [-- --config FILE] runs the same.`;

/** What the command line asks for: serve a config, serve the demo, or check a config. */
type Command = { serve: string | undefined } | { check: string };

function parseArgs(argv: string[]): Command {
  if (argv[0] === 'check-config') {
    if (!argv[1] || argv.length > 2) fail(`check-config takes one file name\n${USAGE}`);
    return { check: argv[1] };
  }
  let config: string | undefined;
  let demo = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg === '--demo') demo = true;
    else if (arg === '--config') {
      if (!argv[i + 1]) fail('--config needs a file name');
      config = argv[++i];
    } else if (arg.startsWith('--config=')) config = arg.slice('--config='.length);
    else fail(`unknown argument ${arg}\n${USAGE}`);
  }
  if (demo && config) fail('--demo and --config exclude each other');
  return { serve: demo ? undefined : (config ?? (process.env.RUNGRAPH_CONFIG || undefined)) };
}

/** `rungraph check-config FILE`: every problem at once, with its key path; exit 1 on any. */
function checkConfig(path: string): never {
  try {
    const config = loadConfigFile(path);
    console.log(`${path}: OK (${config.sources.length} source(s): ${config.sources.map((s) => `${s.id} (${s.kind})`).join(', ')})`);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

function fail(message: string): never {
  console.error(`rungraph: ${message}`);
  process.exit(2);
}

function portOverride(config: Config): Config {
  const port = process.env.PORT;
  if (port === undefined || port === '') return config;
  if (!/^\d+$/.test(port) || Number(port) > 65535) fail(`PORT must be a port number, got "${port}"`);
  return { ...config, server: { ...config.server, port: Number(port) } };
}

async function main(): Promise<void> {
  const command = parseArgs(process.argv.slice(2));
  if ('check' in command) checkConfig(command.check);
  const path = command.serve;
  const log = createLogger();
  let config: Config;
  let demo: Demo | undefined;
  try {
    if (path) {
      config = loadConfigFile(path);
    } else {
      demo = await startDemo();
      config = { server: DEFAULT_SERVER, sources: demo.sources, index: DEFAULT_INDEX, metrics: DEFAULT_METRICS, telemetry: DEFAULT_TELEMETRY };
    }
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  config = portOverride(config);

  // The sync's share of each source's rate budget (index.budgetShare) is part of that source's
  // traffic policy, and so is where a budget shared by the replicas comes from (index.postgres).
  const budgets = new SharedBudgets();
  const metrics = config.metrics.enabled ? new GatewayMetrics(config.metrics) : undefined;
  const sources = config.sources.map((s) => SOURCE_KINDS[s.kind]!.create({ ...s, policy: { ...s.policy, syncShare: config.index.budgetShare, budgets }, observer: metrics?.vendor }, log));
  let gateway;
  try {
    gateway = await startGateway({
      sources,
      budgets,
      log,
      server: config.server,
      metrics,
      index: { ...config.index, off: config.sources.filter((s) => s.index === false).map((s) => s.id), feedOf, identityOf: identities(config.sources) },
      telemetry: tracingOptions(config.telemetry, process.env),
    });
  } catch (error) {
    await demo?.stop();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`${config.server.host}:${config.server.port} is in use; set PORT or server.port to another port`);
    throw error;
  }

  if (demo) {
    console.log('rungraph demo: built-in vendor simulators with demo data');
    for (const sim of demo.simulators) console.log(`  ${sim.name.padEnd(18)} ${sim.url}  (${sim.credentials})`);
  }
  console.log(`rungraph: ${config.sources.length} source(s): ${config.sources.map((s) => `${s.id} (${s.kind})`).join(', ')}`);
  console.log(`rungraph: GraphQL at ${gateway.graphqlUrl}`);
  if (gateway.metricsUrl) console.log(`rungraph: Prometheus metrics at ${gateway.metricsUrl}`);
  if (demo) {
    console.log('rungraph: no API key is needed in the demo; to require one, start with a config that sets');
    console.log('          "server": {"apiKeys": ["${RUNGRAPH_API_KEY}"]} and send Authorization: Bearer <key>');
  } else if (config.server.apiKeys.length === 0) {
    console.log('rungraph: warning: server.apiKeys is not set, so anyone who can reach this port can use the gateway');
  }

  void checkSources(sources, log);
  for (const [id, sync] of gateway.syncs) {
    void sync.ready().then(() => console.log(`rungraph: run index ready for ${id}: ${sync.status().indexedRuns} runs`));
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    // A second signal means "now".
    if (stopping) process.exit(0);
    stopping = true;
    log.info({ signal, graceMs: config.server.shutdownGraceMs }, 'shutting down');
    // Whatever hangs (a socket that never closes, a vendor that never answers), the process ends
    // shortly after the grace period.
    setTimeout(() => process.exit(0), config.server.readinessDelayMs + config.server.shutdownGraceMs + 2_000).unref();
    try {
      await gateway.stop(config.server.shutdownGraceMs);
      await demo?.stop();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(`rungraph: failed to start: ${(error as Error)?.message ?? error}`);
  process.exit(1);
});
