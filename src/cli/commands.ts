import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createDynamoClient, createSqsClient } from '../adapters/aws-clients';
import { ensureQueue, ensureTable, queueNameFromUrl } from './setup';
import { required } from './usage';

const clients = () => {
  const region = required('region', process.env.AWS_REGION, 'AWS_REGION');
  const opts = { region, requestTimeoutMs: 10_000 };
  return { sqs: createSqsClient(opts), dynamo: createDynamoClient(opts) };
};

export async function setupCommand(opts: { queueUrl?: string; table?: string }, out: (line: string) => void): Promise<void> {
  const queueUrl = required('queue-url', opts.queueUrl ?? process.env.QUEUE_URL, 'QUEUE_URL');
  const table = required('table', opts.table ?? process.env.PROGRESS_TABLE, 'PROGRESS_TABLE');
  const { sqs, dynamo } = clients();
  try {
    const q = await ensureQueue(sqs, queueNameFromUrl(queueUrl));
    out(`queue ${q.created ? 'created' : 'exists'}: ${q.url}`);
    const t = await ensureTable(dynamo, table);
    out(`table ${t.created ? 'created' : 'exists'}: ${table}`);
  } finally {
    sqs.destroy();
    dynamo.destroy();
  }
}

export async function sendCommand(opts: { source: string; count: number; seqStart: number; body?: string }, out: (line: string) => void): Promise<void> {
  const queueUrl = required('queue-url', process.env.QUEUE_URL, 'QUEUE_URL');
  const { sqs, dynamo } = clients();
  try {
    for (let i = 0; i < opts.count; i += 10) {
      const n = Math.min(10, opts.count - i);
      const entries = Array.from({ length: n }, (_, j) => {
        const seq = opts.seqStart + i + j;
        return {
          Id: `e${j}`,
          MessageGroupId: opts.source,
          MessageDeduplicationId: randomUUID(),
          MessageBody: opts.body ?? JSON.stringify({ sourceId: opts.source, seq }),
          MessageAttributes: { seq: { DataType: 'Number', StringValue: String(seq) } },
        };
      });
      const res = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      if (res.Failed?.length) throw new Error(`SQS refused ${res.Failed.length} messages: ${res.Failed[0]?.Message ?? ''}`);
    }
    out(`sent ${opts.count} message(s) for source ${opts.source}, seq ${opts.seqStart}..${opts.seqStart + opts.count - 1}`);
  } finally {
    sqs.destroy();
    dynamo.destroy();
  }
}
