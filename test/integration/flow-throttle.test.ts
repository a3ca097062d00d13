import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import type { Transition } from '../../src/core/circuit-breaker';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, sleep, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

/** An app that fails one source with 500 every time and accepts everything else. */
async function poisonApp(poison: string): Promise<{ url: string; calls: Array<{ source: string; status: number }>; close(): Promise<void> }> {
  const calls: Array<{ source: string; status: number }> = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const source = String(req.headers['x-source-id']);
      const status = source === poison ? 500 : 200;
      calls.push({ source, status });
      res.writeHead(status).end();
    });
  });
  // Longer than any pause here: a keep-alive socket closed by the server under a request would be a network error.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    calls,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('poison sources and 429 storms (fauxqs + DynamoDB Local)', () => {
  let fx: Fixture;
  let relay: RunningRelay | undefined;

  beforeEach(async () => {
    fx = await freshQueueAndTable('throttle');
  });
  afterEach(async () => {
    await relay?.stop(1000);
    relay = undefined;
    fx.close();
  });

  it('a single poison source failing on its own never opens the breaker', async () => {
    const app = await poisonApp('poison');
    try {
      await send(fx.sqs, fx.queueUrl, [{ sourceId: 'poison', seq: 1, body: '{}' }]);
      // Two calls are enough and any share: after the others are done, the poison source's failures are
      // all the window holds (100%), so only the rule of distinct sources keeps the breaker closed.
      relay = await startTestRelay(fx.config({ targetUrl: app.url, breakerMinCalls: 2 }));
      const transitions: Transition[] = [];
      relay.worker.on('flowTransition', (t) => transitions.push(t));
      await send(fx.sqs, fx.queueUrl, Array.from({ length: 10 }, (_, i) => ({ sourceId: `ok-${i}`, seq: 1, body: '{}' })));
      await waitFor('the others delivered', async () => (await messagesLeft(fx)) === 1, 10_000);
      await waitFor('poison failed alone for longer than the window', () => app.calls.filter((c) => c.source === 'poison').length >= 8, 30_000);
      expect(app.calls.filter((c) => c.source !== 'poison').every((c) => c.status === 200)).toBe(true);
      expect(transitions).toEqual([]);
      const ready = (await fetch(`http://127.0.0.1:${relay.server.port}/readyz`).then((r) => r.json())) as { status: string };
      expect(ready).toEqual({ status: 'ready' });
    } finally {
      await app.close();
    }
  });

  it('a 429 storm slows the whole task, then everything drains in order', async () => {
    const app: DemoApp = await startDemoApp({ down: true, downStatus: 429, retryAfterSeconds: 2 });
    try {
      const sources = 20;
      const messages = [];
      for (let n = 1; n <= 2; n++) for (let s = 0; s < sources; s++) messages.push({ sourceId: `t-${s}`, seq: n, body: '{}' });
      await send(fx.sqs, fx.queueUrl, messages);
      relay = await startTestRelay(fx.config({ targetUrl: app.url }));
      await sleep(8000);
      const stormCalls = app.records.length;
      process.stdout.write(`429 storm: ${stormCalls} app calls in 8 s with ${sources} sources and Retry-After: 2\n`);
      // Alone, each source would retry every 2 s: about 4 calls each. Together: the first wave, then about one call per pause.
      expect(stormCalls).toBeLessThanOrEqual(sources + 10);
      app.behaviour.down = false;
      await waitFor('all delivered', async () => (await messagesLeft(fx)) === 0, 30_000, 200);
      for (let s = 0; s < sources; s++) {
        expect(app.records.filter((r) => r.sourceId === `t-${s}` && r.status === 200).map((r) => r.seq)).toEqual(['1', '2']);
      }
      // Held heads retried without a new receive: X-Attempt keeps counting.
      expect(Math.max(...app.records.map((r) => r.attempt))).toBeGreaterThan(1);
    } finally {
      await app.close();
    }
  });
});
