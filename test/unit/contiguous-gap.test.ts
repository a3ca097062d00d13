import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { Replayer } from '../../src/worker/replayer';
import { parkSource, unparkSource } from '../../src/cli/source-actions';
import type { WorkerEvents } from '../../src/worker/events';
import { sha256, type JournalEntry } from '../../src/adapters/journal';
import { contiguousStep, fillPlan, mayDeclareLost } from '../../src/core/contiguity';
import { ACTIVE_UNKNOWN } from '../../src/core/source-state';
import { advancePosition } from '../../src/core/ledger-position';
import type { Sequence } from '../../src/core/message';
import { MemoryFifoQueue, QUEUE_ID, ScriptedApp, fail, ok, seqAttr } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';
import { waitFor } from '../support/fixtures';

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
  retentionSeconds: 3600,
  retentionParkShare: 0.75,
  ...over,
});

function collect<K extends keyof WorkerEvents & string>(worker: Worker, event: K): Array<WorkerEvents[K][0]> {
  const seen: Array<WorkerEvents[K][0]> = [];
  worker.on(event, ((e: WorkerEvents[K][0]) => seen.push(e)) as never);
  return seen;
}

const ports = (t: MemorySourceTable) => ({ control: t.control, journal: t, audit: t });

const producerSeq = (n: number): Sequence => ({ kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: 0n, queueId: '' });

/** A producer's journal-first entry, as the producer library writes it. */
function producerEntry(sourceId: string, n: number): JournalEntry {
  const body = `${sourceId}-${n}`;
  return { sourceId, seq: producerSeq(n), messageId: `j-${sourceId}-${n}`, contentType: 'text/plain', body, bodySha256: sha256(body), sentAt: Date.now(), firstSeenAt: Date.now(), journaledAt: Date.now() - 60_000 };
}

/** A contiguous source delivered up to `position`, with producer entries journaled for `journaled`. */
async function contiguousSource(table: MemorySourceTable, sourceId: string, position: number, journaled: number[]): Promise<void> {
  table.touch(sourceId);
  table.contiguous.add(sourceId);
  let pos;
  for (let s = 1; s <= position; s++) pos = advancePosition(pos, producerSeq(s));
  if (pos) table.positions.set(sourceId, pos);
  for (const n of journaled) await table.put(producerEntry(sourceId, n));
}

