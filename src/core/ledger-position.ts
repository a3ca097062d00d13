import type { Sequence } from './message';

/** What the progress ledger says a source has delivered. */
export interface LedgerPosition {
  /** Highest producer seq delivered (cross-region comparable). */
  producerSeq?: bigint;
  /** Highest SQS SequenceNumber delivered, meaningful only for sqsQueueId. */
  sqsSeq?: bigint;
  sqsQueueId?: string;
  /**
   * Which kind of delivery last set sqsSeq. Absent on items written before it was recorded.
   * A journal entry of one kind is never judged covered by a position of the other kind.
   */
  sqsSeqKind?: Sequence['kind'];
}

/**
 * True when the ledger already covers this sequence, so delivering again would be a duplicate.
 * An SQS sequence is only compared with one from the same queue ARN: a recreated queue restarts
 * its numbering and must never make new messages look old.
 */
export function isCoveredByLedger(seq: Sequence, pos: LedgerPosition | undefined): boolean {
  if (pos === undefined) return false;
  if (seq.kind === 'producer') return pos.producerSeq !== undefined && seq.value <= pos.producerSeq;
  return pos.sqsSeq !== undefined && pos.sqsQueueId === seq.queueId && seq.value <= pos.sqsSeq;
}

/**
 * Whether a journal entry is already delivered (or skipped), judged only by a position of its own
 * kind and, for a seq-less entry, of its own queue incarnation. Stricter than isCoveredByLedger:
 * a producer-seq delivery sets sqsSeq too, and that must never make a seq-less entry look
 * delivered, whatever order the journal was replayed in. An unknown sqsSeqKind counts as
 * seq-less only on a position that has never recorded a producer seq.
 */
export function isJournalEntryCovered(seq: Sequence, pos: LedgerPosition | undefined): boolean {
  if (pos === undefined) return false;
  if (seq.kind === 'producer') return pos.producerSeq !== undefined && seq.value <= pos.producerSeq;
  const seqless = pos.sqsSeqKind === 'sqs' || (pos.sqsSeqKind === undefined && pos.producerSeq === undefined);
  return seqless && isCoveredByLedger(seq, pos);
}

/** The position after delivering seq: only ever forward, in the counter that seq belongs to. */
export function advancePosition(pos: LedgerPosition | undefined, seq: Sequence): LedgerPosition {
  const next: LedgerPosition = { ...pos, sqsSeq: seq.sqs, sqsQueueId: seq.queueId, sqsSeqKind: seq.kind };
  if (seq.kind === 'producer' && (pos?.producerSeq === undefined || pos.producerSeq < seq.value)) {
    next.producerSeq = seq.value;
  }
  return next;
}

/**
 * Whether a fresh ledger read is needed before delivering. A cached position can only lag the
 * table (the ledger only moves forward), so a cached "covered" is final. A message SQS hands out
 * for the first time cannot have been delivered from this queue yet; a redelivery, or a producer
 * seq that may have been delivered from another queue or region, needs the table's word.
 */
export function needsLedgerRead(seq: Sequence, receiveCount: number, cached: LedgerPosition | undefined): boolean {
  if (isCoveredByLedger(seq, cached)) return false;
  if (receiveCount > 1) return true;
  return cached === undefined && seq.kind === 'producer';
}

/**
 * A producer seq that went backwards: below the ledger's, on a message SQS sequenced after the
 * one the ledger last recorded from this same queue. That is a producer bug, not a redelivery (a
 * redelivered message always sits at or below the recorded SequenceNumber), and deleting it as a
 * duplicate would lose it. From another queue or region the order of sends is unknown, so the
 * message counts as a duplicate there.
 */
export function isSeqRegression(seq: Sequence, pos: LedgerPosition | undefined): boolean {
  if (seq.kind !== 'producer' || pos?.producerSeq === undefined || pos.sqsSeq === undefined) return false;
  return seq.value < pos.producerSeq && pos.sqsQueueId === seq.queueId && seq.sqs > pos.sqsSeq;
}
