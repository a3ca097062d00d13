import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoJournal, sha256, type JournalEntry } from '../../src/adapters/journal';
import { DynamoAuditLog } from '../../src/adapters/audit-log';
import { DynamoLost } from '../../src/adapters/declare-lost';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import { declareLost } from '../../src/cli/source-actions';
import { SourceStatusReader } from '../../src/adapters/source-status';
import { formatStory } from '../../src/cli/status';
import { DEFAULT_THRESHOLDS } from '../../src/core/source-condition';
import { ledgerKey } from '../../src/adapters/table-keys';
import type { Sequence } from '../../src/core/message';
import { Producer } from '../../src/index';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';
import { accepted, startPoisonApp } from '../support/poison-app';

const producerSeq = (n: number): Sequence => ({ kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: 0n, queueId: '' });

/** A journal entry for seq n, claimed a minute ago (past any producer's rewrite window). */
function entry(sourceId: string, n: number): JournalEntry {
  const body = `{"n":${n}}`;
  const at = Date.now() - 60_000;
  return { sourceId, seq: producerSeq(n), messageId: `claimed-${sourceId}-${n}`, contentType: 'application/json', body, bodySha256: sha256(body), sentAt: at, firstSeenAt: at, journaledAt: at };
}

describe('contiguous sources on DynamoDB Local and fauxqs', () => {
  let fx: Fixture;
  let app: Awaited<ReturnType<typeof startPoisonApp>>;
  let relay: RunningRelay | undefined;
  beforeAll(async () => {
    fx = await freshQueueAndTable('contiguous');
    app = await startPoisonApp(new Set());
  });
  afterAll(async () => {
    await relay?.stop(1000);
    await app.close();
    fx.close();
  });
  const ledgerItem = async (id: string) => (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey(id), ConsistentRead: true }))).Item;

  it('fills a claimed-but-unsent seq from the journal, holds a real gap (gapSeq on the ledger item) until it fills, and takes a late copy as a duplicate', async () => {
    const producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    const journal = new DynamoJournal(fx.dynamo, fx.table);
    relay = await startTestRelay(fx.config({ targetUrl: app.url }));
    await producer.sendBatch([1, 2].map((n) => ({ sourceId: 'CG', body: `{"n":${n}}` })));
    await waitFor('1 and 2 delivered', () => accepted(app.records, 'CG').length === 2);
    expect((await ledgerItem('CG'))?.contiguous?.BOOL).toBe(true);

    // A producer claimed 3 and died before its send; the next producer claims and sends 4.
    await journal.put(entry('CG', 3));
    expect((await producer.send({ sourceId: 'CG', body: '{"n":4}' })).seq).toBe(4n);
    await waitFor('3 from the journal, then 4', () => accepted(app.records, 'CG').length === 4, 30_000, 100);
    expect(accepted(app.records, 'CG')).toEqual([1, 2, 3, 4]);

    // 6 is claimed and sent, 5 is in neither the queue nor the journal: a gap.
    await journal.put(entry('CG', 6));
    await send(fx.sqs, fx.queueUrl, [{ sourceId: 'CG', seq: 6, body: '{"n":6}', extraAttributes: { journaled: { DataType: 'String', StringValue: '1' } } }]);
    await waitFor('gap recorded', async () => (await ledgerItem('CG'))?.gapSeq?.N === '5', 30_000, 200);
    const held = await ledgerItem('CG');
    expect(held?.producerSeq?.N).toBe('4');
    expect(held?.gapSince?.N).toBeDefined();
    expect(held?.lastError?.S).toMatch(/gap: seq 5/);
    // status <id> names the missing seq.
    const story = await new SourceStatusReader(fx.dynamo, fx.table).describe('CG', DEFAULT_THRESHOLDS, Date.now());
    expect(story?.source.gap?.seq).toBe('5');
    expect(formatStory(story!, Date.now()).join('\n')).toMatch(/^gap +seq 5 is in neither the queue nor the journal/m);
    // Rechecked on later attempts, and never delivered past.
    await new Promise((r) => setTimeout(r, 4000));
    expect(accepted(app.records, 'CG')).toEqual([1, 2, 3, 4]);
    expect(await messagesLeft(fx)).toBe(1);

    await journal.put(entry('CG', 5));
    await waitFor('5 then 6', () => accepted(app.records, 'CG').length === 6, 30_000, 100);
    expect(accepted(app.records, 'CG')).toEqual([1, 2, 3, 4, 5, 6]);
    await waitFor('6 deleted', async () => (await messagesLeft(fx)) === 0, 20_000, 200);
    const after = await ledgerItem('CG');
    expect(after?.producerSeq?.N).toBe('6');
    expect(after?.gapSeq).toBeUndefined();
    expect(after?.gapSince).toBeUndefined();
    expect((await new SourceStatusReader(fx.dynamo, fx.table).describe('CG', DEFAULT_THRESHOLDS, Date.now()))?.source.gap).toBeUndefined();

    // The dead producer's 3 reaches SQS after all: a duplicate, deleted, never put aside.
    await send(fx.sqs, fx.queueUrl, [{ sourceId: 'CG', seq: 3, body: '{"n":3}' }]);
    await waitFor('late 3 deleted', async () => (await messagesLeft(fx)) === 0, 20_000, 200);
    expect(app.records.filter((r) => r.sourceId === 'CG' && r.seq === '3')).toHaveLength(1);
    producer.close();
  }, 120_000);

  it('the exact-next advance refuses to pass a hole (UpdateItem and batched PartiQL) and is stale when covered', async () => {
    const ledger = new DynamoLedger(fx.dynamo, fx.table);
    const now = Date.now();
    expect(await ledger.advance('EX', producerSeq(1), 'm1', now, { exactNext: true })).toEqual({ status: 'advanced' });
    await expect(ledger.advance('EX', producerSeq(3), 'm3', now, { exactNext: true })).rejects.toThrow(/exact-next advance of EX to seq 3 refused: the position is 1/);
    expect(await ledger.advance('EX', producerSeq(1), 'm1', now, { exactNext: true })).toMatchObject({ status: 'stale' });
    expect(await ledger.advance('EX', producerSeq(2), 'm2', now, { exactNext: true })).toEqual({ status: 'advanced' });
    const out = await ledger.advanceBatch([
      { sourceId: 'EX', seq: producerSeq(4), messageId: 'm4', nowMs: now, exactNext: true },
      { sourceId: 'EY', seq: producerSeq(1), messageId: 'y1', nowMs: now, exactNext: true },
      { sourceId: 'EZ', seq: producerSeq(2), messageId: 'z2', nowMs: now, exactNext: true },
      { sourceId: 'EW', seq: producerSeq(9), messageId: 'w9', nowMs: now },
    ]);
    expect(out[0]).toBeInstanceOf(Error);
    expect((out[0] as Error).message).toMatch(/position is 2/);
    expect(out[1]).toEqual({ status: 'advanced' });
    expect(out[2]).toBeInstanceOf(Error);
    expect(out[3]).toEqual({ status: 'advanced' });
    expect((await ledgerItem('EX'))?.producerSeq?.N).toBe('2');
    expect((await ledgerItem('EZ'))).toBeUndefined();
    expect((await ledger.advanceBatch([{ sourceId: 'EX', seq: producerSeq(3), messageId: 'm3', nowMs: now, exactNext: true }, { sourceId: 'EY', seq: producerSeq(2), messageId: 'y2', nowMs: now, exactNext: true }]))).toEqual([{ status: 'advanced' }, { status: 'advanced' }]);
  }, 60_000);

  it('declare-lost moves past exactly the missing seq once the gap is older than the quiet period, audited; anything else is refused', async () => {
    const producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    const journal = new DynamoJournal(fx.dynamo, fx.table);
    relay ??= await startTestRelay(fx.config({ targetUrl: app.url }));
    await producer.send({ sourceId: 'DL', body: '{"n":1}' });
    await waitFor('1 delivered', () => accepted(app.records, 'DL').length === 1);
    // Seq 2 was claimed and lost with its region; 3 arrives.
    await journal.put(entry('DL', 3));
    await send(fx.sqs, fx.queueUrl, [{ sourceId: 'DL', seq: 3, body: '{"n":3}' }]);
    await waitFor('gap at 2', async () => (await ledgerItem('DL'))?.gapSeq?.N === '2', 30_000, 200);

    const ports = { control: new DynamoSourceControl(fx.dynamo, fx.table), journal, audit: new DynamoAuditLog(fx.dynamo, fx.table), lost: new DynamoLost(fx.dynamo, fx.table) };
    const args = { sourceId: 'DL', actor: 'op', reason: 'region lost before replication', nowMs: Date.now() };
    expect(await declareLost(ports, { ...args, seq: 3n, quietMs: 0 })).toMatchObject({ ok: false, line: expect.stringMatching(/seq 3 is not the missing seq/) });
    expect(await declareLost(ports, { ...args, seq: 2n, quietMs: 3_600_000 })).toMatchObject({ ok: false, line: expect.stringMatching(/quiet period/) });
    expect(await declareLost(ports, { ...args, sourceId: 'CG', seq: 7n, quietMs: 0 })).toMatchObject({ ok: false, line: expect.stringMatching(/not held at a gap/) });
    expect(accepted(app.records, 'DL')).toEqual([1]);

    const done = await declareLost(ports, { ...args, nowMs: Date.now(), seq: 2n, quietMs: 0 });
    expect(done).toMatchObject({ ok: true });
    await waitFor('3 delivered after the declared loss', () => accepted(app.records, 'DL').includes(3), 30_000, 200);
    expect(accepted(app.records, 'DL')).toEqual([1, 3]);
    const item = await ledgerItem('DL');
    expect(item?.lastLostSeq?.N).toBe('2');
    expect(item?.gapSeq).toBeUndefined();
    const audits = await ports.audit.list('DL');
    expect(audits.map((a) => [a.action, a.actor, a.details?.seq])).toEqual([['declare-lost', 'op', '2']]);
    // Done once: a second one is refused (no gap any more).
    expect(await declareLost(ports, { ...args, nowMs: Date.now(), seq: 2n, quietMs: 0 })).toMatchObject({ ok: false });
    producer.close();
  }, 120_000);
});
