import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * One item collection per source: `pk` is the source id, `sk` says which kind of item it is.
 * The ledger, and later a source's journal entries and audit records, sit side by side so one
 * Query reads a source's whole story in order.
 */
export const PK = 'pk';
export const SK = 'sk';
export const LEDGER_SK = 'ledger';

export function ledgerKey(sourceId: string): Record<string, AttributeValue> {
  return { [PK]: { S: sourceId }, [SK]: { S: LEDGER_SK } };
}

/**
 * An SQS SequenceNumber is a 128-bit number (up to 39 digits) and a DynamoDB number holds 38:
 * it is stored as fixed-width text, whose order is the numeric order in conditions and sorts.
 */
export const SQS_SEQ_WIDTH = 40;

export function sqsSeqText(seq: bigint): string {
  return seq.toString().padStart(SQS_SEQ_WIDTH, '0');
}

export function parseSqsSeqText(text: string | undefined): bigint | undefined {
  return text === undefined || !/^\d+$/.test(text) ? undefined : BigInt(text);
}

export const JOURNAL_PREFIX = 'j#';
export const AUDIT_PREFIX = 'audit#';
/** Chunks of large journal bodies sit outside the entries' key range, so listing entries never reads them. */
export const CHUNK_PREFIX = 'jc#';

/**
 * The two key ranges of a source's journal: producer-seq entries (`j#` + 40 digits, in seq order)
 * and seq-less entries (`j#q` + receive key, in the order SQS received them).
 */
export const PRODUCER_RANGE = { lo: `${JOURNAL_PREFIX}0`, hi: `${JOURNAL_PREFIX}9~` } as const;
export const SEQLESS_RANGE = { lo: `${JOURNAL_PREFIX}q`, hi: `${JOURNAL_PREFIX}q~` } as const;

/** A producer-seq journal entry's sort key: entries of one source sort in seq order. */
export function journalSk(seqValue: bigint): string {
  return JOURNAL_PREFIX + sqsSeqText(seqValue);
}

/** A seq-less journal entry's sort key: its receive key, so these entries sort in receive order. */
export function seqlessJournalSk(receiveKey: string): string {
  return `${JOURNAL_PREFIX}q${receiveKey}`;
}

/** The sort key of chunk i of the entry whose header is at headerSk. */
export function chunkSk(headerSk: string, i: number): string {
  return `${CHUNK_PREFIX}${headerSk.slice(JOURNAL_PREFIX.length)}#c${String(i).padStart(3, '0')}`;
}

/** An audit record's sort key: records of one source sort by time. */
export function auditSk(atMs: number, id: string): string {
  return `${AUDIT_PREFIX}${new Date(atMs).toISOString()}#${id}`;
}
