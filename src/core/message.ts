/**
 * Turns a raw SQS message into what the relay works with, or says precisely why it cannot.
 * Structural input types keep the core free of the AWS SDK.
 */

export interface RawMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  Attributes?: Partial<Record<string, string>>;
  MessageAttributes?: Partial<Record<string, { DataType?: string; StringValue?: string }>>;
}

/**
 * Where a message stands in its source's order, and which counter that position belongs to.
 * `text` is what the app sees as X-Sequence; `key` is the part of the Idempotency-Key after the
 * source id. For a seq-less message the key carries the queue's incarnation, because a queue
 * deleted and created again under the same name restarts its SequenceNumbers.
 */
export type Sequence =
  | { kind: 'producer'; value: bigint; text: string; key: string; sqs: bigint; queueId: string }
  | { kind: 'sqs'; value: bigint; text: string; key: string; sqs: bigint; queueId: string };

/**
 * A queue's identity for comparing SQS SequenceNumbers: its ARN alone does not change when the
 * queue is deleted and created again (SQS then makes you wait 60 s, and CreatedTimestamp is in
 * seconds, so the pair is unique).
 */
export function queueIdentity(arn: string, createdTimestamp: string): string {
  return `${arn}@${createdTimestamp}`;
}

function incarnationOf(queueId: string): string {
  const at = queueId.lastIndexOf('@');
  return at >= 0 ? queueId.slice(at + 1) : '';
}

export interface RelayMessage {
  messageId: string;
  receiptHandle: string;
  sourceId: string;
  seq: Sequence;
  body: string;
  contentType: string;
  /** ApproximateReceiveCount: 1 on the first receive; sent to the app as X-Attempt. */
  receiveCount: number;
  /** ApproximateFirstReceiveTimestamp (ms), shared by every task that sees the message. */
  firstReceivedAt: number;
  /** SentTimestamp (ms): SQS deletes the message once the queue's retention has passed since then. */
  sentAt: number;
  /** The producer's trace context, passed on to the app; absent parts are simply not sent. */
  trace: TraceContext;
}

export interface TraceContext {
  /** SQS's AWSTraceHeader system attribute (X-Ray), sent as X-Amzn-Trace-Id. */
  awsTraceHeader?: string;
  /** W3C traceparent message attribute, sent as traceparent. */
  traceparent?: string;
  /** W3C tracestate message attribute, sent as tracestate only beside a traceparent. */
  tracestate?: string;
}

export type InvalidReason =
  | 'missing-message-id'
  | 'missing-receipt-handle'
  | 'missing-group-id'
  | 'missing-sequence-number'
  | 'bad-seq-attribute'
  | 'bad-content-type'
  | 'missing-body'
  /** A producer seq below the ledger's on a message sent after the last one delivered. */
  | 'seq-regression';

export interface InvalidMessage {
  messageId: string;
  /** Absent only for 'missing-receipt-handle': such a message cannot be acted on and comes back by itself. */
  receiptHandle?: string;
  sourceId?: string;
  reason: InvalidReason;
  detail: string;
  receiveCount: number;
  firstReceivedAt: number;
  sentAt: number;
}

export type ParseResult = { ok: true; message: RelayMessage } | { ok: false; invalid: InvalidMessage };

export const DEFAULT_CONTENT_TYPE = 'application/json';
/** DynamoDB numbers hold 38 significant digits; a longer producer seq could not be recorded exactly. */
const MAX_SEQ_DIGITS = 38;
const UNSIGNED_INTEGER = /^\d+$/;
/** What an HTTP client accepts in a header value without refusing the request. */
const HEADER_SAFE = /^[\t\x20-\x7e]+$/;

function invalid(base: Omit<InvalidMessage, 'reason' | 'detail'>, reason: InvalidReason, detail: string): ParseResult {
  return { ok: false, invalid: { ...base, reason, detail } };
}

function toInt(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isFinite(n) ? n : fallback;
}

/** Canonical decimal text of a producer seq, or undefined if it is not a non-negative integer. */
export function canonicalSeq(text: string): string | undefined {
  const t = text.trim();
  if (!UNSIGNED_INTEGER.test(t)) return undefined;
  const canonical = t.replace(/^0+(?=\d)/, '');
  return canonical.length <= MAX_SEQ_DIGITS ? canonical : undefined;
}

/** W3C Trace Context level 1: version 00 (or a later one, read as 00), non-zero ids. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const MAX_TRACE_HEADER = 512;

/**
 * A trace context that cannot be sent as-is is dropped, never a reason to hold the message:
 * tracing must not block delivery. Text is taken only when it is a safe header value.
 */
