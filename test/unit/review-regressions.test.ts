import { parkSource } from '../../src/cli/source-actions';
import type { DeliveryOutcome } from '../../src/adapters/http-app';
import type { BatchFailure, VisibilityEntry } from '../../src/adapters/sqs-queue';
import type { FlowOptions } from '../../src/worker/flow-control';
import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp, ok, seqAttr } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';
import { waitFor } from '../support/fixtures';
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
  retentionSeconds: 100_000,
  retentionParkShare: 0.75,
  ...over,
});

const breaker: FlowOptions['breaker'] = {
  enabled: true,
  failureRate: 0.5,
  windowMs: 10_000,
  minCalls: 5,
  minSources: 3,
  probeBaseMs: 50,
  probeMaxMs: 200,
  rampStart: 1,
  rampStepMs: 20,
  fullConcurrency: 8,
  maxPauseMs: 30_000,
};

const ports = (t: MemorySourceTable) => ({ control: t.control, journal: t, audit: t });

describe('review regressions (parking and flow control wired, as in production)', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('a producer seq that goes backwards on the same queue is kept in SQS and reported as seq-regression, never deleted', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a5', seqAttr(5));
    queue.send('A', 'a3', seqAttr(3)); // sent after seq 5 was: a producer bug, not a redelivery
    const table = new MemorySourceTable();
    const app = new ScriptedApp();
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table), random: () => 0.5 });
    const invalid = collect(worker, 'invalidMessage');
    const skipped = collect(worker, 'duplicateSkipped');
    worker.start();
    await waitFor('the second message handled', () => invalid.length + skipped.length >= 1);

    expect(skipped).toHaveLength(0);
    expect(invalid.map((e) => [e.invalid.messageId, e.invalid.reason])).toEqual([['msg-2', 'seq-regression']]);
    expect(app.seqsOf('A')).toEqual([5]);
    expect(queue.deleted).toEqual(['msg-1']);
    expect(queue.size).toBe(1);
  });

  it('a message whose visibility was lost while its lane waited at the flow gate is not sent to the app', async () => {
    // SQS says B's message is no longer in flight as soon as the heartbeat renews it.
    class LosingQueue extends MemoryFifoQueue {
      override async changeVisibility(entries: VisibilityEntry[]): Promise<BatchFailure[]> {
        await super.changeVisibility(entries);
        return entries.filter((e) => e.messageId === 'msg-2' && e.seconds > 0).map((e) => ({ messageId: e.messageId, code: 'MessageNotInflight', message: 'gone' }));
      }
    }
    const queue = new LosingQueue(3);
    queue.send('A', 'a1', seqAttr(1));
    queue.send('B', 'b1', seqAttr(1));
    // One token, refilled every 4 s: B waits at the gate past its first heartbeat renewal.
    const flow: FlowOptions = { breaker, ratePerSecond: 0.25, burst: 1 };
    const app = new ScriptedApp();
    worker = new Worker(options({ visibilityTimeoutSeconds: 3, flow }), { queue, ledger: new MemoryLedger(), app });
    const lost = collect(worker, 'visibilityLost');
    const released = collect(worker, 'released');
    worker.start();
    await waitFor('B found lost', () => lost.some((e) => e.messageIds.includes('msg-2')), 6000);
    await waitFor(
      'B let go of, or sent',
      () => released.some((e) => e.reason === 'visibility-lost') || app.seqsOf('B').length > 0,
      8000,
    );

    expect(app.seqsOf('B')).toEqual([]);
    expect(released.filter((e) => e.reason === 'visibility-lost').map((e) => e.count)).toEqual([1]);
    expect(app.seqsOf('A')).toEqual([1]);
  }, 20000);

  it('after a hold at the flow gate the lane keeps the newest receipt handle: the message is deleted after success and nothing stays held', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    const table = new MemorySourceTable();
    let calls = 0;
    let reReceived = false;
    const app = new ScriptedApp(async (): Promise<DeliveryOutcome> => {
      calls++;
      if (calls === 1) {
        // The head's visibility lapses mid-call and SQS hands the group to this task again, with a new handle.
        queue.expireAll();
        await waitFor('re-received', () => reReceived, 3000);
        return { kind: 'http-error', status: 429, durationMs: 1, detail: 'HTTP 429', retryAfterSeconds: 1 };
      }
      return ok();
    });
    const flow: FlowOptions = { breaker, ratePerSecond: 0, burst: 1 };
    worker = new Worker(options({ flow }), { queue, ledger: table, app, parking: ports(table) });
    worker.on('received', () => {
      if (calls === 1) reReceived = true;
    });
    const delivered = collect(worker, 'delivered');
    const held = collect(worker, 'deliveryFailed');
    worker.start();
    await waitFor('delivered', () => delivered.length === 1, 5000);
    await waitFor('deleted and let go of', () => queue.size === 0 && worker?.stats().heldMessages === 0, 3000);

    expect(held.map((e) => e.held)).toEqual([true]);
    expect(queue.deleted).toEqual(['msg-1']);
    expect(worker.stats().inFlightSources).toBe(0);
    expect(app.seqsOf('A')).toEqual([1, 1]);
  }, 15000);

  it('a park that lands while the first message of a receive is in flight sends the rest of that receive to the journal, not the app', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    table.touch('A');
    let answer: (o: DeliveryOutcome) => void = () => undefined;
    const app = new ScriptedApp((m) => (m.seq.text === '1' ? new Promise<DeliveryOutcome>((r) => (answer = r)) : ok()));
    queue.send('A', 'a1', seqAttr(1));
    queue.send('A', 'a2', seqAttr(2));
    queue.send('A', 'a3', seqAttr(3));
    worker = new Worker(options({ retentionSeconds: 100 }), { queue, ledger: table, app, parking: ports(table) });
    const journaled = collect(worker, 'journaled');
    worker.start();
    await waitFor('a1 in flight', () => app.calls.length === 1);
    expect(queue.receives).toBeGreaterThan(0);
    expect((await parkSource(ports(table), { sourceId: 'A', actor: 'op', reason: 'maintenance', nowMs: Date.now() })).ok).toBe(true);
    answer(ok()); // the delivery already in flight may still land
    await waitFor('queue empty', () => queue.size === 0);

    expect(app.seqsOf('A')).toEqual([1]);
    expect(journaled.map((e) => e.message.seq.text)).toEqual(['2', '3']);
    expect(table.entriesOf('A').map((e) => e.seq.text)).toEqual(['2', '3']);
  });
});
