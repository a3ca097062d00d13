import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { parkSource } from '../../src/cli/source-actions';
import { MemoryFifoQueue, QUEUE_ID, ScriptedApp, fail, ok, seqAttr } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';
import { waitFor } from '../support/fixtures';
import { collect } from '../support/worker-events';

const options = (over: Partial<WorkerOptions> = {}): WorkerOptions => ({
  queueId: QUEUE_ID,
  maxConcurrentSources: 4,
  receiveConcurrency: 1,
  visibilityTimeoutSeconds: 30,
  // A failed head backs off a whole minute: without a wake-up the park would wait that long.
  retry: { baseSeconds: 60, maxSeconds: 60 },
  deleteFlushMs: 1,
  ledgerCacheSize: 1000,
  recordFailures: true,
  appTimeoutMs: 5000,
  retentionSeconds: 100_000,
  retentionParkShare: 0.75,
  parkPollMs: 100,
  ...over,
});

const ports = (t: MemorySourceTable) => ({ control: t.control, journal: t, audit: t });

describe('a park takes effect promptly on a head in its backoff', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('the head backing off for 60 s is handed back once its source is parked, journaled and deleted; the item says the head is journaled', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    queue.send('A', 'a1', seqAttr(1));
    queue.send('B', 'b1', seqAttr(1));
    const app = new ScriptedApp((m) => (m.sourceId === 'A' ? fail(503) : ok()));
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table), random: () => 0.99 });
    const failed = collect(worker, 'deliveryFailed');
    const journaled = collect(worker, 'journaled');
    worker.start();
    await waitFor('a1 failed and backing off', () => failed.length === 1 && app.seqsOf('B').length === 1);
    expect(failed[0]?.backoffSeconds).toBeGreaterThanOrEqual(30);
    expect((await parkSource(ports(table), { sourceId: 'A', actor: 'op', reason: 'test', nowMs: Date.now() })).ok).toBe(true);
    await waitFor('a1 journaled', () => journaled.length === 1, 10_000);
    expect(table.entriesOf('A').map((e) => e.seq.text)).toEqual(['1']);
    await waitFor('a1 deleted', () => queue.size === 0);
    expect(app.seqsOf('A')).toEqual([1]);
    expect(table.headJournaled.get('A')).toBe(journaled[0]?.message.messageId);
  });
});
