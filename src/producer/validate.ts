import { canonicalSeq } from '../core/message';

/** One message as a caller hands it to the producer. */
export interface ProducerMessage {
  sourceId: string;
  body: string;
  /** Sent as the contentType attribute; the app sees it as Content-Type (default application/json). */
  contentType?: string;
  /** W3C traceparent, passed to the app. */
  traceparent?: string;
  /**
   * Only to assert where the message must land: it must be exactly the source's next seq, else
   * nothing is written. Normally left out: the producer claims the next seq itself.
   */
  seq?: number | bigint | string;
}

/** The caller's input cannot be sent as it is: nothing was written for any message of the call. */
export class ProducerInputError extends Error {
  override name = 'ProducerInputError';
}

/** SQS's limit for one message, body and attributes together, and for one SendMessageBatch request. */
export const SQS_MAX_BYTES = 1_048_576;
/** Attribute bytes budgeted per message (names, types and values of seq, contentType, traceparent, marker). */
const ATTRIBUTE_ALLOWANCE = 1024;
export const MAX_BODY_BYTES = SQS_MAX_BYTES - ATTRIBUTE_ALLOWANCE;

/** SQS MessageGroupId: 1–128 characters, letters, digits and ASCII punctuation. */
const GROUP_ID = /^[\x21-\x7e]{1,128}$/;
/** Characters SQS accepts in a body (XML 1.0's set); anything else is refused by SendMessage. */
// eslint-disable-next-line no-control-regex
const SQS_BODY_CHARS = /^[\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;
const HEADER_SAFE = /^[\x20-\x7e]{1,256}$/;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export interface CheckedMessage extends ProducerMessage {
  bodyBytes: number;
  explicitSeq?: bigint;
}

/** Why one message cannot be sent, or undefined when it can. */
export function problemOf(m: Partial<ProducerMessage> | null | undefined): string | undefined {
  if (m === null || typeof m !== 'object') return 'not an object';
  if (typeof m.sourceId !== 'string' || m.sourceId === '') return 'sourceId is missing';
  if (!GROUP_ID.test(m.sourceId)) return `sourceId ${JSON.stringify(m.sourceId.slice(0, 40))} must be 1–128 printable ASCII characters without spaces (an SQS MessageGroupId)`;
  if (typeof m.body !== 'string') return 'body is missing (a string)';
  if (m.body === '') return 'body is empty (SQS refuses empty messages)';
  const bytes = Buffer.byteLength(m.body, 'utf8');
  if (bytes > MAX_BODY_BYTES) return `body is ${bytes} bytes, over the ${MAX_BODY_BYTES} SQS allows beside the attributes (1 MiB in all)`;
  if (!SQS_BODY_CHARS.test(m.body)) return 'body holds a character SQS refuses (control characters other than tab, CR and LF, or unpaired surrogates)';
  if (m.contentType !== undefined && (typeof m.contentType !== 'string' || !HEADER_SAFE.test(m.contentType))) return 'contentType must be 1–256 printable ASCII characters';
  if (m.traceparent !== undefined && (typeof m.traceparent !== 'string' || !TRACEPARENT.test(m.traceparent))) return 'traceparent must be W3C text (00-<32 hex>-<16 hex>-<2 hex>)';
  if (m.seq !== undefined && canonicalSeq(String(m.seq)) === undefined) return `seq ${JSON.stringify(String(m.seq))} is not a whole number of at most 38 digits`;
  return undefined;
}

/** Every message checked before anything is written: one bad message refuses the whole call. */
export function checkAll(messages: readonly ProducerMessage[]): CheckedMessage[] {
  const problems: string[] = [];
  messages.forEach((m, i) => {
    const p = problemOf(m);
    if (p) problems.push(`message ${i}: ${p}`);
  });
  if (problems.length > 0) throw new ProducerInputError(`nothing sent: ${problems.join('; ')}`);
  return messages.map((m) => {
    const c: CheckedMessage = { ...m, bodyBytes: Buffer.byteLength(m.body, 'utf8') };
    if (m.seq !== undefined) c.explicitSeq = BigInt(canonicalSeq(String(m.seq)) as string);
    return c;
  });
}
