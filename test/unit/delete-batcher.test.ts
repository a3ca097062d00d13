import type { BatchFailure, QueueEntry } from '../../src/adapters/sqs-queue';
import { DeleteBatcher } from '../../src/worker/delete-batcher';

interface Call {
  ids: string[];
  done(failures?: BatchFailure[]): void;
  fail(err: Error): void;
}

/** A DeleteMessageBatch stand-in whose calls return only when the test says so. */
function harness(opts: { flushMs: number; maxInFlight?: number }) {
  const calls: Call[] = [];
  const errors: Array<{ error: Error; ids: string[] }> = [];
  const failures: BatchFailure[] = [];
  const batcher = new DeleteBatcher({
    deleteBatch: (entries) =>
      new Promise<BatchFailure[]>((resolve, reject) => calls.push({ ids: entries.map((e) => e.messageId), done: (f = []) => resolve(f), fail: reject })),
    onFailures: (f) => failures.push(...f),
    onError: (error, entries) => errors.push({ error, ids: entries.map((e) => e.messageId) }),
    ...opts,
  });
  return { batcher, calls, errors, failures };
}

const entry = (id: string): QueueEntry => ({ messageId: id, receiptHandle: `rh-${id}` });
const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);
/** Lets setImmediate callbacks and promise continuations run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

describe('DeleteBatcher (group commit)', () => {
  it('deletes a lone message at once, without waiting for the flush bound', async () => {
    const h = harness({ flushMs: 60_000 });
    h.batcher.add(entry('m1'));
    await turn();
    expect(h.calls.map((c) => c.ids)).toEqual([['m1']]);
    h.calls[0]?.done();
    await h.batcher.drain();
  });

  it('sends messages finished in the same turn together', async () => {
    const h = harness({ flushMs: 60_000 });
    for (const id of ids(1, 3)) h.batcher.add(entry(id));
    await turn();
    expect(h.calls.map((c) => c.ids)).toEqual([ids(1, 3)]);
    h.calls[0]?.done();
    await h.batcher.drain();
  });

  it('collects what finishes while a delete is in flight into the next call, sent when that one returns', async () => {
    const h = harness({ flushMs: 60_000 });
    h.batcher.add(entry('m1'));
    await turn();
    for (const id of ids(2, 6)) {
      h.batcher.add(entry(id));
      await turn();
    }
    expect(h.calls).toHaveLength(1);
    h.calls[0]?.done();
    await until('second call', () => h.calls.length === 2);
    expect(h.calls[1]?.ids).toEqual(ids(2, 6));
    h.calls[1]?.done();
    await h.batcher.drain();
    expect(h.calls).toHaveLength(2);
  });

  it('sends a full batch of ten even while another call is in flight', async () => {
    const h = harness({ flushMs: 60_000 });
    h.batcher.add(entry('m0'));
    await turn();
    for (const id of ids(1, 12)) h.batcher.add(entry(id));
    expect(h.calls.map((c) => c.ids)).toEqual([['m0'], ids(1, 10)]);
    for (const c of h.calls) c.done();
    await until('the rest', () => h.calls.length === 3);
    expect(h.calls[2]?.ids).toEqual(ids(11, 12));
    h.calls[2]?.done();
    await h.batcher.drain();
  });

  it('keeps up to maxInFlight partial calls in flight', async () => {
    const h = harness({ flushMs: 60_000, maxInFlight: 2 });
    h.batcher.add(entry('m1'));
    await turn();
    h.batcher.add(entry('m2'));
    await turn();
    h.batcher.add(entry('m3'));
    await turn();
    expect(h.calls.map((c) => c.ids)).toEqual([['m1'], ['m2']]);
    h.calls[0]?.done();
    await until('third call', () => h.calls.length === 3);
    expect(h.calls[2]?.ids).toEqual(['m3']);
    for (const c of h.calls.slice(1)) c.done();
    await h.batcher.drain();
  });

  it('sends a waiting message after flushMs when the call in flight does not return', async () => {
    const h = harness({ flushMs: 20 });
    h.batcher.add(entry('m1'));
    await turn();
    h.batcher.add(entry('m2'));
    await until('the bound to send m2', () => h.calls.length === 2);
    expect(h.calls[1]?.ids).toEqual(['m2']);
    for (const c of h.calls) c.done();
    await h.batcher.drain();
  });

  it('reports a failed call with its own entries and per-entry failures, and drain waits for every call', async () => {
    const h = harness({ flushMs: 60_000 });
    h.batcher.add(entry('m1'));
    await turn();
    h.batcher.add(entry('m2'));
    let drained = false;
    const draining = h.batcher.drain().then(() => (drained = true));
    expect(h.calls.map((c) => c.ids)).toEqual([['m1'], ['m2']]);
    h.calls[0]?.fail(new Error('boom'));
    await turn();
    expect(drained).toBe(false);
    h.calls[1]?.done([{ messageId: 'm2', code: 'ReceiptHandleIsInvalid', message: 'x', senderFault: true } as BatchFailure]);
    await draining;
    expect(h.errors).toEqual([{ error: new Error('boom'), ids: ['m1'] }]);
    expect(h.failures.map((f) => f.messageId)).toEqual(['m2']);
  });
});