describe('contiguous sources: exactly next, gaps filled from the journal or held', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('pure: next, covered, ahead, and the fill stops at the first hole', () => {
    expect(contiguousStep(6n, 5n)).toEqual({ kind: 'next' });
    expect(contiguousStep(5n, 5n)).toEqual({ kind: 'covered' });
    expect(contiguousStep(1n, undefined)).toEqual({ kind: 'next' });
    expect(contiguousStep(9n, 5n)).toEqual({ kind: 'ahead', from: 6n, to: 8n });
    expect(fillPlan({ from: 6n, to: 8n }, [6n, 7n, 8n])).toEqual({ fill: [6n, 7n, 8n] });
    expect(fillPlan({ from: 6n, to: 8n }, [6n, 8n])).toEqual({ fill: [6n], missing: 7n });
    expect(fillPlan({ from: 6n, to: 8n }, [7n, 8n])).toEqual({ fill: [], missing: 6n });
  });

  it('pure: declare-lost only for exactly the missing seq of a contiguous source held at a gap older than the quiet period', () => {
    const held = { ...ACTIVE_UNKNOWN, exists: true, contiguous: true, position: { producerSeq: 5n }, gap: { seq: 6n, since: 1_000 } };
    const at = { seq: 6n, nowMs: 100_000, quietMs: 60_000 };
    expect(mayDeclareLost('A', held, at)).toEqual({ ok: true });
    expect(mayDeclareLost('A', held, { ...at, seq: 7n })).toMatchObject({ ok: false, reason: expect.stringMatching(/not the missing seq/) });
    expect(mayDeclareLost('A', held, { ...at, nowMs: 30_000 })).toMatchObject({ ok: false, reason: expect.stringMatching(/quiet period/) });
    expect(mayDeclareLost('A', { ...held, gap: undefined }, at)).toMatchObject({ ok: false, reason: expect.stringMatching(/not held at a gap/) });
    expect(mayDeclareLost('A', { ...held, contiguous: undefined }, at)).toMatchObject({ ok: false, reason: expect.stringMatching(/not contiguous/) });
    expect(mayDeclareLost('A', ACTIVE_UNKNOWN, at)).toMatchObject({ ok: false });
  });

  it('seq 7 arriving at position 5 delivers 6 from the journal first, then 7; the late SQS copy of 6 is a duplicate', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    await contiguousSource(table, 'A', 5, [6, 7]);
    const app = new ScriptedApp();
    queue.send('A', 'A-7', { ...seqAttr(7), journaled: { DataType: 'String', StringValue: '1' } });
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table) });
    const dup = collect(worker, 'duplicateSkipped');
    worker.start();
    await waitFor('7 delivered and deleted', () => queue.size === 0);
    expect(app.seqsOf('A')).toEqual([6, 7]);
    expect(table.positions.get('A')?.producerSeq).toBe(7n);
    queue.send('A', 'A-6', seqAttr(6));
    await waitFor('late 6 deleted', () => queue.size === 0);
    expect(dup).toHaveLength(1);
    expect(app.seqsOf('A')).toEqual([6, 7]);
  });

  it('a seq in neither the queue nor the journal holds the source as a gap; it is delivered once the hole fills, never past it', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    await contiguousSource(table, 'A', 5, [7]);
    const app = new ScriptedApp();
    queue.send('A', 'A-7', seqAttr(7));
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table) });
    const gaps = collect(worker, 'gapHeld');
    worker.start();
    await waitFor('gap held', () => gaps.length >= 1);
    expect(gaps[0]?.missing).toBe(6n);
    expect(app.calls).toEqual([]);
    expect(queue.size).toBe(1);
    expect(queue.deleted).toEqual([]);
    expect(table.gaps.get('A')?.seq).toBe(6n);
    expect(table.positions.get('A')?.producerSeq).toBe(5n);
    // The head keeps its retention deadline on its failure record (rule 3), so status shows it.
    expect(table.failures.at(-1)?.failure.error).toMatch(/gap/);
    expect(table.failures.at(-1)?.failure.retentionDeadlineAt).toBeDefined();

    // Still missing on the next attempt: held again, nothing delivered.
    queue.expireAll();
    await waitFor('second gap hold', () => gaps.length >= 2);
    expect(app.calls).toEqual([]);

    // The producer's send of 6 never came, but its entry does appear (a slow claim): 6 then 7.
    await table.put(producerEntry('A', 6));
    queue.expireAll();
    await waitFor('7 delivered', () => queue.size === 0);
    expect(app.seqsOf('A')).toEqual([6, 7]);
    expect(table.gaps.has('A')).toBe(false);
  });

  it('a failing fill from the journal keeps the SQS head and delivers nothing past it', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    await contiguousSource(table, 'A', 0, [1, 2, 3]);
    let failing = true;
    const app = new ScriptedApp((m) => (failing && m.seq.text === '2' ? fail(503) : ok()));
    queue.send('A', 'A-3', seqAttr(3));
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table) });
    const failed = collect(worker, 'deliveryFailed');
    worker.start();
    await waitFor('2 failed', () => failed.length >= 1);
    expect(app.seqsOf('A')).toEqual([1, 2]);
    expect(table.positions.get('A')?.producerSeq).toBe(1n);
    expect(queue.size).toBe(1);
    failing = false;
    queue.expireAll();
    await waitFor('3 delivered', () => queue.size === 0);
    expect(app.seqsOf('A')).toEqual([1, 2, 2, 3]);
    expect(table.positions.get('A')?.producerSeq).toBe(3n);
  });

  it('a source not declared contiguous keeps forward-only delivery (strictly increasing seqs)', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    table.touch('B');
    const app = new ScriptedApp();
    queue.send('B', 'b10', seqAttr(10));
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table) });
    worker.start();
    await waitFor('delivered', () => queue.size === 0);
    expect(app.seqsOf('B')).toEqual([10]);
  });

  it('the contiguous advance is exact-next: a write that would pass a hole is refused, a covered one is stale', async () => {
    const table = new MemorySourceTable();
    await contiguousSource(table, 'A', 5, []);
    await expect(table.advance('A', producerSeq(8), 'm8', Date.now(), { exactNext: true })).rejects.toThrow(/exact-next/);
    expect(table.positions.get('A')?.producerSeq).toBe(5n);
    expect(await table.advance('A', producerSeq(5), 'm5', Date.now(), { exactNext: true })).toMatchObject({ status: 'stale' });
    expect(await table.advance('A', producerSeq(6), 'm6', Date.now(), { exactNext: true })).toEqual({ status: 'advanced' });
  });

  it('a journal entry younger than a producer may rewrite it is not delivered yet, and is no gap', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    await contiguousSource(table, 'A', 0, [2]);
    await table.put({ ...producerEntry('A', 1), journaledAt: Date.now() });
    const app = new ScriptedApp();
    queue.send('A', 'A-2', seqAttr(2));
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table) });
    const held = collect(worker, 'heldForState');
    const gaps = collect(worker, 'gapHeld');
    worker.start();
    await waitFor('held while 1 settles', () => held.length >= 1);
    expect(app.calls).toEqual([]);
    expect(gaps).toEqual([]);
    expect(table.gaps.has('A')).toBe(false);
  });

  it('replay of a parked contiguous source stops at a gap and goes on once the missing seq is journaled', async () => {
    const table = new MemorySourceTable();
    await contiguousSource(table, 'A', 5, [6, 8]);
    const act = { actor: 'op', reason: 'test' };
    await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now() });
    await unparkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now(), dryRun: false, limit: 10 });
    const app = new ScriptedApp();
    const r = new Replayer(
      { ...ports(table), ledger: table, app, listReplaying: async () => ['A'] },
      { owner: 'r1', leaseMs: 30_000, pollMs: 10, batch: 2, maxBackoffMs: 100 },
    );
    expect(await r.replay('A')).toBe('failed');
    expect(app.seqsOf('A')).toEqual([6]);
    expect(table.positions.get('A')?.producerSeq).toBe(6n);
    await table.put(producerEntry('A', 7));
    expect(await r.replay('A')).toBe('done');
    expect(app.seqsOf('A')).toEqual([6, 7, 8]);
  });

  it('a journaled-marked message of a parked source finds its entry (exists), keeps it as the one entry, and is deleted only after the bump', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    await contiguousSource(table, 'A', 2, [3]);
    await parkSource(ports(table), { sourceId: 'A', actor: 'op', reason: 'test', nowMs: Date.now() });
    const journaledAttr = { journaled: { DataType: 'String', StringValue: '1' } };
    queue.send('A', 'A-3', { ...seqAttr(3), ...journaledAttr });
    table.gates.arm('bumpJournal');
    worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(), parking: ports(table) });
    const journaled = collect(worker, 'journaled');
    const held = collect(worker, 'heldForState');
    worker.start();
    await table.gates.reached('bumpJournal');
    // The put found the producer's entry: still one entry for seq 3, with the producer's id, and nothing deleted before the bump.
    expect(table.entriesOf('A').map((e) => [e.seq.text, e.messageId])).toEqual([['3', 'j-A-3']]);
    expect(queue.deleted).toEqual([]);
    table.gates.release('bumpJournal');
    await waitFor('journaled', () => journaled.length === 1);
    expect(journaled[0]?.written).toBe(false);
    await waitFor('deleted after the bump', () => queue.size === 0);
    expect(table.snapshot('A').journalVersion).toBe(1);

    // Same again, but the replay reaches its closing drain before the bump lands: the bump fails, the message stays.
    table.states.set('A', { ...table.states.get('A')!, state: 'closing' });
    await table.put(producerEntry('A', 4));
    table.states.set('A', { ...table.states.get('A')!, state: 'parked' });
    queue.send('A', 'A-4', { ...seqAttr(4), ...journaledAttr });
    table.gates.arm('bumpJournal');
    await table.gates.reached('bumpJournal');
    table.states.set('A', { ...table.states.get('A')!, state: 'closing' });
    table.gates.release('bumpJournal');
    await waitFor('held', () => held.length >= 1);
    expect(queue.size).toBe(1);
    expect(table.entriesOf('A').filter((e) => e.seq.text === '4')).toHaveLength(1);
  });
});
