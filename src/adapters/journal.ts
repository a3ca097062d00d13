import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { LedgerPosition } from '../core/ledger-position';
import { isCoveredByLedger } from '../core/ledger-position';
import type { RelayMessage, Sequence, TraceContext } from '../core/message';
import { JOURNAL_PREFIX, journalSk, parseSqsSeqText, PK, SK, sqsSeqText } from './table-keys';

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
  skippedAt?: number;
  /** The producer's trace context, so a replayed delivery continues the same trace. */
  trace?: TraceContext;
  /** Producer-written entries keep their chunks under their own key prefix (docs/producer.md). */
  chunkPrefix?: string;
}

/** Same seq, different body: two different messages claim one place in the source's order. */
export class JournalConflictError extends Error {
  override name = 'JournalConflictError';
}

export interface JournalPort {
  /** Put-if-absent; 'exists' only when the entry there has the same body. */
  put(entry: JournalEntry): Promise<'written' | 'exists'>;
  /** Entries the position does not cover, in order, at most limit. */
  above(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]>;
  /** Entries the position covers (delivered or skipped), for cleanup. */
  covered(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]>;
  remove(entry: JournalEntry): Promise<void>;
  markSkipped(entry: JournalEntry, nowMs: number, actor: string): Promise<void>;
  count(sourceId: string): Promise<number>;
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

const chunkSk = (seq: bigint, i: number) => `${journalSk(seq)}#c${String(i).padStart(3, '0')}`;

/** Where chunk i of an entry lives: under the entry's own chunkPrefix when it names one. */
export const chunkKeyOf = (seq: bigint, i: number, chunkPrefix?: string): string =>
  chunkPrefix === undefined ? chunkSk(seq, i) : `${chunkPrefix}${String(i).padStart(3, '0')}`;

function headerItem(e: JournalEntry, chunks: number): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    [PK]: { S: e.sourceId },
    [SK]: { S: journalSk(e.seq.value) },
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

function isHeaderSk(sk: string): boolean {
  return sk.startsWith(JOURNAL_PREFIX) && !sk.includes('#c');
}

export class DynamoJournal implements JournalPort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async put(e: JournalEntry): Promise<'written' | 'exists'> {
    const parts = splitBody(e.body);
    if (parts.length > 1) {
      // Chunks first, each put-if-absent for this body: a header only ever names chunks of its own body.
      const existing = await this.header(e.sourceId, e.seq.value);
      if (existing) return this.compare(existing, e);
      for (const [i, data] of parts.entries()) {
        await this.putIfAbsent(
          { [PK]: { S: e.sourceId }, [SK]: { S: chunkSk(e.seq.value, i) }, data: { S: data }, bodySha256: { S: e.bodySha256 } },
          'attribute_not_exists(#sk) OR bodySha256 = :sha',
          { ':sha': { S: e.bodySha256 } },
        ).then((ok) => {
          if (!ok) throw new JournalConflictError(`journal chunk ${i} of ${e.sourceId} seq ${e.seq.text} belongs to a different body`);
        });
      }
    }
    if (await this.putIfAbsent(headerItem(e, parts.length), 'attribute_not_exists(#sk)', {})) return 'written';
    const existing = await this.header(e.sourceId, e.seq.value);
    if (!existing) throw new Error(`journal entry ${e.sourceId} seq ${e.seq.text} both exists and does not`);
    return this.compare(existing, e);
  }

  async above(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]> {
    // The whole journal range, not from the position up: an entry may be of the other kind
    // (producer seq vs SequenceNumber) or from another queue incarnation than the position, and
    // must never be stranded below a bound that does not apply to it. Covered entries are skipped
    // before the limit counts, and cleanup keeps them few.
    const out: JournalEntry[] = [];
    const items = await this.query(sourceId, JOURNAL_PREFIX, `${JOURNAL_PREFIX}~`, limit, async (item) => !isCoveredByLedger((await this.entryOf(item, false)).seq, position));
    for (const item of items) out.push(await this.entryOf(item));
    return out;
  }

  async covered(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]> {
    if (position === undefined) return [];
    const out: JournalEntry[] = [];
    for (const item of await this.query(sourceId, JOURNAL_PREFIX, `${JOURNAL_PREFIX}~`, limit, async (i) => isCoveredByLedger((await this.entryOf(i, false)).seq, position))) {
      out.push(await this.entryOf(item, false));
    }
    return out;
  }

