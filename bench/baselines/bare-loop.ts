/**
 * Baseline (a): the least work this design needs per message, with no ordering logic and no app
 * call — RECEIVERS loops of ReceiveMessage(10) → one conditional DynamoDB UpdateItem per message
 * (all of a batch at once) → DeleteMessageBatch. Its rate is the infrastructure limit on this
 * machine: what SQS + DynamoDB + one Node process can do at most.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { ConditionalCheckFailedException, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ledgerKey } from '../../src/adapters/table-keys';
import { announce, done, dynamo, settings, sqs } from './common';

const receivers = Number(process.env.BARE_RECEIVERS ?? 4);
let stopping = false;
const abort = new AbortController();

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

async function loop(): Promise<void> {
  while (!stopping) {
    let messages: Message[];
    try {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: settings.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 20,
          VisibilityTimeout: 30,
          MessageSystemAttributeNames: ['MessageGroupId'],
          MessageAttributeNames: ['seq'],
        }),
        { abortSignal: abort.signal },
      );
      messages = out.Messages ?? [];
    } catch {
      if (stopping) return;
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (messages.length === 0) continue;
    await Promise.all(messages.map(record));
    await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: settings.queueUrl, Entries: messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle ?? '' })) }),
    );
    done(messages.length);
  }
}

for (let i = 0; i < receivers; i++) void loop();
announce(() => {
  stopping = true;
  abort.abort();
});
