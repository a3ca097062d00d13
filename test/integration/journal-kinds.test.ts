import { DynamoJournal, entryFromMessage } from '../../src/adapters/journal';
import type { LedgerPosition } from '../../src/core/ledger-position';
import type { RelayMessage, Sequence } from '../../src/core/message';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

// Journal entries of a source may be of either kind (producer seq or SQS SequenceNumber), and
// the ledger position may only know one: replay must still find every entry the ledger does not cover.
const Q = 'arn:aws:sqs:us-east-1:000000000000:kinds.fifo@1700000000';
const S0 = 18_000_000_000_000_000_000n;
const producer = (n: bigint, sqs: bigint): Sequence => ({ kind: 'producer', value: n, text: String(n), key: String(n), sqs, queueId: Q });
const seqless = (sqs: bigint): Sequence => ({ kind: 'sqs', value: sqs, text: String(sqs), key: `q1700000000.${sqs}`, sqs, queueId: Q });
const message = (sourceId: string, seq: Sequence): RelayMessage => ({
  messageId: `m-${seq.text}`,
  receiptHandle: 'h',
  sourceId,
  seq,
  body: `body-${seq.text}`,
  contentType: 'application/json',
  receiveCount: 1,
  firstReceivedAt: 1,
  sentAt: 1,
  trace: {},
});

describe('journal replay across sequence kinds (DynamoDB Local)', () => {
  let fx: Fixture;
  let journal: DynamoJournal;
  beforeAll(async () => {
    fx = await freshQueueAndTable('journal-kinds');
    journal = new DynamoJournal(fx.dynamo, fx.table);
  });
  afterAll(() => fx.close());

  const put = (sourceId: string, seqs: Sequence[]) => Promise.all(seqs.map((s) => journal.put(entryFromMessage(message(sourceId, s), 1))));

  it('above() returns producer-seq entries when the ledger position holds only an SQS sequence', async () => {
    // Delivered seq-less up to S0, then parked; the producer started sending seq while parked.
    await put('kind-switch', [producer(1n, S0 + 10n), producer(2n, S0 + 20n)]);
    const position: LedgerPosition = { sqsSeq: S0, sqsQueueId: Q };

    expect((await journal.above('kind-switch', position, 25)).map((e) => e.seq.text)).toEqual(['1', '2']);
    expect(await journal.covered('kind-switch', position, 25)).toEqual([]);
  });

  it('above() returns SQS-sequence entries when the ledger position also holds a producer seq', async () => {
    // The producer dropped seq while parked: these seq-less entries are above the recorded SequenceNumber.
    await put('kind-drop', [seqless(S0 + 30n), seqless(S0 + 40n)]);
    const position: LedgerPosition = { producerSeq: 100n, sqsSeq: S0, sqsQueueId: Q };

    expect((await journal.above('kind-drop', position, 25)).map((e) => e.seq.text)).toEqual([String(S0 + 30n), String(S0 + 40n)]);
  });

  it('a seq-less entry is never judged covered by an SQS position a producer-seq delivery set', async () => {
    await put('other-kind', [seqless(S0 - 5n)]);
    const position: LedgerPosition = { producerSeq: 100n, sqsSeq: S0, sqsQueueId: Q, sqsSeqKind: 'producer' };

    expect((await journal.above('other-kind', position, 25)).map((e) => e.seq.text)).toEqual([String(S0 - 5n)]);
    expect(await journal.covered('other-kind', position, 25)).toEqual([]);
  });

  it('covered entries never crowd out uncovered ones under the limit', async () => {
    const position: LedgerPosition = { producerSeq: 100n, sqsSeq: S0, sqsQueueId: Q, sqsSeqKind: 'sqs' };
    // Covered, of both kinds, and sorted ahead of the one uncovered entry.
    await put('crowded', [producer(99n, S0 - 20n), producer(100n, S0 - 10n), seqless(S0 - 3n), seqless(S0 - 2n), seqless(S0 - 1n), seqless(S0 + 1n)]);

    expect((await journal.above('crowded', position, 1)).map((e) => e.seq.text)).toEqual([String(S0 + 1n)]);
    expect((await journal.above('crowded', position, 25)).map((e) => e.seq.text)).toEqual([String(S0 + 1n)]);
    expect((await journal.covered('crowded', position, 25)).map((e) => e.seq.text).sort()).toEqual(['100', '99', String(S0 - 1n), String(S0 - 2n), String(S0 - 3n)].sort());
  });
});
