import type { AppPort, DeliveryOutcome } from '../../src/adapters/http-app';
import { exactNextRefused, type AdvanceOptions, type AdvanceResult, type FailureRecord, type LedgerPort } from '../../src/adapters/progress-ledger';
import type { BatchFailure, QueueEntry, QueuePort, VisibilityEntry } from '../../src/adapters/sqs-queue';
import { advancePosition, isCoveredByLedger, type LedgerPosition } from '../../src/core/ledger-position';
import type { RawMessage, RelayMessage, Sequence } from '../../src/core/message';

interface Stored {
  id: string;
  group: string | undefined;
  body: string;
  sqsSeq: number;
  attributes: RawMessage['MessageAttributes'];
  receiveCount: number;
  firstReceivedAt: number;
  sentAt: number;
  visibleAt: number;
  handle?: string;
}

export const QUEUE_ID = 'arn:aws:sqs:us-east-1:000000000000:mem.fifo@1700000000';

/**
 * SQS FIFO semantics the worker relies on, in memory: a group is withheld while any of its
 * messages is in flight, and unlike fauxqs one receive may return several messages of a group.
 */
export class MemoryFifoQueue implements QueuePort {
  private messages: Stored[] = [];
  private nextSeq = 1;
  private handles = 0;
  readonly visibilityCalls: VisibilityEntry[][] = [];
  readonly deleted: string[] = [];
  receives = 0;

  constructor(private readonly visibilitySeconds = 30) {}

  send(group: string | undefined, body: string, attributes?: RawMessage['MessageAttributes']): string {
    const id = `msg-${this.nextSeq}`;
    this.messages.push({ id, group, body, sqsSeq: this.nextSeq++, attributes, receiveCount: 0, firstReceivedAt: 0, sentAt: Date.now(), visibleAt: 0 });
    return id;
  }

  get size(): number {
    return this.messages.length;
  }

  async receive(max: number, signal: AbortSignal): Promise<RawMessage[]> {
    this.receives++;
    const out = this.take(max);
    if (out.length > 0) return out;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    return signal.aborted ? [] : this.take(max);
  }

  private take(max: number): RawMessage[] {
    const now = Date.now();
    const blocked = new Set(this.messages.filter((m) => m.visibleAt > now && m.handle).map((m) => m.group));
    const out: RawMessage[] = [];
    for (const m of this.messages) {
      if (out.length >= max) break;
      if (blocked.has(m.group) || m.visibleAt > now) {
        blocked.add(m.group);
        continue;
      }
      m.receiveCount++;
      if (m.firstReceivedAt === 0) m.firstReceivedAt = now;
      m.handle = `h-${++this.handles}`;
      m.visibleAt = now + this.visibilitySeconds * 1000;
      out.push({
        MessageId: m.id,
        ReceiptHandle: m.handle,
        Body: m.body,
        Attributes: {
          ...(m.group === undefined ? {} : { MessageGroupId: m.group }),
          SequenceNumber: String(m.sqsSeq).padStart(20, '0'),
          ApproximateReceiveCount: String(m.receiveCount),
          ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
          SentTimestamp: String(m.sentAt),
        },
        MessageAttributes: m.attributes,
      });
    }
    return out;
  }

  async delete(entries: QueueEntry[]): Promise<BatchFailure[]> {
    const failures: BatchFailure[] = [];
    for (const e of entries) {
      const i = this.messages.findIndex((m) => m.handle === e.receiptHandle);
      if (i < 0) failures.push({ messageId: e.messageId, code: 'ReceiptHandleIsInvalid', message: 'stale handle' });
      else {
        this.deleted.push(e.messageId);
        this.messages.splice(i, 1);
      }
    }
    return failures;
  }

  async changeVisibility(entries: VisibilityEntry[]): Promise<BatchFailure[]> {
    this.visibilityCalls.push(entries);
    for (const e of entries) {
      const m = this.messages.find((x) => x.handle === e.receiptHandle);
      if (m) m.visibleAt = Date.now() + e.seconds * 1000;
    }
    return [];
  }

  /** Makes every message visible now, as if every backoff had run out. */
  expireAll(): void {
    for (const m of this.messages) m.visibleAt = 0;
  }
}

export class MemoryLedger implements LedgerPort {
  readonly positions = new Map<string, LedgerPosition>();
  readonly failures: Array<{ sourceId: string; failure: FailureRecord }> = [];
  /** sourceId → the gap recorded on its ledger item (gapSeq, gapSince); removed by every advance. */
  readonly gaps = new Map<string, { seq: bigint; since: number }>();
  reads = 0;
  writes = 0;
  failNextAdvance = false;

  async read(sourceId: string): Promise<LedgerPosition | undefined> {
    this.reads++;
    return this.positions.get(sourceId);
  }

  async advance(sourceId: string, seq: Sequence, _messageId?: string, _nowMs?: number, opts?: AdvanceOptions): Promise<AdvanceResult> {
    this.writes++;
    if (this.failNextAdvance) {
      this.failNextAdvance = false;
      throw new Error('ProvisionedThroughputExceededException');
    }
    const pos = this.positions.get(sourceId);
    if (isCoveredByLedger(seq, pos)) return { status: 'stale', position: pos };
    if (opts?.exactNext && seq.kind === 'producer' && seq.value !== (pos?.producerSeq ?? 0n) + 1n) throw exactNextRefused(sourceId, seq, pos);
    this.positions.set(sourceId, advancePosition(pos, seq));
    this.gaps.delete(sourceId);
    return { status: 'advanced' };
  }

  async recordGap(sourceId: string, gap: { seq: bigint; nowMs: number }): Promise<void> {
    if ((this.positions.get(sourceId)?.producerSeq ?? 0n) + 1n !== gap.seq) return;
    const had = this.gaps.get(sourceId);
    this.gaps.set(sourceId, { seq: gap.seq, since: had?.seq === gap.seq ? had.since : gap.nowMs });
  }

  async recordFailure(sourceId: string, failure: FailureRecord): Promise<void> {
    this.failures.push({ sourceId, failure });
  }
}

export type Answer = DeliveryOutcome | Promise<DeliveryOutcome>;

/** An app whose answer per call is decided by the test; it records every call. */
export class ScriptedApp implements AppPort {
  readonly calls: Array<{ sourceId: string; seq: string; attempt: number }> = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly answer: (m: RelayMessage, signal: AbortSignal) => Answer = () => ok()) {}

  async deliver(m: RelayMessage, attempt: number, signal: AbortSignal): Promise<DeliveryOutcome> {
    this.calls.push({ sourceId: m.sourceId, seq: m.seq.text, attempt });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.answer(m, signal);
    } finally {
      this.inFlight--;
    }
  }

  seqsOf(sourceId: string): number[] {
    return this.calls.filter((c) => c.sourceId === sourceId).map((c) => Number(c.seq));
  }
}

export const ok = (): DeliveryOutcome => ({ kind: 'success', status: 200, durationMs: 1 });
export const fail = (status = 503, retryAfterSeconds?: number): DeliveryOutcome => ({
  kind: 'http-error',
  status,
  durationMs: 1,
  detail: `HTTP ${status}`,
  ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
});

export function seqAttr(n: number | string): RawMessage['MessageAttributes'] {
  return { seq: { DataType: 'Number', StringValue: String(n) } };
}
