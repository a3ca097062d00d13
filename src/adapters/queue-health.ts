import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * The queue's depth as GetQueueAttributes gives it (approximate, as SQS says). The age of the
 * oldest message is not among these attributes: SQS publishes it only as the CloudWatch metric
 * ApproximateAgeOfOldestMessage, so the page shows the oldest failing head it knows from the table.
 */
export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export async function readQueueDepth(client: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const out = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a = out.Attributes ?? {};
  return { visible: Number(a.ApproximateNumberOfMessages ?? 0), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0), delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0) };
}
