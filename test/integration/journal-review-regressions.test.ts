import { GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoAuditLog } from '../../src/adapters/audit-log';
import type { AppPort, DeliveryOutcome } from '../../src/adapters/http-app';
import { DynamoJournal, entryFromMessage, sha256 } from '../../src/adapters/journal';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import { journalSk, sqsSeqText } from '../../src/adapters/table-keys';
import type { RelayMessage, Sequence } from '../../src/core/message';
import { chunkItems, headerItem as producerHeader, pendingEntry } from '../../src/producer/entry-items';
import { PRODUCER_CLAIM_GRACE_MS, Replayer } from '../../src/worker/replayer';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

const Q1 = 'arn:aws:sqs:us-east-1:000000000000:order.fifo@1700000000';
const S0 = 18_000_000_000_000_000_000n;
const producer = (n: bigint, sqs: bigint, queueId = Q1): Sequence => ({ kind: 'producer', value: n, text: String(n), key: String(n), sqs, queueId });
const seqless = (sqs: bigint, queueId = Q1): Sequence => ({ kind: 'sqs', value: sqs, text: String(sqs), key: `q${queueId.split('@')[1]}.${sqs}`, sqs, queueId });
const message = (sourceId: string, seq: Sequence, body = `body-${seq.text}`): RelayMessage => ({
  messageId: `m-${seq.text}`, receiptHandle: 'h', sourceId, seq, body, contentType: 'application/json', receiveCount: 1, firstReceivedAt: 1, sentAt: 1, trace: {},
});

class RecordingApp implements AppPort {
  readonly calls: string[] = [];
  constructor(private readonly cap = 40, private readonly hook?: (seq: string, n: number) => Promise<void>) {}
  async deliver(m: RelayMessage): Promise<DeliveryOutcome> {
    if (this.calls.length >= this.cap) return { kind: 'http-error', status: 503, durationMs: 1, detail: 'cap reached' } as DeliveryOutcome;
    this.calls.push(m.seq.text);
    if (this.hook) await this.hook(m.seq.text, this.calls.length);
    return { kind: 'success', status: 200, durationMs: 1 };
  }
}

