/**
 * Baseline (b): sqs-consumer as its README advises for FIFO queues — handleMessageBatch, the
 * messages of a batch delivered one after another in order. On a failure the delivered prefix is
 * acknowledged and the rest stays in the queue (its visibility runs out and it comes back in order).
 */
import { Consumer } from 'sqs-consumer';
import type { Message } from '@aws-sdk/client-sqs';
import { announce, deliver, done, sqsConsumerOptions } from './common';

const consumer = Consumer.create({
  ...sqsConsumerOptions,
  handleMessageBatch: async (messages: Message[]) => {
    const acked: Message[] = [];
    for (const m of messages) {
      if (!(await deliver(m).catch(() => false))) break;
      acked.push(m);
      done();
    }
    return acked;
  },
});
consumer.on('error', () => undefined);
consumer.on('processing_error', () => undefined);
consumer.start();
announce(() => consumer.stop({ abort: true }));
