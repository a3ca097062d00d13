import type { DeliveryOutcome } from '../../src/adapters/http-app';
import type { VisibilityEntry } from '../../src/adapters/sqs-queue';
import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp, fail, ok, seqAttr } from '../support/in-memory';
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

describe('worker loop with in-memory ports', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('runs several messages of one source from one receive strictly in order', async () => {
    const queue = new MemoryFifoQueue();
    for (let i = 1; i <= 25; i++) queue.send('A', `a${i}`, seqAttr(i));
    const app = new ScriptedApp();
    worker = new Worker(options(), { queue, ledger: new MemoryLedger(), app });
    const received = collect(worker, 'received');
    worker.start();
    await waitFor('all delivered', () => queue.size === 0);
    expect(app.seqsOf('A')).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // The path fauxqs cannot produce: one receive brought ten messages of the same group.
    expect(received.some((r) => r.count === 10 && r.lanes === 1)).toBe(true);
  });

  it('after a failure keeps the failed head back with a backoff and releases the rest of the batch at once', async () => {
    const queue = new MemoryFifoQueue();
    for (let i = 1; i <= 5; i++) queue.send('A', `a${i}`, seqAttr(i));
    const app = new ScriptedApp((m) => (m.seq.text === '3' ? fail(503) : ok()));
    const ledger = new MemoryLedger();
    worker = new Worker(options(), { queue, ledger, app, random: () => 0.5 });
    const failed = collect(worker, 'deliveryFailed');
    worker.start();
    await waitFor('failure reported', () => failed.length === 1);
    expect(app.seqsOf('A')).toEqual([1, 2, 3]);
    const call = queue.visibilityCalls.find((c) => c.length === 3);
    expect(call?.map((e) => e.seconds)).toEqual([1, 0, 0]);
    expect(failed[0]).toMatchObject({ attempt: 1, backoffSeconds: 1, released: 2 });
    expect(ledger.failures[0]).toMatchObject({ sourceId: 'A', failure: { seq: '3', attempt: 1, error: 'HTTP 503' } });
    expect(worker.stats().retryingSources).toBe(1);
    // 1 and 2 are gone, 3..5 remain; 3 is hidden by its backoff so the group is blocked.
    await waitFor('deletes', () => queue.size === 3);
    expect(queue.deleted).toEqual(['msg-1', 'msg-2']);
  });

  it('retries a failing head until the app accepts it, never skipping it', async () => {
    const queue = new MemoryFifoQueue();
    for (let i = 1; i <= 3; i++) queue.send('A', `a${i}`, seqAttr(i));
    let failuresLeft = 3;
    const app = new ScriptedApp((m) => (m.seq.text === '2' && failuresLeft-- > 0 ? fail(500) : ok()));
    worker = new Worker(options(), { queue, ledger: new MemoryLedger(), app });
    const failed = collect(worker, 'deliveryFailed');
    worker.start();
    for (let n = 1; n <= 3; n++) {
      await waitFor(`failure ${n}`, () => failed.length === n);
      queue.expireAll();
    }
    await waitFor('drained', () => queue.size === 0);
    expect(app.seqsOf('A')).toEqual([1, 2, 2, 2, 2, 3]);
    expect(failed.map((f) => f.attempt)).toEqual([1, 2, 3]);
    expect(worker.stats().retryingSources).toBe(0);
  });

  // A 429 instead holds the head at the flow gate for the whole task (worker-flow.test.ts).
  it('honours Retry-After of a 503 over the exponential backoff', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    const app = new ScriptedApp(() => fail(503, 42));
    worker = new Worker(options(), { queue, ledger: new MemoryLedger(), app });
    const failed = collect(worker, 'deliveryFailed');
    worker.start();
    await waitFor('failure', () => failed.length === 1);
    expect(failed[0]?.backoffSeconds).toBe(42);
    expect(queue.visibilityCalls.at(-1)).toEqual([expect.objectContaining({ seconds: 42 })]);
  });

  it('keeps other sources moving while one source is stuck in a slow call', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('slow', 's1', seqAttr(1));
    for (let i = 1; i <= 20; i++) queue.send(`fast-${i % 4}`, `f${i}`, seqAttr(i));
    let releaseSlow: (o: DeliveryOutcome) => void = () => undefined;
    const app = new ScriptedApp((m) => (m.sourceId === 'slow' ? new Promise<DeliveryOutcome>((r) => (releaseSlow = r)) : ok()));
    worker = new Worker(options({ maxConcurrentSources: 2 }), { queue, ledger: new MemoryLedger(), app });
    worker.start();
    await waitFor('fast sources drained', () => queue.size === 1);
    expect(app.calls.filter((c) => c.sourceId.startsWith('fast')).length).toBe(20);
    expect(worker.stats().inFlightSources).toBe(1);
    releaseSlow(ok());
    await waitFor('slow done', () => queue.size === 0);
  });

  it('never has more than maxConcurrentSources app calls in flight', async () => {
    const queue = new MemoryFifoQueue();
    for (let i = 0; i < 200; i++) queue.send(`s${i % 50}`, `m${i}`, seqAttr(i));
    const app = new ScriptedApp(() => new Promise((r) => setTimeout(() => r(ok()), 2)));
    worker = new Worker(options({ maxConcurrentSources: 7, receiveConcurrency: 3 }), { queue, ledger: new MemoryLedger(), app });
    worker.start();
    await waitFor('drained', () => queue.size === 0);
    expect(app.calls).toHaveLength(200);
    expect(app.maxInFlight).toBeLessThanOrEqual(7);
    expect(app.maxInFlight).toBeGreaterThan(1);
  });

  it('deletes a redelivered message the ledger already covers without calling the app', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a5', seqAttr(5));
    queue.send('A', 'a6', seqAttr(6));
    const ledger = new MemoryLedger();
    ledger.positions.set('A', { producerSeq: 5n });
    const app = new ScriptedApp();
    worker = new Worker(options(), { queue, ledger, app });
    const skipped = collect(worker, 'duplicateSkipped');
    worker.start();
    await waitFor('drained', () => queue.size === 0);
    expect(app.seqsOf('A')).toEqual([6]);
    expect(skipped.map((s) => s.message.seq.text)).toEqual(['5']);
  });

  it('does not delete when the ledger write after a 2xx fails: the message comes back', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    const ledger = new MemoryLedger();
    ledger.failNextAdvance = true;
    const app = new ScriptedApp();
    worker = new Worker(options(), { queue, ledger, app });
    const errors = collect(worker, 'ledgerError');
    worker.start();
    await waitFor('ledger error', () => errors.length === 1);
    expect(queue.size).toBe(1);
    queue.expireAll();
    await waitFor('drained', () => queue.size === 0);
    expect(app.calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(ledger.positions.get('A')?.producerSeq).toBe(1n);
  });

  it('keeps a malformed message in the queue, retried and reported, and holds its source behind it', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'bad', { seq: { DataType: 'Number', StringValue: '1.5' } });
    queue.send('A', 'a2', seqAttr(2));
    queue.send(undefined, 'no group');
    queue.send('B', 'b1', seqAttr(1));
    const app = new ScriptedApp();
    worker = new Worker(options(), { queue, ledger: new MemoryLedger(), app });
    const invalid = collect(worker, 'invalidMessage');
    worker.start();
    await waitFor('two invalid reports', () => invalid.length >= 2);
    await waitFor('B delivered', () => app.seqsOf('B').length === 1);
    expect(invalid.map((i) => i.invalid.reason).sort()).toEqual(['bad-seq-attribute', 'missing-group-id']);
    expect(app.seqsOf('A')).toEqual([]);
    expect(queue.size).toBe(3);
    queue.expireAll();
    await waitFor('retried', () => invalid.length >= 4);
    expect(invalid.filter((i) => i.invalid.reason === 'bad-seq-attribute').map((i) => i.invalid.receiveCount)).toEqual([1, 2]);
  });

  it('on stop lets a delivery in flight finish within the grace and releases what it had not started', async () => {
    const queue = new MemoryFifoQueue();
    for (let i = 1; i <= 4; i++) queue.send('A', `a${i}`, seqAttr(i));
    let finishFirst: (o: DeliveryOutcome) => void = () => undefined;
    const app = new ScriptedApp((m) => (m.seq.text === '1' ? new Promise((r) => (finishFirst = r)) : ok()));
    const w = new Worker(options(), { queue, ledger: new MemoryLedger(), app });
    const released = collect(w, 'released');
    w.start();
    await waitFor('first call', () => app.calls.length === 1);
    const stopped = w.stop(5000);
    setTimeout(() => finishFirst(ok()), 50);
    await stopped;
    expect(app.seqsOf('A')).toEqual([1]);
    expect(queue.deleted).toEqual(['msg-1']);
    expect(released).toEqual([{ count: 3, reason: 'shutdown' }]);
    expect(queue.visibilityCalls.at(-1)?.map((e) => e.seconds)).toEqual([0, 0, 0]);
  });

  it('aborts deliveries still running when the grace runs out and releases them', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    const app = new ScriptedApp(
      (_m, signal) =>
        new Promise((resolve) => signal.addEventListener('abort', () => resolve({ kind: 'aborted', durationMs: 1, detail: 'aborted' }))),
    );
    const w = new Worker(options(), { queue, ledger: new MemoryLedger(), app });
    const stoppedEvents = collect(w, 'stopped');
    w.start();
    await waitFor('call started', () => app.calls.length === 1);
    await w.stop(50);
    expect(stoppedEvents).toEqual([{ abortedDeliveries: 1, hardDeadline: false, releasedAtDeadline: 0 }]);
    expect(queue.size).toBe(1);
    expect(queue.visibilityCalls.at(-1)).toEqual([expect.objectContaining({ seconds: 0 })]);
    expect(queue.deleted).toEqual([]);
  });

  it('renews the visibility of held messages while a slow call runs', async () => {
    const queue = new MemoryFifoQueue(5);
    queue.send('A', 'a1', seqAttr(1));
    queue.send('A', 'a2', seqAttr(2));
    const app = new ScriptedApp((m) => (m.seq.text === '1' ? new Promise((r) => setTimeout(() => r(ok()), 3500)) : ok()));
    worker = new Worker(options({ visibilityTimeoutSeconds: 5 }), { queue, ledger: new MemoryLedger(), app });
    const beats = collect(worker, 'heartbeat');
    worker.start();
    await waitFor('drained', () => queue.size === 0, 10_000);
    // Both held messages (the one in the app and the one waiting behind it) were renewed.
    expect(beats.reduce((n, b) => n + b.extended, 0)).toBeGreaterThanOrEqual(2);
    expect(app.calls).toHaveLength(2);
  });

  it('does not strand a source whose messages SQS hands out again while its lane is letting go', async () => {
    // The visibility call is acknowledged late: by then the other poller has the group again.
    class SlowAck extends MemoryFifoQueue {
      override async changeVisibility(entries: VisibilityEntry[]) {
        const r = await super.changeVisibility(entries);
        if (entries.some((e) => e.seconds > 0)) await sleep(1500);
        return r;
      }
    }
    const queue = new SlowAck();
    for (let i = 1; i <= 3; i++) queue.send('A', `a${i}`, seqAttr(i));
    let first = true;
    const app = new ScriptedApp(() => (first ? ((first = false), fail(503, 0)) : ok()));
    worker = new Worker(options({ receiveConcurrency: 2 }), { queue, ledger: new MemoryLedger(), app });
    worker.start();
    await waitFor('drained', () => queue.size === 0, 10_000);
    expect(app.seqsOf('A')).toEqual([1, 1, 2, 3]);
    expect(worker.stats().heldMessages).toBe(0);
  });

  it('hands a message back instead of calling the app when SQS could no longer keep it hidden through the call', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('A', 'a1', seqAttr(1));
    queue.send('A', 'a2', seqAttr(2));
    let shift = 0;
    const app = new ScriptedApp((m) => {
      // Nearly twelve hours pass during the first call: the second message's receive is too old.
      if (m.seq.text === '1') shift = (12 * 3600 - 60) * 1000;
      return ok();
    });
    worker = new Worker(options(), { queue, ledger: new MemoryLedger(), app, now: () => Date.now() + shift });
    const released = collect(worker, 'released');
    worker.start();
    await waitFor('drained', () => queue.size === 0);
    // A poll already open when the clock jumped may bring it back once more with its old receive time.
    expect(released.length).toBeGreaterThanOrEqual(1);
    expect(released.every((r) => r.count === 1 && r.reason === 'visibility-limit')).toBe(true);
    expect(app.seqsOf('A')).toEqual([1, 2]);
  });
});
