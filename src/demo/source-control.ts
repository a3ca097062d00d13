import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { auditSk, ledgerKey, PK, SK } from '../adapters/table-keys';

/** The operator actions the demo needs: what `fifo-relay park` and `fifo-relay unpark` do. */
export interface SourceControl {
  park(sourceId: string, reason: string): Promise<void>;
  unpark(sourceId: string): Promise<void>;
}

/**
 * TEMPORARY stand-in for the park/unpark commands, until the journal and replayer land: it
 * writes only the ledger item's state fields (state, listState, stateSince, stateReason,
 * stateActor, controlVersion) and an audit record, in the table layout those commands use. It
 * does NOT journal anything and does not replay: while "parked" the worker keeps retrying the
 * head from SQS, and "unpark" returns the source straight to active. To be replaced by the real
 * commands behind this same interface.
 */
export class ItemWriteSourceControl implements SourceControl {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly actor: string,
    private readonly now: () => number = Date.now,
  ) {}

  async park(sourceId: string, reason: string): Promise<void> {
    const at = this.now();
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          UpdateExpression:
            'SET #state = :parked, listState = :parked, stateSince = :at, stateReason = :reason, stateActor = :actor, ' +
            'controlVersion = if_not_exists(controlVersion, :zero) + :one',
          ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(#state)',
          ExpressionAttributeNames: { '#state': 'state', '#pk': PK },
          ExpressionAttributeValues: {
            ':parked': { S: 'parked' },
            ':at': { N: String(at) },
            ':reason': { S: reason.slice(0, 500) },
            ':actor': { S: this.actor },
            ':zero': { N: '0' },
            ':one': { N: '1' },
          },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new Error(`cannot park ${sourceId}: unknown or not active`, { cause: err });
      throw err;
    }
    await this.audit(sourceId, at, 'park', reason);
  }

  async unpark(sourceId: string): Promise<void> {
    const at = this.now();
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: ledgerKey(sourceId),
          UpdateExpression: 'SET controlVersion = controlVersion + :one REMOVE #state, listState, stateSince, stateReason, stateActor',
          ConditionExpression: '#state = :parked',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':parked': { S: 'parked' }, ':one': { N: '1' } },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) throw new Error(`cannot unpark ${sourceId}: not parked`, { cause: err });
      throw err;
    }
    await this.audit(sourceId, at, 'unpark', '');
  }

  private async audit(sourceId: string, at: number, action: string, reason: string): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          [PK]: { S: sourceId },
          [SK]: { S: auditSk(at, randomUUID()) },
          action: { S: action },
          actor: { S: this.actor },
          reason: { S: reason },
          at: { N: String(at) },
        },
        ConditionExpression: 'attribute_not_exists(#sk)',
        ExpressionAttributeNames: { '#sk': SK },
      }),
    );
  }
}
