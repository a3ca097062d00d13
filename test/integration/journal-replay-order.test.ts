import { DynamoAuditLog } from '../../src/adapters/audit-log';
import type { AppPort, DeliveryOutcome } from '../../src/adapters/http-app';
import { DynamoJournal, entryFromMessage } from '../../src/adapters/journal';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import { skipHead } from '../../src/cli/source-actions';
import type { RelayMessage, Sequence } from '../../src/core/message';
import { Replayer } from '../../src/worker/replayer';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

// A parked source's journal may hold both sequence kinds, and entries of two incarnations of the
// queue: replay must deliver every entry once, in the order SQS received them, and then end.
const Q1 = 'arn:aws:sqs:us-east-1:000000000000:order.fifo@1700000000';
const Q2 = 'arn:aws:sqs:us-east-1:000000000000:order.fifo@1700000900';
const S0 = 18_000_000_000_000_000_000n;
const producer = (n: bigint, sqs: bigint, queueId = Q1): Sequence => ({ kind: 'producer', value: n, text: String(n), key: String(n), sqs, queueId });
const seqless = (sqs: bigint, queueId = Q1): Sequence => ({ kind: 'sqs', value: sqs, text: String(sqs), key: `q${queueId.split('@')[1]}.${sqs}`, sqs, queueId });
const message = (sourceId: string, seq: Sequence): RelayMessage => ({
  messageId: `m-${seq.queueId.slice(-4)}-${seq.text}`,
  receiptHandle: 'h',
  sourceId,
  seq,
  body: `body-${seq.text}`,
  contentType: 'application/json',
  receiveCount: 1,
  firstReceivedAt: 1,
  sentAt: 1,
  trace: {},
});

/** Accepts everything and records the X-Sequence of each call; refuses after `cap` calls so a replay that never ends still stops. */
class RecordingApp implements AppPort {
  readonly calls: string[] = [];
  constructor(private readonly cap = 20) {}
  async deliver(m: RelayMessage): Promise<DeliveryOutcome> {
    if (this.calls.length >= this.cap) return { kind: 'http-error', status: 503, durationMs: 1, detail: 'cap reached' } as DeliveryOutcome;
    this.calls.push(m.seq.text);
    return { kind: 'success', status: 200, durationMs: 1 };
  }
}

describe('replay order and termination across sequence kinds and queue incarnations (DynamoDB Local)', () => {
  let fx: Fixture;
  let journal: DynamoJournal;
  let control: DynamoSourceControl;
  let ledger: DynamoLedger;
  let audit: DynamoAuditLog;
  beforeAll(async () => {
    fx = await freshQueueAndTable('replay-order');
    journal = new DynamoJournal(fx.dynamo, fx.table);
    control = new DynamoSourceControl(fx.dynamo, fx.table);
    ledger = new DynamoLedger(fx.dynamo, fx.table);
    audit = new DynamoAuditLog(fx.dynamo, fx.table);
  });
  afterAll(() => fx.close());

  const act = (nowMs = Date.now()) => ({ actor: 'op', reason: 'test', nowMs });
  async function parkAt(sourceId: string, first: Sequence): Promise<void> {
    await ledger.advance(sourceId, first, 'm-first', Date.now());
    const c = await control.read(sourceId);
    expect((await control.park(sourceId, { ...act(), expectVersion: c.controlVersion })).ok).toBe(true);
  }
  async function journalAll(sourceId: string, seqs: Sequence[]): Promise<void> {
    // One at a time, in the order SQS handed them out.
    for (const s of seqs) await journal.put(entryFromMessage(message(sourceId, s), Date.now()));
  }
  async function replay(sourceId: string, app: RecordingApp): Promise<string> {
    const c = await control.read(sourceId);
    expect((await control.unpark(sourceId, { ...act(), expectVersion: c.controlVersion })).ok).toBe(true);
    const r = new Replayer({ control, journal, ledger, audit, app, listReplaying: async () => [sourceId] }, { owner: 'r1', leaseMs: 30_000, pollMs: 50, batch: 25, maxBackoffMs: 100 });
    return r.replay(sourceId);
  }

  it('a seq-less entry received before the producer started sending seq is delivered, before it', async () => {
    await parkAt('mixed', seqless(S0));
    await journalAll('mixed', [seqless(S0 + 5n), producer(1n, S0 + 10n), seqless(S0 + 12n), producer(2n, S0 + 20n)]);
    const app = new RecordingApp();

    expect(await replay('mixed', app)).toBe('done');
    expect(app.calls).toEqual([String(S0 + 5n), '1', String(S0 + 12n), '2']);
    expect(await journal.count('mixed')).toBe(0);
    expect((await control.read('mixed')).state).toBe('active');
  });

  it('entries of two incarnations of the queue are delivered once each, oldest incarnation first, and the replay ends', async () => {
    await parkAt('reborn', seqless(3n, Q1));
    await journalAll('reborn', [seqless(5n, Q1), seqless(7n, Q1)]);
    await journalAll('reborn', [seqless(2n, Q2), seqless(6n, Q2)]);
    const app = new RecordingApp();

    expect(await replay('reborn', app)).toBe('done');
    expect(app.calls).toEqual(['5', '7', '2', '6']);
    expect(await journal.count('reborn')).toBe(0);
  });

  it('skip takes the head in receive order, and gives up only it', async () => {
    await parkAt('skip-mixed', seqless(S0));
    await journalAll('skip-mixed', [seqless(S0 + 5n), producer(1n, S0 + 10n)]);
    const ports = { control, journal, audit };

    const wrong = await skipHead(ports, { sourceId: 'skip-mixed', seq: '1', quietMs: 0, ...act() });
    expect(wrong).toMatchObject({ ok: false });
    expect(wrong.line).toContain(`the head is ${S0 + 5n}`);
    expect(await skipHead(ports, { sourceId: 'skip-mixed', seq: String(S0 + 5n), quietMs: 0, ...act() })).toMatchObject({ ok: true });

    const app = new RecordingApp();
    expect(await replay('skip-mixed', app)).toBe('done');
    expect(app.calls).toEqual(['1']);
    // The skipped body stays for the record; the delivered one is gone.
    expect(await journal.count('skip-mixed')).toBe(1);
  });
});
