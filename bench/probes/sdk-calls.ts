/**
 * What one DynamoDB UpdateItem costs the caller's CPU with the AWS SDK, in the shape the bare
 * loop sends and in the shape of the worker's ledger advance (more attributes, a REMOVE of the
 * failure fields, ReturnValuesOnConditionCheckFailure). Starts its own DynamoDB Local.
 *   npx tsx bench/probes/sdk-calls.ts [calls]
 */
import { UpdateItemCommand, type UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '../../src/cli/setup';
import { ledgerKey, sqsSeqText } from '../../src/adapters/table-keys';
import { emulators, harnessDynamo } from '../lib/aws';
import { hookSignals } from '../lib/processes';

const calls = Number(process.argv[2] ?? 8000);

async function main(): Promise<void> {
  hookSignals();
  const emu = await emulators();
  const dynamo = harnessDynamo(emu);
  const table = 'probe-sdk-calls';
  await ensureTable(dynamo, table);
  const arn = 'arn:aws:sqs:us-east-1:000000000000:probe.fifo';
  const bare = (i: number): UpdateItemCommandInput => ({
    TableName: table,
    Key: ledgerKey(`s-${i % 200}`),
    UpdateExpression: 'SET producerSeq = :p, lastMessageId = :m',
    ConditionExpression: 'attribute_not_exists(producerSeq) OR producerSeq < :p',
    ExpressionAttributeValues: { ':p': { N: String(i) }, ':m': { S: `m-${i}` } },
  });
  const ledger = (i: number): UpdateItemCommandInput => ({
    TableName: table,
    Key: ledgerKey(`l-${i % 200}`),
    UpdateExpression:
      'SET sqsSeq = :s, sqsQueueId = :arn, lastMessageId = :m, updatedAt = :now, producerSeq = :p ' +
      'REMOVE stuck, stuckSince, lastError, attempt, headMessageId, headSeq, failedAt, nextAttemptAt',
    ConditionExpression: 'attribute_not_exists(producerSeq) OR producerSeq < :p',
    ExpressionAttributeValues: { ':s': { S: sqsSeqText(10_000_000_000n + BigInt(i)) }, ':arn': { S: arn }, ':m': { S: `m-${i}` }, ':now': { N: String(Date.now()) }, ':p': { N: String(i) } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  });
  // Seqs only ever grow, across rounds too, so every conditional write succeeds.
  let next = 1;
  const measure = async (name: string, input: (i: number) => UpdateItemCommandInput) => {
    const cpu0 = process.cpuUsage();
    const end = next + calls;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < end) await dynamo.send(new UpdateItemCommand(input(next++)));
    }));
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`${name.padEnd(22)} ${((cpu.user + cpu.system) / calls).toFixed(0).padStart(5)} µs CPU per call\n`);
  };
  process.stdout.write(`${calls.toLocaleString('en-US')} UpdateItem calls per round, 32 in flight, to DynamoDB Local\n`);
  for (let round = 1; round <= 3; round++) {
    await measure('bare loop shape', bare);
    await measure('ledger advance shape', ledger);
  }
  dynamo.destroy();
  await emu.stop();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
