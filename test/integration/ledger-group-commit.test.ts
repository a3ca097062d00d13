import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../../src/adapters/aws-clients';
import { Metrics } from '../../src/observability/metrics';
import { GroupCommitLedger } from '../../src/adapters/ledger-group-commit';
import { DynamoLedger, type AdvanceResult, type FailureRecord } from '../../src/adapters/progress-ledger';
import { ledgerKey, sqsSeqText } from '../../src/adapters/table-keys';
import type { Sequence } from '../../src/core/message';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:q.fifo@1';
const producer = (n: number): Sequence => ({ kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: BigInt(1000 + n), queueId: QUEUE });
const sqsOnly = (n: number): Sequence => ({ kind: 'sqs', value: BigInt(n), text: String(n), key: `q.${n}`, sqs: BigInt(n), queueId: QUEUE });

/** Watches the real client's calls (action and statements per call); optionally fails some outright. */
function watch(client: DynamoDBClient, failCall?: (action: string, index: number) => boolean): Array<{ action: string; items: number }> {
  const calls: Array<{ action: string; items: number }> = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const action = context.commandName ?? '';
      const statements = (args.input as { Statements?: unknown[] }).Statements;
      calls.push({ action, items: statements?.length ?? 1 });
      if (failCall?.(action, calls.filter((c) => c.action === action).length - 1)) {
        const err = new Error('Rate of requests exceeds the allowed throughput.');
        err.name = 'ThrottlingException';
        throw err;
      }
      return next(args);
    },
    { step: 'initialize', name: 'testCallWatch' },
  );
  return calls;
}

