import { advancePosition, isCoveredByLedger, needsLedgerRead } from '../../src/core/ledger-position';
import type { Sequence } from '../../src/core/message';
import { parseSqsSeqText, SQS_SEQ_WIDTH, sqsSeqText } from '../../src/adapters/table-keys';

const A = 'arn:aws:sqs:us-east-1:1:a.fifo';
const B = 'arn:aws:sqs:us-east-1:1:b.fifo';
const producer = (n: bigint, sqs = 100n, queueId = A): Sequence => ({ kind: 'producer', value: n, text: String(n), key: String(n), sqs, queueId });
const sqs = (n: bigint, queueId = A): Sequence => ({ kind: 'sqs', value: n, text: String(n), key: `q1.${n}`, sqs: n, queueId });

describe('isCoveredByLedger', () => {
  it('compares producer seqs whatever the queue', () => {
    expect(isCoveredByLedger(producer(5n, 1n, B), { producerSeq: 5n })).toBe(true);
    expect(isCoveredByLedger(producer(6n), { producerSeq: 5n })).toBe(false);
    expect(isCoveredByLedger(producer(1n), { sqsSeq: 999n, sqsQueueId: A })).toBe(false);
  });

  it('compares SQS sequence numbers only within the same queue ARN', () => {
    expect(isCoveredByLedger(sqs(10n), { sqsSeq: 10n, sqsQueueId: A })).toBe(true);
    // A recreated or different queue restarts numbering: its messages are never taken as old.
    expect(isCoveredByLedger(sqs(10n, B), { sqsSeq: 10n, sqsQueueId: A })).toBe(false);
    expect(isCoveredByLedger(sqs(11n), { sqsSeq: 10n, sqsQueueId: A })).toBe(false);
    expect(isCoveredByLedger(sqs(1n), undefined)).toBe(false);
  });
});

describe('advancePosition', () => {
  it('moves the producer seq only forward and always records the SQS position', () => {
    expect(advancePosition({ producerSeq: 9n }, producer(3n, 50n))).toEqual({ producerSeq: 9n, sqsSeq: 50n, sqsQueueId: A, sqsSeqKind: 'producer' });
    expect(advancePosition(undefined, producer(3n, 50n))).toEqual({ producerSeq: 3n, sqsSeq: 50n, sqsQueueId: A, sqsSeqKind: 'producer' });
    expect(advancePosition({ producerSeq: 2n }, sqs(70n, B))).toEqual({ producerSeq: 2n, sqsSeq: 70n, sqsQueueId: B, sqsSeqKind: 'sqs' });
  });
});

describe('needsLedgerRead', () => {
  it('trusts a cached "covered": the ledger never moves back', () => {
    expect(needsLedgerRead(producer(3n), 5, { producerSeq: 4n })).toBe(false);
  });
  it('reads for any redelivery not covered by the cache', () => {
    expect(needsLedgerRead(sqs(3n), 2, { sqsSeq: 1n, sqsQueueId: A })).toBe(true);
    expect(needsLedgerRead(sqs(3n), 2, undefined)).toBe(true);
  });
  it('skips the read for a first receive of an SQS-sequenced message', () => {
    expect(needsLedgerRead(sqs(3n), 1, undefined)).toBe(false);
  });
  it('reads for a producer seq of a source it knows nothing about (it may come from another queue or region)', () => {
    expect(needsLedgerRead(producer(3n), 1, undefined)).toBe(true);
    expect(needsLedgerRead(producer(3n), 1, { producerSeq: 2n })).toBe(false);
  });
});

describe('SQS SequenceNumber storage', () => {
  it('keeps 128-bit numbers exact and in numeric order as text', () => {
    const max = (1n << 128n) - 1n;
    expect(max.toString()).toHaveLength(39);
    const texts = [0n, 9n, 10n, 18849496460467696128n, max].map(sqsSeqText);
    expect(texts.every((t) => t.length === SQS_SEQ_WIDTH)).toBe(true);
    expect([...texts].sort()).toEqual(texts);
    expect(texts.map(parseSqsSeqText)).toEqual([0n, 9n, 10n, 18849496460467696128n, max]);
    expect(parseSqsSeqText(undefined)).toBeUndefined();
  });
});
