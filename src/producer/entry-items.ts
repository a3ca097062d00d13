import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { sha256, splitBody } from '../adapters/journal';
import { CHUNK_PREFIX, journalSk, PK, SK, sqsSeqText } from '../adapters/table-keys';
import { DEFAULT_CONTENT_TYPE } from '../core/message';
import type { CheckedMessage } from './validate';

/**
 * One message on its way into the journal: its id and chunk prefix are fixed once, so the same
 * message keeps them in every claim round (a retry never leaves two copies of its chunks).
 */
export interface PendingEntry {
  message: CheckedMessage;
  /** The journal's message id (X-Message-Id of a delivery from the journal). */
  journalId: string;
  bodySha256: string;
  /** Chunks, or one part that sits in the header. */
  parts: string[];
  chunkPrefix: string;
}

/**
 * Producer chunks are keyed by the entry's own id, not by its seq: they are written before the
 * claim, and a producer that dies after its chunks must not block that seq for another body.
 */
export const PRODUCER_CHUNK_PREFIX = CHUNK_PREFIX;

export function pendingEntry(message: CheckedMessage, journalId: string): PendingEntry {
  return {
    message,
    journalId,
    bodySha256: sha256(message.body),
    parts: splitBody(message.body),
    chunkPrefix: `${PRODUCER_CHUNK_PREFIX}${journalId}#c`,
  };
}

export function chunkItems(p: PendingEntry): Array<Record<string, AttributeValue>> {
  if (p.parts.length < 2) return [];
  return p.parts.map((data, i) => ({
    [PK]: { S: p.message.sourceId },
    [SK]: { S: `${p.chunkPrefix}${String(i).padStart(3, '0')}` },
    data: { S: data },
    bodySha256: { S: p.bodySha256 },
  }));
}

/**
 * The header that claims seq for this message. `origin = producer` and `claimId` say who wrote
 * it; `sqsSeq` is zero and `queueId` empty because the entry exists before SQS has numbered it.
 */
export function headerItem(p: PendingEntry, seq: bigint, claimId: string, nowMs: number): Record<string, AttributeValue> {
  const m = p.message;
  const text = seq.toString();
  const item: Record<string, AttributeValue> = {
    [PK]: { S: m.sourceId },
    [SK]: { S: journalSk(seq) },
    seq: { S: text },
    seqKind: { S: 'producer' },
    key: { S: text },
    sqsSeq: { S: sqsSeqText(0n) },
    queueId: { S: '' },
    messageId: { S: p.journalId },
    contentType: { S: m.contentType ?? DEFAULT_CONTENT_TYPE },
    bodySha256: { S: p.bodySha256 },
    sentAt: { N: String(nowMs) },
    firstSeenAt: { N: String(nowMs) },
    journaledAt: { N: String(nowMs) },
    origin: { S: 'producer' },
    claimId: { S: claimId },
  };
  if (m.traceparent) item.trace = { S: JSON.stringify({ traceparent: m.traceparent }) };
  if (p.parts.length > 1) {
    item.chunks = { N: String(p.parts.length) };
    item.chunkPrefix = { S: p.chunkPrefix };
  } else item.body = { S: m.body };
  return item;
}

/** A PartiQL INSERT fails on its own (DuplicateItem) when the key exists: a conditional insert per statement. */
export function insertStatement(table: string, item: Record<string, AttributeValue>): { Statement: string; Parameters: AttributeValue[] } {
  const names = Object.keys(item);
  const fields = names.map((n) => `'${n}': ?`).join(', ');
  return { Statement: `INSERT INTO "${table.replace(/"/g, '""')}" VALUE {${fields}}`, Parameters: names.map((n) => item[n] as AttributeValue) };
}
