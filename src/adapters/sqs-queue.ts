import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { queueIdentity, type RawMessage } from '../core/message';
import { SQS_MAX_BATCH } from '../config';
import type { CallCutoff } from './call-cutoff';

export interface QueueEntry {
  messageId: string;
  receiptHandle: string;
}

export interface VisibilityEntry extends QueueEntry {
  seconds: number;
}

export interface BatchFailure {
  messageId: string;
  code: string;
  message: string;
}

/** The queue as the worker sees it: the only SQS operations it performs. */
export interface QueuePort {
  receive(max: number, signal: AbortSignal): Promise<RawMessage[]>;
  delete(entries: QueueEntry[]): Promise<BatchFailure[]>;
  changeVisibility(entries: VisibilityEntry[]): Promise<BatchFailure[]>;
}

export interface QueueFacts {
  arn: string;
  /** ARN plus CreatedTimestamp: what SQS SequenceNumbers are comparable within. */
  id: string;
  /** How long SQS keeps a message before deleting it, received or not (seconds). */
  retentionSeconds: number;
  fifo: boolean;
  redrivePolicy?: string;
  visibilityTimeoutSeconds: number;
}

/** Messages waiting (visible) and received but not finished (in flight): for the demo, tests and operators. */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class SqsQueue implements QueuePort {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly opts: { waitSeconds: number; visibilityTimeoutSeconds: number; receiveTimeoutMs: number; cutoff?: CallCutoff },
  ) {}

  /** Aborts calls still running at shutdown's hard deadline. */
  private get callOptions(): { abortSignal?: AbortSignal } {
    return this.opts.cutoff ? { abortSignal: this.opts.cutoff.signal() } : {};
  }

  async facts(): Promise<QueueFacts> {
    const out = await this.client.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn', 'CreatedTimestamp', 'FifoQueue', 'RedrivePolicy', 'VisibilityTimeout', 'MessageRetentionPeriod'] }),
    );
    const a = out.Attributes ?? {};
    return {
      arn: a.QueueArn ?? '',
      id: queueIdentity(a.QueueArn ?? '', a.CreatedTimestamp ?? ''),
      retentionSeconds: Number(a.MessageRetentionPeriod ?? 345600),
      fifo: a.FifoQueue === 'true',
      redrivePolicy: a.RedrivePolicy || undefined,
      visibilityTimeoutSeconds: Number(a.VisibilityTimeout ?? 30),
    };
  }

  async receive(max: number, signal: AbortSignal): Promise<RawMessage[]> {
    const out = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.min(Math.max(max, 1), SQS_MAX_BATCH),
        WaitTimeSeconds: this.opts.waitSeconds,
        VisibilityTimeout: this.opts.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['MessageGroupId', 'SequenceNumber', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'SentTimestamp', 'AWSTraceHeader'],
        MessageAttributeNames: ['seq', 'contentType', 'traceparent', 'tracestate'],
      }),
      { abortSignal: signal, requestTimeout: this.opts.receiveTimeoutMs },
    );
    return out.Messages ?? [];
  }

  delete(entries: QueueEntry[]): Promise<BatchFailure[]> {
    return this.inBatches(entries, async (Entries) => {
      const out = await this.client.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: Entries.map((e) => ({ Id: e.Id, ReceiptHandle: e.entry.receiptHandle })) }),
        this.callOptions,
      );
      return out.Failed ?? [];
    });
  }

  changeVisibility(entries: VisibilityEntry[]): Promise<BatchFailure[]> {
    return this.inBatches(entries, async (Entries) => {
      const out = await this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: Entries.map((e) => ({ Id: e.Id, ReceiptHandle: e.entry.receiptHandle, VisibilityTimeout: e.entry.seconds })),
        }),
        this.callOptions,
      );
      return out.Failed ?? [];
    });
  }

  /** Sends entries 10 at a time and maps SQS's per-entry failures back to message ids. */
  private async inBatches<E extends QueueEntry>(
    entries: readonly E[],
    send: (part: Array<{ Id: string; entry: E }>) => Promise<Array<{ Id?: string; Code?: string; Message?: string }>>,
  ): Promise<BatchFailure[]> {
    const failures: BatchFailure[] = [];
    for (const part of chunks(entries, SQS_MAX_BATCH)) {
      const tagged = part.map((entry, i) => ({ Id: `m${i}`, entry }));
      const byId = new Map(tagged.map((t) => [t.Id, t.entry.messageId]));
      for (const f of await send(tagged)) {
        failures.push({ messageId: byId.get(f.Id ?? '') ?? f.Id ?? '', code: f.Code ?? 'unknown', message: f.Message ?? '' });
      }
    }
    return failures;
  }
}
