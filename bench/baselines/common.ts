import type { ConsumerOptions } from 'sqs-consumer';
import { Agent } from 'node:http';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message, type MessageSystemAttributeName } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';

/** What a baseline process reports to the bench over IPC. */
export interface BaselineReport {
  type: 'report';
  /** Calls by service and action, counted by the same middleware the worker uses. */
  calls: Record<string, number>;
  processed: number;
  lastDoneAt: number;
}

export type BaselineMessage = { type: 'ready'; at: number } | { type: 'progress'; processed: number; lastDoneAt: number } | BaselineReport;

const calls: Record<string, number> = {};
let processed = 0;
let lastDoneAt = 0;

const observe = (service: 'sqs' | 'dynamodb', action: string, items?: number) => {
  const key = `${service}:${action}`;
  calls[key] = (calls[key] ?? 0) + 1;
  // Statements of a batched write, as the worker's fifo_relay_aws_batch_items counts them.
  if (items !== undefined) calls[`${key}:items`] = (calls[`${key}:items`] ?? 0) + items;
};

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

export const settings = {
  queueUrl: env('QUEUE_URL'),
  region: env('AWS_REGION'),
  targetUrl: process.env.TARGET_URL ?? '',
  table: process.env.PROGRESS_TABLE ?? '',
};

/** Counts every API call once, after the SDK's own retries, as the worker's metric does. */
function counter(service: 'sqs' | 'dynamodb'): InitializeMiddleware<object, MetadataBearer> {
  return (next, context) => async (args) => {
    try {
      return await next(args);
    } finally {
      observe(service, context.commandName ?? 'unknown', (args.input as { Statements?: unknown[] }).Statements?.length);
    }
  };
}

const handler = () =>
  new NodeHttpHandler({ requestTimeout: 30_000, connectionTimeout: 5000, throwOnRequestTimeout: true, httpAgent: new Agent({ keepAlive: true, maxSockets: 148 }) });

/** Keep-alive clients like the worker's; endpoints from AWS_ENDPOINT_URL_SQS / _DYNAMODB as there. */
export const sqs = new SQSClient({ region: settings.region, requestHandler: handler(), useQueueUrlAsEndpoint: false });
export const dynamo = new DynamoDBClient({ region: settings.region, requestHandler: handler() });
sqs.middlewareStack.add(counter('sqs'), { step: 'initialize', name: 'benchCallCounter' });
dynamo.middlewareStack.add(counter('dynamodb'), { step: 'initialize', name: 'benchCallCounter' });

export function done(count = 1): void {
  processed += count;
  lastDoneAt = Date.now();
}

const send = (m: BaselineMessage) => process.send?.(m);

/** Tells the bench the consumer is polling, then reports progress until asked for the final counts. */
export function announce(stop: () => Promise<void> | void): void {
  send({ type: 'ready', at: Date.now() });
  const timer = setInterval(() => send({ type: 'progress', processed, lastDoneAt }), 100);
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'report') send({ type: 'report', calls: { ...calls }, processed, lastDoneAt });
  });
  process.on('SIGTERM', () => {
    clearInterval(timer);
    Promise.resolve(stop())
      .catch(() => undefined)
      .finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

/** The delivery contract of fifo-relay (same headers), so the demo app records baselines the same way. */
export async function deliver(m: Message): Promise<boolean> {
  const sourceId = m.Attributes?.MessageGroupId ?? '';
  const seq = m.MessageAttributes?.seq?.StringValue ?? m.Attributes?.SequenceNumber ?? '';
  const res = await fetch(settings.targetUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': `${sourceId}:${seq}`,
      'x-source-id': sourceId,
      'x-message-id': m.MessageId ?? '',
      'x-sequence': seq,
      'x-attempt': m.Attributes?.ApproximateReceiveCount ?? '1',
    },
    body: m.Body ?? '',
    signal: AbortSignal.timeout(10_000),
  });
  await res.text();
  return res.status >= 200 && res.status < 300;
}

/** The sqs-consumer settings both sqs-consumer baselines share; they differ only in the handler. */
export const sqsConsumerOptions: Omit<ConsumerOptions, 'handleMessage' | 'handleMessageBatch'> = {
  queueUrl: settings.queueUrl,
  sqs,
  batchSize: 10,
  waitTimeSeconds: 20,
  visibilityTimeout: 30,
  suppressFifoWarning: true,
  messageAttributeNames: ['seq'],
  messageSystemAttributeNames: ['MessageGroupId', 'ApproximateReceiveCount', 'SequenceNumber'],
};

/**
 * The bare loops of baselines (a) and (a2): RECEIVERS loops of ReceiveMessage(10) → `record` for
 * every message of the batch at once → DeleteMessageBatch. Only how a message is recorded differs.
 */
export function runBareLoops(record: (m: Message) => Promise<void>, systemAttributes: MessageSystemAttributeName[]): void {
  const receivers = Number(process.env.BARE_RECEIVERS ?? 4);
  let stopping = false;
  const abort = new AbortController();
  const loop = async (): Promise<void> => {
    while (!stopping) {
      let messages: Message[];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: settings.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 20,
            VisibilityTimeout: 30,
            MessageSystemAttributeNames: systemAttributes,
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
  };
  for (let i = 0; i < receivers; i++) void loop();
  announce(() => {
    stopping = true;
    abort.abort();
  });
}
