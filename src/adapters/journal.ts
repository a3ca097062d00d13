import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { LedgerPosition } from '../core/ledger-position';
import type { RelayMessage, Sequence, TraceContext } from '../core/message';
import { chunkSk, JOURNAL_PREFIX, journalSk, parseSqsSeqText, PK, seqlessJournalSk, SK, sqsSeqText } from './table-keys';

/** What is needed to deliver a message later under the normal contract (docs/table-layout.md). */
export interface JournalEntry {
  sourceId: string;
  seq: Sequence;
  messageId: string;
  contentType: string;
  body: string;
  bodySha256: string;
  sentAt: number;
  firstSeenAt: number;
  journaledAt: number;
  /** An operator skipped this entry (the skip is written in the ledger): never delivered, never cleaned up. */
  skippedAt?: number;
  /** Marked before the skip write: the body is kept whatever happens next; delivered only if the skip never landed. */
  skipPendingAt?: number;
  /** The producer's trace context, so a replayed delivery continues the same trace. */
  trace?: TraceContext;
  /** The order SQS received the message in (receiveKey); absent for an entry that never came from SQS. */
  receiveKey?: string;
  /** How many chunk items hold the body, when it is chunked; an entry listed from the table has an empty body until JournalPort.load reads them. */
  chunks?: number;
  /** Producer-written entries keep their chunks under their own key prefix (docs/producer.md). */
  chunkPrefix?: string;
  /** The sort key the entry was read at: removals and marks go there, whatever entrySk would compute. */
  sk?: string;
}

/** Same seq, different body: two different messages claim one place in the source's order. */
export class JournalConflictError extends Error {
  override name = 'JournalConflictError';
}

/** Reads a source's journal once, in receive order, a page at a time. */
export interface JournalReader {
  /** The next entry, or undefined at the end. A chunked body is not read (see JournalPort.load). */
  next(): Promise<JournalEntry | undefined>;
  /** Header items read so far (for figures). */
  readonly itemsRead: number;
  /** Items in the journal's ranges that are not entries of the current layout, passed by: how many, and the first key. */
  readonly passedBy?: { count: number; firstSk: string };
}

export interface JournalPort {
  /** Put-if-absent; 'exists' only when the entry there has the same body. */
  put(entry: JournalEntry): Promise<'written' | 'exists'>;
  /** A one-pass reader over the whole journal, in the order SQS received the messages. */
  reader(sourceId: string, pageSize: number): JournalReader;
  /** The entry with its body: chunked bodies are read here, only when needed. */
  load(entry: JournalEntry): Promise<JournalEntry>;
  /** Entries the position does not cover, in receive order, at most limit, with their bodies. */
  above(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]>;
  /** Entries the position covers (delivered or skipped), for cleanup. */
  covered(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]>;
  remove(entry: JournalEntry): Promise<void>;
  /** Removes many entries with batched writes (delivered entries, as replay goes). */
  removeMany(entries: readonly JournalEntry[]): Promise<void>;
  /**
   * Skip marks, in two steps around the ledger's skip write: 'pending' before it (cleanup keeps the
   * body from then on), 'done' after it (replay never delivers the entry, whatever the position).
   */
  markSkipped(entry: JournalEntry, nowMs: number, actor: string, step: 'pending' | 'done'): Promise<void>;
  /** Undoes the pending mark when the skip itself was refused. */
  unmarkSkipped(entry: JournalEntry): Promise<void>;
  count(sourceId: string): Promise<number>;
  /** Whether the seq-less range holds an entry the position does not cover and no skip marks. */
  hasUncoveredSeqless?(sourceId: string, position: LedgerPosition | undefined): Promise<boolean>;
}

export const sha256 = (body: string): string => createHash('sha256').update(body, 'utf8').digest('hex');

export function entryFromMessage(m: RelayMessage, nowMs: number): JournalEntry {
  return {
    sourceId: m.sourceId,
    seq: m.seq,
    messageId: m.messageId,
    contentType: m.contentType,
    body: m.body,
    bodySha256: sha256(m.body),
    sentAt: m.sentAt,
    firstSeenAt: m.firstReceivedAt || nowMs,
    journaledAt: nowMs,
    ...(Object.keys(m.trace).length > 0 ? { trace: m.trace } : {}),
  };
}

