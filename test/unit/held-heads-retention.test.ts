import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { sha256 } from '../../src/adapters/journal';
import { MemoryFifoQueue, QUEUE_ID, ScriptedApp, seqAttr } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';
import { waitFor } from '../support/fixtures';
import { collect } from '../support/worker-events';

const options = (over: Partial<WorkerOptions> = {}): WorkerOptions => ({
  queueId: QUEUE_ID,
  maxConcurrentSources: 4,
  receiveConcurrency: 1,
  visibilityTimeoutSeconds: 30,
  retry: { baseSeconds: 60, maxSeconds: 60 },
  deleteFlushMs: 1,
  ledgerCacheSize: 1000,
  recordFailures: true,
  appTimeoutMs: 5000,
  retentionSeconds: 100,
  retentionParkShare: 0.75,
  ...over,
});

const ports = (t: MemorySourceTable) => ({ control: t.control, journal: t, audit: t });
const closing = (t: MemorySourceTable, id: string) => {
  t.touch(id);
  t.states.set(id, { state: 'closing', controlVersion: 3, journalVersion: 1, stateSince: Date.now(), replayOwner: 'r' });
};

describe('every held head, whatever its state, is journaled before its deadline or shown with its time left', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('a head held because its source is closing gets a failure record with its retention deadline', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    closing(table, 'A');
    queue.send('A', 'a1', seqAttr(1));
    worker = new Worker(options({ retry: { baseSeconds: 1, maxSeconds: 1 } }), { queue, ledger: table, app: new ScriptedApp(), parking: ports(table) });
    const held = collect(worker, 'heldForState');
    worker.start();
    await waitFor('held for closing', () => held.length >= 1);
    await waitFor('recorded', () => table.failures.some((f) => f.sourceId === 'A'));
    const f = table.failures.find((x) => x.sourceId === 'A')?.failure;
    expect(f).toMatchObject({ seq: '1', retentionDeadlineAt: expect.any(Number) });
    expect(f?.error).toContain('closing');
  });

  it('a head held by a closing source past its park deadline is journaled and the source parked', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    closing(table, 'A');
    queue.send('A', 'a1', seqAttr(1));
    // 80 s after sending on a 100 s queue: past the 75 % park deadline.
    worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(), parking: ports(table), now: () => Date.now() + 80_000 });
    const parked = collect(worker, 'autoParked');
    worker.start();
    await waitFor('auto-parked', () => parked.length === 1);
    expect(table.snapshot('A').state).toBe('parked');
    expect(table.entriesOf('A').map((e) => e.seq.text)).toEqual(['1']);
    await waitFor('deleted', () => queue.size === 0);
  });

  it('a journal conflict of a parked source backs off to a try before SQS retention (not a base backoff past it) and is recorded with its deadline', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    table.touch('A');
    table.states.set('A', { state: 'parked', controlVersion: 1, journalVersion: 0, stateSince: Date.now() });
    const seq = { kind: 'producer' as const, value: 1n, text: '1', key: '1', sqs: 1n, queueId: QUEUE_ID };
    await table.put({ sourceId: 'A', seq, messageId: 'other', contentType: 'text/plain', body: 'another body', bodySha256: sha256('another body'), sentAt: 1, firstSeenAt: 1, journaledAt: 1 });
    queue.send('A', 'a1', seqAttr(1));
    // 70 s after sending: SQS retention (100 s) is 30 s away, the backoff asks for 60.
    worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(), parking: ports(table), now: () => Date.now() + 70_000, random: () => 0.99 });
    const errors = collect(worker, 'journalError');
    worker.start();
    await waitFor('conflict', () => errors.length === 1);
    expect(errors[0]?.conflict).toBe(true);
    expect(errors[0]?.backoffSeconds).toBeGreaterThan(0);
    expect(errors[0]?.backoffSeconds).toBeLessThanOrEqual(15);
    await waitFor('recorded', () => table.failures.some((f) => f.sourceId === 'A'));
    expect(table.failures.find((x) => x.sourceId === 'A')?.failure.retentionDeadlineAt).toEqual(expect.any(Number));
  });
});

describe('a seq-regression head is journaled aside before its deadline, never dropped by SQS', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('past the park deadline the holder puts it aside (body kept), parks the source, audits, and deletes it from SQS', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    // Seq 5 was delivered from this queue at SequenceNumber 0; seq 1 arrives after it.
    await table.advance('A', { kind: 'producer', value: 5n, text: '5', key: '5', sqs: 0n, queueId: QUEUE_ID });
    queue.send('A', 'late one', seqAttr(1));
    worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(), parking: { ...ports(table), aside: table }, now: () => Date.now() + 80_000 });
    const invalid = collect(worker, 'invalidMessage');
    worker.start();
    await waitFor('aside', () => table.asides.length === 1);
    expect(table.asides[0]).toMatchObject({ sourceId: 'A', reason: 'seq-regression', body: 'late one', seqText: '1' });
    await waitFor('deleted from SQS', () => queue.size === 0);
    expect(table.snapshot('A').state).toBe('parked');
    expect(table.audits.map((a) => a.action)).toEqual(['aside']);
    expect(invalid.length).toBeLessThanOrEqual(1);
  });
});
