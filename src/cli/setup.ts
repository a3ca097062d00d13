import { CreateQueueCommand, GetQueueUrlCommand, QueueDoesNotExist, type SQSClient } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { STUCK_INDEX } from '../adapters/progress-ledger';
import { STATE_INDEX } from '../adapters/source-control';
import { PK, SK } from '../adapters/table-keys';

/** Queue settings the relay is built for: FIFO, no redrive policy, longest retention. */
export const QUEUE_ATTRIBUTES = {
  FifoQueue: 'true',
  ContentBasedDeduplication: 'false',
  MessageRetentionPeriod: String(14 * 24 * 60 * 60),
  VisibilityTimeout: '30',
  DeduplicationScope: 'messageGroup',
  FifoThroughputLimit: 'perMessageGroupId',
} as const;

/** The queue name is the last path segment of its URL, and a FIFO name must end in .fifo. */
export function queueNameFromUrl(queueUrl: string): string {
  const name = new URL(queueUrl).pathname.split('/').filter(Boolean).pop() ?? '';
  if (!name.endsWith('.fifo')) throw new Error(`queue name "${name}" in ${queueUrl} must end in .fifo`);
  return name;
}

/** Creates the FIFO queue unless it exists; returns its URL either way. */
export async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = QUEUE_ATTRIBUTES): Promise<{ url: string; created: boolean }> {
  try {
    const found = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    if (found.QueueUrl) return { url: found.QueueUrl, created: false };
  } catch (err) {
    if (!(err instanceof QueueDoesNotExist) && (err as Error).name !== 'QueueDoesNotExist' && (err as Error).name !== 'AWS.SimpleQueueService.NonExistentQueue') throw err;
  }
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return { url: out.QueueUrl ?? '', created: true };
}

/** Creates the progress table (with its sparse stuck-sources and state indexes) unless it exists. */
export async function ensureTable(dynamo: DynamoDBClient, table: string): Promise<{ created: boolean }> {
  try {
    await dynamo.send(new DescribeTableCommand({ TableName: table }));
    return { created: false };
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException') throw err;
  }
  try {
    await dynamo.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: PK, AttributeType: 'S' },
          { AttributeName: SK, AttributeType: 'S' },
          { AttributeName: 'stuck', AttributeType: 'S' },
          { AttributeName: 'stuckSince', AttributeType: 'N' },
          { AttributeName: 'listState', AttributeType: 'S' },
          { AttributeName: 'stateSince', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: PK, KeyType: 'HASH' },
          { AttributeName: SK, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: STUCK_INDEX,
            KeySchema: [
              { AttributeName: 'stuck', KeyType: 'HASH' },
              { AttributeName: 'stuckSince', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            // Parked, replaying and closing sources, oldest state change first (sparse: absent when active).
            IndexName: STATE_INDEX,
            KeySchema: [
              { AttributeName: 'listState', KeyType: 'HASH' },
              { AttributeName: 'stateSince', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
    return { created: false };
  }
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 60 }, { TableName: table });
  return { created: true };
}
