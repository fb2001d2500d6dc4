/**
 * `npm start [-- --config FILE]`. With a config (flag, or RUNGRAPH_CONFIG) the gateway serves
 * those sources; without one it starts the demo: vendor simulators with demo data, and the
 * gateway in front of them. PORT overrides the configured port.
 */
import './env';
import { ConfigError, DEFAULT_INDEX, DEFAULT_SERVER, loadConfigFile, type Config } from './server/config';
import { startDemo, type Demo } from './simulators/demo';
import { startGateway } from './server/app';
import { createLogger } from './server/log';
import { checkSources } from './server/startup';
import { feedOf, identities } from './server/feeds';
import { SOURCE_KINDS } from './sources/registry';

const USAGE = `usage: npm start [-- --config FILE]
  --config FILE   JSON or YAML config (or set RUNGRAPH_CONFIG); without one, the demo starts
  env PORT        overrides server.port; LOG_LEVEL sets the log level (info)`;

function configPath(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    if (arg === '--config') {
      if (!argv[i + 1]) fail('--config needs a file name');
      return argv[i + 1];
    }
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
    fail(`unknown argument ${arg}\n${USAGE}`);
  }
  return process.env.RUNGRAPH_CONFIG || undefined;
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
  const path = configPath(process.argv.slice(2));
  const log = createLogger();
  let config: Config;
  let demo: Demo | undefined;
  try {
    if (path) {
      config = loadConfigFile(path);
    } else {
      demo = await startDemo();
      config = { server: DEFAULT_SERVER, sources: demo.sources, index: DEFAULT_INDEX };
    }
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  config = portOverride(config);

  // The sync's share of each source's rate budget (index.budgetShare) is part of that source's traffic policy.
  const sources = config.sources.map((s) => SOURCE_KINDS[s.kind]!.create({ ...s, policy: { ...s.policy, syncShare: config.index.budgetShare } }, log));
  let gateway;
  try {
    gateway = await startGateway({
      sources,
      log,
      server: config.server,
      index: { ...config.index, off: config.sources.filter((s) => s.index === false).map((s) => s.id), feedOf, identityOf: identities(config.sources) },
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
    setTimeout(() => process.exit(0), config.server.shutdownGraceMs + 2_000).unref();
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
