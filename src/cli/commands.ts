import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createDynamoClient, createSqsClient } from '../adapters/aws-clients';
import { DynamoLedger, type StuckSource } from '../adapters/progress-ledger';
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

const ago = (ms: number, now: number) => {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${(s / 3600).toFixed(1)}h`;
};

export function formatStuck(rows: StuckSource[], now: number): string[] {
  if (rows.length === 0) return ['no stuck sources'];
  const table = rows.map((r) => [r.sourceId, ago(r.stuckSince, now), String(r.attempt), r.headSeq || '-', r.headMessageId, r.lastError.replace(/\s+/g, ' ').slice(0, 80)]);
  const header = ['SOURCE', 'STUCK FOR', 'ATTEMPT', 'HEAD SEQ', 'HEAD MESSAGE', 'LAST ERROR'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? '').length)));
  return [header, ...table].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

export async function statusCommand(opts: { limit: number; json: boolean }, out: (line: string) => void): Promise<void> {
  const table = required('table', process.env.PROGRESS_TABLE, 'PROGRESS_TABLE');
  const { sqs, dynamo } = clients();
  try {
    const rows = await new DynamoLedger(dynamo, table).listStuck(opts.limit);
    if (opts.json) out(JSON.stringify(rows, null, 2));
    else for (const line of formatStuck(rows, Date.now())) out(line);
  } finally {
    sqs.destroy();
    dynamo.destroy();
  }
}
