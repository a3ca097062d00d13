/**
 * npx tsx bench/replay-idle.ts [--seconds S] [--warmup S] — the DynamoDB requests an idle task
 * makes (nothing in the queue, nothing parked), by action, over S seconds (default 60) after a
 * warm-up (default 70 s), and how long an unpark
 * then waits for its replay to start. Starts its own emulators and one relay in process.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import pino from 'pino';
import { DynamoJournal, entryFromMessage } from '../src/adapters/journal';
import { DynamoLedger } from '../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../src/adapters/source-control';
import { loadConfig } from '../src/config';
import type { Sequence } from '../src/core/message';
import { EMULATOR_REGION } from '../src/dev/emulators';
import { startRelay } from '../src/relay';
import { awsEnv, emulators, freshQueueAndTable, harnessDynamo, harnessSqs } from './lib/aws';

const argv = process.argv.slice(2);
let seconds = 60;
// The idle cadence reaches its slowest after about a minute (4 + 8 + 16 + 30 s at the defaults).
let warmup = 70;
for (let i = 0; i < argv.length; i += 2) {
  const value = argv[i + 1] ?? '';
  if (argv[i] === '--seconds' && /^\d+$/.test(value)) seconds = Number(value);
  else if (argv[i] === '--warmup' && /^\d+$/.test(value)) warmup = Number(value);
  else {
    console.error('usage: npx tsx bench/replay-idle.ts [--seconds S] [--warmup S]');
    process.exit(2);
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const emu = await emulators();
  Object.assign(process.env, awsEnv(emu));
  const sqs = harnessSqs(emu);
  const dynamo = harnessDynamo(emu);
  const { queueUrl, table } = await freshQueueAndTable(sqs, dynamo, 'idle');
  const config = loadConfig({ QUEUE_URL: queueUrl, TARGET_URL: 'http://127.0.0.1:9/', PROGRESS_TABLE: table, AWS_REGION: EMULATOR_REGION, HTTP_PORT: '0', LOG_LEVEL: 'silent' });
  const relay = await startRelay(config, pino({ level: 'silent' }), { defaultMetrics: false });
  try {
    const dynamoCalls = async () => {
      const out: Record<string, number> = {};
      for (const v of (await relay.metrics.registry.getSingleMetric('fifo_relay_aws_requests_total')!.get()).values) if (v.labels.service === 'dynamodb') out[String(v.labels.action)] = (out[String(v.labels.action)] ?? 0) + v.value;
      return out;
    };
    // Let start-up reads and the first looks pass, then count a steady idle window.
    await sleep(warmup * 1000);
    const before = await dynamoCalls();
    await sleep(seconds * 1000);
    const after = await dynamoCalls();
    const delta: Record<string, number> = {};
    for (const [k, n] of Object.entries(after)) if (n - (before[k] ?? 0) > 0) delta[k] = n - (before[k] ?? 0);
    const total = Object.values(delta).reduce((a, n) => a + n, 0);

    // An unpark on the idle task: how long until its replay starts (the journal entry is gone).
    const control = new DynamoSourceControl(dynamo, table);
    const journal = new DynamoJournal(dynamo, table);
    const seq: Sequence = { kind: 'producer', value: 1n, text: '1', key: '1', sqs: 5n, queueId: `${relay.facts.arn}@1` };
    await new DynamoLedger(dynamo, table).advance('idle-src', { ...seq, value: 0n, text: '0', key: '0', sqs: 1n }, 'm0', Date.now());
    await control.park('idle-src', { actor: 'bench', reason: 'bench', nowMs: Date.now(), expectVersion: 0 });
    await journal.put(entryFromMessage({ messageId: 'm1', receiptHandle: '', sourceId: 'idle-src', seq, body: '{}', contentType: 'application/json', receiveCount: 1, firstReceivedAt: 1, sentAt: 1, trace: {} }, Date.now()));
    const c = await control.read('idle-src');
    const unparkedAt = Date.now();
    await control.unpark('idle-src', { actor: 'bench', reason: 'bench', nowMs: unparkedAt, expectVersion: c.controlVersion });
    // The app at TARGET_URL refuses connections, so the replay fails: its first attempt shows as a lease on the item.
    let startedAfterMs = -1;
    while (Date.now() - unparkedAt < 120_000) {
      const raw = await dynamo.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'idle-src' }, sk: { S: 'ledger' } }, ConsistentRead: true }));
      if (raw.Item?.replayOwner || raw.Item?.state?.S !== 'replaying') {
        startedAfterMs = Date.now() - unparkedAt;
        break;
      }
      await sleep(250);
    }
    console.log(JSON.stringify({ warmupSeconds: warmup, idleSeconds: seconds, replayPollMs: config.replayPollMs, statusRefreshSeconds: config.statusRefreshSeconds, dynamodbCalls: delta, dynamodbRequestsPerSecond: +(total / seconds).toFixed(3), unparkToReplayStartMs: startedAfterMs }, null, 2));
  } finally {
    await relay.stop(1000);
    sqs.destroy();
    dynamo.destroy();
    await emu.stop();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
