import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

describe('retry until success and the heartbeat (fauxqs + DynamoDB Local)', () => {
  let fx: Fixture;
  let app: DemoApp;
  let relay: RunningRelay | undefined;

  beforeEach(async () => {
    fx = await freshQueueAndTable('retry');
  });
  afterEach(async () => {
    await relay?.stop(1000);
    relay = undefined;
    await app.close();
    fx.close();
  });

  it('keeps a message through failures, honours Retry-After, and delivers the rest only after it', async () => {
    app = await startDemoApp({ down: true, retryAfterSeconds: 2 });
    await send(fx.sqs, fx.queueUrl, [1, 2, 3].map((seq) => ({ sourceId: 'acct-9', seq, body: `{"n":${seq}}` })));
    relay = await startTestRelay(fx.config({ targetUrl: app.url }));

    await waitFor('two failed attempts', () => app.records.length >= 2, 15_000);
    const [a, b] = app.records;
    expect([a?.seq, b?.seq]).toEqual(['1', '1']);
    expect([a?.attempt, b?.attempt]).toEqual([1, 2]);
    // Retry-After: 2 s, so the second try came no sooner (fauxqs counts visibility in whole seconds).
    expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(1500);
    expect(await messagesLeft(fx)).toBe(3);

    const stuck = await new DynamoLedger(fx.dynamo, fx.table).listStuck(10);
    expect(stuck).toEqual([expect.objectContaining({ sourceId: 'acct-9', headSeq: '1', lastError: expect.stringContaining('HTTP 503') })]);
    expect(relay.worker.retryingHeads()).toEqual([expect.objectContaining({ sourceId: 'acct-9', seq: '1' })]);

    app.behaviour.down = false;
    await waitFor('all delivered', async () => (await messagesLeft(fx)) === 0, 15_000);
    const successes = app.records.filter((r) => r.status === 200).map((r) => r.seq);
    expect(successes).toEqual(['1', '2', '3']);
    expect(await new DynamoLedger(fx.dynamo, fx.table).listStuck(10)).toEqual([]);
    const metrics = await relay.metrics.registry.getSingleMetricAsString('fifo_relay_delivery_attempts_total');
    expect(metrics).toMatch(/outcome="http-error"} [2-9]/);
    expect(metrics).toMatch(/outcome="success"} 3/);
  });

  it('treats an app timeout as a failure and aborts the call', async () => {
    app = await startDemoApp({ slowRate: 1, slowMs: 1500 });
    await send(fx.sqs, fx.queueUrl, [{ sourceId: 'slowpoke', seq: 1, body: '{}' }]);
    relay = await startTestRelay(fx.config({ targetUrl: app.url, appTimeoutMs: 300 }));
    const failures: string[] = [];
    relay.worker.on('deliveryFailed', (e) => failures.push(e.outcome.kind));
    await waitFor('a timeout', () => failures.length >= 1, 10_000);
    expect(failures[0]).toBe('timeout');
    app.behaviour.slowRate = 0;
    await waitFor('delivered after all', async () => (await messagesLeft(fx)) === 0, 15_000);
  });

  it('an app call slower than the visibility timeout is not delivered twice, even with other workers polling', async () => {
    app = await startDemoApp({ slowRate: 1, slowMs: 7000 });
    await send(fx.sqs, fx.queueUrl, [{ sourceId: 'long', seq: 1, body: '{}' }, { sourceId: 'long', seq: 2, body: '{}' }]);
    const config = fx.config({ targetUrl: app.url, visibilityTimeoutSeconds: 5, appTimeoutMs: 20_000 });
    relay = await startTestRelay(config);
    await waitFor('first call', () => app.records.length === 0 && relay!.worker.stats().inFlightSources === 1, 10_000);
    const rival = await startTestRelay(config);
    try {
      await waitFor('both delivered', async () => (await messagesLeft(fx)) === 0, 30_000, 200);
    } finally {
      await rival.stop(1000);
    }
    expect(app.records.map((r) => r.seq)).toEqual(['1', '2']);
    const renewals = await relay.metrics.registry.getSingleMetricAsString('fifo_relay_visibility_extensions_total');
    expect(Number(renewals.split('\n').find((l) => l.startsWith('fifo_relay_visibility_extensions_total '))?.split(' ')[1])).toBeGreaterThan(0);
  });

  it('keeps a malformed message in the queue and retries it, counting it, while other sources flow', async () => {
    app = await startDemoApp();
    await send(fx.sqs, fx.queueUrl, [
      { sourceId: 'broken', body: '{}', extraAttributes: { seq: { DataType: 'Number', StringValue: '-3' } } },
      { sourceId: 'fine', seq: 1, body: '{}' },
    ]);
    relay = await startTestRelay(fx.config({ targetUrl: app.url }));
    await waitFor('fine delivered', () => app.records.length === 1);
    await waitFor('retried twice', async () => /reason="bad-seq-attribute"} [2-9]/.test(await relay!.metrics.registry.getSingleMetricAsString('fifo_relay_invalid_messages_total')), 15_000);
    expect(app.records.map((r) => r.sourceId)).toEqual(['fine']);
    expect(await messagesLeft(fx)).toBe(1);
    const stuck = await new DynamoLedger(fx.dynamo, fx.table).listStuck(10);
    expect(stuck).toEqual([expect.objectContaining({ sourceId: 'broken', lastError: expect.stringContaining('attribute seq must be') })]);
  });
});
