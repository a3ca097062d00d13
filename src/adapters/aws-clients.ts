import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';

/** What one API call cost: its wall time (with the SDK's own retries) and, for batch calls, its items. */
export interface AwsCallCost {
  durationMs: number;
  /** Statements or entries sent in a batch call, messages returned by a receive; absent otherwise. */
  items?: number;
}

/** Called once per API call (the SDK's own retries inside it are not counted separately). */
export type AwsCallObserver = (service: 'sqs' | 'dynamodb', operation: string, outcome: 'ok' | 'error' | 'aborted', cost: AwsCallCost) => void;

/** Items a batch call carries: its statements or entries (sent), or the messages a receive returned. */
function itemsOf(input: unknown, output?: unknown): number | undefined {
  const i = input as { Statements?: unknown[]; Entries?: unknown[] } | undefined;
  const list = i?.Statements ?? i?.Entries ?? (output as { Messages?: unknown[] } | undefined)?.Messages;
  return Array.isArray(list) ? list.length : undefined;
}

export interface AwsClientOptions {
  region: string;
  /** Per-request timeout; a hung endpoint then fails instead of hanging the worker. */
  requestTimeoutMs: number;
  maxSockets?: number;
  observe?: AwsCallObserver;
}

function handler(opts: AwsClientOptions, extraMs: number): NodeHttpHandler {
  const maxSockets = opts.maxSockets ?? 200;
  return new NodeHttpHandler({
    requestTimeout: opts.requestTimeoutMs + extraMs,
    connectionTimeout: Math.min(opts.requestTimeoutMs, 5000),
    throwOnRequestTimeout: true,
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new Agent({ keepAlive: true, maxSockets }),
  });
}

function callCounter(service: 'sqs' | 'dynamodb', observe: AwsCallObserver): InitializeMiddleware<object, MetadataBearer> {
  return (next, context) => async (args) => {
    const started = performance.now();
    const action = context.commandName ?? 'unknown';
    try {
      const result = await next(args);
      const items = itemsOf(args.input, action === 'ReceiveMessageCommand' ? result.output : undefined);
      observe(service, action, 'ok', { durationMs: performance.now() - started, ...(items === undefined ? {} : { items }) });
      return result;
    } catch (err) {
      // A long poll cut short by shutdown is not a failure of SQS.
      const outcome = (err as Error).name === 'AbortError' ? 'aborted' : 'error';
      observe(service, action, outcome, { durationMs: performance.now() - started });
      throw err;
    }
  };
}

const COUNTER = { step: 'initialize', name: 'fifoRelayCallCounter' } as const;

/** Per-call timeout for a long-polling ReceiveMessage. */
export function receiveTimeoutMs(requestTimeoutMs: number, waitSeconds: number): number {
  return requestTimeoutMs + waitSeconds * 1000;
}

/** Endpoints come from the SDK's own AWS_ENDPOINT_URL* variables; nothing here overrides them. */
export function createSqsClient(opts: AwsClientOptions): SQSClient {
  const client = new SQSClient({
    region: opts.region,
    // Short for every call; only ReceiveMessage gets its long-poll wait on top (receiveTimeoutMs),
    // so a hung heartbeat renewal fails fast and is sent again before the visibility runs out.
    requestHandler: handler(opts, 0),
    // The endpoint comes from the region or AWS_ENDPOINT_URL_SQS, never from the queue URL's host.
    useQueueUrlAsEndpoint: false,
  });
  if (opts.observe) client.middlewareStack.add(callCounter('sqs', opts.observe), COUNTER);
  return client;
}

export function createDynamoClient(opts: AwsClientOptions): DynamoDBClient {
  const client = new DynamoDBClient({ region: opts.region, requestHandler: handler(opts, 0) });
  if (opts.observe) client.middlewareStack.add(callCounter('dynamodb', opts.observe), COUNTER);
  return client;
}
