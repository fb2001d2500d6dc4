/**
 * What background work (the run index's sync, issue #9) needs from the house: calling a Source
 * with a scope of its own — no GraphQL request faked — and a lifecycle that starts parts in order
 * and stops them in reverse.
 */
import { Writable } from 'node:stream';
import { withCallContext } from '../../src/http/context';
import { ErrorCode, GatewayError } from '../../src/model/errors';
import { createScope } from '../../src/model/scope';
import { Lifecycle } from '../../src/server/lifecycle';
import { createLogger } from '../../src/server/log';
import { SOURCE_KINDS } from '../../src/sources/registry';
import { TestRailSimulator, TESTRAIL_DEMO_USER } from '../../src/simulators/testrail';

function capture() {
  const lines: Array<Record<string, any>> = [];
  const log = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    }) as never,
  });
  return { log, lines };
}

describe('a source called by a background job', () => {
  let testrail: TestRailSimulator;
  let baseUrl: string;
  beforeAll(async () => {
    testrail = new TestRailSimulator({ seed: 'demo' });
    baseUrl = await testrail.start();
  });
  afterAll(() => testrail.stop());

  test('reads with its own scope and deadline; its log lines carry the job id; the memo shares reads within the job', async () => {
    const { log, lines } = capture();
    const source = SOURCE_KINDS.testrail!.create(
      { id: 'tr', kind: 'testrail', name: 'TestRail', baseUrl, auth: { username: TESTRAIL_DEMO_USER.email, password: TESTRAIL_DEMO_USER.password } },
      log,
    );
    try {
      testrail.server.resetCounts();
      const scope = createScope({ id: 'sync:tr:1', log });
      const [a, b] = await withCallContext({ requestId: scope.requestId, deadline: Date.now() + 10_000 }, () =>
        Promise.all([source.listProjects(scope), source.listProjects(scope)]),
      );
      expect(a.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
      expect(testrail.server.count()).toBe(1);
      const calls = lines.filter((l) => l.msg === 'upstream call');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({ requestId: 'sync:tr:1', source: 'tr', route: 'get_projects', status: 200 });

      // A job whose own deadline has passed sends nothing and says it was its budget.
      const late = createScope({ id: 'sync:tr:2', log });
      const error = await withCallContext({ requestId: late.requestId, deadline: Date.now() - 1 }, () => source.listProjects(late).catch((e: unknown) => e));
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).code).toBe(ErrorCode.GATEWAY_TIMEOUT);
      expect(testrail.server.count()).toBe(1);
    } finally {
      await source.close();
    }
  });
});

describe('the lifecycle', () => {
  test('starts in order, stops in reverse; a part that fails to stop is logged and the rest still stop', async () => {
    const { log, lines } = capture();
    const events: string[] = [];
    const part = (name: string, failStop = false) => ({
      name,
      start: async () => void events.push(`start ${name}`),
      stop: async (graceMs: number) => {
        events.push(`stop ${name} ${graceMs}`);
        if (failStop) throw new Error(`${name} would not stop`);
      },
    });
    const lifecycle = new Lifecycle(log).add(part('sources')).add(part('sync', true)).add(part('http'));
    await lifecycle.start();
    await Promise.all([lifecycle.stop(500), lifecycle.stop(500)]);
    expect(events).toEqual(['start sources', 'start sync', 'start http', 'stop http 500', 'stop sync 500', 'stop sources 500']);
    expect(lines.filter((l) => l.msg === 'a part of the gateway did not stop cleanly')).toEqual([
      expect.objectContaining({ level: 50, service: 'sync', err: expect.objectContaining({ message: 'sync would not stop' }) }),
    ]);
  });

  test('a part that fails to start stops the ones already started, and the error reaches the caller', async () => {
    const { log } = capture();
    const events: string[] = [];
    const lifecycle = new Lifecycle(log)
      .add({ name: 'a', start: async () => void events.push('start a'), stop: async () => void events.push('stop a') })
      .add({
        name: 'b',
        start: async () => {
          throw new Error('port in use');
        },
        stop: async () => void events.push('stop b'),
      });
    await expect(lifecycle.start()).rejects.toThrow('port in use');
    expect(events).toEqual(['start a', 'stop a']);
  });
});