describe('group-committed ledger advances (DynamoDB Local)', () => {
  let fx: Fixture;
  beforeEach(async () => {
    fx = await freshQueueAndTable('group-commit');
  });
  afterEach(() => fx.close());

  const item = async (sourceId: string) => (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey(sourceId), ConsistentRead: true }))).Item;
  const sources = (n: number, prefix = 's') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

  it('sends advances of many sources pending together in one call per 25, and a new source\'s first write creates its item', async () => {
    const ledger = new GroupCommitLedger(new DynamoLedger(fx.dynamo, fx.table), { maxInFlight: 1 });
    const ids = sources(60);
    const first = await Promise.all(ids.map((id) => ledger.advance(id, producer(1), `m-${id}-1`, 1)));
    expect(first.every((r) => r.status === 'advanced')).toBe(true);
    const created = await item('s42');
    expect(created?.producerSeq?.N).toBe('1');
    expect(created?.sqsSeq?.S).toBe(sqsSeqText(1001n));
    expect(created?.lastMessageId?.S).toBe('m-s42-1');
    expect(await ledger.read('s59')).toEqual({ producerSeq: 1n, sqsSeq: 1001n, sqsQueueId: QUEUE, sqsSeqKind: 'producer' });

    const calls = watch(fx.dynamo);
    const second = await Promise.all(ids.map((id) => ledger.advance(id, producer(2), `m-${id}-2`, 2)));
    expect(second.every((r) => r.status === 'advanced')).toBe(true);
    expect(calls).toEqual([
      { action: 'BatchExecuteStatementCommand', items: 25 },
      { action: 'BatchExecuteStatementCommand', items: 25 },
      { action: 'BatchExecuteStatementCommand', items: 10 },
    ]);
    expect((await item('s7'))?.producerSeq?.N).toBe('2');
  });

  it('fails a stale advance alone, with the position the ledger holds; the others of its batch advance', async () => {
    const ledger = new GroupCommitLedger(new DynamoLedger(fx.dynamo, fx.table), { maxInFlight: 1 });
    await ledger.advance('ahead', producer(5), 'm5', 1);
    await ledger.advance('sqs-ahead', sqsOnly(900), 'm900', 1);
    const calls = watch(fx.dynamo);
    const [stale, staleSqs, ok1, ok2] = await Promise.all([
      ledger.advance('ahead', producer(3), 'm3', 2),
      ledger.advance('sqs-ahead', sqsOnly(800), 'm800', 2),
      ledger.advance('fresh-1', producer(1), 'f1', 2),
      ledger.advance('fresh-2', sqsOnly(10), 'f2', 2),
    ]);
    expect(stale).toEqual<AdvanceResult>({ status: 'stale', position: { producerSeq: 5n, sqsSeq: 1005n, sqsQueueId: QUEUE, sqsSeqKind: 'producer' } });
    expect(staleSqs).toEqual<AdvanceResult>({ status: 'stale', position: { sqsSeq: 900n, sqsQueueId: QUEUE, sqsSeqKind: 'sqs' } });
    expect(ok1).toEqual({ status: 'advanced' });
    expect(ok2).toEqual({ status: 'advanced' });
    // One batch of updates, then one of inserts for the two sources that had no item.
    expect(calls).toEqual([
      { action: 'BatchExecuteStatementCommand', items: 4 },
      { action: 'BatchExecuteStatementCommand', items: 2 },
    ]);
    expect((await item('ahead'))?.lastMessageId?.S).toBe('m5');
  });

  it('clears the failure record on success, as a single advance does, and accepts a later queue incarnation', async () => {
    const inner = new DynamoLedger(fx.dynamo, fx.table);
    const ledger = new GroupCommitLedger(inner, { maxInFlight: 1 });
    const failure: FailureRecord = { messageId: 'm1', seq: '1', attempt: 3, error: 'HTTP 500', atMs: 10, nextAttemptAtMs: 20 };
    await Promise.all([ledger.recordFailure('stuck-1', failure), ledger.recordFailure('stuck-2', failure)]);
    expect((await inner.listStuck(10)).map((s) => s.sourceId).sort()).toEqual(['stuck-1', 'stuck-2']);
    const later: Sequence = { ...sqsOnly(1), queueId: 'arn:aws:sqs:us-east-1:000000000000:q.fifo@2' };
    await inner.advance('stuck-2', sqsOnly(500), 'old', 1);
    const results = await Promise.all([ledger.advance('stuck-1', producer(1), 'm1', 30), ledger.advance('stuck-2', later, 'new', 30)]);
    expect(results).toEqual([{ status: 'advanced' }, { status: 'advanced' }]);
    expect(await inner.listStuck(10)).toEqual([]);
    const it2 = await item('stuck-2');
    expect(it2?.attempt).toBeUndefined();
    expect(it2?.sqsQueueId?.S).toBe(later.queueId);
  });

  it('after a read that found no item, writes a new source with one INSERT; an item created meanwhile still gets the conditional UPDATE', async () => {
    const inner = new DynamoLedger(fx.dynamo, fx.table);
    const ledger = new GroupCommitLedger(inner, { maxInFlight: 1 });
    expect(await ledger.read('new-a')).toBeUndefined();
    expect(await ledger.read('new-b')).toBeUndefined();
    expect(await ledger.read('raced')).toBeUndefined();
    await inner.advance('raced', producer(7), 'elsewhere', 1);
    const calls = watch(fx.dynamo);
    const results = await Promise.all([ledger.advance('new-a', producer(1), 'a', 2), ledger.advance('new-b', producer(1), 'b', 2), ledger.advance('raced', producer(3), 'r', 2)]);
    expect(results).toEqual([{ status: 'advanced' }, { status: 'advanced' }, { status: 'stale', position: { producerSeq: 7n, sqsSeq: 1007n, sqsQueueId: QUEUE, sqsSeqKind: 'producer' } }]);
    // Three inserts; the one that met an existing item goes back to a conditional update.
    expect(calls.map((c) => c.items)).toEqual([3, 1]);
    expect((await item('new-b'))?.producerSeq?.N).toBe('1');
    expect((await item('raced'))?.lastMessageId?.S).toBe('elsewhere');
  });

  it('fails exactly the callers of a throttled call; the next batch goes through', async () => {
    const ledger = new GroupCommitLedger(new DynamoLedger(fx.dynamo, fx.table), { maxInFlight: 1 });
    const ids = sources(30, 't');
    await Promise.all(ids.map((id) => ledger.advance(id, producer(1), 'm1', 1)));
    watch(fx.dynamo, (action, index) => action === 'BatchExecuteStatementCommand' && index === 0);
    const settled = await Promise.allSettled(ids.map((id) => ledger.advance(id, producer(2), 'm2', 2)));
    const rejected = settled.flatMap((s, i) => (s.status === 'rejected' ? [ids[i]] : []));
    expect(rejected).toEqual(ids.slice(0, 25));
    for (const s of settled.slice(0, 25)) expect((s as PromiseRejectedResult).reason).toMatchObject({ name: 'ThrottlingException' });
    expect(settled.slice(25).every((s) => s.status === 'fulfilled' && s.value.status === 'advanced')).toBe(true);
    expect((await item('t0'))?.producerSeq?.N).toBe('1');
    expect((await item('t29'))?.producerSeq?.N).toBe('2');
  });

  it('fails a statement DynamoDB refuses only for its own caller', async () => {
    const ledger = new GroupCommitLedger(new DynamoLedger(fx.dynamo, fx.table), { maxInFlight: 1 });
    const settled = await Promise.allSettled([
      ledger.advance('fine', producer(1), 'm1', 1),
      // Over DynamoDB's 400 KB item size: a ValidationError for this statement only.
      ledger.advance('too-big', producer(1), 'x'.repeat(410_000), 1),
      ledger.advance('fine-too', producer(1), 'm1', 1),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toMatchObject({ name: 'ValidationError' });
    expect(await item('too-big')).toBeUndefined();
    expect((await item('fine-too'))?.producerSeq?.N).toBe('1');
  });

  it('never puts two advances of one source in the same call', async () => {
    const ledger = new GroupCommitLedger(new DynamoLedger(fx.dynamo, fx.table), { maxInFlight: 1 });
    await ledger.advance('twice', producer(1), 'm1', 1);
    const calls = watch(fx.dynamo);
    const results = await Promise.all([ledger.advance('twice', producer(2), 'm2', 2), ledger.advance('other', producer(1), 'o', 2), ledger.advance('twice', producer(3), 'm3', 2)]);
    expect(results.map((r) => r.status)).toEqual(['advanced', 'advanced', 'advanced']);
    // The second advance of 'twice' waits for the next call: alone, it goes as one UpdateItem.
    expect(calls).toEqual([
      { action: 'BatchExecuteStatementCommand', items: 2 },
      { action: 'BatchExecuteStatementCommand', items: 1 },
      { action: 'UpdateItemCommand', items: 1 },
    ]);
    expect((await item('twice'))?.producerSeq?.N).toBe('3');
  });

  it('shows what the calls cost: request durations by service and action, and statements per batched call', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    const client = createDynamoClient({ region: 'us-east-1', requestTimeoutMs: 5000, observe: metrics.observeAws });
    try {
      const ledger = new GroupCommitLedger(new DynamoLedger(client, fx.table), { maxInFlight: 1 });
      await ledger.advance('solo', producer(1), 'm', 1);
      await Promise.all(sources(3, 'm').map((id) => ledger.advance(id, producer(1), 'm', 1)));
      const text = await metrics.registry.metrics();
      const batch = 'service="dynamodb",action="BatchExecuteStatement"';
      // Three updates that found no item, then the same three as inserts.
      expect(text).toContain(`fifo_relay_aws_batch_items_sum{${batch}} 6`);
      expect(text).toContain(`fifo_relay_aws_batch_items_count{${batch}} 2`);
      expect(text).toContain(`fifo_relay_aws_request_duration_seconds_count{${batch}} 2`);
      expect(text).toContain('fifo_relay_aws_request_duration_seconds_count{service="dynamodb",action="UpdateItem"} 1');
      expect(text).not.toContain('fifo_relay_aws_batch_items_count{service="dynamodb",action="UpdateItem"}');
    } finally {
      client.destroy();
    }
  });
});
