import { DeleteItemCommand, PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';
import type { TaskHealth } from '../core/app-health';
import { PK, SK } from './table-keys';

/**
 * Each task's own line in the table, so every page and `fifo-relay status` can show the app's
 * health across tasks (breaker state per task) without asking the tasks. The partition key has a
 * space in it, which an SQS MessageGroupId cannot: it never meets a source's items.
 */
export const TASKS_PK = 'fifo-relay tasks';
const TASK_PREFIX = 'task#';
/** A task item nobody refreshed for this long is dropped from the table by TTL, if enabled. */
const EXPIRE_AFTER_S = 24 * 3600;

export interface TaskHealthPort {
  write(t: TaskHealth): Promise<void>;
  remove(taskId: string): Promise<void>;
  list(): Promise<TaskHealth[]>;
}

const n = (v: AttributeValue | undefined) => Number(v?.N ?? 0);

export class DynamoTaskHealth implements TaskHealthPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async write(t: TaskHealth): Promise<void> {
    const item: Record<string, AttributeValue> = {
      [PK]: { S: TASKS_PK },
      [SK]: { S: TASK_PREFIX + t.taskId },
      taskId: { S: t.taskId },
      seenAt: { N: String(t.seenAt) },
      startedAt: { N: String(t.startedAt) },
      breaker: { S: t.breaker },
      inFlightSources: { N: String(t.inFlightSources) },
      heldMessages: { N: String(t.heldMessages) },
      retryingSources: { N: String(t.retryingSources) },
      deliveredSinceStart: { N: String(t.deliveredSinceStart) },
      stopping: { BOOL: t.stopping },
      // Epoch seconds, for a TTL on the table if one is configured; readers ignore stale items anyway.
      expiresAt: { N: String(Math.floor(t.seenAt / 1000) + EXPIRE_AFTER_S) },
    };
    if (t.breakerSince !== undefined) item.breakerSince = { N: String(t.breakerSince) };
    await this.client.send(new PutItemCommand({ TableName: this.table, Item: item }));
  }

  async remove(taskId: string): Promise<void> {
    await this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { [PK]: { S: TASKS_PK }, [SK]: { S: TASK_PREFIX + taskId } } }));
  }

  async list(): Promise<TaskHealth[]> {
    const out: TaskHealth[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :t)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: TASKS_PK }, ':t': { S: TASK_PREFIX } },
          ExclusiveStartKey: start,
        }),
      );
      for (const i of page.Items ?? []) {
        const t: TaskHealth = {
          taskId: i.taskId?.S ?? '',
          seenAt: n(i.seenAt),
          startedAt: n(i.startedAt),
          breaker: i.breaker?.S ?? 'unknown',
          inFlightSources: n(i.inFlightSources),
          heldMessages: n(i.heldMessages),
          retryingSources: n(i.retryingSources),
          deliveredSinceStart: n(i.deliveredSinceStart),
          stopping: i.stopping?.BOOL === true,
        };
        if (i.breakerSince?.N !== undefined) t.breakerSince = n(i.breakerSince);
        out.push(t);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
  }
}
