import { createDynamoClient, createSqsClient } from '../../adapters/aws-clients';
import { EMULATOR_REGION, startEmulators } from '../../dev/emulators';
import { onInterrupt } from '../../dev/interrupt';
import { emulatorAwsEnv, exportLines, localEnv } from '../../dev/local-env';
import { ensureQueue, ensureTable } from '../setup';
import { defineCommand } from '../spec';

export const emulators = defineCommand({
  name: 'emulators',
  summary: 'local SQS and DynamoDB with a queue and a table; prints the environment to export; Ctrl-C stops',
  options: {
    queue: { kind: 'string', value: 'NAME', help: 'FIFO queue to create (default fifo-relay-dev.fifo)' },
    table: { kind: 'string', value: 'NAME', help: 'progress table to create (default fifo-relay-dev-progress)' },
    'sqs-port': { kind: 'int', value: 'PORT', help: 'port of fauxqs, 0 picks a free one', default: 0, min: 0 },
    'dynamodb-port': { kind: 'int', value: 'PORT', help: 'port of DynamoDB Local, 0 picks a free one', default: 0, min: 0 },
  },
  details: ['Everything is in memory: stopping the emulators forgets the queue and the table.'],
  async run(v, _args, out) {
    const queueName = v.queue ?? 'fifo-relay-dev.fifo';
    const table = v.table ?? 'fifo-relay-dev-progress';
    out('starting SQS (fauxqs) and DynamoDB Local…');
    const emu = await startEmulators({ sqs: v['sqs-port'], dynamo: v['dynamodb-port'] });
    onInterrupt(async () => {
      await emu.stop();
      return [`stopped ${emu.sqs.describe} and ${emu.dynamo.describe}; its scratch folder is removed`];
    }, out);
    const ep = { sqsEndpoint: emu.sqs.endpoint, dynamoEndpoint: emu.dynamo.endpoint };
    Object.assign(process.env, emulatorAwsEnv(ep));
    const sqs = createSqsClient({ region: EMULATOR_REGION, requestTimeoutMs: 10_000 });
    const dynamo = createDynamoClient({ region: EMULATOR_REGION, requestTimeoutMs: 10_000 });
    let queueUrl: string;
    try {
      queueUrl = (await ensureQueue(sqs, queueName)).url;
      await ensureTable(dynamo, table);
    } catch (err) {
      await emu.stop();
      throw err;
    } finally {
      sqs.destroy();
      dynamo.destroy();
    }
    out('');
    out('# paste into another shell, then start your app and set TARGET_URL to it:');
    for (const line of exportLines(localEnv({ ...ep, queueUrl, table }))) out(line);
    out('export TARGET_URL=http://127.0.0.1:8080/   # your app');
    out('# then: npm run dev (a worker; HTTP_PORT=0 if 9400 is taken), npm run cli -- send --source a --count 5, npm run cli -- status');
    out('');
    out('emulators running; Ctrl-C stops them');
    // Stays up until a signal: onInterrupt stops the emulators and exits.
    return new Promise<number>(() => undefined);
  },
});
