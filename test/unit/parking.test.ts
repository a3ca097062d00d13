import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { Replayer } from '../../src/worker/replayer';
import { parkSource, skipHead, unparkSource } from '../../src/cli/source-actions';
import type { DeliveryOutcome } from '../../src/adapters/http-app';
import { MemoryFifoQueue, QUEUE_ID, ScriptedApp, fail, ok, seqAttr } from '../support/in-memory';
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
  retentionSeconds: 100,
  retentionParkShare: 0.75,
  ...over,
});

const ports = (t: MemorySourceTable) => ({ control: t.control, journal: t, audit: t });
const act = { actor: 'op', reason: 'test' };

function replayer(t: MemorySourceTable, app: ScriptedApp, owner = 'r1', now: () => number = Date.now): Replayer {
  return new Replayer(
    { ...ports(t), ledger: t, app, now, listReplaying: async () => [...t.states].filter(([, f]) => f.state === 'replaying' || f.state === 'closing').map(([id]) => id) },
    { owner, leaseMs: 30_000, pollMs: 10, batch: 2, maxBackoffMs: 100 },
  );
}

describe('parking on in-memory ports: the rules of docs/parking.md', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('rule 1: reads the source state once per receive (batched), and a cached position is not proof once the source is parked', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    const app = new ScriptedApp();
    queue.send('A', 'a1', seqAttr(1));
    queue.send('B', 'b1', seqAttr(1));
    queue.send('C', 'c1', seqAttr(1));
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table) });
    const received = collect(worker, 'received');
    const journaled = collect(worker, 'journaled');
    worker.start();
    await waitFor('first three delivered', () => queue.size === 0);
    expect(table.batchReads).toBe(received.length);
    expect(table.batchReads).toBeLessThan(3);

    // A's position is cached in this task now; the operator parks A from outside.
    expect((await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now() })).ok).toBe(true);
    queue.send('A', 'a2', seqAttr(2));
    await waitFor('a2 journaled', () => journaled.length === 1);
    expect(app.seqsOf('A')).toEqual([1]);
    expect(table.entriesOf('A').map((e) => e.seq.text)).toEqual(['2']);
    await waitFor('a2 deleted from SQS', () => queue.size === 0);
  });

  it('rule 2 / park while the head is mid-delivery: the 2xx is recorded, later messages go to the journal', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    table.touch('A');
    let answer: (o: DeliveryOutcome) => void = () => undefined;
    const app = new ScriptedApp((m) => (m.seq.text === '1' ? new Promise<DeliveryOutcome>((r) => (answer = r)) : ok()));
    queue.send('A', 'a1', seqAttr(1));
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table) });
    const journaled = collect(worker, 'journaled');
    worker.start();
    await waitFor('a1 in flight', () => app.calls.length === 1);
    expect((await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now() })).ok).toBe(true);
    queue.send('A', 'a2', seqAttr(2));
    answer(ok());
    await waitFor('a2 journaled', () => journaled.length === 1);
    expect(table.positions.get('A')?.producerSeq).toBe(1n);
    expect(app.seqsOf('A')).toEqual([1]);
    expect(table.entriesOf('A').map((e) => e.seq.text)).toEqual(['2']);
  });

  it('rule 3: a backoff never carries a failing head past its park deadline', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    queue.send('A', 'a1', seqAttr(1));
    // Sent 70 s ago on a 100 s queue: the park deadline (75 s) is 5 s away, the backoff asks for 60.
    worker = new Worker(options({ retry: { baseSeconds: 60, maxSeconds: 60 } }), { queue, ledger: table, app: new ScriptedApp(() => fail(503)), parking: ports(table), now: () => Date.now() + 70_000, random: () => 0.99 });
    const failed = collect(worker, 'deliveryFailed');
    worker.start();
    await waitFor('failure', () => failed.length === 1);
    expect(failed[0]?.backoffSeconds).toBeLessThanOrEqual(5);
    expect(failed[0]?.backoffSeconds).toBeGreaterThanOrEqual(4);
  });

  it('rule 4: journal entry first, then the bump, then the delete; a failed bump keeps the message in SQS', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    table.touch('A');
    await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now() });
    queue.send('A', 'a1', seqAttr(1));
    table.gates.arm('bumpJournal');
    worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(), parking: ports(table) });
    const held = collect(worker, 'heldForState');
    worker.start();
    await table.gates.reached('bumpJournal');
    expect(table.entriesOf('A')).toHaveLength(1);
    expect(queue.deleted).toEqual([]);
    // The replay reaches its closing drain before the bump lands: the bump fails and the message stays.
    table.states.set('A', { ...table.states.get('A')!, state: 'closing' });
    table.gates.release('bumpJournal');
    await waitFor('held', () => held.length === 1);
    expect(queue.deleted).toEqual([]);
    expect(queue.size).toBe(1);
  });

  it('unpark while a worker journals a new message: delivered once, in order, and the SQS copy is then a duplicate', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    table.touch('A');
    await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now() });
    const app = new ScriptedApp();
    queue.send('A', 'a1', seqAttr(1));
    queue.send('A', 'a2', seqAttr(2));
    table.gates.arm('bumpJournal');
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table) });
    const dup = collect(worker, 'duplicateSkipped');
    worker.start();
    await table.gates.reached('bumpJournal');
    // a1 is journaled but not yet bumped: the operator unparks and the replayer runs to the end.
    expect((await unparkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now(), dryRun: false, limit: 10 })).ok).toBe(true);
    expect(await replayer(table, app).replay('A')).toBe('done');
    expect(table.snapshot('A').state).toBe('active');
    table.gates.release('bumpJournal');
    await waitFor('drained', () => queue.size === 0);
    expect(app.seqsOf('A')).toEqual([1, 2]);
    expect(dup).toHaveLength(1);
  });

  it('rule 5: a paused replayer finishing after a new park changes nothing; two replayers never share a source', async () => {
    const table = new MemorySourceTable();
    table.touch('A');
    await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now() });
    const sentAt = Date.now();
    for (const n of [1, 2, 3]) {
      await table.put({ sourceId: 'A', seq: { kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: BigInt(n), queueId: QUEUE_ID }, messageId: `m${n}`, contentType: 'text/plain', body: `a${n}`, bodySha256: `h${n}`, sentAt, firstSeenAt: sentAt, journaledAt: sentAt });
    }
    await unparkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now(), dryRun: false, limit: 10 });
    let answer: (o: DeliveryOutcome) => void = () => undefined;
    const app = new ScriptedApp((m) => (m.seq.text === '2' ? new Promise<DeliveryOutcome>((r) => (answer = r)) : ok()));
    const r1 = replayer(table, app, 'task-1').replay('A');
    await waitFor('r1 delivering 2', () => app.calls.length === 2);
    // Another task's replayer finds the lease taken.
    expect(await replayer(table, app, 'task-2').replay('A')).toBe('busy');
    // The operator parks again while r1 is paused in its app call.
    expect((await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now() })).ok).toBe(true);
    answer(ok());
    expect(await r1).toBe('superseded');
    expect(table.snapshot('A').state).toBe('parked');
    expect(app.seqsOf('A')).toEqual([1, 2]);
    expect(table.positions.get('A')?.producerSeq).toBe(2n);
  });

  it('a replayer killed mid-replay: another task takes over after the lease and delivers the rest in order', async () => {
    const table = new MemorySourceTable();
    table.touch('A');
    await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now() });
    for (const n of [1, 2, 3]) {
      await table.put({ sourceId: 'A', seq: { kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: BigInt(n), queueId: QUEUE_ID }, messageId: `m${n}`, contentType: 'text/plain', body: `a${n}`, bodySha256: `h${n}`, sentAt: 1, firstSeenAt: 1, journaledAt: 1 });
    }
    await unparkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now(), dryRun: false, limit: 10 });
    const app: ScriptedApp = new ScriptedApp((m): Promise<DeliveryOutcome> | DeliveryOutcome => (m.seq.text === '2' && app.calls.length === 2 ? new Promise<DeliveryOutcome>(() => undefined) : ok()));
    void replayer(table, app, 'dies').replay('A'); // hangs forever in its call for seq 2: a killed task
    await waitFor('dying replayer sent 2', () => app.calls.length === 2);
    expect(await replayer(table, app, 'task-2').replay('A')).toBe('busy');
    const later = () => Date.now() + 60_000;
    expect(await replayer(table, app, 'task-2', later).replay('A')).toBe('done');
    expect(app.seqsOf('A')).toEqual([1, 2, 2, 3]);
    expect(table.snapshot('A').state).toBe('active');
    expect(table.entriesOf('A')).toEqual([]);
  });

  it('rule 6: skip refuses anything but the head of a parked, quiet source; then moves past it and keeps its body', async () => {
    const table = new MemorySourceTable();
    table.touch('A');
    const p = ports(table);
    const t0 = Date.now();
    expect(await skipHead(p, { sourceId: 'A', ...act, nowMs: t0, seq: '1', quietMs: 1000 })).toMatchObject({ ok: false, line: expect.stringContaining('not parked') });
    await parkSource(p, { sourceId: 'A', ...act, nowMs: t0 });
    for (const n of [1, 2]) {
      await table.put({ sourceId: 'A', seq: { kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: BigInt(n), queueId: QUEUE_ID }, messageId: `m${n}`, contentType: 'text/plain', body: `a${n}`, bodySha256: `h${n}`, sentAt: 1, firstSeenAt: 1, journaledAt: 1 });
    }
    expect(await skipHead(p, { sourceId: 'A', ...act, nowMs: t0 + 500, seq: '1', quietMs: 1000 })).toMatchObject({ ok: false, line: expect.stringContaining('quiet period') });
    expect(await skipHead(p, { sourceId: 'A', ...act, nowMs: t0 + 2000, seq: '2', quietMs: 1000 })).toMatchObject({ ok: false, line: expect.stringContaining('the head is 1') });
    expect(await skipHead(p, { sourceId: 'nobody', ...act, nowMs: t0 + 2000, seq: '1', quietMs: 1000 })).toMatchObject({ ok: false, line: expect.stringContaining('unknown source') });
    expect(table.audits.map((a) => a.action)).toEqual(['park']);
    expect((await skipHead(p, { sourceId: 'A', ...act, nowMs: t0 + 2000, seq: '1', quietMs: 1000 })).ok).toBe(true);
    expect(table.positions.get('A')?.producerSeq).toBe(1n);
    expect(table.entriesOf('A')[0]).toMatchObject({ body: 'a1', skippedAt: t0 + 2000 });
    expect(table.audits.map((a) => a.action)).toEqual(['park', 'skip']);
    expect(table.snapshot('A').state).toBe('parked');
  });

  it('operator refusals change nothing: park twice, unpark an active source, unknown source', async () => {
    const table = new MemorySourceTable();
    table.touch('A');
    const p = ports(table);
    expect(await parkSource(p, { sourceId: 'nobody', ...act, nowMs: 1 })).toMatchObject({ ok: false, line: expect.stringContaining('unknown source') });
    expect(await unparkSource(p, { sourceId: 'A', ...act, nowMs: 1, dryRun: false, limit: 10 })).toMatchObject({ ok: false, line: expect.stringContaining('is not parked') });
    expect((await parkSource(p, { sourceId: 'A', ...act, nowMs: 1 })).ok).toBe(true);
    const before = table.snapshot('A');
    expect(await parkSource(p, { sourceId: 'A', ...act, nowMs: 2 })).toMatchObject({ ok: false, line: expect.stringContaining('already parked') });
    expect(table.snapshot('A')).toEqual(before);
    expect(table.audits).toHaveLength(1);
  });

  it('rule 7: the watchdog journals an aged failing head and parks its source, loudly and audited', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    queue.send('A', 'a1', seqAttr(1));
    queue.send('A', 'a2', seqAttr(2));
    worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(() => fail(500)), parking: ports(table), now: () => Date.now() + 80_000 });
    const parked = collect(worker, 'autoParked');
    const journaled = collect(worker, 'journaled');
    worker.start();
    await waitFor('auto-parked', () => parked.length === 1);
    expect(table.audits.map((a) => a.action)).toEqual(['auto-park']);
    await waitFor('a2 journaled too', () => journaled.length === 1);
    // The auto-park journaled the head (one bump in the same write), the next receive journaled a2.
    expect(table.snapshot('A')).toMatchObject({ state: 'parked', stateActor: 'fifo-relay watchdog', journalVersion: 2 });
    expect(table.entriesOf('A').map((e) => e.seq.text)).toEqual(['1', '2']);
    await waitFor('SQS empty', () => queue.size === 0);
  });

  it('rule 7: a success landing while the watchdog parks wins; the source stays active', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    queue.send('A', 'a1', seqAttr(1));
    table.gates.arm('autoPark');
    worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(() => fail(500)), parking: ports(table), now: () => Date.now() + 80_000 });
    const held = collect(worker, 'heldForState');
    worker.start();
    await table.gates.reached('autoPark');
    // Another task's delivery of seq 1 succeeds and is recorded at this very moment.
    await table.advance('A', { kind: 'producer', value: 1n, text: '1', key: '1', sqs: 1n, queueId: QUEUE_ID });
    table.gates.release('autoPark');
    await waitFor('watchdog backed off', () => held.length === 1);
    expect(table.snapshot('A').state).toBe('active');
    expect(table.audits).toEqual([]);
  });
});
