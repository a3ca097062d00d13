import type { DeliveryOutcome } from '../../src/adapters/http-app';
import type { LedgerPosition } from '../../src/core/ledger-position';
import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp, seqAttr } from '../support/in-memory';
import { sleep, waitFor } from '../support/fixtures';
import { collect } from '../support/worker-events';

const options = (over: Partial<WorkerOptions> = {}): WorkerOptions => ({
  queueId: QUEUE_ID,
  maxConcurrentSources: 8,
  receiveConcurrency: 1,
  visibilityTimeoutSeconds: 30,
  retry: { baseSeconds: 1, maxSeconds: 60 },
  deleteFlushMs: 1,
  ledgerCacheSize: 1000,
  recordFailures: true,
  appTimeoutMs: 5000,
  ...over,
});

class DownLedger extends MemoryLedger {
  override async read(): Promise<LedgerPosition | undefined> {
    this.reads++;
    throw new Error('ECONNREFUSED');
  }
  override async recordFailure(): Promise<void> {
    throw new Error('ECONNREFUSED');
  }
}

describe('lane hardening: no hot loop, no silent skip', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('an unexpected error in a lane backs its head off like a failure, never at visibility 0', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    queue.send('A', 'a2', seqAttr(2));
    const app = new ScriptedApp(() => Promise.reject(new Error('bug')) as Promise<DeliveryOutcome>);
    worker = new Worker(options(), { queue, ledger: new MemoryLedger(), app, random: () => 0.5 });
    const internal = collect(worker, 'internalError');
    worker.start();
    await waitFor('internal error', () => internal.length === 1);
    await sleep(200);
    // One attempt, then the head waits out a backoff: no receive/visibility-0 cycle.
    expect(app.calls).toHaveLength(1);
    const call = queue.visibilityCalls.find((c) => c.length === 2);
    expect(call?.map((e) => e.seconds)).toEqual([1, 0]);
    expect(worker.stats().retryingSources).toBe(1);
  });

  it('a ledger that cannot be read counts the source as retrying, like any failure', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    const ledger = new DownLedger();
    const app = new ScriptedApp();
    worker = new Worker(options(), { queue, ledger, app });
    const errors = collect(worker, 'ledgerError');
    worker.start();
    await waitFor('ledger error', () => errors.some((e) => e.stage === 'read'));
    await waitFor('retrying', () => worker!.stats().retryingSources === 1);
    expect(worker.retryingHeads()[0]).toMatchObject({ sourceId: 'A', seq: '1', lastError: expect.stringContaining('ledger read failed') });
    expect(app.calls).toHaveLength(0);
  });

  it('a stop that lands while the ledger is being read does not start the app call', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    let answer: (p: LedgerPosition | undefined) => void = () => undefined;
    class SlowLedger extends MemoryLedger {
      override read(): Promise<LedgerPosition | undefined> {
        this.reads++;
        return new Promise((r) => (answer = r));
      }
    }
    const ledger = new SlowLedger();
    const app = new ScriptedApp();
    const w = new Worker(options(), { queue, ledger, app });
    const released = collect(w, 'released');
    w.start();
    await waitFor('ledger read', () => ledger.reads === 1);
    const stopped = w.stop(5000);
    answer(undefined);
    await stopped;
    expect(app.calls).toHaveLength(0);
    expect(released).toEqual([{ count: 1, reason: 'shutdown' }]);
  });

  it('keeps a message whose producer seq went backwards, reports it at error level and lists it, never deletes it', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a5', seqAttr(5));
    queue.send('A', 'a3', seqAttr(3));
    const ledger = new MemoryLedger();
    const app = new ScriptedApp();
    worker = new Worker(options(), { queue, ledger, app, random: () => 0.5 });
    const invalid = collect(worker, 'invalidMessage');
    const skipped = collect(worker, 'duplicateSkipped');
    worker.start();
    await waitFor('regression reported', () => invalid.length === 1);
    expect(invalid[0]?.invalid).toMatchObject({ reason: 'seq-regression', sourceId: 'A', messageId: 'msg-2' });
    expect(app.seqsOf('A')).toEqual([5]);
    expect(skipped).toEqual([]);
    await sleep(50);
    expect(queue.deleted).toEqual(['msg-1']);
    expect(ledger.failures.at(-1)).toMatchObject({ sourceId: 'A', failure: { seq: '3', error: expect.stringContaining('seq went backwards') } });
    expect(worker.stats().retryingSources).toBe(1);
  });

  it('still drops a redelivered message the ledger passed in the same queue (a duplicate, not a regression)', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    const ledger = new MemoryLedger();
    const app = new ScriptedApp();
    worker = new Worker(options(), { queue, ledger, app });
    worker.start();
    await waitFor('delivered', () => queue.size === 0);
    // The same operation sent again later as a new message (new dedup id): equal seq is a duplicate.
    queue.send('A', 'a1-again', seqAttr(1));
    const skipped = collect(worker, 'duplicateSkipped');
    await waitFor('skipped', () => skipped.length === 1);
    expect(app.seqsOf('A')).toEqual([1]);
  });
});