/** Whether cleanup must keep this entry's body: an operator skipped it, or began to. */
export const keptForTheRecord = (e: JournalEntry): boolean => e.skippedAt !== undefined || e.skipPendingAt !== undefined;

/** The message a journal entry delivers: same idempotency key, X-Sequence and X-Message-Id as from SQS. */
export function messageFromEntry(e: JournalEntry, attempt: number): RelayMessage {
  return {
    messageId: e.messageId,
    receiptHandle: '',
    sourceId: e.sourceId,
    seq: e.seq,
    body: e.body,
    contentType: e.contentType,
    receiveCount: attempt,
    firstReceivedAt: e.firstSeenAt,
    sentAt: e.sentAt,
    trace: e.trace ?? {},
  };
}

/** Bodies above this go to chunk items: a DynamoDB item holds 400 KB including names and other attributes. */
export const INLINE_BODY_LIMIT_BYTES = 350_000;
/** Characters per chunk: at most 3 UTF-8 bytes each (4 for a surrogate pair of 2), so ≤ 300 KB. */
const CHUNK_CHARS = 100_000;

export function splitBody(body: string): string[] {
  if (Buffer.byteLength(body, 'utf8') <= INLINE_BODY_LIMIT_BYTES) return [body];
  const parts: string[] = [];
  for (let i = 0; i < body.length; ) {
    let end = Math.min(body.length, i + CHUNK_CHARS);
    // Never split a surrogate pair across two chunks.
    const last = body.charCodeAt(end - 1);
    if (end < body.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(body.slice(i, end));
    i = end;
  }
  return parts;
}

/**
 * The order SQS received a message in, as sortable text: the queue incarnation's creation time,
 * a short hash of the queue's ARN (two queues created in the same second), then the
 * SequenceNumber. Undefined for an entry that never came from SQS (no SequenceNumber).
 */
export function receiveKey(seq: Sequence): string | undefined {
  if (seq.sqs <= 0n || seq.queueId === '') return undefined;
  const at = seq.queueId.lastIndexOf('@');
  const created = at >= 0 ? seq.queueId.slice(at + 1) : '';
  const arn = at >= 0 ? seq.queueId.slice(0, at) : seq.queueId;
  const incarnation = /^\d{1,12}$/.test(created) ? created.padStart(12, '0') : '000000000000';
  return `${incarnation}-${createHash('sha256').update(arn).digest('hex').slice(0, 8)}-${sqsSeqText(seq.sqs)}`;
}

/**
 * An entry's sort key. Producer-seq entries are keyed by the seq (put-if-absent on it is the
 * producer's claim, and a different body under one seq is a conflict); seq-less entries by their
 * receive key, so each range alone is in order and replay merges the two by receive key.
 */
export function entrySk(seq: Sequence): string {
  if (seq.kind === 'producer') return journalSk(seq.value);
  const rk = receiveKey(seq);
  if (rk === undefined) throw new Error(`a seq-less journal entry needs its SQS SequenceNumber and queue (seq ${seq.text})`);
  return seqlessJournalSk(rk);
}

/** Receive order between two entries; an entry that never came from SQS goes first. */
export function compareReceiveOrder(a: JournalEntry, b: JournalEntry): number {
  const ka = a.receiveKey ?? '';
  const kb = b.receiveKey ?? '';
  if (ka !== kb) return ka < kb ? -1 : 1;
  return a.seq.value < b.seq.value ? -1 : a.seq.value > b.seq.value ? 1 : 0;
}

/** Where an entry's header is: the key it was read at, else the key its seq gives. */
export const headerSkOf = (e: JournalEntry): string => e.sk ?? entrySk(e.seq);

/** Where chunk i of an entry lives: under the entry's own chunkPrefix when it names one. */
export function chunkKeyOf(e: JournalEntry, i: number): string {
  return e.chunkPrefix === undefined ? chunkSk(headerSkOf(e), i) : `${e.chunkPrefix}${String(i).padStart(3, '0')}`;
}

const PRODUCER_HEADER = /^j#\d{40}$/;
const SEQLESS_HEADER = /^j#q\d{12}-[0-9a-f]{8}-\d{40}$/;

/**
 * Whether a sort key is an entry header of the current layout (docs/table-layout.md). Anything
 * else in the journal's ranges (an item of an earlier layout) is not an entry: readers pass it by.
 */
export const isHeaderSk = (sk: string): boolean => PRODUCER_HEADER.test(sk) || SEQLESS_HEADER.test(sk);

export function headerItem(e: JournalEntry, chunks: number): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    [PK]: { S: e.sourceId },
    [SK]: { S: entrySk(e.seq) },
    seq: { S: e.seq.text },
    seqKind: { S: e.seq.kind },
    key: { S: e.seq.key },
    sqsSeq: { S: sqsSeqText(e.seq.sqs) },
    queueId: { S: e.seq.queueId },
    messageId: { S: e.messageId },
    contentType: { S: e.contentType },
    bodySha256: { S: e.bodySha256 },
    sentAt: { N: String(e.sentAt) },
    firstSeenAt: { N: String(e.firstSeenAt) },
    journaledAt: { N: String(e.journaledAt) },
  };
  const rk = receiveKey(e.seq);
  if (rk !== undefined) item.rk = { S: rk };
  if (e.trace) item.trace = { S: JSON.stringify(e.trace) };
  if (chunks > 1) item.chunks = { N: String(chunks) };
  else item.body = { S: e.body };
  return item;
}

