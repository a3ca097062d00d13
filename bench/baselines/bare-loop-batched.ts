/**
 * Baseline (a2): baseline (a) with fifo-relay's own group-committed ledger writes — RECEIVERS
 * loops of ReceiveMessage(10) → an advance per message through GroupCommitLedger (advances of all
 * loops pending together share a BatchExecuteStatement of up to 25) → DeleteMessageBatch. Still no
 * ordering logic and no app call: the infrastructure limit once ledger writes are batched.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { GroupCommitLedger } from '../../src/adapters/ledger-group-commit';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { dynamo, runBareLoops, settings } from './common';

const ledger = new GroupCommitLedger(new DynamoLedger(dynamo, settings.table), { maxInFlight: Number(process.env.LEDGER_BATCHES_IN_FLIGHT ?? 2) });

async function record(m: Message): Promise<void> {
  const sqsSeq = BigInt(m.Attributes?.SequenceNumber ?? '0');
  const text = m.MessageAttributes?.seq?.StringValue ?? '0';
  const seq = { kind: 'producer' as const, value: BigInt(text), text, key: text, sqs: sqsSeq, queueId: 'bench' };
  await ledger.advance(m.Attributes?.MessageGroupId ?? '', seq, m.MessageId ?? '', Date.now());
}

runBareLoops(record, ['MessageGroupId', 'SequenceNumber']);
