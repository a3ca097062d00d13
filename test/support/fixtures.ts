import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config';
import { ensureQueue, ensureTable } from '../../src/cli/setup';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../../src/dev/emulators';
import { startRelay, type RunningRelay } from '../../src/relay';
import { queueDepth } from '../../src/adapters/sqs-queue';

export function endpoints(): { sqs: string; ddb: string } {
  const sqs = process.env.FIFO_RELAY_TEST_SQS_ENDPOINT;
  const ddb = process.env.FIFO_RELAY_TEST_DDB_ENDPOINT;
  if (!sqs || !ddb) throw new Error('emulators not started: run through jest (test/support/global-setup.ts)');
  return { sqs, ddb };
}

export function sqsClient(): SQSClient {
  return new SQSClient({ endpoint: endpoints().sqs, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, useQueueUrlAsEndpoint: false });
}

export function dynamoClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: endpoints().ddb, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
}

export interface Fixture {
  queueUrl: string;
  table: string;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  /** A valid Config for this queue and table, with test-friendly timings. */
  config(overrides?: Partial<Config>): Config;
  close(): void;
}

/** A fresh FIFO queue and progress table, named so test files never share state. */
export async function freshQueueAndTable(label: string, queueAttributes?: Record<string, string>): Promise<Fixture> {
  const id = `${label}-${randomUUID().slice(0, 8)}`;
  const sqs = sqsClient();
  const dynamo = dynamoClient();
  const { url } = await ensureQueue(sqs, `${id}.fifo`, queueAttributes);
  const table = `progress-${id}`;
  await ensureTable(dynamo, table);
  return {
    queueUrl: url,
    table,
    sqs,
    dynamo,
    config: (overrides = {}) => ({
      ...loadConfig({
        QUEUE_URL: url,
        TARGET_URL: 'http://127.0.0.1:9/',
        PROGRESS_TABLE: table,
        AWS_REGION: EMULATOR_REGION,
        HTTP_PORT: '0',
        RECEIVE_WAIT_SECONDS: '1',
        VISIBILITY_TIMEOUT_SECONDS: '5',
        APP_TIMEOUT_MS: '2000',
        RETRY_BASE_SECONDS: '1',
        RETRY_MAX_SECONDS: '2',
        SHUTDOWN_GRACE_SECONDS: '5',
        LOG_LEVEL: 'silent',
        DELETE_FLUSH_MS: '5',
        AWS_REQUEST_TIMEOUT_MS: '1500',
      }),
      ...overrides,
    }),
    close: () => {
      sqs.destroy();
      dynamo.destroy();
    },
  };
}

export interface OutMessage {
  sourceId: string;
  seq?: number | string;
  body: string;
  contentType?: string;
  dedupId?: string;
  extraAttributes?: Record<string, MessageAttributeValue>;
}

export async function send(sqs: SQSClient, queueUrl: string, messages: OutMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const part = messages.slice(i, i + 10);
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: part.map((m, j) => {
          const attrs: Record<string, MessageAttributeValue> = { ...m.extraAttributes };
          if (m.seq !== undefined) attrs.seq = { DataType: 'Number', StringValue: String(m.seq) };
          if (m.contentType) attrs.contentType = { DataType: 'String', StringValue: m.contentType };
          return {
            Id: `e${j}`,
            MessageBody: m.body,
            MessageGroupId: m.sourceId,
            MessageDeduplicationId: m.dedupId ?? randomUUID(),
            MessageAttributes: Object.keys(attrs).length > 0 ? attrs : undefined,
          };
        }),
      }),
    );
    if (out.Failed && out.Failed.length > 0) throw new Error(`send failed: ${JSON.stringify(out.Failed)}`);
  }
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Visible plus in-flight messages: 0 means everything was delivered and deleted. */
export async function messagesLeft(fx: Pick<Fixture, 'sqs' | 'queueUrl'>): Promise<number> {
  const d = await queueDepth(fx.sqs, fx.queueUrl);
  return d.visible + d.inFlight;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function silentLogger(): pino.Logger {
  return pino({ level: 'silent' });
}

export function startTestRelay(config: Config): Promise<RunningRelay> {
  return startRelay(config, silentLogger(), { defaultMetrics: false });
}
