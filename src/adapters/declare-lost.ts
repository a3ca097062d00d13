import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FAILURE_ATTRIBUTE_NAMES } from './ledger-statements';
import { controlOf, versionIs, type ControlWrite, type StateChange } from './source-control';
import { journalSk, ledgerKey, PK, SK } from './table-keys';

/** An operator gives up exactly the missing seq of a contiguous source held at a gap. */
export interface LostPort {
  declareLost(sourceId: string, c: StateChange & { seq: bigint }): Promise<LostWrite>;
}

/** inJournal: the "missing" seq is in the journal after all; it will be delivered, nothing changed. */
export type LostWrite = ControlWrite | { ok: false; inJournal: true };

/** The tombstone's message id: an entry at a declared-lost seq, never delivered (it is marked skipped). */
export const LOST_MESSAGE_ID = 'declared-lost';

export class DynamoLost implements LostPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * One conditional write: the position moves from seq − 1 to seq only while the source is
   * contiguous, held at exactly that gap, and nobody acted since the operator's read. The record
   * (lastLost…) is in the same write, so a crash before the audit record still leaves a trace.
   */
  async declareLost(sourceId: string, c: StateChange & { seq: bigint }): Promise<LostWrite> {
    // The seq's key is taken first, put-if-absent: an entry there means it is not lost, and a
    // producer still owing it finds the key taken and claims its message again at the top.
    const key = { [PK]: { S: sourceId }, [SK]: { S: journalSk(c.seq) } };
    const tombstone: Record<string, AttributeValue> = {
      ...key,
      messageId: { S: LOST_MESSAGE_ID },
      seq: { S: c.seq.toString() },
      contentType: { S: 'application/octet-stream' },
      body: { S: '' },
      skippedAt: { N: String(c.nowMs) },
      skippedBy: { S: c.actor },
      lostAt: { N: String(c.nowMs) },
      journaledAt: { N: String(c.nowMs) },
    };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: tombstone, ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': SK } }));
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return { ok: false, inJournal: true };
      throw err;
    }
    const w = await this.moveOn(sourceId, c);
    if (!w.ok) {
      await this.client.send(
        new DeleteItemCommand({ TableName: this.table, Key: key, ConditionExpression: 'messageId = :m AND lostAt = :at', ExpressionAttributeValues: { ':m': { S: LOST_MESSAGE_ID }, ':at': { N: String(c.nowMs) } } }),
      ).catch((e: unknown) => {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      });
    }
    return w;
  }

  private async moveOn(sourceId: string, c: StateChange & { seq: bigint }): Promise<ControlWrite> {
    const prev = c.seq - 1n;
    const values: Record<string, AttributeValue> = {
      ':true': { BOOL: true },
      ':n': { N: c.seq.toString() },
      ':cv': { N: String(c.expectVersion) },
      ':zero': { N: '0' },
      ':one': { N: '1' },
      ':now': { N: String(c.nowMs) },
      ':actor': { S: c.actor },
      ':reason': { S: c.reason.slice(0, 500) },
    };
    if (prev !== 0n) values[':prev'] = { N: prev.toString() };
    const position = prev === 0n ? 'attribute_not_exists(producerSeq)' : 'producerSeq = :prev';
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          UpdateExpression:
            'SET producerSeq = :n, updatedAt = :now, controlVersion = if_not_exists(controlVersion, :zero) + :one, ' +
            `lastLostSeq = :n, lastLostAt = :now, lastLostActor = :actor, lastLostReason = :reason REMOVE ${FAILURE_ATTRIBUTE_NAMES.join(', ')}`,
          ConditionExpression: `contiguous = :true AND gapSeq = :n AND ${position} AND ${versionIs(c.expectVersion)}`,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { ok: true };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return { ok: false, control: controlOf(err.Item) };
      throw err;
    }
  }
}