export function parseTrace(attrs: Partial<Record<string, string>>, messageAttrs: RawMessage['MessageAttributes']): TraceContext {
  const trace: TraceContext = {};
  const safe = (v: string | undefined) => (v !== undefined && v.length <= MAX_TRACE_HEADER && HEADER_SAFE.test(v) ? v.trim() : undefined);
  const aws = safe(attrs.AWSTraceHeader);
  if (aws) trace.awsTraceHeader = aws;
  const tp = safe(messageAttrs?.traceparent?.StringValue)?.toLowerCase();
  const m = tp === undefined ? null : TRACEPARENT.exec(tp);
  if (tp && m && m[1] !== 'ff' && !/^0+$/.test(m[2] as string) && !/^0+$/.test(m[3] as string) && (m[1] !== '00' || m[5] === undefined)) {
    trace.traceparent = tp;
    const ts = safe(messageAttrs?.tracestate?.StringValue);
    if (ts) trace.tracestate = ts;
  }
  return trace;
}

export function parseMessage(raw: RawMessage, queueId: string): ParseResult {
  const attrs = raw.Attributes ?? {};
  const base = {
    messageId: raw.MessageId ?? '',
    receiptHandle: raw.ReceiptHandle,
    sourceId: attrs.MessageGroupId,
    receiveCount: toInt(attrs.ApproximateReceiveCount, 1),
    firstReceivedAt: toInt(attrs.ApproximateFirstReceiveTimestamp, 0),
    sentAt: toInt(attrs.SentTimestamp, 0),
  };
  if (!raw.MessageId) return invalid(base, 'missing-message-id', 'SQS returned a message without MessageId');
  if (!raw.ReceiptHandle) return invalid(base, 'missing-receipt-handle', 'SQS returned a message without ReceiptHandle');
  if (!attrs.MessageGroupId) return invalid(base, 'missing-group-id', 'message has no MessageGroupId (is the queue FIFO?)');
  const sqsText = attrs.SequenceNumber;
  if (!sqsText || !UNSIGNED_INTEGER.test(sqsText)) {
    return invalid(base, 'missing-sequence-number', 'message has no SQS SequenceNumber (is the queue FIFO?)');
  }
  if (raw.Body === undefined) return invalid(base, 'missing-body', 'message has no body');
  const sqs = BigInt(sqsText);

  let seq: Sequence;
  const seqAttr = raw.MessageAttributes?.seq;
  if (seqAttr !== undefined) {
    const text = seqAttr.StringValue === undefined ? undefined : canonicalSeq(seqAttr.StringValue);
    if (text === undefined || !(seqAttr.DataType ?? '').startsWith('Number')) {
      return invalid(
        base,
        'bad-seq-attribute',
        `attribute seq must be a Number holding an integer from 0 with at most ${MAX_SEQ_DIGITS} digits, got ${JSON.stringify(seqAttr.StringValue)} (${seqAttr.DataType ?? 'no type'})`,
      );
    }
    seq = { kind: 'producer', value: BigInt(text), text, key: text, sqs, queueId };
  } else {
    seq = { kind: 'sqs', value: sqs, text: sqsText, key: `q${incarnationOf(queueId)}.${sqsText}`, sqs, queueId };
  }

  const contentType = raw.MessageAttributes?.contentType?.StringValue?.trim() || DEFAULT_CONTENT_TYPE;
  if (!HEADER_SAFE.test(contentType)) {
    return invalid(base, 'bad-content-type', `attribute contentType must be printable ASCII (it becomes the Content-Type header), got ${JSON.stringify(contentType)}`);
  }
  return {
    ok: true,
    message: {
      messageId: raw.MessageId,
      receiptHandle: raw.ReceiptHandle,
      sourceId: attrs.MessageGroupId,
      seq,
      body: raw.Body,
      contentType,
      receiveCount: base.receiveCount,
      firstReceivedAt: base.firstReceivedAt,
      sentAt: base.sentAt,
      trace: parseTrace(attrs, raw.MessageAttributes),
    },
  };
}

/**
 * The delivery contract's Idempotency-Key: equal for every redelivery of one operation.
 * `<sourceId>:<seq>` with a producer seq; `<sourceId>:q<queue CreatedTimestamp>.<SequenceNumber>` without.
 */
export function idempotencyKey(m: RelayMessage): string {
  return `${m.sourceId}:${m.seq.key}`;
}
