/**
 * npx tsx bench/replay.ts --entries N — the cost of replaying one parked source's journal of N
 * entries on DynamoDB Local: wall time, DynamoDB calls by command, items read, write calls.
 * Seeds N seq-less entries (journal puts, not counted), parks and unparks the source, then runs
 * one Replayer to the end against an app that accepts everything in process.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoAuditLog } from '../src/adapters/audit-log';
import type { AppPort, DeliveryOutcome } from '../src/adapters/http-app';
import { DynamoJournal, entryFromMessage } from '../src/adapters/journal';
import { DynamoLedger } from '../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../src/adapters/source-control';
import { ensureTable } from '../src/cli/setup';
import type { RelayMessage, Sequence } from '../src/core/message';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startDynamoEmulator } from '../src/dev/emulators';
import { Replayer } from '../src/worker/replayer';

const USAGE = 'usage: npx tsx bench/replay.ts [--entries N] [--body-bytes B] [--endpoint URL]';

function args(): { entries: number; bodyBytes: number; endpoint?: string } {
  const out: { entries: number; bodyBytes: number; endpoint?: string } = { entries: 10_000, bodyBytes: 200 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (name === '--entries' && value && /^\d+$/.test(value)) out.entries = Number(value);
    else if (name === '--body-bytes' && value && /^\d+$/.test(value)) out.bodyBytes = Number(value);
    else if (name === '--endpoint' && value) out.endpoint = value;
    else {
      console.error(USAGE);
      process.exit(2);
    }
    i++;
  }
  return out;
}

const QUEUE = 'arn:aws:sqs:us-east-1:000000000000:bench-replay.fifo@1700000000';
const S0 = 18_000_000_000_000_000_000n;
const seqless = (sqs: bigint): Sequence => ({ kind: 'sqs', value: sqs, text: String(sqs), key: `q1700000000.${sqs}`, sqs, queueId: QUEUE });

/** Counts every DynamoDB call by command, and the items Query and GetItem returned. */
function counted(client: DynamoDBClient): { calls: Map<string, number>; itemsRead: () => number; reset: () => void } {
  const calls = new Map<string, number>();
  let items = 0;
  client.middlewareStack.add(
    (next, context) => async (a) => {
      const name = (context as { commandName?: string }).commandName ?? '?';
      calls.set(name, (calls.get(name) ?? 0) + 1);
      const r = await next(a);
      const out = r.output as { Items?: unknown[]; Item?: unknown; Responses?: Record<string, unknown[]> };
      items += out.Items?.length ?? (out.Item ? 1 : 0);
      for (const rs of Object.values(out.Responses ?? {})) if (Array.isArray(rs)) items += rs.length;
      return r;
    },
    { step: 'initialize', name: 'benchCounter' },
  );
  return { calls, itemsRead: () => items, reset: () => ((items = 0), calls.clear()) };
}

class AcceptAll implements AppPort {
  delivered = 0;
  async deliver(): Promise<DeliveryOutcome> {
    this.delivered++;
    return { kind: 'success', status: 200, durationMs: 0 };
  }
}

async function main(): Promise<void> {
  const a = args();
  const emu = a.endpoint ? undefined : await startDynamoEmulator();
  const endpoint = a.endpoint ?? emu?.endpoint ?? '';
  const dynamo = new DynamoDBClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  try {
    const table = `bench-replay-${Date.now()}`;
    await ensureTable(dynamo, table);
    const journal = new DynamoJournal(dynamo, table);
    const control = new DynamoSourceControl(dynamo, table);
    const ledger = new DynamoLedger(dynamo, table);
    const audit = new DynamoAuditLog(dynamo, table);
    const source = 'bench';
    await ledger.advance(source, seqless(S0), 'm-0', Date.now());
    const parked = await control.park(source, { actor: 'bench', reason: 'bench', nowMs: Date.now(), expectVersion: (await control.read(source)).controlVersion });
    if (!parked.ok) throw new Error('could not park the bench source');

    const body = 'x'.repeat(a.bodyBytes);
    const seedStart = Date.now();
    let next = 1;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = next++; i <= a.entries; i = next++) {
          const seq = seqless(S0 + BigInt(i));
          const m: RelayMessage = { messageId: `m-${i}`, receiptHandle: '', sourceId: source, seq, body, contentType: 'application/json', receiveCount: 1, firstReceivedAt: 1, sentAt: 1, trace: {} };
          await journal.put(entryFromMessage(m, Date.now()));
        }
      }),
    );
    const seedMs = Date.now() - seedStart;
    const unparked = await control.unpark(source, { actor: 'bench', reason: 'bench', nowMs: Date.now(), expectVersion: (await control.read(source)).controlVersion });
    if (!unparked.ok) throw new Error('could not unpark the bench source');

    const counter = counted(dynamo);
    const app = new AcceptAll();
    const replayer = new Replayer(
      { control, journal, ledger, audit, app, listReplaying: async () => [source] },
      // The production settings (src/relay.ts): a 30 s lease, 25 entries per query; no time slice here.
      { owner: 'bench', leaseMs: 30_000, pollMs: 1000, batch: 25, maxBackoffMs: 1000, sliceMs: 24 * 3600_000 } as ConstructorParameters<typeof Replayer>[1],
    );
    const t0 = process.hrtime.bigint();
    const outcome = await replayer.replay(source);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const calls = Object.fromEntries([...counter.calls].sort());
    const writes = ['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'BatchExecuteStatementCommand'].reduce((n, c) => n + (counter.calls.get(c) ?? 0), 0);
    const left = await journal.count(source);
    console.log(
      JSON.stringify(
        {
          entries: a.entries,
          bodyBytes: a.bodyBytes,
          seedSeconds: +(seedMs / 1000).toFixed(1),
          outcome,
          delivered: app.delivered,
          journalLeft: left,
          replaySeconds: +(ms / 1000).toFixed(1),
          entriesPerSecond: Math.round(a.entries / (ms / 1000)),
          itemsRead: counter.itemsRead(),
          itemsReadPerEntry: +(counter.itemsRead() / a.entries).toFixed(2),
          writeCalls: writes,
          writeCallsPerEntry: +(writes / a.entries).toFixed(2),
          calls,
        },
        null,
        2,
      ),
    );
  } finally {
    dynamo.destroy();
    await emu?.stop();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
