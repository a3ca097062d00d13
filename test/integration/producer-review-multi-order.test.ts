import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
const PRODUCERS = 3;
const EACH = 60;
const TOTAL = PRODUCERS * EACH;

async function journal(fx: Fixture, source: string): Promise<Array<Record<string, AttributeValue>>> {
  const out: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await fx.dynamo.send(
      new QueryCommand({
        TableName: fx.table,
        KeyConditionExpression: 'pk = :p AND begins_with(sk, :j)',
        ExpressionAttributeValues: { ':p': { S: source }, ':j': { S: 'j#' } },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

describe(`${PRODUCERS} producer processes on one source`, () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('review-multi');
  });
  afterAll(() => fx.close());

  it(`claims seqs 1..${TOTAL} with no gap and no duplicate, each producer's messages in its own order`, async () => {
    const source = 'shared-source';
    const started = Date.now();
    const outs = await Promise.all(
      Array.from({ length: PRODUCERS }, (_, i) =>
        run(process.execPath, ['--import', 'tsx', 'test/integration/producer-child.ts'], {
          cwd: root,
          env: { ...process.env, QUEUE_URL: fx.queueUrl, PROGRESS_TABLE: fx.table, PRODUCER_NAME: `p${i}`, SOURCE: source, COUNT: String(EACH) },
        }),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    const stats = outs.map((o) => JSON.parse(o.stdout.trim()) as Record<string, number | string>);
    const sum = (k: string) => stats.reduce((a, s) => a + Number(s[k]), 0);
    process.stdout.write(
      `multi-producer: ${PRODUCERS} processes × ${EACH} messages on one source in ${seconds.toFixed(1)} s; ` +
        `claim rounds ${sum('claimRounds')}, conflicts ${sum('conflicts')}, head reads ${sum('headReads')}, rewrites ${sum('rewrites')}, ` +
        `reordered ${sum('reordered')}, released ${sum('released')}, DynamoDB write calls ${sum('dynamoWrites')}, read calls ${sum('dynamoReads')}, SQS calls ${sum('sqsCalls')}\n` +
        stats.map((s) => `  ${JSON.stringify(s)}`).join('\n') +
        '\n',
    );
    expect(sum('messages')).toBe(TOTAL);

    const entries = await journal(fx, source);
    const seqs = entries.map((e) => Number(e.seq?.S)).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    const bodies = entries.map((e) => JSON.parse(e.body?.S ?? '{}') as { producer: string; k: number });
    expect(new Set(bodies.map((b) => `${b.producer}:${b.k}`)).size).toBe(TOTAL);
    // Within one producer, a later message always has a higher seq.
    const bySeq = entries.map((e, i) => ({ seq: Number(e.seq?.S), b: bodies[i] as { producer: string; k: number } })).sort((a, b) => a.seq - b.seq);
    for (let p = 0; p < PRODUCERS; p++) {
      const ks = bySeq.filter((x) => x.b.producer === `p${p}`).map((x) => x.b.k);
      expect(ks).toEqual(Array.from({ length: EACH }, (_, i) => i));
    }

    // SQS got every seq exactly once, each with the body its journal entry holds.
    const bodyOf = new Map(entries.map((e) => [e.seq?.S ?? '', e.body?.S ?? '']));
    const got = new Map<string, string>();
    const order: number[] = [];
    let dup = 0;
    for (let empty = 0; got.size < TOTAL && empty < 5; ) {
      const r = await fx.sqs.send(new ReceiveMessageCommand({ QueueUrl: fx.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['seq'] }));
      const ms = r.Messages ?? [];
      if (ms.length === 0) empty++;
      for (const m of ms) {
        const seq = m.MessageAttributes?.seq?.StringValue ?? '';
        if (got.has(seq)) dup++;
        got.set(seq, m.Body ?? '');
        order.push(Number(seq));
      }
      if (ms.length > 0) await fx.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: fx.queueUrl, Entries: ms.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle ?? '' })) }));
    }
    const inversions = order.filter((s, i) => i > 0 && s < Math.max(...order.slice(0, i))).length;
    process.stdout.write(`SQS group order: ${inversions} of ${order.length} messages arrive after a higher seq; first 40: ${order.slice(0, 40).join(',')}\n`);
    expect(inversions).toBe(0);
    expect(dup).toBe(0);
    expect(got.size).toBe(TOTAL);
    expect([...got].filter(([seq, body]) => bodyOf.get(seq) !== body)).toEqual([]);
  }, 300_000);
});
