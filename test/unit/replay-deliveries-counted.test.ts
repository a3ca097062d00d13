import { startEmf } from '../../src/observability/emf';
import { Metrics } from '../../src/observability/metrics';
import { Worker } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp } from '../support/in-memory';

const worker = () =>
  new Worker(
    { queueId: QUEUE_ID, maxConcurrentSources: 1, receiveConcurrency: 1, visibilityTimeoutSeconds: 30, retry: { baseSeconds: 1, maxSeconds: 2 }, deleteFlushMs: 1, ledgerCacheSize: 1, recordFailures: false, appTimeoutMs: 1000 },
    { queue: new MemoryFifoQueue(), ledger: new MemoryLedger(), app: new ScriptedApp() },
  );

describe('replayed deliveries are counted like deliveries from the queue', () => {
  it('fifo_relay_messages_delivered_total carries both paths from the start, at 0', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.attach(worker());
    const text = await m.registry.getSingleMetricAsString('fifo_relay_messages_delivered_total');
    expect(text).toContain('fifo_relay_messages_delivered_total{path="queue"} 0');
    expect(text).toContain('fifo_relay_messages_delivered_total{path="replay"} 0');
  });

  it('the EMF Deliveries metric (the NoDeliveries alarm) includes replayed deliveries', () => {
    const lines: string[] = [];
    let countReplayed: (() => void) | undefined;
    const stop = startEmf(worker(), { namespace: 'ns', queueName: 'q', intervalMs: 3_600_000, write: (l) => lines.push(l), onReplayed: (count) => (countReplayed = count) });
    countReplayed?.();
    countReplayed?.();
    stop();
    expect(JSON.parse(lines[0] ?? '{}').Deliveries).toBe(2);
  });
});
