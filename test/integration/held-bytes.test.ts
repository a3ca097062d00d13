import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

describe('held-bytes budget with large bodies (fauxqs + DynamoDB Local)', () => {
  let fx: Fixture;
  let app: DemoApp;
  let relay: RunningRelay | undefined;

  beforeAll(async () => {
    fx = await freshQueueAndTable('bytes');
  });
  afterAll(async () => {
    await relay?.stop(1000);
    await app.close();
    fx.close();
  });

  it('never holds more body bytes than the budget plus one batch, and still delivers everything', async () => {
    const bodySize = 200 * 1024;
    const budget = 1024 * 1024;
    app = await startDemoApp({ slowRate: 1, slowMs: 300 });
    const body = JSON.stringify({ pad: 'x'.repeat(bodySize - 12) });
    // A batch send may carry 1 MiB in all: four at a time.
    for (let i = 0; i < 30; i += 4) await send(fx.sqs, fx.queueUrl, Array.from({ length: Math.min(4, 30 - i) }, (_, j) => ({ sourceId: `big-${i + j}`, seq: 1, body })));
    relay = await startTestRelay(fx.config({ targetUrl: app.url, heldBytesBudget: budget, appTimeoutMs: 3000 }));
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, relay!.worker.stats().heldBytes)), 10);
    try {
      await waitFor('all delivered', async () => (await messagesLeft(fx)) === 0, 60_000, 200);
    } finally {
      clearInterval(sample);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(budget + 10 * body.length);
    expect(new Set(app.records.filter((r) => r.status === 200).map((r) => r.sourceId)).size).toBe(30);
  });
});
