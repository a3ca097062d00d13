import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { Producer } from '../../src/index';
import { dynamoClient, freshQueueAndTable, type Fixture } from '../support/fixtures';

// A claim request DynamoDB applied whose answer never came back: the SDK sends it again and its
// own inserts meet themselves (DuplicateItem). They must count as this producer's claims, not
// as another producer's — else they stay in the journal, claimed and never sent.
describe('producer claims when an answer is lost', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('producer-lost');
  });
  afterAll(() => fx.close());

  it('recognises its own inserts after the SDK retried the batch, leaving each message exactly once', async () => {
    const dynamodb = dynamoClient();
    let dropped = 0;
    // Below the SDK's retry step: the request reaches DynamoDB Local, then its answer is dropped once.
    dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'BatchExecuteStatementCommand' && dropped === 0) {
          dropped++;
          throw Object.assign(new Error('answer lost'), { name: 'TimeoutError', $metadata: {} });
        }
        return out;
      },
      { step: 'deserialize', name: 'dropOneAnswer', priority: 'low' },
    );
    const producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb });
    const results = await producer.sendBatch(Array.from({ length: 5 }, (_, i) => ({ sourceId: 'lost-1', body: `m${i}` })));
    expect(dropped).toBe(1);
    expect(results.map((r) => r.seq)).toEqual([1n, 2n, 3n, 4n, 5n]);
    const items = (await fx.dynamo.send(new QueryCommand({ TableName: fx.table, KeyConditionExpression: 'pk = :p AND begins_with(sk, :j)', ExpressionAttributeValues: { ':p': { S: 'lost-1' }, ':j': { S: 'j#' } }, ConsistentRead: true }))).Items ?? [];
    expect(items.map((i) => [i.seq?.S, i.body?.S])).toEqual([0, 1, 2, 3, 4].map((i) => [String(i + 1), `m${i}`]));
    dynamodb.destroy();
  });
});
