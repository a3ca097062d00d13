/**
 * Baseline (c): sqs-consumer with a plain handleMessage and batchSize 10 — the messages of a
 * batch are handled in parallel, so on SQS (which may return several messages of one group in a
 * batch) a source's messages can reach the app out of order.
 */
import { Consumer } from 'sqs-consumer';
import type { Message } from '@aws-sdk/client-sqs';
import { announce, deliver, done, sqsConsumerOptions } from './common';

const consumer = Consumer.create({
  ...sqsConsumerOptions,
  handleMessage: async (m: Message) => {
    if (!(await deliver(m))) throw new Error('app refused the message');
    done();
    return m;
  },
});
consumer.on('error', () => undefined);
consumer.on('processing_error', () => undefined);
consumer.start();
announce(() => consumer.stop({ abort: true }));
