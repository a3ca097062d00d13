import type { DeliveryOutcome } from '../../src/adapters/http-app';
import { ProgressWatchdog } from '../../src/observability/progress-watchdog';
import { Worker } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp, ok, seqAttr } from '../support/in-memory';
import { waitFor } from '../support/fixtures';

describe('stuck-loop watchdog', () => {
  it('fails liveness while the worker holds work and nothing moves, and recovers when it moves again', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    let release: (o: DeliveryOutcome) => void = () => undefined;
    // An app port that never answers: what a hung socket pool looked like from the loop.
    const app = new ScriptedApp(() => new Promise((r) => (release = r)));
    const worker = new Worker(
      { queueId: QUEUE_ID, maxConcurrentSources: 8, receiveConcurrency: 1, visibilityTimeoutSeconds: 30, retry: { baseSeconds: 1, maxSeconds: 2 }, deleteFlushMs: 1, ledgerCacheSize: 10, recordFailures: false, appTimeoutMs: 1000 },
      { queue, ledger: new MemoryLedger(), app },
    );
    let clock = 0;
    const watchdog = new ProgressWatchdog(worker, 60_000, () => clock);
    expect(watchdog.healthy()).toBe(true);
    worker.start();
    await waitFor('call started', () => app.calls.length === 1);
    clock = 59_000;
    expect(watchdog.healthy()).toBe(true);
    clock = 61_000;
    expect(watchdog.healthy()).toBe(false);
    release(ok());
    await waitFor('delivered', () => queue.size === 0);
    expect(watchdog.healthy()).toBe(true);
    await worker.stop(100);
  });
});
