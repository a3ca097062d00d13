import { createHash } from 'node:crypto';
import { SendMessageBatchCommand, type MessageAttributeValue, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { Placed } from './claim-round';
import type { ProducerStats } from './stats';
import { SQS_MAX_BYTES } from './validate';

/** The message attribute saying the journal already holds this message: a worker need not journal it again. */
export const JOURNALED_ATTRIBUTE = 'journaled';
const BATCH_MAX = 10;
const TRIES = 5;

/** The same for every send of one seq of one source, so a producer that sends again is deduplicated by SQS. */
export function dedupId(sourceId: string, seq: bigint): string {
  return createHash('sha256').update(`${sourceId}\n${seq.toString()}`, 'utf8').digest('hex');
}

export interface SentMessage {
  placed: Placed;
  messageId: string;
}

function entryOf(p: Placed, id: string): { entry: SendMessageBatchRequestEntry; bytes: number } {
  const m = p.entry.message;
  const attrs: Record<string, MessageAttributeValue> = {
    seq: { DataType: 'Number', StringValue: p.seq.toString() },
    [JOURNALED_ATTRIBUTE]: { DataType: 'String', StringValue: '1' },
  };
  if (m.contentType) attrs.contentType = { DataType: 'String', StringValue: m.contentType };
  if (m.traceparent) attrs.traceparent = { DataType: 'String', StringValue: m.traceparent };
  let bytes = m.bodyBytes;
  for (const [k, v] of Object.entries(attrs)) bytes += k.length + (v.DataType ?? '').length + Buffer.byteLength(v.StringValue ?? '', 'utf8');
  return {
    entry: { Id: id, MessageBody: m.body, MessageGroupId: m.sourceId, MessageDeduplicationId: dedupId(m.sourceId, p.seq), MessageAttributes: attrs },
    bytes,
  };
}

/** Batches of up to ten that stay within SQS's 1 MiB per request, in seq order. */
function batchesOf(placed: readonly Placed[]): Placed[][] {
  const out: Placed[][] = [];
  let cur: Placed[] = [];
  let bytes = 0;
  for (const p of placed) {
    const b = entryOf(p, 'x').bytes;
    if (cur.length > 0 && (cur.length === BATCH_MAX || bytes + b > SQS_MAX_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(p);
    bytes += b;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Raised with what did reach SQS: the rest is journaled but not sent. */
export class SqsSendError extends Error {
  override name = 'SqsSendError';
  constructor(
    message: string,
    readonly sent: SentMessage[],
    readonly unsent: Placed[],
  ) {
    super(message);
  }
}

/** Sends claimed messages of one source in seq order; an entry SQS refused is sent again with its dedup id. */
export async function sendPlaced(sqs: SQSClient, queueUrl: string, placed: readonly Placed[], stats: ProducerStats): Promise<SentMessage[]> {
  const sent: SentMessage[] = [];
  const ordered = [...placed].sort((a, b) => (a.seq < b.seq ? -1 : 1));
  for (const batch of batchesOf(ordered)) {
    let todo = batch.map((p, i) => ({ p, id: `m${i}` }));
    for (let attempt = 1; todo.length > 0; attempt++) {
      let failed: Array<{ Id?: string; Message?: string; SenderFault?: boolean }> = [];
      try {
        stats.sqsCalls++;
        const res = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: todo.map((t) => entryOf(t.p, t.id).entry) }));
        for (const ok of res.Successful ?? []) {
          const t = todo.find((x) => x.id === ok.Id);
          if (t && !sent.some((s) => s.placed === t.p)) sent.push({ placed: t.p, messageId: ok.MessageId ?? '' });
        }
        failed = res.Failed ?? [];
        const done = new Set((res.Successful ?? []).map((s) => s.Id));
        // Retried from the first failed entry on, in seq order (entries SQS already took are
        // repeats of their dedup id, dropped by SQS): a later entry never goes ahead of it alone.
        const firstFailed = todo.findIndex((t) => !done.has(t.id));
        todo = firstFailed < 0 ? [] : todo.slice(firstFailed);
        if (todo.length > 0 && (attempt >= TRIES || failed.some((f) => f.SenderFault))) {
          throw new Error(`SQS refused ${todo.length} message(s): ${failed[0]?.Message ?? 'no reason given'}`);
        }
      } catch (err) {
        if (attempt >= TRIES || failed.some((f) => f.SenderFault)) {
          const unsent = ordered.filter((p) => !sent.some((s) => s.placed === p));
          throw new SqsSendError(`sending to SQS failed: ${(err as Error).message}`, sent, unsent);
        }
      }
      if (todo.length > 0) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
    }
  }
  return sent;
}
