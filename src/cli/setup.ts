import { CreateQueueCommand, GetQueueUrlCommand, QueueDoesNotExist, type SQSClient } from '@aws-sdk/client-sqs';
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableRequest } from '../adapters/table-indexes';

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

/** Creates the progress table (with every index of src/adapters/table-indexes.ts) unless it exists. */
export async function ensureTable(dynamo: DynamoDBClient, table: string): Promise<{ created: boolean }> {
  try {
    await dynamo.send(new DescribeTableCommand({ TableName: table }));
    return { created: false };
  } catch (err) {
    if ((err as Error).name !== 'ResourceNotFoundException') throw err;
  }
  try {
    await dynamo.send(new CreateTableCommand({ TableName: table, ...createTableRequest() }));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
    return { created: false };
  }
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 60 }, { TableName: table });
  return { created: true };
}
