import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { STANDING_MAX_AGE_MS } from '../../src/worker/standing-reads';
import { parkSource } from '../../src/cli/source-actions';
import type { DeliveryOutcome } from '../../src/adapters/http-app';
import { MemoryFifoQueue, QUEUE_ID, ScriptedApp, ok, seqAttr } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';
import { waitFor } from '../support/fixtures';
import { collect } from '../support/worker-events';

const options = (over: Partial<WorkerOptions> = {}): WorkerOptions => ({
  queueId: QUEUE_ID,
  maxConcurrentSources: 1,
  receiveConcurrency: 1,
  visibilityTimeoutSeconds: 30,
  retry: { baseSeconds: 1, maxSeconds: 60 },
  deleteFlushMs: 1,
  ledgerCacheSize: 1000,
  recordFailures: true,
  appTimeoutMs: 5000,
  retentionSeconds: 1000,
  retentionParkShare: 0.75,
  ...over,
});

const ports = (t: MemorySourceTable) => ({ control: t.control, journal: t, audit: t });
const act = { actor: 'op', reason: 'test' };

describe('the read a lane routes on is never older than STANDING_MAX_AGE_MS at the app call', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('MAX_CONCURRENT_SOURCES=1: a source parked while its lane waited for the slot is journaled, not delivered', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    table.touch('B');
    let skew = 0;
    let answer: (o: DeliveryOutcome) => void = () => undefined;
    const app = new ScriptedApp((m) => (m.sourceId === 'A' ? new Promise<DeliveryOutcome>((r) => (answer = r)) : ok()));
    queue.send('A', 'a1', seqAttr(1));
    queue.send('B', 'b1', seqAttr(1));
    worker = new Worker(options(), { queue, ledger: table, app, parking: ports(table), now: () => Date.now() + skew });
    const received = collect(worker, 'received');
    const journaled = collect(worker, 'journaled');
    worker.start();
    await waitFor('A in flight, B waiting for the slot', () => app.calls.length === 1 && received.length === 1);
    expect(received[0]?.lanes).toBe(2);
    // The receive's read said B is active; the operator parks B while its lane waits.
    expect((await parkSource(ports(table), { sourceId: 'B', ...act, nowMs: Date.now() })).ok).toBe(true);
    skew += STANDING_MAX_AGE_MS + 5000;
    answer(ok());
    await waitFor('b1 journaled', () => journaled.length === 1);
    expect(app.seqsOf('B')).toEqual([]);
    expect(table.entriesOf('B').map((e) => e.seq.text)).toEqual(['1']);
    expect(table.snapshot('B').state).toBe('parked');
  });

  it('lanes that outwait their receive\'s read share one BatchGetItem for the fresh one; no per-source reads', async () => {
    const queue = new MemoryFifoQueue();
    const table = new MemorySourceTable();
    let skew = 0;
    const answers: Array<(o: DeliveryOutcome) => void> = [];
    const app = new ScriptedApp((m) => (m.sourceId === 'A' || m.sourceId === 'B' ? new Promise<DeliveryOutcome>((r) => answers.push(r)) : ok()));
    for (const s of ['A', 'B', 'C', 'D', 'E']) queue.send(s, `${s}1`, seqAttr(1));
    worker = new Worker(options({ maxConcurrentSources: 2 }), { queue, ledger: table, app, parking: ports(table), now: () => Date.now() + skew });
    const received = collect(worker, 'received');
    worker.start();
    await waitFor('A and B in flight, C, D, E waiting for a slot', () => answers.length === 2 && received.reduce((n, r) => n + r.count, 0) === 5);
    const receiveReads = table.batchReads;
    expect(receiveReads).toBe(received.length);
    skew += STANDING_MAX_AGE_MS + 5000;
    for (const a of answers) a(ok());
    await waitFor('all delivered', () => app.calls.length === 5 && queue.size === 0);
    expect(app.seqsOf('E')).toEqual([1]);
    // C and D start in the same turn and share one read; E starts after one of them.
    expect(table.controlReads).toBe(0);
    expect(table.batchReads - receiveReads).toBeGreaterThanOrEqual(1);
    expect(table.batchReads - receiveReads).toBeLessThan(3);
  });
});
