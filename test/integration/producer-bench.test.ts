import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import { Producer } from '../../src/index';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

// Figures, not assertions on speed: the producer against plain SendMessageBatch in the same run
// (same emulators, same machine), and the end-to-end latency from a send call to the app.
const SOURCES = 20;
const PER_SOURCE = 100;
const TOTAL = SOURCES * PER_SOURCE;
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

describe('producer bench (prints figures)', () => {
  let fx: Fixture;
  let app: DemoApp;
  let relay: RunningRelay | undefined;
  beforeAll(async () => {
    fx = await freshQueueAndTable('producer-bench');
    app = await startDemoApp({});
  });
  afterAll(async () => {
    await relay?.stop(1000);
    await app.close();
    fx.close();
  });

  it(`throughput: ${TOTAL} messages over ${SOURCES} sources, plain SendMessageBatch then the producer`, async () => {
    const body = (s: number, n: number) => JSON.stringify({ source: s, n, pad: 'x'.repeat(200) });
    let t = performance.now();
    let plainCalls = 0;
    for (let n = 0; n < PER_SOURCE; n += 10) {
      await Promise.all(
        Array.from({ length: SOURCES }, async (_, s) => {
          plainCalls++;
          await fx.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: fx.queueUrl,
              Entries: Array.from({ length: 10 }, (_, j) => ({ Id: `e${j}`, MessageGroupId: `plain-${s}`, MessageDeduplicationId: randomUUID(), MessageBody: body(s, n + j), MessageAttributes: { seq: { DataType: 'Number', StringValue: String(n + j + 1) } } })),
            }),
          );
        }),
      );
    }
    const plainSeconds = (performance.now() - t) / 1000;

    const producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    t = performance.now();
    for (let n = 0; n < PER_SOURCE; n += 10) {
      await producer.sendBatch(Array.from({ length: SOURCES * 10 }, (_, i) => ({ sourceId: `prod-${i % SOURCES}`, body: body(i % SOURCES, n + Math.floor(i / SOURCES)) })));
    }
    const producerSeconds = (performance.now() - t) / 1000;
    const s = producer.stats;
    process.stdout.write(
      `bench plain SendMessageBatch: ${TOTAL} msgs in ${plainSeconds.toFixed(2)} s = ${(TOTAL / plainSeconds).toFixed(0)} msgs/s; ${(plainCalls / TOTAL).toFixed(3)} SQS requests/msg, 0 DynamoDB calls\n` +
        `bench producer (10 per source per call): ${TOTAL} msgs in ${producerSeconds.toFixed(2)} s = ${(TOTAL / producerSeconds).toFixed(0)} msgs/s; ` +
        `${(s.dynamoWrites / TOTAL).toFixed(3)} DynamoDB write calls/msg, ${(s.dynamoReads / TOTAL).toFixed(3)} read calls/msg, ${(s.itemsWritten / TOTAL).toFixed(3)} items/msg, ${(s.sqsCalls / TOTAL).toFixed(3)} SQS requests/msg\n`,
    );
    expect(s.messages).toBe(TOTAL);
  }, 300_000);

  it('latency: from a send call to the app, producer and plain SendMessage, one message at a time, worker running', async () => {
    await waitFor('nothing left from the throughput run', async () => (await messagesLeft(fx)) === 0, 5_000).catch(() => undefined);
    relay = await startTestRelay(fx.config({ targetUrl: app.url }));
    // Let the worker drain the throughput run first: latency is measured on an idle queue.
    await waitFor('throughput run delivered', async () => (await messagesLeft(fx)) === 0, 240_000, 500);
    const producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    const started = new Map<string, number>();
    const N = 100;
    for (let i = 0; i < N; i++) {
      const t0 = Date.now();
      const r = await producer.send({ sourceId: `lat-p-${i % 10}`, body: '{}' });
      started.set(`lat-p-${i % 10}:${r.seq}`, t0);
      const t1 = Date.now();
      await fx.sqs.send(new SendMessageCommand({ QueueUrl: fx.queueUrl, MessageGroupId: `lat-q-${i % 10}`, MessageDeduplicationId: randomUUID(), MessageBody: '{}', MessageAttributes: { seq: { DataType: 'Number', StringValue: String(Math.floor(i / 10) + 1) } } }));
      started.set(`lat-q-${i % 10}:${Math.floor(i / 10) + 1}`, t1);
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitFor('latency messages delivered', () => app.records.filter((r) => r.sourceId.startsWith('lat-') && r.status === 200).length >= 2 * N, 120_000, 200);
    const lat = (prefix: string) => app.records.filter((r) => r.sourceId.startsWith(prefix) && r.status === 200).map((r) => r.at - (started.get(r.idempotencyKey) ?? NaN));
    const p = lat('lat-p-');
    const q = lat('lat-q-');
    process.stdout.write(
      `latency send→app, producer: p50 ${quantile(p, 0.5)} ms, p95 ${quantile(p, 0.95)} ms, max ${Math.max(...p)} ms; ` + `plain SendMessage: p50 ${quantile(q, 0.5)} ms, p95 ${quantile(q, 0.95)} ms, max ${Math.max(...q)} ms (n=${N} each)\n`,
    );
    // Each source's producer messages reached the app in seq order.
    for (let s = 0; s < 10; s++) {
      const seqs = app.records.filter((r) => r.sourceId === `lat-p-${s}` && r.status === 200).map((r) => Number(r.seq));
      expect(seqs).toEqual(Array.from({ length: N / 10 }, (_, i) => i + 1));
    }
  }, 400_000);
});
