import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';

/** Called once per API call the SDK sends (after its own retries are counted separately). */
export type AwsCallObserver = (service: 'sqs' | 'dynamodb', operation: string, outcome: 'ok' | 'error') => void;

export interface AwsClientOptions {
  region: string;
  /** Per-request timeout; a hung endpoint then fails instead of hanging the worker. */
  requestTimeoutMs: number;
  /** Extra time allowed for long-polling receives. */
  longPollSeconds?: number;
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
    try {
      const result = await next(args);
      observe(service, context.commandName ?? 'unknown', 'ok');
      return result;
    } catch (err) {
      observe(service, context.commandName ?? 'unknown', 'error');
      throw err;
    }
  };
}

const COUNTER = { step: 'initialize', name: 'fifoRelayCallCounter' } as const;

/** Endpoints come from the SDK's own AWS_ENDPOINT_URL* variables; nothing here overrides them. */
export function createSqsClient(opts: AwsClientOptions): SQSClient {
  const client = new SQSClient({
    region: opts.region,
    requestHandler: handler(opts, (opts.longPollSeconds ?? 0) * 1000),
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
