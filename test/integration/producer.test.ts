import { GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { DynamoJournal } from '../../src/adapters/journal';
import { ledgerKey } from '../../src/adapters/table-keys';
import { Producer, ProducerInputError } from '../../src/index';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

interface Got {
  body: string;
  seq: string;
  group: string;
  journaled?: string;
  contentType?: string;
  traceparent?: string;
}

async function drain(fx: Fixture, expected: number): Promise<Got[]> {
  const got: Got[] = [];
  for (let empty = 0; got.length < expected && empty < 5; ) {
    const r = await fx.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: fx.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['MessageGroupId'] }),
    );
    const ms = r.Messages ?? [];
    if (ms.length === 0) empty++;
    for (const m of ms) {
      const a = m.MessageAttributes ?? {};
      got.push({
        body: m.Body ?? '',
        seq: a.seq?.StringValue ?? '',
        group: m.Attributes?.MessageGroupId ?? '',
        ...(a.journaled?.StringValue ? { journaled: a.journaled.StringValue } : {}),
        ...(a.contentType?.StringValue ? { contentType: a.contentType.StringValue } : {}),
        ...(a.traceparent?.StringValue ? { traceparent: a.traceparent.StringValue } : {}),
      });
    }
    if (ms.length > 0) await fx.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: fx.queueUrl, Entries: ms.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle ?? '' })) }));
  }
  return got;
}

