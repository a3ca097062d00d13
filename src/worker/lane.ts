import type { AppPort } from '../adapters/http-app';
import type { LedgerPort } from '../adapters/progress-ledger';
import type { QueueEntry, QueuePort, VisibilityEntry } from '../adapters/sqs-queue';
import { advancePosition, isCoveredByLedger, needsLedgerRead } from '../core/ledger-position';
import { planAfterFailure, remainingFrom, type LaneItem } from '../core/lanes';
import type { InvalidMessage, RelayMessage } from '../core/message';
import type { DeleteBatcher } from './delete-batcher';
import type { ReleaseReason, WorkerEvents } from './events';
import type { Heartbeat } from './heartbeat';
import type { LedgerCache } from './ledger-cache';

export interface LaneEntry {
  item: LaneItem;
  /** When the ReceiveMessage that brought it was sent: SQS's 12-hour limit counts from there. */
  receivedAt: number;
}

export interface RetryingHead {
  sourceId: string;
  messageId: string;
  seq: string;
  attempt: number;
  lastError: string;
  /** First receive of the head (shared by all tasks): how long the source has been held up. */
  since: number;
  nextAttemptAt: number;
}

/** What a lane needs from its worker, passed in so the lane stays a plain sequence of steps. */
export interface LaneContext {
  ledger: LedgerPort;
  app: AppPort;
  queue: QueuePort;
  cache: LedgerCache;
  heartbeat: Heartbeat;
  deleter: DeleteBatcher;
  retrying: Map<string, RetryingHead>;
  recordFailures: boolean;
  /** The queue's MessageRetentionPeriod: with a head's SentTimestamp, when SQS will delete it. */
  retentionSeconds?: number;
  now(): number;
  isStopping(): boolean;
  deliverySignal: AbortSignal;
  backoff(attempt: number, receivedAt: number, retryAfterSeconds?: number): number;
  /** False when a message received at receivedAt could not stay hidden through one more app call. */
  canStillHold(receivedAt: number): boolean;
  emit<K extends keyof WorkerEvents & string>(event: K, ...args: WorkerEvents[K]): void;
}

type Step = 'next' | 'stop';

const idOf = (e: LaneEntry): string => (e.item.ok ? e.item.message.messageId : e.item.invalid.messageId);
const handleOf = (e: LaneEntry): string | undefined => (e.item.ok ? e.item.message.receiptHandle : e.item.invalid.receiptHandle);

const entryOf = (e: LaneEntry): QueueEntry | undefined => {
  const receiptHandle = handleOf(e);
  return receiptHandle ? { messageId: idOf(e), receiptHandle } : undefined;
};

/**
 * One source's held messages, run strictly in order; a failure ends the lane. A lane closes
 * (synchronously) before its last SQS call: whatever SQS hands out for the source after that
 * starts a new lane instead of joining one that is about to let go.
 */
export class Lane {
  private index = 0;
  private closed = false;

  constructor(
    readonly key: string,
    private readonly entries: LaneEntry[],
    private readonly ctx: LaneContext,
    private readonly onClose: () => void,
  ) {}

  /**
   * Takes more messages of this source (only when SQS handed the group out again, after a held
   * message's visibility lapsed). A message already waiting here takes the newer receipt handle.
   * Returns false once the lane is closed.
   */
  offer(more: LaneEntry[]): boolean {
    if (this.closed) return false;
    for (const e of more) {
      const at = this.entries.findIndex((x, i) => i >= this.index && idOf(x) === idOf(e));
      if (at >= 0) this.entries[at] = e;
      else this.entries.push(e);
    }
    return true;
  }

