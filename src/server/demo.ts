/**
 * Transitional (issue 13): the demo now lives in src/simulators/demo.ts and gives only its sources'
 * configs. This adapter adds the default server settings for src/main.ts, the one caller left;
 * once main.ts builds `{ server: DEFAULT_SERVER, sources: demo.sources }` itself and imports
 * ../simulators/demo, delete this file (`npm run deps` reports it until then: src/server must not
 * import a simulator).
 */
import { startDemo as startDemoSimulators, type Demo as DemoSimulators } from '../simulators/demo';
import type { Config } from './config';
import { DEFAULT_SERVER } from './config';

export type { DemoSimulator } from '../simulators/demo';

export interface Demo extends DemoSimulators {
  config: Config;
}

export async function startDemo(server = DEFAULT_SERVER): Promise<Demo> {
  const demo = await startDemoSimulators();
  return { ...demo, config: { server, sources: demo.sources } };
}