describe('journal replay regressions (DynamoDB Local)', () => {
  let fx: Fixture;
  let journal: DynamoJournal;
  let control: DynamoSourceControl;
  let ledger: DynamoLedger;
  let audit: DynamoAuditLog;
  beforeAll(async () => {
    fx = await freshQueueAndTable('review-journal');
    journal = new DynamoJournal(fx.dynamo, fx.table);
    control = new DynamoSourceControl(fx.dynamo, fx.table);
    ledger = new DynamoLedger(fx.dynamo, fx.table);
    audit = new DynamoAuditLog(fx.dynamo, fx.table);
  });
  afterAll(() => fx.close());

  const act = () => ({ actor: 'op', reason: 'test', nowMs: Date.now() });
  async function parkAt(sourceId: string, first: Sequence): Promise<void> {
    await ledger.advance(sourceId, first, 'm-first', Date.now());
    const c = await control.read(sourceId);
    expect((await control.park(sourceId, { ...act(), expectVersion: c.controlVersion })).ok).toBe(true);
  }
  const put = (sourceId: string, s: Sequence) => journal.put(entryFromMessage(message(sourceId, s), Date.now()));
  /** What a worker does for a message of a replaying source (rule 4): put, then bump. */
  async function workerJournals(sourceId: string, s: Sequence): Promise<void> {
    await put(sourceId, s);
    expect((await control.bumpJournal(sourceId)).ok).toBe(true);
  }
  /** Producer claims the replayer may deliver: older than the producer's rewrite grace. */
  const PAST_CLAIM_GRACE = () => Date.now() - PRODUCER_CLAIM_GRACE_MS - 1000;
  function replayer(sourceId: string, app: AppPort) {
    return new Replayer({ control, journal, ledger, audit, app, listReplaying: async () => [sourceId] }, { owner: 'r1', leaseMs: 30_000, pollMs: 50, batch: 25, maxBackoffMs: 100 });
  }
  async function unpark(sourceId: string) {
    const c = await control.read(sourceId);
    expect((await control.unpark(sourceId, { ...act(), expectVersion: c.controlVersion })).ok).toBe(true);
  }

  it('entries journaled during a round (rule 4) come out in receive order when one key range ran out', async () => {
    const src = 'xrange';
    await parkAt(src, seqless(S0));
    // A parked source: one producer-seq entry, then 30 seq-less ones (more than one page of 25).
    await put(src, producer(1n, S0 + 1n));
    const backlog: Sequence[] = [];
    for (let i = 0n; i < 30n; i++) backlog.push(seqless(S0 + 10n + i));
    for (const s of backlog) await put(src, s);
    await unpark(src);
    // While the replay runs, SQS hands a worker E (seq 2) and then F (seq-less): E was received first.
    const E = producer(2n, S0 + 100n);
    const F = seqless(S0 + 101n);
    const app = new RecordingApp(100, async (_seq, n) => {
      if (n === 3) {
        await workerJournals(src, E);
        await workerJournals(src, F);
      }
    });
    expect(await replayer(src, app).replay(src)).toBe('done');
    const iE = app.calls.indexOf('2');
    const iF = app.calls.indexOf(String(S0 + 101n));
    console.log('D1 delivery order tail', app.calls.slice(-4));
    expect(iE).toBeGreaterThanOrEqual(0);
    expect(iF).toBeGreaterThanOrEqual(0);
    // Receive order: E before F.
    expect(iE).toBeLessThan(iF);
  });

  it('an item of an earlier layout in the producer range (j#<seq>#c000) is passed by: the reader never fails, current entries are delivered', async () => {
    const src = 'old-chunks';
    await parkAt(src, producer(0n, S0));
    // The previous layout's chunks sat at j#<seq>#c000, … inside the producer range.
    for (let i = 0; i < 4; i++) {
      await fx.dynamo.send(new PutItemCommand({ TableName: fx.table, Item: { pk: { S: src }, sk: { S: `${journalSk(1n)}#c${String(i).padStart(3, '0')}` }, data: { S: 'x' }, bodySha256: { S: sha256('x') } } }));
    }
    await put(src, producer(1n, S0 + 1n));
    await put(src, producer(2n, S0 + 2n));
    const reader = journal.reader(src, 25);
    const read: string[] = [];
    for (let e = await reader.next(); e; e = await reader.next()) read.push(e.seq.text);
    expect(read).toEqual(['1', '2']);
    expect(reader.passedBy).toEqual({ count: 4, firstSk: `${journalSk(1n)}#c000` });
    await unpark(src);
    const app = new RecordingApp();
    const errors: string[] = [];
    const r = new Replayer(
      { control, journal, ledger, audit, app, listReplaying: async () => [src], onEvent: (e) => e.kind === 'error' && errors.push(e.error.message) },
      { owner: 'r1', leaseMs: 30_000, pollMs: 50, batch: 25, maxBackoffMs: 100 },
    );
    expect(await r.replay(src)).toBe('done');
    expect(app.calls).toEqual(['1', '2']);
    // Said once, however many rounds read past them.
    expect(errors.filter((m) => m.includes('not of the current layout'))).toHaveLength(1);
  });

  it('an entry read at a key its seq would not give (j#<SequenceNumber>, seq-less) is removed where it is: delivered once, never again every round', async () => {
    const src = 'old-seqless';
    await parkAt(src, seqless(S0));
    // Previous layout: a seq-less entry keyed by its SequenceNumber in the j#<40 digits> range, no rk.
    await fx.dynamo.send(
      new PutItemCommand({
        TableName: fx.table,
        Item: {
          pk: { S: src }, sk: { S: journalSk(S0 + 5n) }, seq: { S: String(S0 + 5n) }, seqKind: { S: 'sqs' }, key: { S: `q1700000000.${S0 + 5n}` }, sqsSeq: { S: sqsSeqText(S0 + 5n) }, queueId: { S: Q1 },
          messageId: { S: 'm-old' }, contentType: { S: 'application/json' }, body: { S: 'old' }, bodySha256: { S: sha256('old') }, sentAt: { N: '1' }, firstSeenAt: { N: '1' }, journaledAt: { N: '1' },
        },
      }),
    );
    // Then the producer began to send seq (new-format entry, received later).
    await put(src, producer(1n, S0 + 10n));
    await unpark(src);
    const app = new RecordingApp(12);
    const out = await replayer(src, app).replay(src);
    console.log('D3 outcome', out, 'calls', app.calls, 'journal count', await journal.count(src));
    // An earlier layout's order is not kept (docs/table-layout.md); each entry goes exactly once.
    expect([...app.calls].sort()).toEqual(['1', String(S0 + 5n)]);
    expect(out).toBe('done');
    expect(await journal.count(src)).toBe(0);
  });
  it('a chunked journal-first producer entry (> 350 KB) is replayed after a park, once, and its chunks are removed', async () => {
    const src = 'producer-chunks';
    await parkAt(src, producer(0n, S0));
    const body = JSON.stringify({ pad: 'y'.repeat(400_000) });
    const p = pendingEntry({ sourceId: src, body, bodyBytes: Buffer.byteLength(body) }, 'jid-1');
    expect(p.parts.length).toBeGreaterThan(1);
    // The producer's own items: chunks under its chunkPrefix, then the header claiming seq 1.
    for (const item of chunkItems(p)) await fx.dynamo.send(new PutItemCommand({ TableName: fx.table, Item: item }));
    await fx.dynamo.send(new PutItemCommand({ TableName: fx.table, Item: producerHeader(p, 1n, 'claim-1', PAST_CLAIM_GRACE()) }));
    await unpark(src);
    const bodies: string[] = [];
    const app = new RecordingApp(5, async () => undefined);
    const capture: AppPort = { deliver: async (m) => (bodies.push(m.body), app.deliver(m)) };
    expect(await replayer(src, capture).replay(src)).toBe('done');
    expect(app.calls).toEqual(['1']);
    expect(bodies[0] === body).toBe(true);
    const left = await fx.dynamo.send(new QueryCommand({ TableName: fx.table, KeyConditionExpression: 'pk = :p AND begins_with(sk, :j)', ExpressionAttributeValues: { ':p': { S: src }, ':j': { S: 'j' } }, ConsistentRead: true }));
    expect((left.Items ?? []).map((i) => i.sk?.S)).toEqual([]);
  });

  it('journal-first producer entries beside seq-less ones: replay is refused with a recorded reason, nothing delivered, nothing lost', async () => {
    const src = 'journal-first';
    await parkAt(src, seqless(S0));
    await put(src, seqless(S0 + 5n));
    await put(src, seqless(S0 + 6n));
    // Later, the producer switches to journal-first: seq 1 claimed in the journal, not yet numbered by SQS.
    await journal.put(entryFromMessage(message(src, { kind: 'producer', value: 1n, text: '1', key: '1', sqs: 0n, queueId: '' }), PAST_CLAIM_GRACE()));
    await unpark(src);
    const app = new RecordingApp();
    const r = replayer(src, app);
    await r.pass();
    await r.pass();
    expect(app.calls).toEqual([]);
    const item = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: { pk: { S: src }, sk: { S: 'ledger' } }, ConsistentRead: true }));
    expect(item.Item?.state?.S).toBe('replaying');
    expect(item.Item?.replayLastError?.S).toMatch(/journal-first producer entries .* seq-less SQS entries/);
    expect(item.Item?.replayHeadSeq?.S).toBe('1');
    expect(await journal.count(src)).toBe(3);
  });
  it('journal-first producer entries alone are replayed in seq order', async () => {
    const src = 'journal-first-only';
    await parkAt(src, producer(0n, S0));
    for (const n of [1n, 2n]) await journal.put(entryFromMessage(message(src, { kind: 'producer', value: n, text: String(n), key: String(n), sqs: 0n, queueId: '' }), PAST_CLAIM_GRACE()));
    await unpark(src);
    const app = new RecordingApp();
    expect(await replayer(src, app).replay(src)).toBe('done');
    expect(app.calls).toEqual(['1', '2']);
  });
});
