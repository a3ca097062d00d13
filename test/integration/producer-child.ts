// One producer process of the multi-producer test: sends COUNT messages for SOURCE in batches
// of varying size, then prints its stats as one JSON line.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Producer } from '../../src/index';

async function main(): Promise<void> {
  const env = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`${k} is required`);
    return v;
  };
  const region = env('AWS_REGION');
  const sqs = new SQSClient({ region, endpoint: env('AWS_ENDPOINT_URL_SQS'), useQueueUrlAsEndpoint: false });
  const dynamodb = new DynamoDBClient({ region, endpoint: env('AWS_ENDPOINT_URL_DYNAMODB') });
  const producer = new Producer({ queueUrl: env('QUEUE_URL'), table: env('PROGRESS_TABLE'), sqs, dynamodb });
  const name = env('PRODUCER_NAME');
  const source = env('SOURCE');
  const count = Number(env('COUNT'));
  const sizes = [1, 3, 10, 25, 7];
  for (let k = 0, i = 0; k < count; i++) {
    const n = Math.min(sizes[i % sizes.length] as number, count - k);
    await producer.sendBatch(Array.from({ length: n }, (_, j) => ({ sourceId: source, body: JSON.stringify({ producer: name, k: k + j }) })));
    k += n;
  }
  process.stdout.write(`${JSON.stringify({ name, ...producer.stats })}\n`);
  sqs.destroy();
  dynamodb.destroy();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
