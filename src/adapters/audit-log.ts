import { randomUUID } from 'node:crypto';
import { PutItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AUDIT_PREFIX, auditSk, PK, SK } from './table-keys';

export type AuditAction = 'park' | 'unpark' | 'skip' | 'auto-park' | 'replay-done' | 'aside' | 'set-aside' | 'declare-lost';

export interface AuditRecord {
  sourceId: string;
  action: AuditAction;
  actor: string;
  reason: string;
  at: number;
  details?: Record<string, unknown>;
}

export interface AuditPort {
  record(r: AuditRecord): Promise<void>;
  /** Oldest first. */
  list(sourceId: string, limit?: number): Promise<AuditRecord[]>;
}

export class DynamoAuditLog implements AuditPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async record(r: AuditRecord): Promise<void> {
    const item: Record<string, AttributeValue> = {
      [PK]: { S: r.sourceId },
      [SK]: { S: auditSk(r.at, randomUUID()) },
      action: { S: r.action },
      actor: { S: r.actor.slice(0, 200) },
      reason: { S: r.reason.slice(0, 500) },
      at: { N: String(r.at) },
    };
    if (r.details) item.details = { S: JSON.stringify(r.details) };
    // A fresh random id in the key: a retried write can only add a record, never overwrite one.
    await this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': SK } }));
  }

  async list(sourceId: string, limit = 100): Promise<AuditRecord[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :a)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': { S: sourceId }, ':a': { S: AUDIT_PREFIX } },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((i) => {
      const r: AuditRecord = { sourceId, action: (i.action?.S ?? 'park') as AuditAction, actor: i.actor?.S ?? '', reason: i.reason?.S ?? '', at: Number(i.at?.N ?? 0) };
      if (i.details?.S) r.details = JSON.parse(i.details.S) as Record<string, unknown>;
      return r;
    });
  }
}