function parseTrace(text: string): TraceContext {
  try {
    const t = JSON.parse(text) as Record<string, unknown>;
    const out: TraceContext = {};
    if (typeof t.awsTraceHeader === 'string') out.awsTraceHeader = t.awsTraceHeader;
    if (typeof t.traceparent === 'string') out.traceparent = t.traceparent;
    if (typeof t.tracestate === 'string') out.tracestate = t.tracestate;
    return out;
  } catch {
    // A trace is never a reason to hold a message.
    return {};
  }
}

/**
 * A header item as an entry; a chunked body is left empty (`chunks` says how many to read).
 * Undefined for an item that is not a header of the current layout.
 */
export function entryOfItem(item: Record<string, AttributeValue>): JournalEntry | undefined {
  const sk = item[SK]?.S ?? '';
  if (!isHeaderSk(sk) || item.messageId?.S === undefined) return undefined;
  const kind = item.seqKind?.S === 'sqs' ? 'sqs' : 'producer';
  const text = item.seq?.S ?? '';
  const sqs = parseSqsSeqText(item.sqsSeq?.S) ?? 0n;
  // A producer seq is the key's 40 digits; a producer entry in the seq-less range is not of this layout.
  if (kind === 'producer' && !PRODUCER_HEADER.test(sk)) return undefined;
  const value = kind === 'producer' ? BigInt(sk.slice(JOURNAL_PREFIX.length)) : sqs;
  const e: JournalEntry = {
    sourceId: item[PK]?.S ?? '',
    seq: { kind, value, text, key: item.key?.S ?? text, sqs, queueId: item.queueId?.S ?? '' },
    messageId: item.messageId?.S ?? '',
    contentType: item.contentType?.S ?? 'application/json',
    body: item.body?.S ?? '',
    bodySha256: item.bodySha256?.S ?? '',
    sentAt: Number(item.sentAt?.N ?? 0),
    firstSeenAt: Number(item.firstSeenAt?.N ?? 0),
    journaledAt: Number(item.journaledAt?.N ?? 0),
    sk,
  };
  const chunks = Number(item.chunks?.N ?? 0);
  if (chunks > 1) e.chunks = chunks;
  if (item.chunkPrefix?.S !== undefined) e.chunkPrefix = item.chunkPrefix.S;
  if (item.rk?.S !== undefined) e.receiveKey = item.rk.S;
  if (item.skippedAt?.N !== undefined) e.skippedAt = Number(item.skippedAt.N);
  if (item.skipPendingAt?.N !== undefined) e.skipPendingAt = Number(item.skipPendingAt.N);
  if (item.trace?.S !== undefined) e.trace = parseTrace(item.trace.S);
  return e;
}

export { DynamoJournal } from './dynamo-journal';
