/* eslint-disable @typescript-eslint/no-explicit-any -- SDK middleware signatures are generic over every command; the tests only inspect names and inputs */
// Hostile review of the producer: each test asserts the behaviour the contract promises and
// fails on the code as it stands.
import { GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Producer, ProducerInputError, ProducerSendError } from '../../src/index';
import type { RunningRelay } from '../../src/relay';
import { dynamoClient, freshQueueAndTable, sleep, sqsClient, startTestRelay, waitFor, type Fixture } from '../support/fixtures';
import { accepted, startPoisonApp } from '../support/poison-app';

type Mw = any;

async function journal(fx: Fixture, source: string): Promise<Array<{ seq: string; body: string }>> {
  const out = await fx.dynamo.send(
    new QueryCommand({ TableName: fx.table, KeyConditionExpression: 'pk = :p AND begins_with(sk, :j)', ExpressionAttributeValues: { ':p': { S: source }, ':j': { S: 'j#' } }, ConsistentRead: true }),
  );
  return (out.Items ?? []).map((i) => ({ seq: i.seq?.S ?? '', body: i.body?.S ?? '' }));
}

const isLedgerGet = (name: string, input: unknown) => name === 'GetItemCommand' && (input as { Key?: { sk?: { S?: string } } }).Key?.sk?.S === 'ledger';

