import { Worker, type WorkerOptions } from '../../src/worker/worker';
import type { WorkerEvents } from '../../src/worker/events';
import { sha256 } from '../../src/adapters/journal';
import { MemoryFifoQueue, QUEUE_ID, ScriptedApp, seqAttr } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';

const options = (over: Partial<WorkerOptions> = {}): WorkerOptions => ({
  queueId: QUEUE_ID, maxConcurrentSources: 4, receiveConcurrency: 1, visibilityTimeoutSeconds: 30,
  retry: { baseSeconds: 60, maxSeconds: 60 }, deleteFlushMs: 1, ledgerCacheSize: 1000, recordFailures: true,
  appTimeoutMs: 5000, retentionSeconds: 345_600, retentionParkShare: 0.75, parkPollMs: 250, ...over,
});

function collect<K extends keyof WorkerEvents & string>(worker: Worker, event: K): Array<WorkerEvents[K][0]> {
  const seen: Array<WorkerEvents[K][0]> = [];
  worker.on(event, ((e: WorkerEvents[K][0]) => seen.push(e)) as never);
  return seen;
}

it('ParkRecall leaves alone the heads of a parked source that cannot be journaled: their 60 s backoff holds', async () => {
  const queue = new MemoryFifoQueue();
  const table = new MemorySourceTable();
  for (const s of ['A', 'B']) {
    table.touch(s);
    table.states.set(s, { state: 'parked', controlVersion: 1, journalVersion: 0, stateSince: Date.now() });
  }
  // A: a journal conflict (another body holds seq 1). B: an invalid message (bad seq attribute).
  const seq = { kind: 'producer' as const, value: 1n, text: '1', key: '1', sqs: 1n, queueId: QUEUE_ID };
  await table.put({ sourceId: 'A', seq, messageId: 'other', contentType: 'text/plain', body: 'another body', bodySha256: sha256('another body'), sentAt: 1, firstSeenAt: 1, journaledAt: 1 });
  queue.send('A', 'a1', seqAttr(1));
  queue.send('B', 'b1', seqAttr('not-a-number'));
  const worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(), parking: { control: table.control, journal: table, audit: table } });
  const journalErrors = collect(worker, 'journalError');
  const invalid = collect(worker, 'invalidMessage');
  const recalled = collect(worker, 'parkedHeadsRecalled');
  worker.start();
  await new Promise((r) => setTimeout(r, 3000));
  await worker.stop(100);
  // eslint-disable-next-line no-console
  console.log(`3 s with 60 s backoffs: journalError ${journalErrors.length} (backoffs ${journalErrors.map((e) => e.backoffSeconds).join(',')}), invalidMessage ${invalid.length}, recalls ${recalled.length}`);
  expect(journalErrors.length).toBe(1);
  expect(invalid.length).toBe(1);
  expect(recalled).toHaveLength(0);
});
