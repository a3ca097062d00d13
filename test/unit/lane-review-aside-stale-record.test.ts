import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { summarize, extremes, DEFAULT_THRESHOLDS } from '../../src/core/source-condition';
import { recordOf } from '../../src/adapters/source-status';
import { MemoryFifoQueue, QUEUE_ID, ScriptedApp, seqAttr } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';
import { waitFor } from '../support/fixtures';

const options = (over: Partial<WorkerOptions> = {}): WorkerOptions => ({
  queueId: QUEUE_ID, maxConcurrentSources: 4, receiveConcurrency: 1, visibilityTimeoutSeconds: 30,
  retry: { baseSeconds: 60, maxSeconds: 60 }, deleteFlushMs: 1, ledgerCacheSize: 1000, recordFailures: true,
  appTimeoutMs: 5000, retentionSeconds: 100, retentionParkShare: 0.75, ...over,
});

it('a head put aside (deleted from SQS, body safe) is marked on the item and no longer shown as running out of retention', async () => {
  const queue = new MemoryFifoQueue();
  const table = new MemorySourceTable();
  await table.advance('A', { kind: 'producer', value: 5n, text: '5', key: '5', sqs: 0n, queueId: QUEUE_ID });
  queue.send('A', 'late one', seqAttr(1));
  let skew = 0;
  const worker = new Worker(options(), { queue, ledger: table, app: new ScriptedApp(), parking: { control: table.control, journal: table, audit: table, aside: table }, now: () => Date.now() + skew });
  worker.start();
  // Before the deadline: the regression head is held and recorded (with its retention deadline), as for its first 75 s.
  await waitFor('recorded', () => table.failures.some((x) => x.sourceId === 'A'));
  skew = 80_000;
  queue.expireAll();
  await waitFor('aside and deleted', () => table.asides.length === 1 && queue.size === 0);
  await worker.stop(100);
  // The failure record the lane wrote for the regression head stays, and the item marks that head as put aside.
  const f = table.failures.filter((x) => x.sourceId === 'A').pop()?.failure;
  expect(f?.retentionDeadlineAt).toEqual(expect.any(Number));
  expect(table.headJournaled.has('A')).toBe(false);
  expect(table.headAside.get('A')).toBe(f?.messageId);
  const base = { seq: f!.seq, messageId: f!.messageId, attempt: f!.attempt, since: f!.atMs, failedAt: f!.atMs, nextAttemptAt: f!.nextAttemptAtMs, lastError: f!.error, retentionDeadlineAt: f!.retentionDeadlineAt! };
  // Unmarked, the same record would show the time left going negative.
  expect(summarize({ sourceId: 'A', state: 'parked', head: base, headJournaled: false }, DEFAULT_THRESHOLDS, f!.retentionDeadlineAt! + 1000).retentionLeftMs).toBe(-1000);
  const s = summarize(
    { sourceId: 'A', state: table.snapshot('A').state, head: { ...base, asideAt: Date.now() }, headJournaled: false },
    DEFAULT_THRESHOLDS,
    f!.retentionDeadlineAt! + 1000,
  );
  // eslint-disable-next-line no-console
  console.log(`state ${s.state}, error "${f?.error}", retentionLeftMs ${s.retentionLeftMs} `);
  expect(s.retentionLeftMs).toBeUndefined();
});

it('an item whose failing head is marked put aside (headAsideAt) counts no retention time left', () => {
  const item = {
    pk: { S: 'A' }, sk: { S: 'ledger' }, state: { S: 'parked' }, stuck: { S: '1' }, stuckSince: { N: '1' }, headMessageId: { S: 'm1' }, headSeq: { S: '1' },
    attempt: { N: '3' }, failedAt: { N: '1' }, nextAttemptAt: { N: '2' }, lastError: { S: 'seq went backwards' }, headSentAt: { N: '1' }, retentionDeadlineAt: { N: '1000' }, headAsideAt: { N: '900' },
  };
  const r = recordOf(item);
  expect(r.head?.asideAt).toBe(900);
  expect(summarize(r, DEFAULT_THRESHOLDS, 5000).retentionLeftMs).toBeUndefined();
  expect(extremes([summarize(r, DEFAULT_THRESHOLDS, 5000)]).leastRetentionLeftMs).toBeUndefined();
});
