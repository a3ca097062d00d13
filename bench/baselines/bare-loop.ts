/**
 * Baseline (a): the least work this design needs per message, with no ordering logic and no app
 * call — RECEIVERS loops of ReceiveMessage(10) → one conditional DynamoDB UpdateItem per message
 * (all of a batch at once) → DeleteMessageBatch. Its rate is the infrastructure limit on this
 * machine: what SQS + DynamoDB + one Node process can do at most.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ledgerKey } from '../../src/adapters/table-keys';
import { dynamo, runBareLoops, settings } from './common';


async function record(m: Message): Promise<void> {
  const sourceId = m.Attributes?.MessageGroupId ?? '';
  const seq = m.MessageAttributes?.seq?.StringValue ?? '0';
  try {
    await dynamo.send(
      new UpdateItemCommand({
        TableName: settings.table,
        Key: ledgerKey(sourceId),
        UpdateExpression: 'SET producerSeq = :p, lastMessageId = :m',
        ConditionExpression: 'attribute_not_exists(producerSeq) OR producerSeq < :p',
        ExpressionAttributeValues: { ':p': { N: seq }, ':m': { S: m.MessageId ?? '' } },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}

runBareLoops(record, ['MessageGroupId']);
