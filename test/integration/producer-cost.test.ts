import { Producer } from '../../src/index';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

// The cost table of docs/producer.md, counted: API calls per message of one producer alone on
// its sources (no contention), for one-at-a-time sends and for batches.
describe('producer cost per message', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('producer-cost');
  });
  afterAll(() => fx.close());

  it.each([
    [1, 20],
    [10, 200],
    [25, 500],
  ])('batches of %i messages per source, %i messages', async (perCall, total) => {
    const p = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    const source = `cost-${perCall}`;
    for (let i = 0; i < total; i += perCall) {
      await p.sendBatch(Array.from({ length: perCall }, (_, j) => ({ sourceId: source, body: JSON.stringify({ n: i + j, pad: 'x'.repeat(200) }) })));
    }
    const s = p.stats;
    const calls = total / perCall;
    process.stdout.write(
      `cost, ${perCall} per call: per message ${(s.dynamoWrites / total).toFixed(3)} DynamoDB write calls, ${(s.dynamoReads / total).toFixed(3)} read calls, ` +
        `${(s.itemsWritten / total).toFixed(3)} items written, ${(s.sqsCalls / total).toFixed(3)} SQS calls (${JSON.stringify(s)})\n`,
    );
    expect(s.messages).toBe(total);
    expect(s.conflicts + s.rewrites + s.released).toBe(0);
    // Once per source and process: a Query and a GetItem to find the head, an UpdateItem for the flag.
    expect(s.headReads).toBe(1);
    // Per call: one BatchExecuteStatement (≤ 25 claims) and one consistent GetItem of the ledger.
    expect(s.dynamoWrites).toBe(1 + calls * Math.ceil(perCall / 25));
    expect(s.dynamoReads).toBe(2 + calls * Math.ceil(perCall / 25));
    expect(s.itemsWritten).toBe(total);
    expect(s.sqsCalls).toBe(calls * Math.ceil(perCall / 10));
  });
});
