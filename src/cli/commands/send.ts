import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { commandClients } from '../aws';
import { defineCommand } from '../spec';

export const send = defineCommand({
  name: 'send',
  summary: 'send numbered test messages for one source to the queue',
  options: {
    'queue-url': { kind: 'string', value: 'URL', help: 'queue to send to', env: 'QUEUE_URL', required: true },
    source: { kind: 'string', value: 'ID', help: 'MessageGroupId', required: true },
    count: { kind: 'int', value: 'N', help: 'how many', default: 1 },
    'seq-start': { kind: 'int', value: 'N', help: 'producer seq of the first one', default: 1 },
    body: { kind: 'string', value: 'TEXT', help: 'body (default: a small JSON document)' },
  },
  async run(v, _args, out) {
    const aws = commandClients();
    try {
      for (let i = 0; i < v.count; i += 10) {
        const n = Math.min(10, v.count - i);
        const entries = Array.from({ length: n }, (_, j) => {
          const seq = v['seq-start'] + i + j;
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
      out(`sent ${v.count} message(s) for source ${v.source}, seq ${v['seq-start']}..${v['seq-start'] + v.count - 1}`);
      return 0;
    } finally {
      aws.destroy();
    }
  },
});
