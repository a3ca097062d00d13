import { ConditionalCheckFailedException, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { INLINE_BODY_LIMIT_BYTES } from './journal';
import { PK, SK, sqsSeqText } from './table-keys';

/**
 * A message kept out of the source's order: a head that can never be delivered or journaled
 * (a producer seq that went backwards), saved before SQS retention would delete it. Its sort key
 * (`aside#<messageId>`) sorts apart from the journal (`j#`), so replay, cleanup and the journal
 * count never see it; `fifo-relay status <id>` and an operator do.
 */
export const ASIDE_PREFIX = 'aside#';

export interface AsideEntry {
  sourceId: string;
  messageId: string;
  /** Why it is aside, e.g. 'seq-regression'. */
  reason: string;
  detail: string;
  body: string;
  contentType: string;
  seqText: string;
  sqsSeq: bigint;
  queueId: string;
  sentAt: number;
  firstSeenAt: number;
  asideAt: number;
}

export interface AsidePort {
  /** Put-if-absent on the message id: 'exists' when another holder saved it first. */
  putAside(e: AsideEntry): Promise<'written' | 'exists'>;
}

export class DynamoAside implements AsidePort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async putAside(e: AsideEntry): Promise<'written' | 'exists'> {
    if (Buffer.byteLength(e.body, 'utf8') > INLINE_BODY_LIMIT_BYTES) {
      throw new Error(`message ${e.messageId} of source "${e.sourceId}" is too large to put aside (over ${INLINE_BODY_LIMIT_BYTES} bytes): it stays in SQS`);
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            [PK]: { S: e.sourceId },
            [SK]: { S: ASIDE_PREFIX + e.messageId },
            messageId: { S: e.messageId },
            reason: { S: e.reason },
            detail: { S: e.detail.slice(0, 1000) },
            body: { S: e.body },
            contentType: { S: e.contentType },
            seq: { S: e.seqText },
            sqsSeq: { S: sqsSeqText(e.sqsSeq) },
            queueId: { S: e.queueId },
            sentAt: { N: String(e.sentAt) },
            firstSeenAt: { N: String(e.firstSeenAt) },
            asideAt: { N: String(e.asideAt) },
          },
          ConditionExpression: `attribute_not_exists(${SK})`,
        }),
      );
      return 'written';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'exists';
      throw err;
    }
  }
}