  async remove(e: JournalEntry): Promise<void> {
    // Header first: an entry without its header does not exist, so a half-done removal leaves only dead chunks.
    await this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { [PK]: { S: e.sourceId }, [SK]: { S: journalSk(e.seq.value) } } }));
    for (let i = 0; ; i++) {
      const out = await this.client.send(
        new DeleteItemCommand({ TableName: this.table, Key: { [PK]: { S: e.sourceId }, [SK]: { S: chunkKeyOf(e.seq.value, i, e.chunkPrefix) } }, ReturnValues: 'ALL_OLD' }),
      );
      if (!out.Attributes) break;
    }
  }

  async markSkipped(e: JournalEntry, nowMs: number, actor: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { [PK]: { S: e.sourceId }, [SK]: { S: journalSk(e.seq.value) } },
        UpdateExpression: 'SET skippedAt = :at, skippedBy = :by',
        ConditionExpression: 'attribute_exists(#sk)',
        ExpressionAttributeNames: { '#sk': SK },
        ExpressionAttributeValues: { ':at': { N: String(nowMs) }, ':by': { S: actor } },
      }),
    );
  }

  async count(sourceId: string): Promise<number> {
    let n = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :j)',
          FilterExpression: 'attribute_exists(messageId)',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: sourceId }, ':j': { S: JOURNAL_PREFIX } },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      n += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return n;
  }

  private async query(
    sourceId: string,
    lo: string,
    hi: string,
    limit: number,
    keep: (item: Record<string, AttributeValue>) => Promise<boolean> = async () => true,
  ): Promise<Array<Record<string, AttributeValue>>> {
    const out: Array<Record<string, AttributeValue>> = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
          ExpressionAttributeValues: { ':pk': { S: sourceId }, ':lo': { S: lo }, ':hi': { S: hi } },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) if (out.length < limit && isHeaderSk(item[SK]?.S ?? '') && (await keep(item))) out.push(item);
      start = page.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  private async header(sourceId: string, seq: bigint): Promise<Record<string, AttributeValue> | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: sourceId }, [SK]: { S: journalSk(seq) } }, ConsistentRead: true }));
    return out.Item;
  }

  private compare(existing: Record<string, AttributeValue>, e: JournalEntry): 'exists' {
    if (existing.bodySha256?.S !== e.bodySha256) {
      throw new JournalConflictError(
        `journal already holds a different message at ${e.sourceId} seq ${e.seq.text} (message ${existing.messageId?.S ?? '?'} vs ${e.messageId}): refusing to treat it as written`,
      );
    }
    return 'exists';
  }

  private async putIfAbsent(item: Record<string, AttributeValue>, condition: string, values: Record<string, AttributeValue>): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#sk': SK },
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  private async entryOf(item: Record<string, AttributeValue>, withBody = true): Promise<JournalEntry> {
    const kind = item.seqKind?.S === 'sqs' ? 'sqs' : 'producer';
    const text = item.seq?.S ?? '';
    const sqs = parseSqsSeqText(item.sqsSeq?.S) ?? 0n;
    const sourceId = item[PK]?.S ?? '';
    const value = BigInt((item[SK]?.S ?? '').slice(JOURNAL_PREFIX.length) || '0');
    let body = item.body?.S ?? '';
    const chunks = Number(item.chunks?.N ?? 0);
    const chunkPrefix = item.chunkPrefix?.S;
    if (withBody && chunks > 1) {
      const parts: string[] = [];
      for (let i = 0; i < chunks; i++) {
        const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: sourceId }, [SK]: { S: chunkKeyOf(value, i, chunkPrefix) } }, ConsistentRead: true }));
        parts.push(out.Item?.data?.S ?? '');
      }
      body = parts.join('');
      if (sha256(body) !== item.bodySha256?.S) throw new Error(`journal entry ${sourceId} seq ${text}: chunks do not match the header's bodySha256`);
    }
    const e: JournalEntry = {
      sourceId,
      seq: { kind, value, text, key: item.key?.S ?? text, sqs, queueId: item.queueId?.S ?? '' },
      messageId: item.messageId?.S ?? '',
      contentType: item.contentType?.S ?? 'application/json',
      body,
      bodySha256: item.bodySha256?.S ?? '',
      sentAt: Number(item.sentAt?.N ?? 0),
      firstSeenAt: Number(item.firstSeenAt?.N ?? 0),
      journaledAt: Number(item.journaledAt?.N ?? 0),
    };
    if (item.skippedAt?.N !== undefined) e.skippedAt = Number(item.skippedAt.N);
    if (item.trace?.S !== undefined) e.trace = parseTrace(item.trace.S);
    if (chunkPrefix !== undefined) e.chunkPrefix = chunkPrefix;
    return e;
  }
}
