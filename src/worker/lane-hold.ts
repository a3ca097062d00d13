import type { QueueEntry, QueuePort, VisibilityEntry } from '../adapters/sqs-queue';
import type { LedgerPosition } from '../core/ledger-position';
import { planAfterFailure, type LaneItem } from '../core/lanes';
import type { InvalidMessage, RelayMessage } from '../core/message';
import type { DeleteBatcher } from './delete-batcher';
import type { ReleaseReason, WorkerEvents } from './events';
import type { Heartbeat } from './heartbeat';
import { failureOf, type FailureLog } from './lane-failures';
import type { SetAsidePath } from './set-aside-path';
import type { ReceiveRead } from './standing-reads';

export interface LaneEntry {
  item: LaneItem;
  /** When the ReceiveMessage that brought it was sent: SQS's 12-hour limit counts from there. */
  receivedAt: number;
  /** The consistent read of its sources made after that receive (rule 1); absent without parking. */
  standing?: Promise<ReceiveRead>;
}

export type Emit = <K extends keyof WorkerEvents & string>(event: K, ...args: WorkerEvents[K]) => void;

/** Backoff for a try of a message received at receivedAt, kept inside SQS's 12-hour limit. */
export type BackoffFn = (attempt: number, receivedAt: number, retryAfterSeconds?: number) => number;

/** What a hold step needs of its lane: the messages, where the lane stands, and how to close it. */
export interface LaneCursor {
  readonly entries: readonly LaneEntry[];
  readonly index: number;
  /** Synchronous: whatever SQS hands out for the source after this starts a new lane. */
  close(): void;
}

export type Stop = 'stop';

export const regressionDetail = (m: RelayMessage, position: LedgerPosition | undefined): string =>
  `seq went backwards: ${m.seq.text} arrived after ${String(position?.producerSeq)} was delivered`;

export const idOf = (e: LaneEntry): string => (e.item.ok ? e.item.message.messageId : e.item.invalid.messageId);
const handleOf = (e: LaneEntry): string | undefined => (e.item.ok ? e.item.message.receiptHandle : e.item.invalid.receiptHandle);

export const entryOf = (e: LaneEntry): QueueEntry | undefined => {
  const receiptHandle = handleOf(e);
  return receiptHandle ? { messageId: idOf(e), receiptHandle } : undefined;
};

export interface LaneHoldDeps {
  heartbeat: Heartbeat;
  deleter: DeleteBatcher;
  queue: QueuePort;
  failures: FailureLog;
  backoff: BackoffFn;
  emit: Emit;
  /** A head of sourceId now waits out seconds hidden in SQS (a park meanwhile can hand it back early). */
  onBackedOff?(sourceId: string, entry: QueueEntry, seconds: number): void;
  /** Carries out an operator's set-aside of a seq-regression head; absent without parking. */
  aside?: Pick<SetAsidePath, 'regression'>;
}

/**
 * The SQS side of what a lane holds (visibility, deletes) and the steps that keep a head in SQS
 * with a backoff: a source in a state that does not deliver, an invalid message, a seq
 * regression, a ledger or journal failure, a bug. Each step closes the lane and ends it.
 */
export class LaneHold {
  constructor(private readonly deps: LaneHoldDeps) {}

  isLost(e: LaneEntry): boolean {
    const held = entryOf(e);
    return held !== undefined && this.deps.heartbeat.isLost(held);
  }

  /** Done with a message: stop renewing it and queue its delete with its newest receipt handle. */
  async finish(e: LaneEntry): Promise<void> {
    const held = entryOf(e);
    if (!held) return;
    await this.deps.heartbeat.forget(held);
    this.deps.deleter.add(held);
  }

  /** The head waits out its backoff; everything after it is released at once. Returns how many were released. */
  async backOff(lane: LaneCursor, backoffSeconds: number): Promise<number> {
    lane.close();
    const plan = planAfterFailure(lane.entries, lane.index);
    const head = entryOf(plan.backoff);
    const sourceId = plan.backoff.item.ok ? plan.backoff.item.message.sourceId : plan.backoff.item.invalid.sourceId;
    if (head && sourceId !== undefined && backoffSeconds > 0) this.deps.onBackedOff?.(sourceId, head, backoffSeconds);
    await this.setVisibility([[plan.backoff, backoffSeconds], ...plan.release.map((e): [LaneEntry, number] => [e, 0])]);
    if (plan.release.length > 0) this.deps.emit('released', { count: plan.release.length, reason: 'after-failure' });
    return plan.release.length;
  }

  async release(lane: LaneCursor, entries: LaneEntry[], reason: ReleaseReason): Promise<void> {
    lane.close();
    if (entries.length === 0) return;
    await this.setVisibility(entries.map((e): [LaneEntry, number] => [e, 0]));
    this.deps.emit('released', { count: entries.length, reason });
  }

  /** Kept in SQS a little while: the source is closing its replay, or its state moved under the lane. */
  async forState(lane: LaneCursor, entry: LaneEntry, m: RelayMessage, backoffSeconds = this.deps.backoff(1, entry.receivedAt), why?: string): Promise<Stop> {
    this.deps.emit('heldForState', { message: m, backoffSeconds });
    // A head kept in SQS is not safe from retention: the record carries its deadline for status and the alarm.
    if (why) await this.deps.failures.record(failureOf(m, m.receiveCount, why), backoffSeconds, m);
    await this.backOff(lane, backoffSeconds);
    return 'stop';
  }

