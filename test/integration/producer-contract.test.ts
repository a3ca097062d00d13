import { createHash, randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import { Producer } from '../../src/index';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

// The claim protocol of docs/producer.md done with raw SDK calls, as a producer in another
// language would: nothing from src/ is used to write, only to run the worker that delivers.
const pad40 = (n: bigint) => n.toString().padStart(40, '0');

async function nextSeq(fx: Fixture, sourceId: string): Promise<bigint> {
  // 1. Highest journal header: the j# range, newest first (skip chunk items, whose sk has "#c").
  const q = await fx.dynamo.send(
    new QueryCommand({
      TableName: fx.table,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
      ExpressionAttributeValues: { ':pk': { S: sourceId }, ':lo': { S: 'j#' }, ':hi': { S: 'j#~' } },
      ScanIndexForward: false,
      ConsistentRead: true,
      Limit: 16,
      ProjectionExpression: 'sk, seqKind',
    }),
  );
  const top = (q.Items ?? []).find((i) => !(i.sk?.S ?? '').includes('#c'));
  if (top?.seqKind?.S === 'sqs') throw new Error('source delivered by seq-less messages');
  const journalTop = top ? BigInt((top.sk?.S ?? '').slice(2)) : 0n;
  // 2. Then the ledger position (after the journal: cleanup deletes only what the ledger covers).
  const ledger = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: { pk: { S: sourceId }, sk: { S: 'ledger' } }, ConsistentRead: true }));
  if (ledger.Item?.sqsSeq && !ledger.Item.producerSeq) throw new Error('source delivered by seq-less messages');
  const position = BigInt(ledger.Item?.producerSeq?.N ?? '0');
  // 3. Declare the source contiguous (once).
  if (ledger.Item?.contiguous?.BOOL !== true) {
    await fx.dynamo.send(
      new UpdateItemCommand({
        TableName: fx.table,
        Key: { pk: { S: sourceId }, sk: { S: 'ledger' } },
        UpdateExpression: 'SET contiguous = :t',
        ConditionExpression: 'attribute_not_exists(sqsSeq) OR attribute_exists(producerSeq)',
        ExpressionAttributeValues: { ':t': { BOOL: true } },
      }),
    );
  }
  return (journalTop > position ? journalTop : position) + 1n;
}

async function rawSend(fx: Fixture, sourceId: string, body: string): Promise<{ seq: bigint; journalId: string }> {
  for (;;) {
    const seq = await nextSeq(fx, sourceId);
    const now = Date.now();
    const journalId = randomUUID();
    const claimId = randomUUID();
    const item: Record<string, AttributeValue> = {
      pk: { S: sourceId },
      sk: { S: `j#${pad40(seq)}` },
      seq: { S: seq.toString() },
      seqKind: { S: 'producer' },
      key: { S: seq.toString() },
      sqsSeq: { S: pad40(0n) },
      queueId: { S: '' },
      messageId: { S: journalId },
      contentType: { S: 'application/json' },
      body: { S: body },
      bodySha256: { S: createHash('sha256').update(body, 'utf8').digest('hex') },
      sentAt: { N: String(now) },
      firstSeenAt: { N: String(now) },
      journaledAt: { N: String(now) },
      origin: { S: 'producer' },
      claimId: { S: claimId },
    };
    // 4. The claim: put-if-absent of the entry for seq itself.
    try {
      await fx.dynamo.send(new PutItemCommand({ TableName: fx.table, Item: item, ConditionExpression: 'attribute_not_exists(sk)' }));
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) continue; // someone else has seq: read again
      throw err;
    }
    // 5. Proof: the ledger must still be below seq, else the claim met a delivered, cleaned-up seq.
    const ledger = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: { pk: { S: sourceId }, sk: { S: 'ledger' } }, ConsistentRead: true }));
    if (BigInt(ledger.Item?.producerSeq?.N ?? '0') >= seq) {
      // The seq is covered: delete the stray claim (only if still ours) and claim again above.
      await fx.dynamo
        .send(new DeleteItemCommand({ TableName: fx.table, Key: { pk: { S: sourceId }, sk: { S: `j#${pad40(seq)}` } }, ConditionExpression: 'claimId = :c', ExpressionAttributeValues: { ':c': { S: claimId } } }))
        .catch((err: unknown) => {
          if (!(err instanceof ConditionalCheckFailedException)) throw err;
        });
      continue;
    }
    // 6. Send with the claimed seq, the marker and the dedup id.
    await fx.sqs.send(
      new SendMessageCommand({
        QueueUrl: fx.queueUrl,
        MessageBody: body,
        MessageGroupId: sourceId,
        MessageDeduplicationId: createHash('sha256').update(`${sourceId}\n${seq}`, 'utf8').digest('hex'),
        MessageAttributes: { seq: { DataType: 'Number', StringValue: seq.toString() }, journaled: { DataType: 'String', StringValue: '1' } },
      }),
    );
    return { seq, journalId };
  }
}

describe('the producer contract with raw SDK calls', () => {
  let fx: Fixture;
  let app: DemoApp;
  let relay: RunningRelay | undefined;
  beforeAll(async () => {
    fx = await freshQueueAndTable('producer-contract');
    app = await startDemoApp({ keepBodies: true });
  });
  afterAll(async () => {
    await relay?.stop(1000);
    await app.close();
    fx.close();
  });

  it('raw claims give 1, 2, 3, the library continues at 4, and the worker delivers all four in order', async () => {
    const raw = [];
    for (const n of [1, 2, 3]) raw.push(await rawSend(fx, 'raw-1', JSON.stringify({ n })));
    expect(raw.map((r) => r.seq)).toEqual([1n, 2n, 3n]);
    const producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    expect((await producer.send({ sourceId: 'raw-1', body: JSON.stringify({ n: 4 }) })).seq).toBe(4n);
    // And the other way round: a raw producer after the library sees the library's claim.
    expect((await rawSend(fx, 'raw-1', JSON.stringify({ n: 5 }))).seq).toBe(5n);

    relay = await startTestRelay(fx.config({ targetUrl: app.url }));
    await waitFor('five deliveries', () => app.records.length >= 5);
    await waitFor('queue drained', async () => (await messagesLeft(fx)) === 0);
    expect(app.records.map((r) => [r.seq, r.idempotencyKey, r.body])).toEqual([1, 2, 3, 4, 5].map((n) => [String(n), `raw-1:${n}`, JSON.stringify({ n })]));
    const ledger = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: { pk: { S: 'raw-1' }, sk: { S: 'ledger' } }, ConsistentRead: true }));
    expect(ledger.Item?.producerSeq?.N).toBe('5');
    expect(ledger.Item?.contiguous?.BOOL).toBe(true);
  });
});
