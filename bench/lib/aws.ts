import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ensureQueue, ensureTable } from '../../src/cli/setup';
import { childPids, commandOf, hookExit } from './processes';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startEmulators } from '../../src/dev/emulators';

export interface Endpoints {
  sqs: string;
  ddb: string;
}

/** What a worker process needs to find the emulators: the SDK's own variables, as in production. */
export function awsEnv(ep: Endpoints): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SQS: ep.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: ep.ddb,
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
  };
}

export interface Emulators extends Endpoints {
  /** Process ids when this harness started them (for CPU accounting). */
  pids: { sqs?: number; ddb?: number };
  stop(): Promise<void>;
}

function emulatorPids(): { sqs?: number; ddb?: number } {
  const pids: { sqs?: number; ddb?: number } = {};
  for (const pid of childPids(process.pid)) {
    const cmd = commandOf(pid);
    if (cmd.includes('DynamoDBLocal.jar')) pids.ddb = pid;
    else if (cmd.includes('fauxqs')) pids.sqs = pid;
  }
  return pids;
}

/**
 * Starts fauxqs and DynamoDB Local, or uses the ones named by FIFO_RELAY_TEST_SQS_ENDPOINT and
 * FIFO_RELAY_TEST_DDB_ENDPOINT (jest's global setup) when both are set.
 */
export async function emulators(opts: { reuseFromEnv?: boolean } = {}): Promise<Emulators> {
  const sqs = process.env.FIFO_RELAY_TEST_SQS_ENDPOINT;
  const ddb = process.env.FIFO_RELAY_TEST_DDB_ENDPOINT;
  if (opts.reuseFromEnv && sqs && ddb) return { sqs, ddb, pids: {}, stop: async () => undefined };
  hookExit();
  // startEmulators stops the one that started if the other fails, so a failure never hangs here.
  const emu = await startEmulators();
  return { sqs: emu.sqs.endpoint, ddb: emu.dynamo.endpoint, pids: emulatorPids(), stop: () => emu.stop() };
}

function handler(): NodeHttpHandler {
  return new NodeHttpHandler({ requestTimeout: 30_000, connectionTimeout: 5000, throwOnRequestTimeout: true, httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }) });
}

/** SQS client of the harness itself (producer, queue depth); never the consumer under test. */
export function harnessSqs(ep: Endpoints): SQSClient {
  return new SQSClient({ endpoint: ep.sqs, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, useQueueUrlAsEndpoint: false, requestHandler: handler() });
}

export function harnessDynamo(ep: Endpoints): DynamoDBClient {
  return new DynamoDBClient({ endpoint: ep.ddb, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS, requestHandler: handler() });
}

/** A fresh FIFO queue and progress table with the settings `fifo-relay setup` would use. */
export async function freshQueueAndTable(sqs: SQSClient, dynamo: DynamoDBClient, label: string): Promise<{ queueUrl: string; table: string }> {
  const id = `${label}-${randomUUID().slice(0, 8)}`;
  const { url } = await ensureQueue(sqs, `${id}.fifo`);
  const table = `progress-${id}`;
  await ensureTable(dynamo, table);
  return { queueUrl: url, table };
}

export interface Planned {
  sourceId: string;
  seq: number;
}

/** `perSource` messages for each of `sources` sources, seq 1..n, interleaved across sources as producers send them. */
export function plan(sources: number, perSource: number, prefix = 'src'): Planned[] {
  const width = String(sources - 1).length;
  const out: Planned[] = [];
  for (let seq = 1; seq <= perSource; seq++) {
    for (let s = 0; s < sources; s++) out.push({ sourceId: `${prefix}-${String(s).padStart(width, '0')}`, seq });
  }
  return out;
}

/** Sends messages in batches of 10, `parallel` batches at a time; order within a source is kept. */
export async function sendAll(sqs: SQSClient, queueUrl: string, messages: readonly Planned[], parallel = 16): Promise<void> {
  // A source's messages must reach SQS in seq order: batches of one "round" may run together,
  // but a source appears at most once per round when messages are interleaved, so rounds are
  // cut where a source would repeat.
  const rounds: Planned[][] = [];
  let round: Planned[] = [];
  let inRound = new Set<string>();
  for (const m of messages) {
    if (inRound.has(m.sourceId)) {
      rounds.push(round);
      round = [];
      inRound = new Set();
    }
    round.push(m);
    inRound.add(m.sourceId);
  }
  if (round.length > 0) rounds.push(round);
  for (const r of rounds) {
    const batches: Planned[][] = [];
    for (let i = 0; i < r.length; i += 10) batches.push(r.slice(i, i + 10));
    for (let i = 0; i < batches.length; i += parallel) {
      await Promise.all(batches.slice(i, i + parallel).map((b) => sendBatch(sqs, queueUrl, b)));
    }
  }
}

export async function sendBatch(sqs: SQSClient, queueUrl: string, batch: readonly Planned[]): Promise<void> {
  const out = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: batch.map((m, j) => ({
        Id: `e${j}`,
        MessageGroupId: m.sourceId,
        MessageDeduplicationId: randomUUID(),
        MessageBody: JSON.stringify({ sourceId: m.sourceId, seq: m.seq, op: 'update', payload: 'x'.repeat(64) }),
        MessageAttributes: { seq: { DataType: 'Number', StringValue: String(m.seq) } },
      })),
    }),
  );
  if (out.Failed && out.Failed.length > 0) throw new Error(`send failed: ${JSON.stringify(out.Failed)}`);
}

export { queueDepth } from '../../src/adapters/sqs-queue';