  /** An undeliverable message keeps its place: it blocks its source and is retried like a failure. */
  async invalid(lane: LaneCursor, entry: LaneEntry, invalid: InvalidMessage): Promise<Stop> {
    if (!invalid.receiptHandle) {
      // Nothing can be done with it (it was never held); its visibility runs out and SQS hands it out again.
      this.deps.emit('invalidMessage', { invalid, backoffSeconds: 0, released: 0 });
      await this.release(lane, lane.entries.slice(lane.index + 1), 'after-failure');
      return 'stop';
    }
    const backoffSeconds = this.deps.backoff(invalid.receiveCount, entry.receivedAt);
    if (invalid.sourceId) {
      const f = { sourceId: invalid.sourceId, messageId: invalid.messageId, seq: '', attempt: invalid.receiveCount, error: `invalid message: ${invalid.detail}`, since: invalid.firstReceivedAt, sentAt: invalid.sentAt };
      await this.deps.failures.record(f, backoffSeconds, undefined);
    }
    const released = await this.backOff(lane, backoffSeconds);
    this.deps.emit('invalidMessage', { invalid, backoffSeconds, released });
    return 'stop';
  }

  /** Kept, blocking its source like an invalid message: only an operator can say what it should be. */
  async regression(lane: LaneCursor, entry: LaneEntry, m: RelayMessage, position: LedgerPosition | undefined, backoffSeconds = this.deps.backoff(m.receiveCount, entry.receivedAt)): Promise<Stop> {
    const detail = regressionDetail(m, position);
    const invalid: InvalidMessage = {
      messageId: m.messageId,
      receiptHandle: m.receiptHandle,
      sourceId: m.sourceId,
      reason: 'seq-regression',
      detail,
      receiveCount: m.receiveCount,
      firstReceivedAt: m.firstReceivedAt,
      sentAt: m.sentAt,
    };
    if (await this.setAside(lane, entry, m, detail)) return 'stop';
    // Its producer seq is behind the position by definition: the record is conditioned on its SQS place instead.
    const sequence = { ...m.seq, kind: 'sqs' as const, value: m.seq.sqs };
    await this.deps.failures.record({ ...failureOf(m, m.receiveCount, detail), sequence }, backoffSeconds, m);
    const released = await this.backOff(lane, backoffSeconds);
    this.deps.emit('invalidMessage', { invalid, backoffSeconds, released });
    return 'stop';
  }

  /** The operator asked for this head to be set aside: kept in the table first, then deleted; the rest goes back for a fresh receive. */
  private async setAside(lane: LaneCursor, entry: LaneEntry, m: RelayMessage, detail: string): Promise<boolean> {
    if (!this.deps.aside) return false;
    try {
      if (!(await this.deps.aside.regression(m, detail))) return false;
    } catch (err) {
      this.deps.emit('journalError', { message: m, error: err as Error, conflict: false, backoffSeconds: 0 });
      return false;
    }
    await this.finish(entry);
    this.deps.emit('setAside', { message: m, detail });
    await this.release(lane, lane.entries.slice(lane.index + 1), 'after-failure');
    return true;
  }

  async ledgerFailed(lane: LaneCursor, entry: LaneEntry, m: RelayMessage, stage: 'read' | 'advance', error: Error): Promise<Stop> {
    const backoffSeconds = this.deps.backoff(m.receiveCount, entry.receivedAt);
    this.deps.emit('ledgerError', { message: m, stage, error, backoffSeconds });
    // A ledger outage holds the source up as surely as a failing app: the stuck gauges must see it.
    await this.deps.failures.record(failureOf(m, m.receiveCount, `ledger ${stage} failed: ${error.message}`), backoffSeconds, m);
    await this.backOff(lane, backoffSeconds);
    return 'stop';
  }

  /** cap: rule 3, the backoff ends by the head's park deadline. */
  async journalFailed(lane: LaneCursor, entry: LaneEntry, m: RelayMessage, error: Error, conflict: boolean, cap: (seconds: number) => number): Promise<Stop> {
    const backoffSeconds = cap(this.deps.backoff(m.receiveCount, entry.receivedAt));
    this.deps.emit('journalError', { message: m, error, conflict, backoffSeconds });
    await this.deps.failures.record(failureOf(m, m.receiveCount, `journal ${conflict ? 'conflict' : 'write failed'}: ${error.message}`), backoffSeconds, m);
    await this.backOff(lane, backoffSeconds);
    return 'stop';
  }

  /** A bug must neither strand messages nor spin: the head waits out a backoff like any failure, what follows it goes back at once. */
  async afterBug(lane: LaneCursor, error: Error): Promise<void> {
    const entry = lane.entries[lane.index];
    if (!entry) return;
    const receiveCount = entry.item.ok ? entry.item.message.receiveCount : entry.item.invalid.receiveCount;
    const backoffSeconds = this.deps.backoff(receiveCount, entry.receivedAt);
    if (entry.item.ok) {
      const m = entry.item.message;
      await this.deps.failures.record(failureOf(m, receiveCount, `internal error: ${error.message}`), backoffSeconds, m);
    }
    await this.backOff(lane, backoffSeconds);
  }

  private async setVisibility(items: Array<[LaneEntry, number]>): Promise<void> {
    const entries: VisibilityEntry[] = [];
    for (const [e, seconds] of items) {
      const held = entryOf(e);
      if (!held) continue;
      const lost = this.deps.heartbeat.isLost(held);
      await this.deps.heartbeat.forget(held);
      if (lost) continue;
      entries.push({ ...held, seconds });
    }
    if (entries.length === 0) return;
    try {
      const failures = await this.deps.queue.changeVisibility(entries);
      if (failures.length > 0) this.deps.emit('batchFailures', { operation: 'change-visibility', failures });
    } catch (err) {
      // The messages then reappear when their current visibility runs out: later, never lost.
      this.deps.emit('queueError', { operation: 'change-visibility', error: err as Error });
    }
  }
}
