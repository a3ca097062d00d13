import type { BatchFailure, QueueEntry, QueuePort, VisibilityEntry } from '../adapters/sqs-queue';
import { groupBySource } from '../core/lanes';
import { parseMessage, type RawMessage, type RelayMessage } from '../core/message';
import { parkDeadline, routeFor } from '../core/source-state';
import type { ParkingPath, ParkingOptions } from './journal-path';
import type { Emit } from './lane-hold';

/**
 * A head the guard saw young is hidden at most this long: long enough that one receive after
 * another reaches other groups, short enough that the breaker's probe finds a message soon
 * after the app comes back (the ramp also recalls these heads early).
 */
export const GUARD_HIDE_MAX_SECONDS = 60;

export interface RetentionGuardDeps {
  queue: QueuePort;
  parking: ParkingPath;
  opts: ParkingOptions & { queueId: string };
  now(): number;
  emit: Emit;
  /** A head hidden during trouble: the ramp hands it back early (FlowControl.backedOff). */
  hidden(sourceId: string, entry: QueueEntry, seconds: number): void;
  /** Queue a delete (after the message is journaled). */
  deleted(entry: QueueEntry): void;
  /** Whether the breaker still keeps the pollers from receiving (it may have ramped during the long poll). */
  blocked(): boolean;
}

export interface SweepCount {
  received: number;
  journaled: number;
  parked: number;
  hidden: number;
}

/**
 * The retention watchdog for the messages no lane holds. The lanes' watchdog runs only in a lane
 * holding a head that just failed, and while the breaker is open the pollers stop receiving: in
 * an outage longer than the park share of the retention every other source's head would reach
 * SQS retention and be deleted unjournaled. While the breaker keeps the pollers from receiving,
 * the worker sweeps instead: one receive at a time, never an app call; a head past its park
 * deadline is journaled and its source parked (rule 7's write, conditioned as there), a message
 * of a parked or replaying source is journaled (rule 4), and a younger head is hidden until its
 * deadline (at most GUARD_HIDE_MAX_SECONDS) so the sweep reaches other groups and sees it again
 * in time.
 */
export class RetentionGuard {
  private running = false;

  constructor(private readonly deps: RetentionGuardDeps) {}

  /** One sweep; false when another poller is already sweeping (the caller waits instead). */
  async sweep(signal: AbortSignal): Promise<SweepCount | undefined> {
    if (this.running) return undefined;
    this.running = true;
    try {
      const raw = await this.deps.queue.receive(10, signal);
      return await this.handle(raw);
    } finally {
      this.running = false;
    }
  }

  private async handle(raw: RawMessage[]): Promise<SweepCount> {
    const count: SweepCount = { received: raw.length, journaled: 0, parked: 0, hidden: 0 };
    const hide: Array<VisibilityEntry & { sourceId: string }> = [];
    const parsed = raw.map((r) => parseMessage(r, this.deps.opts.queueId));
    const batches = groupBySource(parsed);
    // One consistent BatchGetItem for every source of the receive, as the lanes' rule 1 read.
    const read = this.deps.parking.readForReceive(batches.map((b) => b.key));
    read.catch(() => undefined);
    for (const batch of batches) {
      const messages = batch.items.flatMap((i) => (i.ok ? [i.message] : []));
      if (messages.length !== batch.items.length) {
        // Invalid messages are the lanes' to hold and report: give the group back untouched.
        for (const i of batch.items) {
          const h = i.ok ? i.message.receiptHandle : i.invalid.receiptHandle;
          if (h) hide.push({ messageId: i.ok ? i.message.messageId : i.invalid.messageId, receiptHandle: h, seconds: 0, sourceId: batch.key });
        }
        continue;
      }
      const kept = await this.group(messages, count, read);
      hide.push(...kept);
    }
    if (hide.length > 0) {
      const failures: BatchFailure[] = await this.deps.queue.changeVisibility(hide.map(({ sourceId: _s, ...v }) => v)).catch((error: Error) => {
        this.deps.emit('queueError', { operation: 'change-visibility', error });
        return [];
      });
      if (failures.length > 0) this.deps.emit('batchFailures', { operation: 'change-visibility', failures });
      for (const h of hide) if (h.seconds > 0) this.deps.hidden(h.sourceId, { messageId: h.messageId, receiptHandle: h.receiptHandle }, h.seconds);
    }
    return count;
  }

  /** One source's messages of the receive, in order; returns what to hide (or release) instead of deleting. */
  private async group(messages: RelayMessage[], count: SweepCount, read: ReturnType<ParkingPath['readForReceive']>): Promise<Array<VisibilityEntry & { sourceId: string }>> {
    const { parking, opts } = this.deps;
    const now = this.deps.now();
    const head = messages[0] as RelayMessage;
    const keep = (seconds: number) => messages.map((m) => ({ messageId: m.messageId, receiptHandle: m.receiptHandle, seconds, sourceId: m.sourceId }));
    let standing;
    try {
      standing = await parking.standing(read, head.sourceId);
    } catch {
      return keep(0);
    }
    const route = routeFor(standing.control, head.seq);
    // Closing: the replayer is about to hand the source back to the lanes; look again shortly.
    if (route === 'hold') return keep(5);
    if (route !== 'journal') {
      const deadlineAt = parkDeadline(head.sentAt, opts.retentionSeconds, opts.retentionParkShare);
      if (now < deadlineAt) {
        // Only the head is hidden (and filed for the ramp's recall): while it is in flight SQS
        // hands out nothing else of its group, so the rest can go back at once.
        // A sweep whose long poll outlasted the outage hands everything back: the ramp's recall
        // is over and a hidden head would sit out its time while the app is up.
        if (!this.deps.blocked()) return keep(0);
        count.hidden++;
        const [first, ...rest] = keep(0);
        return [{ ...(first as VisibilityEntry & { sourceId: string }), seconds: Math.max(1, Math.min(GUARD_HIDE_MAX_SECONDS, Math.ceil((deadlineAt - now) / 1000))) }, ...rest];
      }
      const w = await parking.watch(head, 0).catch(() => ({ kind: 'error' as const }));
      if (w.kind !== 'parked') return keep(0);
      count.parked++;
      this.deps.emit('autoParked', { message: head, ageSeconds: Math.round((now - head.sentAt) / 1000), deadlineAt: w.deadlineAt });
      this.deps.deleted({ messageId: head.messageId, receiptHandle: head.receiptHandle });
      messages = messages.slice(1);
    }
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i] as RelayMessage;
      const j = await parking.journal(m);
      if (j.kind !== 'journaled') return keep(0).slice(i);
      count.journaled++;
      this.deps.emit('journaled', { message: m, written: j.written });
      this.deps.deleted({ messageId: m.messageId, receiptHandle: m.receiptHandle });
    }
    return [];
  }
}
