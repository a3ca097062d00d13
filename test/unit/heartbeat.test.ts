import type { BatchFailure, QueueEntry, VisibilityEntry } from '../../src/adapters/sqs-queue';
import { Heartbeat } from '../../src/worker/heartbeat';
import { Worker } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp, ok, seqAttr } from '../support/in-memory';
import { waitFor } from '../support/fixtures';

const entries = (n: number): QueueEntry[] => Array.from({ length: n }, (_, i) => ({ messageId: `m${i}`, receiptHandle: `h${i}` }));

describe('heartbeat', () => {
  it('sends every batch of a renewal at once, each tracked on its own', async () => {
    const calls: Array<{ entries: VisibilityEntry[]; answer: (f: BatchFailure[]) => void }> = [];
    const hb = new Heartbeat({
      changeVisibility: (e) => new Promise((answer) => calls.push({ entries: e, answer })),
      now: () => 100_000,
      visibilityTimeoutSeconds: 30,
      onExtended: () => undefined,
      onFailures: () => undefined,
      onError: () => undefined,
    });
    hb.hold(entries(25), 0);
    hb.tick();
    // Three batches are out before any of them answered.
    expect(calls.map((c) => c.entries.length)).toEqual([10, 10, 5]);
    const forgetLast = hb.forget({ messageId: 'm24', receiptHandle: 'h24' });
    let forgotten = false;
    void forgetLast.then(() => (forgotten = true));
    calls[2]?.answer([]);
    await forgetLast;
    // The last batch settled without waiting for the first two.
    expect(forgotten).toBe(true);
    calls[0]?.answer([]);
    calls[1]?.answer([]);
  });

  it('drops a message SQS says it no longer holds, says so, and does not renew it again', async () => {
    const sent: VisibilityEntry[][] = [];
    const lostSeen: QueueEntry[][] = [];
    let now = 100_000;
    const hb = new Heartbeat({
      changeVisibility: async (e) => {
        sent.push(e);
        return [{ messageId: 'm0', code: 'AWS.SimpleQueueService.MessageNotInflight', message: 'not in flight' }];
      },
      now: () => now,
      visibilityTimeoutSeconds: 30,
      onExtended: () => undefined,
      onFailures: () => undefined,
      onError: () => undefined,
      onLost: (l) => lostSeen.push(l),
    });
    hb.hold(entries(2), 0);
    hb.tick();
    await waitFor('answered', () => lostSeen.length === 1);
    expect(lostSeen[0]).toEqual([{ messageId: 'm0', receiptHandle: 'h0' }]);
    expect(hb.isLost({ messageId: 'm0', receiptHandle: 'h0' })).toBe(true);
    expect(hb.heldCount).toBe(1);
    await new Promise((r) => setImmediate(r));
    now += 25_000;
    hb.tick();
    expect(sent.at(-1)?.map((e) => e.messageId)).toEqual(['m1']);
  });

  it('a lane does not deliver a waiting message whose visibility SQS says it lost', async () => {
    class LosingQueue extends MemoryFifoQueue {
      override async changeVisibility(e: VisibilityEntry[]): Promise<BatchFailure[]> {
        await super.changeVisibility(e);
        return e.filter((x) => x.seconds > 0 && x.messageId === 'msg-2').map((x) => ({ messageId: x.messageId, code: 'ReceiptHandleIsInvalid', message: 'gone' }));
      }
    }
    const queue = new LosingQueue(5);
    queue.send('A', 'a1', seqAttr(1));
    queue.send('A', 'a2', seqAttr(2));
    let lostSeen = false;
    const app = new ScriptedApp(async (m) => {
      if (m.seq.text === '1') await waitFor('renewal refused', () => lostSeen, 10_000, 20);
      return ok();
    });
    const worker = new Worker(
      { queueId: QUEUE_ID, maxConcurrentSources: 8, receiveConcurrency: 1, visibilityTimeoutSeconds: 5, retry: { baseSeconds: 1, maxSeconds: 2 }, deleteFlushMs: 1, ledgerCacheSize: 10, recordFailures: false, appTimeoutMs: 1000 },
      { queue, ledger: new MemoryLedger(), app },
    );
    const released: string[] = [];
    worker.on('visibilityLost', () => (lostSeen = true));
    worker.on('released', (e) => released.push(e.reason));
    worker.start();
    await waitFor('released as lost', () => released.includes('visibility-lost'), 15_000);
    expect(app.seqsOf('A')).toEqual([1]);
    await worker.stop(100);
  });
});