  async run(): Promise<void> {
    try {
      for (;;) {
        if (this.index >= this.entries.length) {
          this.close();
          return;
        }
        if (this.ctx.isStopping()) {
          await this.release(remainingFrom(this.entries, this.index), 'shutdown');
          return;
        }
        const entry = this.entries[this.index] as LaneEntry;
        if (!this.ctx.canStillHold(entry.receivedAt)) {
          // Received so long ago that SQS's 12-hour limit could expire mid-call: hand it back for a fresh receive.
          await this.release(remainingFrom(this.entries, this.index), 'visibility-limit');
          return;
        }
        const step = entry.item.ok ? await this.deliver(entry, entry.item.message) : await this.holdInvalid(entry, entry.item.invalid);
        if (step === 'stop') return;
        this.index++;
      }
    } catch (err) {
      // A bug must not strand messages: hand back everything not finished so SQS redelivers it.
      this.ctx.emit('internalError', { lane: this.key, error: err as Error });
      await this.release(remainingFrom(this.entries, this.index), 'after-failure').catch(() => undefined);
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  /** The entry at the current position: it may carry a newer receipt handle than when its step began. */
  private get current(): LaneEntry {
    return this.entries[this.index] as LaneEntry;
  }

  private async deliver(entry: LaneEntry, m: RelayMessage): Promise<Step> {
    let position = this.ctx.cache.get(m.sourceId);
    if (needsLedgerRead(m.seq, m.receiveCount, position)) {
      try {
        position = await this.ctx.ledger.read(m.sourceId);
        this.ctx.cache.set(m.sourceId, position);
      } catch (err) {
        return this.ledgerFailed(entry, m, 'read', err as Error);
      }
    }
    if (isCoveredByLedger(m.seq, position)) {
      await this.finish();
      this.ctx.retrying.delete(m.sourceId);
      this.ctx.emit('duplicateSkipped', { message: m });
      return 'next';
    }

    const attempt = m.receiveCount;
    const outcome = await this.ctx.app.deliver(m, attempt, this.ctx.deliverySignal);
    if (outcome.kind === 'aborted') {
      this.ctx.emit('deliveryAborted', { message: m, attempt, durationMs: outcome.durationMs });
      await this.release(remainingFrom(this.entries, this.index), 'shutdown');
      return 'stop';
    }
    if (outcome.kind !== 'success') {
      const backoffSeconds = this.ctx.backoff(attempt, entry.receivedAt, outcome.kind === 'http-error' ? outcome.retryAfterSeconds : undefined);
      await this.recordFailure(m.sourceId, m.messageId, m.seq.text, attempt, outcome.detail, m.firstReceivedAt, backoffSeconds, {
        sentAt: m.sentAt,
        ...(outcome.kind === 'http-error' ? { lastStatus: outcome.status } : {}),
      });
      const released = await this.backOff(backoffSeconds);
      this.ctx.emit('deliveryFailed', { message: m, attempt, outcome, backoffSeconds, released });
      return 'stop';
    }

    let ledger: 'advanced' | 'stale';
    try {
      const result = await this.ctx.ledger.advance(m.sourceId, m.seq, m.messageId, this.ctx.now());
      ledger = result.status;
      this.ctx.cache.set(m.sourceId, result.status === 'advanced' ? advancePosition(position, m.seq) : result.position);
    } catch (err) {
      // Not recorded means not done: the message comes back and the app sees the same key again.
      return this.ledgerFailed(entry, m, 'advance', err as Error);
    }
    await this.finish();
    this.ctx.retrying.delete(m.sourceId);
    this.ctx.emit('delivered', { message: m, attempt, status: outcome.status, durationMs: outcome.durationMs, ledger });
    return 'next';
  }

  /** An undeliverable message keeps its place: it blocks its source and is retried like a failure. */
  private async holdInvalid(entry: LaneEntry, invalid: InvalidMessage): Promise<Step> {
    if (!invalid.receiptHandle) {
      // Nothing can be done with it (it was never held); its visibility runs out and SQS hands it out again.
      this.ctx.emit('invalidMessage', { invalid, backoffSeconds: 0, released: 0 });
      await this.release(remainingFrom(this.entries, this.index + 1), 'after-failure');
      return 'stop';
    }
    const backoffSeconds = this.ctx.backoff(invalid.receiveCount, entry.receivedAt);
    if (invalid.sourceId) {
      await this.recordFailure(invalid.sourceId, invalid.messageId, '', invalid.receiveCount, `invalid message: ${invalid.detail}`, invalid.firstReceivedAt, backoffSeconds, {
        sentAt: invalid.sentAt,
      });
    }
    const released = await this.backOff(backoffSeconds);
    this.ctx.emit('invalidMessage', { invalid, backoffSeconds, released });
    return 'stop';
  }

  private async ledgerFailed(entry: LaneEntry, m: RelayMessage, stage: 'read' | 'advance', error: Error): Promise<Step> {
    const backoffSeconds = this.ctx.backoff(m.receiveCount, entry.receivedAt);
    this.ctx.emit('ledgerError', { message: m, stage, error, backoffSeconds });
    await this.backOff(backoffSeconds);
    return 'stop';
  }

  private async recordFailure(
    sourceId: string,
    messageId: string,
    seq: string,
    attempt: number,
    error: string,
    since: number,
    backoffSeconds: number,
    head: { sentAt: number; lastStatus?: number },
  ): Promise<void> {
    const now = this.ctx.now();
    const nextAttemptAt = now + backoffSeconds * 1000;
    this.ctx.retrying.set(sourceId, { sourceId, messageId, seq, attempt, lastError: error, since: since || now, nextAttemptAt });
    if (!this.ctx.recordFailures) return;
    // Written while this task still holds the head, so it cannot land after another task's success.
    try {
      const sentAt = head.sentAt > 0 ? head.sentAt : undefined;
      const retention = this.ctx.retentionSeconds;
      await this.ctx.ledger.recordFailure(sourceId, {
        messageId,
        seq,
        attempt,
        error,
        atMs: now,
        nextAttemptAtMs: nextAttemptAt,
        ...(head.lastStatus === undefined ? {} : { lastStatus: head.lastStatus }),
        ...(sentAt === undefined ? {} : { headSentAt: sentAt }),
        ...(sentAt === undefined || retention === undefined ? {} : { retentionDeadlineAt: sentAt + retention * 1000 }),
      });
    } catch (err) {
      const current = this.entries[this.index];
      if (current?.item.ok) this.ctx.emit('ledgerError', { message: current.item.message, stage: 'record-failure', error: err as Error, backoffSeconds });
    }
  }

  /** The head waits out its backoff; everything after it is released at once. Returns how many were released. */
  private async backOff(backoffSeconds: number): Promise<number> {
    this.close();
    const plan = planAfterFailure(this.entries, this.index);
    await this.setVisibility([[plan.backoff, backoffSeconds], ...plan.release.map((e): [LaneEntry, number] => [e, 0])]);
    if (plan.release.length > 0) this.ctx.emit('released', { count: plan.release.length, reason: 'after-failure' });
    return plan.release.length;
  }

  private async release(entries: LaneEntry[], reason: ReleaseReason): Promise<void> {
    this.close();
    if (entries.length === 0) return;
    await this.setVisibility(entries.map((e): [LaneEntry, number] => [e, 0]));
    this.ctx.emit('released', { count: entries.length, reason });
  }

  private async setVisibility(items: Array<[LaneEntry, number]>): Promise<void> {
    const entries: VisibilityEntry[] = [];
    for (const [e, seconds] of items) {
      const held = entryOf(e);
      if (!held) continue;
      await this.ctx.heartbeat.forget(held);
      entries.push({ ...held, seconds });
    }
    if (entries.length === 0) return;
    try {
      const failures = await this.ctx.queue.changeVisibility(entries);
      if (failures.length > 0) this.ctx.emit('batchFailures', { operation: 'change-visibility', failures });
    } catch (err) {
      // The messages then reappear when their current visibility runs out: later, never lost.
      this.ctx.emit('queueError', { operation: 'change-visibility', error: err as Error });
    }
  }

  /** Done with the current message: stop renewing it and queue its delete with its newest receipt handle. */
  private async finish(): Promise<void> {
    const held = entryOf(this.current);
    if (!held) return;
    await this.ctx.heartbeat.forget(held);
    this.ctx.deleter.add(held);
  }
}
