import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { INLINE_BODY_LIMIT_BYTES } from './journal';
import type { AutoAsideEntry, AutoAsidePort } from './journal-aside';
import { FAILURE_ATTRIBUTE_NAMES } from './ledger-statements';
import { ledgerKey, PK, SK } from './table-keys';

/** Sort-key prefix of a message set aside: kept for inspection, never delivered, never deleted by the relay. */
export const ASIDE_PREFIX = 'aside#';
/** The failing-head error texts a set-aside accepts: a producer seq that went backwards. */
export const REGRESSION_ERROR_PREFIX = 'seq went backwards';

export interface AsideIntent {
  messageId: string;
  actor: string;
  reason: string;
  at: number;
}

/** A head moved out of the way, with what is needed to understand (or resend) it. */
export interface AsideEntry {
  sourceId: string;
  messageId: string;
  body: string;
  contentType: string;
  /** The producer seq (or SQS SequenceNumber) it carried, and its SQS SequenceNumber. */
  seq: string;
  sqsSeq: string;
  sentAt: number;
  receiveCount: number;
  /** Why it could not be delivered. */
  detail: string;
  intent: AsideIntent;
  asideAt: number;
}

export type IntentWrite = { ok: true } | { ok: false; headMessageId?: string; lastError?: string; exists: boolean };

export interface AsidePort {
  /** The operator's request, only while the source's recorded failing head is that message and a seq regression. */
  request(sourceId: string, intent: AsideIntent): Promise<IntentWrite>;
  pending(sourceId: string): Promise<AsideIntent | undefined>;
  /** Put-if-absent: a second put for the same message (a retry after a crash) changes nothing. */
  put(e: AsideEntry): Promise<void>;
  has(sourceId: string, messageId: string): Promise<boolean>;
  /** The request is done: remove it and the failing-head record of that message. */
  complete(sourceId: string, messageId: string): Promise<void>;
  list(sourceId: string, limit?: number): Promise<AsideEntry[]>;
}

const INTENT_ATTRIBUTES = ['asideMessageId', 'asideActor', 'asideReason', 'asideAt'];
const asideKey = (sourceId: string, messageId: string) => ({ [PK]: { S: sourceId }, [SK]: { S: ASIDE_PREFIX + messageId } });

