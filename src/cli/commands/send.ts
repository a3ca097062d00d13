import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { DynamoSourceControl } from '../../adapters/source-control';
import { commandClients } from '../aws';
import { defineCommand } from '../spec';
import { UsageError } from '../usage';

/**
 * A default that starts at 1 every time would make a second run a seq regression (held for an
 * operator): start above what the ledger has delivered. Messages still in the queue are not
 * seen; pass --seq-start when sending again before they are delivered.
 */
async function nextSeq(aws: ReturnType<typeof commandClients>, table: string | undefined, source: string): Promise<number> {
  if (table === undefined || table === '') throw new UsageError('--table (or PROGRESS_TABLE) is needed to choose the first seq; or pass --seq-start');
  const c = await new DynamoSourceControl(aws.dynamo, table).read(source);
  const delivered = c.position?.producerSeq ?? 0n;
  return Number(delivered) + 1;
}

export const send = defineCommand({
  name: 'send',
  summary: 'send numbered test messages for one source to the queue',
  options: {
    'queue-url': { kind: 'string', value: 'URL', help: 'queue to send to', env: 'QUEUE_URL', required: true },
    source: { kind: 'string', value: 'ID', help: 'MessageGroupId', required: true },
    count: { kind: 'int', value: 'N', help: 'how many', default: 1 },
    'seq-start': { kind: 'int', value: 'N', help: 'producer seq of the first one (default: one above the seq the ledger has delivered, 1 for a new source)', default: 0 },
    table: { kind: 'string', value: 'NAME', help: 'progress table, read for the default --seq-start', env: 'PROGRESS_TABLE' },
    body: { kind: 'string', value: 'TEXT', help: 'body (default: a small JSON document)' },
  },
  async run(v, _args, out) {
    const aws = commandClients();
    try {
      const first = v['seq-start'] > 0 ? v['seq-start'] : await nextSeq(aws, v.table, v.source);
      for (let i = 0; i < v.count; i += 10) {
        const n = Math.min(10, v.count - i);
        const entries = Array.from({ length: n }, (_, j) => {
          const seq = first + i + j;
          return {
            Id: `e${j}`,
            MessageGroupId: v.source,
            MessageDeduplicationId: randomUUID(),
            MessageBody: v.body ?? JSON.stringify({ sourceId: v.source, seq }),
            MessageAttributes: { seq: { DataType: 'Number', StringValue: String(seq) } },
          };
        });
        const res = await aws.sqs.send(new SendMessageBatchCommand({ QueueUrl: v['queue-url'], Entries: entries }));
        if (res.Failed?.length) throw new Error(`SQS refused ${res.Failed.length} messages: ${res.Failed[0]?.Message ?? ''}`);
      }
      out(`sent ${v.count} message(s) for source ${v.source}, seq ${first}..${first + v.count - 1}`);
      return 0;
    } finally {
      aws.destroy();
    }
  },
});