describe('Producer against the emulators', () => {
  let fx: Fixture;
  let producer: Producer;
  beforeAll(async () => {
    fx = await freshQueueAndTable('producer');
    producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
  });
  afterAll(() => fx.close());

  it('claims seq 1, 2, 3 … per source, journals each entry and sends it with seq, group and the journaled marker', async () => {
    const one = await producer.send({ sourceId: 'p-a', body: '{"n":1}', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(one.seq).toBe(1n);
    expect(one.messageId).not.toBe('');
    const batch = await producer.sendBatch([
      { sourceId: 'p-a', body: '{"n":2}' },
      { sourceId: 'p-b', body: 'b1', contentType: 'text/plain' },
      { sourceId: 'p-a', body: '{"n":3}' },
    ]);
    expect(batch.map((r) => [r.sourceId, r.seq])).toEqual([
      ['p-a', 2n],
      ['p-b', 1n],
      ['p-a', 3n],
    ]);

    const got = await drain(fx, 4);
    expect(got.filter((g) => g.group === 'p-a').map((g) => [g.seq, g.body])).toEqual([
      ['1', '{"n":1}'],
      ['2', '{"n":2}'],
      ['3', '{"n":3}'],
    ]);
    expect(got.every((g) => g.journaled === '1')).toBe(true);
    expect(got.find((g) => g.group === 'p-b')).toMatchObject({ seq: '1', contentType: 'text/plain' });
    expect(got.find((g) => g.seq === '1' && g.group === 'p-a')?.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');

    // The journal the workers replay from holds the same messages under the same seqs.
    const entries = await new DynamoJournal(fx.dynamo, fx.table).above('p-a', undefined, 10);
    expect(entries.map((e) => [e.seq.text, e.seq.kind, e.body])).toEqual([
      ['1', 'producer', '{"n":1}'],
      ['2', 'producer', '{"n":2}'],
      ['3', 'producer', '{"n":3}'],
    ]);
    expect(entries[0]?.trace?.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    const ledger = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey('p-a'), ConsistentRead: true }));
    expect(ledger.Item?.contiguous?.BOOL).toBe(true);
  });

  it('a new producer (no cache) continues after the ledger position when delivered entries were cleaned up', async () => {
    // Delivered up to 7 and the journal cleaned: only the ledger knows where the source is.
    await fx.dynamo.send(new UpdateItemCommand({ TableName: fx.table, Key: ledgerKey('p-clean'), UpdateExpression: 'SET producerSeq = :p', ExpressionAttributeValues: { ':p': { N: '7' } } }));
    const fresh = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    expect((await fresh.send({ sourceId: 'p-clean', body: 'x' })).seq).toBe(8n);
    expect((await drain(fx, 1)).map((g) => [g.group, g.seq])).toEqual([['p-clean', '8']]);
  });

  it('a stale cache never claims a seq the ledger already covers: the claim is released and made again above it', async () => {
    const a = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    expect((await a.send({ sourceId: 'p-stale', body: 'first' })).seq).toBe(1n);
    // Elsewhere seqs 2..5 were claimed, delivered and cleaned up: a's cache still says 2.
    await fx.dynamo.send(new UpdateItemCommand({ TableName: fx.table, Key: ledgerKey('p-stale'), UpdateExpression: 'SET producerSeq = :p', ExpressionAttributeValues: { ':p': { N: '5' } } }));
    expect((await a.send({ sourceId: 'p-stale', body: 'second' })).seq).toBe(6n);
    expect(a.stats.released).toBe(1);
    const left = await fx.dynamo.send(
      new GetItemCommand({ TableName: fx.table, Key: { pk: { S: 'p-stale' }, sk: { S: 'j#0000000000000000000000000000000000000002' } }, ConsistentRead: true }),
    );
    expect(left.Item).toBeUndefined();
    await drain(fx, 2);
  });

  it('bodies up to SQS\'s limit go to chunk items and come back whole from the journal', async () => {
    const big = 'é'.repeat(400_000) + 'x'.repeat(200_000); // 1,000,000 bytes of UTF-8
    const r = await producer.send({ sourceId: 'p-big', body: big });
    const [entry] = await new DynamoJournal(fx.dynamo, fx.table).above('p-big', undefined, 1);
    // Compared as booleans: a failing toBe would print a megabyte.
    expect(entry?.body === big).toBe(true);
    expect(entry?.seq.text).toBe(r.seq.toString());
    const got = await drain(fx, 1);
    expect(got.map((g) => [g.group, g.seq, g.body === big])).toEqual([['p-big', '1', true]]);
  });

  const items = async (sourceId: string) =>
    (await fx.dynamo.send(new QueryCommand({ TableName: fx.table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: sourceId } }, ConsistentRead: true }))).Items ?? [];

  it.each([
    [{ sourceId: '', body: 'x' }, /sourceId is missing/],
    [{ sourceId: 'p-bad', body: '' }, /body is empty/],
    [{ sourceId: 'p-bad', body: 'x'.repeat(1_048_576) }, /over the .* SQS allows/],
    [{ sourceId: 'p-bad', body: 'a\u0001b' }, /character SQS refuses/],
    [{ sourceId: 'has space', body: 'x' }, /printable ASCII/],
  ])('refuses bad input with nothing written: %#', async (m, why) => {
    await expect(producer.sendBatch([{ sourceId: 'p-bad', body: 'good one' }, m])).rejects.toThrow(why);
    expect(await items('p-bad')).toEqual([]);
  });

  it('refuses an explicit seq that is not the next one, with nothing written', async () => {
    await producer.send({ sourceId: 'p-explicit', body: 'one' });
    await expect(producer.send({ sourceId: 'p-explicit', body: 'three', seq: 3 })).rejects.toThrow(/seq 3 for source p-explicit is not the next one \(next is 2\)/);
    expect((await items('p-explicit')).map((i) => i.sk?.S)).toEqual(['j#0000000000000000000000000000000000000001', 'ledger']);
    expect((await producer.send({ sourceId: 'p-explicit', body: 'two', seq: 2 })).seq).toBe(2n);
    await drain(fx, 2);
  });

  it('refuses a source already delivered by seq-less messages, with nothing written', async () => {
    await fx.dynamo.send(
      new UpdateItemCommand({ TableName: fx.table, Key: ledgerKey('p-seqless'), UpdateExpression: 'SET sqsSeq = :s', ExpressionAttributeValues: { ':s': { S: '0000000000000000000018000000000000000001' } } }),
    );
    await expect(producer.send({ sourceId: 'p-seqless', body: 'x' })).rejects.toThrow(ProducerInputError);
    await expect(producer.send({ sourceId: 'p-seqless', body: 'x' })).rejects.toThrow(/already delivered by plain messages without a seq/);
    expect((await items('p-seqless')).map((i) => i.sk?.S)).toEqual(['ledger']);
    const ledger = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey('p-seqless'), ConsistentRead: true }));
    expect(ledger.Item?.contiguous).toBeUndefined();
  });
});
