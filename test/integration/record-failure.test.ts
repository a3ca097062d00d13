import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoLedger, type FailureRecord } from '../../src/adapters/progress-ledger';
import { ledgerKey } from '../../src/adapters/table-keys';
import type { Sequence } from '../../src/core/message';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

const Q1 = 'arn:aws:sqs:us-east-1:000000000000:q.fifo@1';
const Q2 = 'arn:aws:sqs:us-east-1:000000000000:q.fifo@2';
const producer = (n: number, queueId = Q1): Sequence => ({ kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: BigInt(1000 + n), queueId });
const sqsOnly = (n: number, queueId = Q1): Sequence => ({ kind: 'sqs', value: BigInt(n), text: String(n), key: `${queueId}#${n}`, sqs: BigInt(n), queueId });
const failure = (seq: Sequence): FailureRecord => ({ messageId: `m-${seq.text}`, seq: seq.text, headSeq: seq, attempt: 3, error: 'HTTP 503', atMs: Date.now(), nextAttemptAtMs: Date.now() + 60_000 });

describe('recordFailure is conditioned on its head: a late write never marks a source that has moved past it', () => {
  let fx: Fixture;
  let ledger: DynamoLedger;
  beforeAll(async () => {
    fx = await freshQueueAndTable('recfail');
    ledger = new DynamoLedger(fx.dynamo, fx.table);
  });
  afterAll(() => fx.close());

  const stuckOf = async (sourceId: string) => (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey(sourceId), ConsistentRead: true }))).Item?.stuck?.S;

  it('producer seq: a failure of a head the position already covers is dropped; the next head is recorded', async () => {
    await ledger.advance('P', producer(5), 'm-5', 1);
    // A task whose visibility lapsed writes its failure of seq 5 after another task delivered it.
    await ledger.recordFailure('P', failure(producer(5)));
    expect(await stuckOf('P')).toBeUndefined();
    await ledger.recordFailure('P', failure(producer(6)));
    expect(await stuckOf('P')).toBe('1');
  });

  it('sqs SequenceNumber: covered in the same queue is dropped; a recreated queue (another queue id) is recorded', async () => {
    await ledger.advance('S', sqsOnly(2000), 'm-2000', 1);
    await ledger.recordFailure('S', failure(sqsOnly(1999)));
    expect(await stuckOf('S')).toBeUndefined();
    await ledger.recordFailure('S', failure(sqsOnly(5, Q2)));
    expect(await stuckOf('S')).toBe('1');
  });

  it('a source with no ledger item yet is recorded (its first head is failing)', async () => {
    await ledger.recordFailure('N', failure(producer(1)));
    expect(await stuckOf('N')).toBe('1');
  });
});

describe('a seq-regression head is still recorded (its producer seq is behind the position by definition)', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('recfail-regr');
  });
  afterAll(() => fx.close());

  it('conditioned on its SQS place, not its producer seq', async () => {
    const ledger = new DynamoLedger(fx.dynamo, fx.table);
    await ledger.advance('R', producer(5), 'm-5', 1);
    const regression: Sequence = { ...producer(1), kind: 'sqs', value: 1010n, sqs: 1010n };
    await ledger.recordFailure('R', failure(regression));
    const item = (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey('R'), ConsistentRead: true }))).Item;
    expect(item?.stuck?.S).toBe('1');
  });
});
