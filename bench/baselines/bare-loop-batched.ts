/**
 * Baseline (a2): baseline (a) with fifo-relay's own group-committed ledger writes — RECEIVERS
 * loops of ReceiveMessage(10) → an advance per message through GroupCommitLedger (advances of all
 * loops pending together share a BatchExecuteStatement of up to 25) → DeleteMessageBatch. Still no
 * ordering logic and no app call: the infrastructure limit once ledger writes are batched.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { GroupCommitLedger } from '../../src/adapters/ledger-group-commit';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { announce, done, dynamo, settings, sqs } from './common';

const receivers = Number(process.env.BARE_RECEIVERS ?? 4);
const ledger = new GroupCommitLedger(new DynamoLedger(dynamo, settings.table), { maxInFlight: Number(process.env.LEDGER_BATCHES_IN_FLIGHT ?? 2) });
let stopping = false;
const abort = new AbortController();

async function record(m: Message): Promise<void> {
  const sqsSeq = BigInt(m.Attributes?.SequenceNumber ?? '0');
  const text = m.MessageAttributes?.seq?.StringValue ?? '0';
  const seq = { kind: 'producer' as const, value: BigInt(text), text, key: text, sqs: sqsSeq, queueId: 'bench' };
  await ledger.advance(m.Attributes?.MessageGroupId ?? '', seq, m.MessageId ?? '', Date.now());
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
          MessageSystemAttributeNames: ['MessageGroupId', 'SequenceNumber'],
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
