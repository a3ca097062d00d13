import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * The FIFO queue one region's workers consume. No redrive policy, ever: a message leaves only
 * after the app accepted it, so nothing may move it to a DLQ after maxReceiveCount.
 */
export class RelayQueue extends Construct {
  readonly queue: sqs.Queue;

  constructor(scope: Construct, id: string, props: { queueName: string }) {
    super(scope, id);
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: props.queueName,
      fifo: true,
      // Producers send a deduplication id; identical bodies from one source are distinct events.
      contentBasedDeduplication: false,
      // High-throughput FIFO: limits apply per source rather than per queue.
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      // A source whose app is down keeps its messages; give it the longest SQS allows.
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(30),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Up to 14 days of undelivered messages: a renamed queue, `cdk destroy` or a retired region
      // must never delete them with the stack. Deleting it is a deliberate step (docs/deploy.md).
      // Except when its own create rolls back: that queue is new and unused, and a retained one
      // would block the retry with "already exists".
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
  }
}