describe('producer review', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('review-producer');
  });
  afterAll(() => fx.close());

  it('R1: a batch statement that failed for a non-key reason leaves no hole below its won claims, and journaled messages are not reported notWritten', async () => {
    const dynamodb = dynamoClient();
    let batchCalls = 0;
    // Statement 0 of the first batch is throttled (DynamoDB applies the others), and the
    // put-if-absent that settles it keeps being throttled.
    const mw: Mw = (next: any, context: any) => async (args: any) => {
      const input = args.input as { Statements?: unknown[]; ConditionExpression?: string };
      if (context.commandName === 'BatchExecuteStatementCommand' && batchCalls++ === 0) {
        const out = (await next({ ...args, input: { ...input, Statements: input.Statements?.slice(1) } } as never)) as { output: { Responses?: unknown[] } };
        out.output.Responses = [{ Error: { Code: 'ThrottlingError', Message: 'throttled' } }, ...(out.output.Responses ?? [])];
        return out as never;
      }
      if (context.commandName === 'PutItemCommand' && input.ConditionExpression === 'attribute_not_exists(#sk)') {
        throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException', $fault: 'client', $metadata: {} });
      }
      return next(args);
    };
    dynamodb.middlewareStack.add(mw, { step: 'initialize', name: 'throttleStatement0' });
    const p = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb });
    const out = await p.sendBatch(['a', 'b', 'c'].map((body) => ({ sourceId: 'R1', body }))).catch((e: unknown) => e);
    // The throttled statement is sent again (bounded backoff) and lands: no hole, the call succeeds in order.
    if (Array.isArray(out)) expect(out.map((x: { seq: bigint }) => x.seq)).toEqual([1n, 2n, 3n]);
    else expect(out).toBeInstanceOf(ProducerSendError);
    const e = Array.isArray(out) ? new ProducerSendError('', [], [], []) : (out as ProducerSendError);
    const j = await journal(fx, 'R1');
    process.stdout.write(`R1 journal after failure: ${JSON.stringify(j)}; notWritten ${JSON.stringify(e.notWritten.map((m) => m.body))}; journaledUnsent ${JSON.stringify(e.journaledUnsent)}\n`);
    // A fresh producer continues the source.
    const q = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    const next = await q.send({ sourceId: 'R1', body: 'd' });
    process.stdout.write(`R1 next send got seq ${next.seq}; journal now ${JSON.stringify(await journal(fx, 'R1'))}\n`);
    // Contract: messages that are in the journal are not "neither journaled nor sent".
    const journaledBodies = new Set(j.map((x) => x.body));
    expect(e.notWritten.filter((m) => journaledBodies.has(m.body)).map((m) => m.body)).toEqual([]);
    // Contract: contiguous seqs — no seq below the top is missing from the journal.
    const seqs = (await journal(fx, 'R1')).map((x) => Number(x.seq)).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    dynamodb.destroy();
  }, 60_000);

  it('R1b: a seq whose claim keeps failing below claims that landed is owed: kept as journaledUnsent and written before anything new', async () => {
    const dynamodb = dynamoClient();
    let batchCalls = 0;
    let throttled = true;
    const mw: Mw = (next: any, context: any) => async (args: any) => {
      const input = args.input as { Statements?: unknown[]; ConditionExpression?: string };
      if (context.commandName === 'BatchExecuteStatementCommand' && batchCalls++ === 0) {
        const out = (await next({ ...args, input: { ...input, Statements: input.Statements?.slice(1) } } as never)) as { output: { Responses?: unknown[] } };
        out.output.Responses = [{ Error: { Code: 'ThrottlingError', Message: 'throttled' } }, ...(out.output.Responses ?? [])];
        return out as never;
      }
      if ((context.commandName === 'BatchExecuteStatementCommand' || (context.commandName === 'PutItemCommand' && input.ConditionExpression === 'attribute_not_exists(#sk)')) && throttled) {
        throw Object.assign(new Error('Throughput exceeds the current capacity'), { name: 'ProvisionedThroughputExceededException', $fault: 'client', $metadata: {} });
      }
      return next(args);
    };
    dynamodb.middlewareStack.add(mw, { step: 'initialize', name: 'throttleStatement0' });
    const p = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb });
    const err = (await p.sendBatch(['a', 'b', 'c'].map((body) => ({ sourceId: 'R1b', body }))).catch((e: unknown) => e)) as ProducerSendError;
    expect(err).toBeInstanceOf(ProducerSendError);
    process.stdout.write(`R1b journal ${JSON.stringify(await journal(fx, 'R1b'))}; journaledUnsent ${JSON.stringify(err.journaledUnsent.map((u) => String(u.seq)))}; notWritten ${err.notWritten.length}\n`);
    expect(err.journaledUnsent.map((u) => u.seq)).toEqual([1n, 2n, 3n]);
    expect(err.notWritten).toEqual([]);
    expect(p.pendingSeqs('R1b')).toEqual([1n, 2n, 3n]);
    throttled = false;
    const d = await p.send({ sourceId: 'R1b', body: 'd' });
    expect(d.seq).toBe(4n);
    const j = await journal(fx, 'R1b');
    expect(j.map((x) => [Number(x.seq), x.body])).toEqual([[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd']]);
    dynamodb.destroy();
  }, 60_000);

  it('R2: a DynamoDB failure after the claim keeps the claimed messages as journaledUnsent and sends them first next time', async () => {
    const dynamodb = dynamoClient();
    let claimed = false;
    let failed = false;
    const mw: Mw = (next: any, context: any) => async (args: any) => {
      if (context.commandName === 'BatchExecuteStatementCommand') claimed = true;
      if (claimed && !failed && isLedgerGet(context.commandName, args.input)) {
        failed = true;
        throw Object.assign(new Error('ledger read failed'), { name: 'InternalServerError', $fault: 'server', $metadata: {} });
      }
      return next(args);
    };
    dynamodb.middlewareStack.add(mw, { step: 'initialize', name: 'failProof' });
    const p = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb });
    const err = (await p.sendBatch(['a', 'b', 'c'].map((body) => ({ sourceId: 'R2', body }))).catch((e: unknown) => e)) as ProducerSendError;
    expect(err).toBeInstanceOf(ProducerSendError);
    process.stdout.write(`R2 journal ${JSON.stringify(await journal(fx, 'R2'))}; notWritten ${JSON.stringify(err.notWritten.map((m) => m.body))}; journaledUnsent ${err.journaledUnsent.map((u) => String(u.seq)).join(',')}; pending ${p.pendingSeqs('R2').join(',')}\n`);
    const next = await p.send({ sourceId: 'R2', body: 'd' });
    process.stdout.write(`R2 next send (same producer) got seq ${next.seq}; pending ${p.pendingSeqs('R2').join(',')}\n`);
    expect(err.journaledUnsent.map((u) => u.seq)).toEqual([1n, 2n, 3n]);
    expect(err.notWritten).toEqual([]);
    dynamodb.destroy();
  }, 60_000);

  it('R3: an explicit seq that is not the next one writes nothing', async () => {
    const p = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    await expect(p.send({ sourceId: 'R3', body: 'x', seq: 5 })).rejects.toBeInstanceOf(ProducerInputError);
    const ledger = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: { pk: { S: 'R3' }, sk: { S: 'ledger' } }, ConsistentRead: true }));
    process.stdout.write(`R3 ledger after refusal: ${JSON.stringify(ledger.Item)}\n`);
    expect(ledger.Item).toBeUndefined();
  });

  it('R4: a pause of over 5 s between claim and proof does not reorder one call\'s messages', async () => {
    const dynamodb = dynamoClient();
    let delay = false;
    const mw: Mw = (next: any, context: any) => async (args: any) => {
      if (delay && isLedgerGet(context.commandName, args.input)) {
        delay = false;
        await sleep(5200); // a GC pause, a stalled event loop, a slow retried GetItem
      }
      return next(args);
    };
    dynamodb.middlewareStack.add(mw, { step: 'initialize', name: 'pause' });
    const p = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb });
    const q = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    await p.send({ sourceId: 'R4', body: 'first' }); // p caches next = 2
    await q.send({ sourceId: 'R4', body: 'other' }); // another producer takes 2
    delay = true;
    const r = await p.sendBatch(['a', 'b', 'c'].map((body) => ({ sourceId: 'R4', body })));
    process.stdout.write(`R4 seqs a,b,c = ${r.map((x) => x.seq).join(', ')}; reordered stat ${p.stats.reordered}\n`);
    expect(r[0]!.seq < r[1]!.seq && r[1]!.seq < r[2]!.seq).toBe(true);
    dynamodb.destroy();
  }, 60_000);

  it('R5: a claim the replayer delivered before the proof read is not released and re-sent under a second seq', async () => {
    // The replayer of a replaying source delivers any journal entry above the position at once
    // (replayer.ts round(): no grace on journaledAt/origin) and advances producerSeq. Simulated
    // here by advancing the ledger exactly as ledger.advance does, between claim and proof.
    const dynamodb = dynamoClient();
    let claimed = false;
    let done = false;
    const mw: Mw = (next: any, context: any) => async (args: any) => {
      if (context.commandName === 'BatchExecuteStatementCommand') claimed = true;
      if (claimed && !done && isLedgerGet(context.commandName, args.input)) {
        done = true;
        const entry = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: { pk: { S: 'R5' }, sk: { S: 'j#' + '1'.padStart(40, '0') } }, ConsistentRead: true }));
        await fx.dynamo.send(
          new UpdateItemCommand({
            TableName: fx.table,
            Key: { pk: { S: 'R5' }, sk: { S: 'ledger' } },
            UpdateExpression: 'SET producerSeq = :p, lastMessageId = :m',
            ExpressionAttributeValues: { ':p': { N: '1' }, ':m': { S: entry.Item?.messageId?.S ?? '' } },
          }),
        );
      }
      return next(args);
    };
    dynamodb.middlewareStack.add(mw, { step: 'initialize', name: 'replayerDelivers' });
    const p = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb });
    const r = await p.send({ sourceId: 'R5', body: 'only-once' });
    process.stdout.write(`R5 delivered from the journal at seq 1, then the producer reported seq ${r.seq}; released ${p.stats.released}; journal ${JSON.stringify(await journal(fx, 'R5'))}\n`);
    expect(r.seq).toBe(1n);
    dynamodb.destroy();
  }, 60_000);

  describe('R6: with the worker as it is', () => {
    let app: Awaited<ReturnType<typeof startPoisonApp>>;
    let relay: RunningRelay | undefined;
    beforeAll(async () => {
      app = await startPoisonApp(new Set());
    });
    afterAll(async () => {
      await relay?.stop(1000);
      await app.close();
    });
    it('a SendMessageBatch entry that failed once and was sent again is still delivered', async () => {
      const sqs: SQSClient = sqsClient();
      let first = true;
      sqs.middlewareStack.add(
        ((next: any, context: any) => async (args: any) => {
          const input = args.input as { Entries?: unknown[] };
          if (context.commandName === 'SendMessageBatchCommand' && first) {
            first = false;
            const out = (await next({ ...args, input: { ...input, Entries: input.Entries?.slice(1) } } as never)) as { output: { Failed?: unknown[] } };
            out.output.Failed = [{ Id: 'm0', SenderFault: false, Code: 'InternalError', Message: 'try again' }];
            return out as never;
          }
          return next(args);
        }) as never,
        { step: 'initialize', name: 'failEntry0' },
      );
      const p = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs, dynamodb: fx.dynamo });
      const r = await p.sendBatch([1, 2, 3].map((n) => ({ sourceId: 'R6', body: `{"n":${n}}` })));
      expect(r.map((x) => x.seq)).toEqual([1n, 2n, 3n]); // all three reported sent
      relay = await startTestRelay(fx.config({ targetUrl: app.url }));
      await waitFor('the queue drained', async () => accepted(app.records, 'R6').length >= 2, 20_000, 200);
      await sleep(3000);
      process.stdout.write(`R6 app received seqs ${JSON.stringify(accepted(app.records, 'R6'))}\n`);
      expect(accepted(app.records, 'R6')).toEqual([1, 2, 3]);
      sqs.destroy();
    }, 60_000);
  });

  it('R7: the head read costs what docs/producer.md says (1 read unit for small items)', async () => {
    const p = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    const dynamodb = dynamoClient();
    const heads: Array<{ Limit?: number; ProjectionExpression?: string }> = [];
    const consumed: number[] = [];
    const mw: Mw = (next: any, context: any) => async (args: any) => {
      const input = args.input as { ScanIndexForward?: boolean; Limit?: number; ProjectionExpression?: string };
      if (context.commandName !== 'QueryCommand' || input.ScanIndexForward !== false) return next(args);
      heads.push(input);
      const out = (await next({ ...args, input: { ...input, ReturnConsumedCapacity: 'TOTAL' } } as never)) as { output: { ConsumedCapacity?: { CapacityUnits?: number } } };
      consumed.push(out.output.ConsumedCapacity?.CapacityUnits ?? -1);
      return out as never;
    };
    dynamodb.middlewareStack.add(mw, { step: 'initialize', name: 'headReads' });
    for (let i = 0; i < 2; i++) await p.sendBatch(Array.from({ length: 8 }, (_, k) => ({ sourceId: 'R7', body: `${'x'.repeat(300_000)}${i}${k}` })));
    const q = await fx.dynamo.send(
      new QueryCommand({
        TableName: fx.table,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': { S: 'R7' }, ':lo': { S: 'j#' }, ':hi': { S: 'j#~' } },
        ProjectionExpression: '#sk, seqKind',
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: 16,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    const one = await fx.dynamo.send(
      new QueryCommand({
        TableName: fx.table,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': { S: 'R7' }, ':lo': { S: 'j#' }, ':hi': { S: 'j#~' } },
        ProjectionExpression: '#sk, seqKind',
        ScanIndexForward: false,
        ConsistentRead: true,
        Limit: 1,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    process.stdout.write(`R7 journalTop Query (Limit 16) over 300 KB headers: ${q.Items?.length} items, ${JSON.stringify(q.ConsumedCapacity)}; Limit 1: ${JSON.stringify(one.ConsumedCapacity)}\n`);
    // The producer's own head read, on a source whose headers hold 300 KB bodies: keys only, one item.
    const fresh = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb });
    await fresh.send({ sourceId: 'R7', body: 'small' });
    process.stdout.write(`R7 producer head reads ${JSON.stringify(heads)}, consumed ${JSON.stringify(consumed)}\n`);
    expect(heads.length).toBe(1);
    expect(heads[0]?.Limit).toBe(1);
    // One item read: what a Limit 1 Query of that top header costs, not a page of them.
    expect(consumed[0]).toBeLessThanOrEqual(one.ConsumedCapacity?.CapacityUnits ?? 0);
    expect(consumed[0]).toBeLessThan(q.ConsumedCapacity?.CapacityUnits ?? 0);
    dynamodb.destroy();
    expect(PutItemCommand).toBeDefined();
  }, 120_000);
});
