import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { sha256, splitBody } from './journal';
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
/** Chunks of a body too large for one item sit outside the `aside#` range, so a listing reads only headers. */
const ASIDE_CHUNK_PREFIX = 'asidec#';
const chunkKey = (sourceId: string, messageId: string, i: number) => ({ [PK]: { S: sourceId }, [SK]: { S: `${ASIDE_CHUNK_PREFIX}${messageId}#${String(i).padStart(3, '0')}` } });

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
      ...(await this.bodyAttributes(e.sourceId, e.messageId, e.body)),
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
    const item: Record<string, AttributeValue> = {
      ...asideKey(e.sourceId, e.messageId),
      messageId: { S: e.messageId },
      ...(await this.bodyAttributes(e.sourceId, e.messageId, e.body)),
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

  /**
   * The body inline, or (above what one item holds) in chunk items written first: the header that
   * names them exists only once they all do. A message id has one body, so rewriting a chunk after
   * a crash writes the same bytes.
   */
  private async bodyAttributes(sourceId: string, messageId: string, body: string): Promise<Record<string, AttributeValue>> {
    const parts = splitBody(body);
    if (parts.length === 1) return { body: { S: body } };
    for (let i = 0; i < parts.length; i++) {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: { ...chunkKey(sourceId, messageId, i), data: { S: parts[i] ?? '' } } }));
    }
    return { body: { S: '' }, chunks: { N: String(parts.length) }, bodySha256: { S: sha256(body) } };
  }

  private async loadBody(sourceId: string, item: Record<string, AttributeValue>): Promise<string> {
    const chunks = Number(item.chunks?.N ?? 0);
    if (chunks <= 1) return item.body?.S ?? '';
    const messageId = item.messageId?.S ?? '';
    let body = '';
    for (let i = 0; i < chunks; i++) {
      const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: chunkKey(sourceId, messageId, i), ConsistentRead: true }));
      body += out.Item?.data?.S ?? '';
    }
    if (sha256(body) !== item.bodySha256?.S) throw new Error(`aside item ${sourceId} ${messageId}: chunks do not match its bodySha256`);
    return body;
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
    const entries: AsideEntry[] = [];
    for (const i of out.Items ?? []) entries.push({
      sourceId,
      messageId: i.messageId?.S ?? '',
      body: await this.loadBody(sourceId, i),
      contentType: i.contentType?.S ?? '',
      seq: i.seq?.S ?? '',
      sqsSeq: i.sqsSeq?.S ?? '',
      sentAt: Number(i.sentAt?.N ?? 0),
      receiveCount: Number(i.receiveCount?.N ?? 0),
      detail: i.detail?.S ?? '',
      intent: { messageId: i.messageId?.S ?? '', actor: i.actor?.S ?? '', reason: i.reason?.S ?? '', at: Number(i.requestedAt?.N ?? 0) },
      asideAt: Number(i.asideAt?.N ?? 0),
    });
    return entries;
  }
}
