import { Worker, type WorkerOptions } from '../../src/worker/worker';
import type { WorkerEvents } from '../../src/worker/events';
import { sha256 } from '../../src/adapters/journal';
import { MemoryFifoQueue, QUEUE_ID, ScriptedApp, seqAttr } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';

const options = (over: Partial<WorkerOptions> = {}): WorkerOptions => ({
  queueId: QUEUE_ID, maxConcurrentSources: 4, receiveConcurrency: 1, visibilityTimeoutSeconds: 30,
  retry: { baseSeconds: 60, maxSeconds: 60 }, deleteFlushMs: 1, ledgerCacheSize: 1000, recordFailures: true,
  appTimeoutMs: 5000, retentionSeconds: 100, retentionParkShare: 0.75, ...over,
});

function collect<K extends keyof WorkerEvents & string>(worker: Worker, event: K): Array<WorkerEvents[K][0]> {
  const seen: Array<WorkerEvents[K][0]> = [];
  worker.on(event, ((e: WorkerEvents[K][0]) => seen.push(e)) as never);
  return seen;
}

it('a journal conflict on a parked source past its park deadline backs off (bounded by retention), never with 0 s', async () => {
  const queue = new MemoryFifoQueue();
  const table = new MemorySourceTable();
  table.touch('A');
  table.states.set('A', { state: 'parked', controlVersion: 1, journalVersion: 0, stateSince: Date.now() });
  const seq = { kind: 'producer' as const, value: 1n, text: '1', key: '1', sqs: 1n, queueId: QUEUE_ID };
  await table.put({ sourceId: 'A', seq, messageId: 'other', contentType: 'text/plain', body: 'another body', bodySha256: sha256('another body'), sentAt: 1, firstSeenAt: 1, journaledAt: 1 });
  queue.send('A', 'a1', seqAttr(1));
  // 80 s after sending on a 100 s queue: past the 75 s park deadline (the source is parked already; nobody acts at the deadline).
  const worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(), parking: { control: table.control, journal: table, audit: table }, now: () => Date.now() + 80_000 });
  const errors = collect(worker, 'journalError');
  worker.start();
  await new Promise((r) => setTimeout(r, 1000));
  await worker.stop(100);
  // eslint-disable-next-line no-console
  console.log(`1 s: ${errors.length} journal errors, backoffs ${[...new Set(errors.map((e) => e.backoffSeconds))].join(',')}, ${queue.receives} receives, ${table.failures.length} failure writes, ${table.batchReads} BatchGetItems`);
  expect(errors.length).toBeGreaterThanOrEqual(1);
  expect(errors.length).toBeLessThanOrEqual(2);
  expect(errors.every((e) => e.backoffSeconds > 0)).toBe(true);
});
