import { createDynamoClient, createSqsClient } from '../adapters/aws-clients';
import { requiredEnv } from './usage';

/** SDK clients for one command, from the environment; the caller destroys them. */
export function commandClients(): { sqs: ReturnType<typeof createSqsClient>; dynamo: ReturnType<typeof createDynamoClient>; destroy(): void } {
  const region = requiredEnv('AWS_REGION', 'the region of the queue and the table');
  const opts = { region, requestTimeoutMs: 10_000 };
  const sqs = createSqsClient(opts);
  const dynamo = createDynamoClient(opts);
  return {
    sqs,
    dynamo,
    destroy: () => {
      sqs.destroy();
      dynamo.destroy();
    },
  };
}