/** Both ways a message is set aside: an operator's request (AsidePort) and the retention watchdog's own (AutoAsidePort), one item layout. */
export class DynamoAsideStore implements AsidePort, AutoAsidePort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async request(sourceId: string, i: AsideIntent): Promise<IntentWrite> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          UpdateExpression: 'SET asideMessageId = :m, asideActor = :a, asideReason = :r, asideAt = :at',
          ConditionExpression: 'attribute_exists(#pk) AND headMessageId = :m AND begins_with(lastError, :reg)',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':m': { S: i.messageId }, ':a': { S: i.actor.slice(0, 200) }, ':r': { S: i.reason.slice(0, 500) }, ':at': { N: String(i.at) }, ':reg': { S: REGRESSION_ERROR_PREFIX } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const item = err.Item;
      return { ok: false, exists: item !== undefined, ...(item?.headMessageId?.S ? { headMessageId: item.headMessageId.S } : {}), ...(item?.lastError?.S ? { lastError: item.lastError.S } : {}) };
    }
  }

  async pending(sourceId: string): Promise<AsideIntent | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: ledgerKey(sourceId), ConsistentRead: true, ProjectionExpression: INTENT_ATTRIBUTES.join(', ') }));
    const item = out.Item;
    if (!item?.asideMessageId?.S) return undefined;
    return { messageId: item.asideMessageId.S, actor: item.asideActor?.S ?? '', reason: item.asideReason?.S ?? '', at: Number(item.asideAt?.N ?? 0) };
  }

  async put(e: AsideEntry): Promise<void> {
    const item: Record<string, AttributeValue> = {
      ...asideKey(e.sourceId, e.messageId),
      messageId: { S: e.messageId },
      body: { S: e.body },
      contentType: { S: e.contentType },
      seq: { S: e.seq },
      sqsSeq: { S: e.sqsSeq },
      sentAt: { N: String(e.sentAt) },
      receiveCount: { N: String(e.receiveCount) },
      detail: { S: e.detail.slice(0, 1000) },
      actor: { S: e.intent.actor },
      reason: { S: e.intent.reason },
      requestedAt: { N: String(e.intent.at) },
      asideAt: { N: String(e.asideAt) },
    };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': SK } }));
    } catch (err) {
      // Already set aside (by this holder before a crash, or another task): the first one stands.
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /** The watchdog's put-aside of a head at its retention deadline: same item as an operator's, actor fifo-relay. */
  async putAside(e: AutoAsideEntry): Promise<'written' | 'exists'> {
    if (Buffer.byteLength(e.body, 'utf8') > INLINE_BODY_LIMIT_BYTES) {
      throw new Error(`message ${e.messageId} of source "${e.sourceId}" is too large to put aside (over ${INLINE_BODY_LIMIT_BYTES} bytes): it stays in SQS`);
    }
    const item: Record<string, AttributeValue> = {
      ...asideKey(e.sourceId, e.messageId),
      messageId: { S: e.messageId },
      body: { S: e.body },
      contentType: { S: e.contentType },
      seq: { S: e.seqText },
      sqsSeq: { S: e.sqsSeq.toString() },
      queueId: { S: e.queueId },
      sentAt: { N: String(e.sentAt) },
      firstSeenAt: { N: String(e.firstSeenAt) },
      receiveCount: { N: '0' },
      detail: { S: e.detail.slice(0, 1000) },
      actor: { S: 'fifo-relay watchdog' },
      reason: { S: e.reason },
      requestedAt: { N: String(e.asideAt) },
      asideAt: { N: String(e.asideAt) },
    };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': SK } }));
      return 'written';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'exists';
      throw err;
    }
  }

  async has(sourceId: string, messageId: string): Promise<boolean> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: asideKey(sourceId, messageId), ConsistentRead: true, ProjectionExpression: '#sk', ExpressionAttributeNames: { '#sk': SK } }));
    return out.Item !== undefined;
  }

  async complete(sourceId: string, messageId: string): Promise<void> {
    const failure = FAILURE_ATTRIBUTE_NAMES.filter((a) => a !== 'headMessageId');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          // The failing-head record goes only if it still names this message: a newer head's record stays.
          UpdateExpression: `REMOVE ${[...INTENT_ATTRIBUTES, ...failure, 'headMessageId'].join(', ')}`,
          ConditionExpression: 'asideMessageId = :m AND (attribute_not_exists(headMessageId) OR headMessageId = :m)',
          ExpressionAttributeValues: { ':m': { S: messageId } },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      await this.client
        .send(new UpdateItemCommand({ TableName: this.table, Key: ledgerKey(sourceId), UpdateExpression: `REMOVE ${INTENT_ATTRIBUTES.join(', ')}`, ConditionExpression: 'asideMessageId = :m', ExpressionAttributeValues: { ':m': { S: messageId } } }))
        .catch((e: unknown) => {
          if (!(e instanceof ConditionalCheckFailedException)) throw e;
        });
    }
  }

  async list(sourceId: string, limit = 100): Promise<AsideEntry[]> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :a)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': { S: sourceId }, ':a': { S: ASIDE_PREFIX } },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((i) => ({
      sourceId,
      messageId: i.messageId?.S ?? '',
      body: i.body?.S ?? '',
      contentType: i.contentType?.S ?? '',
      seq: i.seq?.S ?? '',
      sqsSeq: i.sqsSeq?.S ?? '',
      sentAt: Number(i.sentAt?.N ?? 0),
      receiveCount: Number(i.receiveCount?.N ?? 0),
      detail: i.detail?.S ?? '',
      intent: { messageId: i.messageId?.S ?? '', actor: i.actor?.S ?? '', reason: i.reason?.S ?? '', at: Number(i.requestedAt?.N ?? 0) },
      asideAt: Number(i.asideAt?.N ?? 0),
    }));
  }
}
