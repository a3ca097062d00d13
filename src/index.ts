/** The library entry: `import { Producer } from 'fifo-relay'`. */
export { Producer, ProducerSendError, type ProducerOptions, type SendResult } from './producer/producer';
export { ProducerInputError, MAX_BODY_BYTES, type ProducerMessage } from './producer/validate';
export { dedupId, JOURNALED_ATTRIBUTE } from './producer/sqs-send';
export type { ProducerStats } from './producer/stats';
