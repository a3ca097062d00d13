import { commandClients } from '../aws';
import { ensureQueue, ensureTable, queueNameFromUrl } from '../setup';
import { defineCommand } from '../spec';

export const setup = defineCommand({
  name: 'setup',
  summary: 'create the FIFO queue and the progress table if missing (development; production uses infra/)',
  options: {
    'queue-url': { kind: 'string', value: 'URL', help: 'queue to create; its last path segment is the name', env: 'QUEUE_URL', required: true },
    table: { kind: 'string', value: 'NAME', help: 'progress table', env: 'PROGRESS_TABLE', required: true },
  },
  async run(v, _args, out) {
    const name = queueNameFromUrl(v['queue-url']);
    const aws = commandClients();
    try {
      const q = await ensureQueue(aws.sqs, name);
      out(`queue ${q.created ? 'created' : 'exists'}: ${q.url}`);
      const t = await ensureTable(aws.dynamo, v.table);
      out(`table ${t.created ? 'created' : 'exists'}: ${v.table}`);
      return 0;
    } finally {
      aws.destroy();
    }
  },
});
