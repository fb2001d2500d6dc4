/**
 * Upstream traffic control, observed from the vendor's side: the simulator counts and timestamps
 * every request that reaches it.
 */
import { encodeId } from '../../src/graph/ids';
import { CircuitBreaker, RetryBudget, TokenBucket, windowedBucket } from '../../src/http/traffic';
import { QACOMPLETE_ROUTES } from '../../src/simulators/qacomplete';
import { DEMO_IDS } from '../../src/simulators/testrail';
import { startStack, type Stack } from '../support/stack';

const lookup = (stack: Stack, id: number = DEMO_IDS.runs.completed) =>
  stack.gql('query($id: ID!) { run(id: $id) { id name } }', { id: encodeId('Run', 'tr', [String(id), '1']) });

describe('circuit breaker', () => {
  test('opens after repeated failures, fails fast without calling the vendor, probes, and recovers', async () => {
    const stack = await startStack({ sourceConfig: { tr: { policy: { breakerFailures: 3, breakerCooldownMs: 400, maxRetries: 0 } } } });
    try {
      const server = stack.testrail!.server;
      server.injectFault({ route: 'GET get_run', status: 500, times: 3 });
      for (let i = 0; i < 3; i++) expect((await lookup(stack)).body.errors[0].extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      server.resetCounts();
      const fast = await lookup(stack);
      expect(fast.body.errors[0].extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', source: 'tr' });
      expect(fast.body.errors[0].message).toMatch(/rungraph pauses its calls to it to let it recover; it tries again in about \d+ s/);
      expect(server.count()).toBe(0);

      await new Promise((r) => setTimeout(r, 450));
      const probe = await lookup(stack);
      expect(probe.body.errors).toBeUndefined();
      expect(server.count('GET get_run')).toBe(1);
      expect((await lookup(stack)).body.errors).toBeUndefined();
    } finally {
      await stack.stop();
    }
  });

  test('a failed probe opens it again', () => {
    let now = 0;
    const breaker = new CircuitBreaker('x', 2, 1000, () => now);
    breaker.failure();
    breaker.failure();
    expect(breaker.state).toBe('open');
    expect(() => breaker.admit()).toThrow(/pauses its calls/);
    now = 1001;
    expect(breaker.admit()).toBe(true);
    expect(() => breaker.admit()).toThrow(/pauses its calls/); // one probe at a time
    breaker.failure();
    expect(breaker.state).toBe('open');
    now = 2002;
    breaker.admit();
    breaker.success();
    expect(breaker.state).toBe('closed');
  });
});

describe('rate budget', () => {
  test('a burst of 500 lookups reaches the vendor no faster than the configured rate', async () => {
    const perMinute = 12_000; // 200 a second, so the test takes about 2.5 s
    const burst = 20;
    const stack = await startStack({ sourceConfig: { tr: { policy: { requestsPerMinute: perMinute, burst } } } });
    try {
      const server = stack.testrail!.server;
      const ids = stack.testrail!.store.runsOf(DEMO_IDS.projects.nightly).slice(0, 250).map((r) => r.id);
      server.resetCounts();
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          stack.gql('query($id: ID!) { run(id: $id) { id } }', { id: encodeId('Run', 'tr', [String(ids[i % ids.length]), '3']) }),
        ),
      );
      expect(answers.every((a) => a.body.errors === undefined)).toBe(true);
      const times = server.log.filter((r) => r.route === 'GET get_run').map((r) => r.at - started).sort((a, b) => a - b);
      expect(times).toHaveLength(500);
      // In any window of w ms at most burst + rate·w requests may arrive. Requests leave the bucket
      // on time but can bunch up on their way through a busy event loop, so arrivals get 50 ms of
      // slack (10 requests at this rate); without the budget a 100 ms window holds well over 100.
      const perMs = perMinute / 60_000;
      const jitterMs = 50;
      let worst = -Infinity;
      for (let i = 0; i < times.length; i++) {
        for (let j = i; j < times.length; j++) worst = Math.max(worst, j - i + 1 - (burst + Math.ceil(perMs * (times[j] - times[i] + jitterMs))));
      }
      expect(worst).toBeLessThanOrEqual(0);
      // And it did not crawl: the whole burst took about (500 − burst) / rate.
      expect(times[times.length - 1]).toBeGreaterThanOrEqual(((500 - burst) / perMs) * 0.9);
    } finally {
      await stack.stop();
    }
  });

  test('QAComplete: the user API and every test host\'s automation API take from the one budget of the source', async () => {
    // Each host is called with its own token, the user API with the user's login: several
    // credentials, one source, so one budget (issue #13, item 5).
    const perMinute = 600; // 10 a second: the 4 requests past the burst take about 0.4 s
    const burst = 3;
    const stack = await startStack({ testrail: false, qacomplete: {}, sourceConfig: { qac: { policy: { requestsPerMinute: perMinute, burst } } } });
    try {
      const server = stack.qacomplete!.server;
      server.resetCounts();
      const started = Date.now();
      // Two host reads (automation API) while the user API lists the projects and their runs.
      const res = await stack.gql('{ hosts(first: 10) { nodes { name } } runs(first: 5) { nodes { id } } }');
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.hosts.nodes).toHaveLength(2);
      expect(server.count(QACOMPLETE_ROUTES.getHost)).toBe(2);
      const times = server.log.map((r) => r.at - started).sort((a, b) => a - b);
      expect(times.length).toBeGreaterThanOrEqual(burst + 3);
      // In any window of w ms at most burst + rate·w requests arrive, counting both APIs: with a
      // budget per credential the two host reads would go out beside the user API's burst.
      const perMs = perMinute / 60_000;
      const jitterMs = 50;
      for (let i = 0; i < times.length; i++) {
        for (let j = i; j < times.length; j++) expect(j - i + 1).toBeLessThanOrEqual(burst + Math.ceil(perMs * (times[j] - times[i] + jitterMs)));
      }
    } finally {
      await stack.stop();
    }
  });

  test.each([
    // budget a minute, burst, the least share of the budget a greedy caller must get over 5 minutes
    // (the burst is paid for by the rate: B at once, then (budget − B) · 60/61 a minute)
    [1, null, 0.4],
    [2, null, 0.45],
    [3, null, 0.6],
    [10, null, 0.9],
    [60, 6, 0.88],
    [180, null, 0.88],
    [180, 90, 0.5],
    [180, 500, 0.5],
    [1000, 1, 0.95],
  ])('a budget of %p/min (burst %p): a greedy caller never gets more than the budget into any 61 s window, and gets at least %p of it', (rpm, burst, least) => {
    // Five minutes on a simulated clock, a caller taking every token the millisecond it is there.
    let now = 0;
    const { capacity, perMinute } = windowedBucket(rpm, burst);
    const bucket = new TokenBucket(perMinute, capacity, () => now);
    const times: number[] = [];
    for (now = 0; now <= 5 * 60_000; now += 1) while (bucket.tryTake()) times.push(now);
    let worst = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (j < times.length && times[j] - times[i] < 61_000) j++;
      worst = Math.max(worst, j - i);
    }
    // 61 s, not 60: requests that bunch up by up to a second on their way still arrive within budget.
    expect(worst).toBeLessThanOrEqual(rpm);
    expect(times.length).toBeGreaterThanOrEqual(Math.floor(rpm * 5 * least));
  });

  test('a call still waiting for the budget when its request runs out of time is not sent, and says so', async () => {
    // 60/min, burst 1: one at once, then about one a second; the requests have 1.5 s.
    const stack = await startStack({ server: { requestTimeoutMs: 1_500 }, sourceConfig: { tr: { policy: { requestsPerMinute: 60, burst: 1 } } } });
    try {
      const server = stack.testrail!.server;
      const ids = stack.testrail!.store.runsOf(DEMO_IDS.projects.nightly).slice(0, 5).map((r) => r.id);
      server.resetCounts();
      const answers = await Promise.all(ids.map((id) => stack.gql('query($id: ID!) { run(id: $id) { id } }', { id: encodeId('Run', 'tr', [String(id), '3']) })));
      const late = answers.filter((a) => a.body.errors);
      expect(late.length).toBeGreaterThanOrEqual(2);
      for (const a of late) {
        expect(a.body.errors[0].extensions).toMatchObject({ code: 'GATEWAY_TIMEOUT', source: 'tr' });
        expect(a.body.errors[0].message).toBe("This request used up its time budget (server.requestTimeoutMs) waiting for tr's rate budget (rateLimit.requestsPerMinute 60); the call was not sent.");
      }
      // The vendor saw exactly the calls that were answered.
      expect(server.count('GET get_run')).toBe(answers.length - late.length);
    } finally {
      await stack.stop();
    }
  });

  test('token bucket arithmetic: burst first, then the rate', async () => {
    let now = 0;
    const bucket = new TokenBucket(60, 2, () => now); // one a second
    await bucket.take();
    await bucket.take();
    let third = false;
    void bucket.take().then(() => (third = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBe(false);
    now = 1000;
    await new Promise((r) => setTimeout(r, 1100));
    expect(third).toBe(true);
  });
});

describe('retries', () => {
  test('a read survives one 429 with Retry-After and one 503', async () => {
    const stack = await startStack();
    try {
      const server = stack.testrail!.server;
      server.injectFault({ route: 'GET get_run', status: 429, headers: { 'retry-after': '1' }, body: { error: 'API Rate Limit Exceeded' } });
      server.injectFault({ route: 'GET get_run', status: 503, body: { error: 'maintenance' } });
      server.resetCounts();
      const res = await lookup(stack);
      expect(res.body.errors).toBeUndefined();
      expect(server.count('GET get_run')).toBe(3);
    } finally {
      await stack.stop();
    }
  });

  test('the retry budget caps retries at a fraction of recent traffic', () => {
    let now = 0;
    const budget = new RetryBudget(0.2, 2, 10_000, () => now);
    for (let i = 0; i < 10; i++) budget.recordRequest();
    const granted = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(4); // floor 2 + 20% of 10
    now = 20_000;
    expect(budget.tryRetry()).toBe(true);
  });
});
