import { Worker, type WorkerOptions } from '../../src/worker/worker';
import type { WorkerEvents } from '../../src/worker/events';
import { MemoryFifoQueue, QUEUE_ID, ScriptedApp, seqAttr } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';

const options = (over: Partial<WorkerOptions> = {}): WorkerOptions => ({
  queueId: QUEUE_ID, maxConcurrentSources: 4, receiveConcurrency: 1, visibilityTimeoutSeconds: 30,
  retry: { baseSeconds: 1, maxSeconds: 1 }, deleteFlushMs: 1, ledgerCacheSize: 1000, recordFailures: true,
  appTimeoutMs: 5000, retentionSeconds: 1000, retentionParkShare: 0.75, ...over,
});

function collect<K extends keyof WorkerEvents & string>(worker: Worker, event: K): Array<WorkerEvents[K][0]> {
  const seen: Array<WorkerEvents[K][0]> = [];
  worker.on(event, ((e: WorkerEvents[K][0]) => seen.push(e)) as never);
  return seen;
}

it('state reads slower than STANDING_MAX_AGE_MS (throttling, retries) still allow delivery when nothing waited after them', async () => {
  const queue = new MemoryFifoQueue();
  const table = new MemorySourceTable();
  table.touch('A');
  queue.send('A', 'a1', seqAttr(1));
  // A BatchGetItem that takes 1.1 s (e.g. SDK retries after a throttle).
  const control = { ...table.control, readMany: async (ids: string[]) => { await new Promise((r) => setTimeout(r, 1100)); return table.readMany(ids); } };
  const app = new ScriptedApp();
  const worker = new Worker(options(), { queue, ledger: table, app, parking: { control, journal: table, audit: table } });
  const held = collect(worker, 'heldForState');
  worker.start();
  await new Promise((r) => setTimeout(r, 9000));
  await worker.stop(100);
  // eslint-disable-next-line no-console
  console.log(`9 s: app calls ${app.calls.length}, heldForState ${held.length}, failure records ${table.failures.length}, receives of a1 ${queue.receives}`);
  expect(app.calls.length).toBeGreaterThan(0);
  expect(queue.size).toBe(0);
});
