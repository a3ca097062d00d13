import type { AppPort, DeliveryOutcome } from '../adapters/http-app';
import type { LedgerPort } from '../adapters/progress-ledger';
import type { QueueEntry, QueuePort, VisibilityEntry } from '../adapters/sqs-queue';
import { advancePosition, isCoveredByLedger, isSeqRegression, needsLedgerRead, type LedgerPosition } from '../core/ledger-position';
import { planAfterFailure, remainingFrom, type LaneItem } from '../core/lanes';
import type { InvalidMessage, RelayMessage } from '../core/message';
import type { DeleteBatcher } from './delete-batcher';
import type { FlowGate } from './flow-control';
import type { ReleaseReason, WorkerEvents } from './events';
import type { Heartbeat } from './heartbeat';
import type { SourceControl } from '../core/source-state';
import { routeFor } from '../core/source-state';
import type { ParkingPath } from './journal-path';
import type { LedgerCache } from './ledger-cache';

export interface LaneEntry {
  item: LaneItem;
  /** When the ReceiveMessage that brought it was sent: SQS's 12-hour limit counts from there. */
  receivedAt: number;
  /** The consistent read of its sources made after that receive (rule 1); absent without parking. */
  standing?: Promise<Map<string, SourceControl>>;
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
  /** The task's gate before every app call: circuit breaker, 429 pause, rate limit. */
  flow: FlowGate;
  emit<K extends keyof WorkerEvents & string>(event: K, ...args: WorkerEvents[K]): void;
  /** Park, journal and watchdog questions (docs/parking.md); absent when the worker runs without them. */
  parking?: ParkingPath;
}

/** 'again': the same message once more, still held (it waited at the flow gate instead of backing off). */
/** What the failing-head record keeps of the message and the app's answer. */
const headOf = (m: RelayMessage, outcome: DeliveryOutcome): { sentAt: number; lastStatus?: number } => ({
  sentAt: m.sentAt,
  ...(outcome.kind === 'http-error' ? { lastStatus: outcome.status } : {}),
});

type Step = 'next' | 'stop' | 'again';

/** A wait at the flow gate longer than this makes the lane read its source's state again before the call. */
const GATE_WAIT_REREAD_MS = 1000;

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
  /** This lane got its own 2xx for the source's previous message, so its cached position is proof (rule 1). */
  private ownProof = false;
  /** Tries of the current message made without a new receive (held through an outage): they add to X-Attempt. */
  private heldTries = 0;

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
        if (this.isLost(entry)) {
          // SQS no longer hides it: another task may be delivering it now. Let go of everything.
          await this.release(remainingFrom(this.entries, this.index), 'visibility-lost');
          return;
        }
        if (!this.ctx.canStillHold(entry.receivedAt)) {
          // Received so long ago that SQS's 12-hour limit could expire mid-call: hand it back for a fresh receive.
          await this.release(remainingFrom(this.entries, this.index), 'visibility-limit');
          return;
        }
        const step = entry.item.ok ? await this.deliver(entry, entry.item.message) : await this.holdInvalid(entry, entry.item.invalid);
        if (step === 'stop') return;
        if (step === 'again') continue;
        this.index++;
        this.heldTries = 0;
      }
    } catch (err) {
      // A bug must neither strand messages nor spin: the head waits out a backoff like any
      // failure, what follows it is handed back at once.
      this.ctx.emit('internalError', { lane: this.key, error: err as Error });
      await this.backOffAfterBug(err as Error).catch(() => undefined);
    }
  }

  private isLost(e: LaneEntry): boolean {
    const held = entryOf(e);
    return held !== undefined && this.ctx.heartbeat.isLost(held);
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
    if (this.ctx.parking) {
      const routed = await this.route(entry, m, this.ctx.parking, position);
      if (routed.step) return routed.step;
      position = routed.position;
    } else if (needsLedgerRead(m.seq, m.receiveCount, position)) {
      try {
        position = await this.ctx.ledger.read(m.sourceId);
        this.ctx.cache.set(m.sourceId, position);
      } catch (err) {
        return this.ledgerFailed(entry, m, 'read', err as Error);
      }
    }
    if (isSeqRegression(m.seq, position)) return this.holdRegression(entry, m, position);
    if (isCoveredByLedger(m.seq, position)) {
      await this.finish();
      this.ctx.retrying.delete(m.sourceId);
      this.ctx.emit('duplicateSkipped', { message: m });
      return 'next';
    }

    const gateFrom = this.ctx.now();
    const ticket = await this.ctx.flow.admit();
    if (!ticket || this.ctx.isStopping()) {
      // The stop came while the ledger was read or the gate was waited at: no app call starts after it.
      if (ticket) this.ctx.flow.report(m.sourceId, { kind: 'aborted', durationMs: 0, detail: 'stopping' }, ticket);
      await this.release(remainingFrom(this.entries, this.index), 'shutdown');
      return 'stop';
    }
    // The wait at the gate can be long (a rate limit, a 429 pause, an open breaker): SQS may have
    // stopped hiding the message meanwhile, or its 12-hour limit may be too close for one more call.
    const lost = this.isLost(this.current);
    if (lost || !this.ctx.canStillHold(this.current.receivedAt)) {
      this.ctx.flow.report(m.sourceId, { kind: 'aborted', durationMs: 0, detail: 'no longer held' }, ticket);
      await this.release(remainingFrom(this.entries, this.index), lost ? 'visibility-lost' : 'visibility-limit');
      return 'stop';
    }
    if (this.ctx.parking && this.ctx.now() - gateFrom > GATE_WAIT_REREAD_MS && !(await this.stillDeliverable(m, this.ctx.parking))) {
      // Parked, replaying or moved on while this lane waited at the gate: the next receive routes it.
      this.ctx.flow.report(m.sourceId, { kind: 'aborted', durationMs: 0, detail: 'state changed at the gate' }, ticket);
      return this.holdForState(entry, m);
    }
    const attempt = m.receiveCount + this.heldTries;
    const outcome = await this.ctx.app.deliver(m, attempt, this.ctx.deliverySignal);
    const verdict = this.ctx.flow.report(m.sourceId, outcome, ticket);
    if (outcome.kind === 'aborted') {
      this.ctx.emit('deliveryAborted', { message: m, attempt, durationMs: outcome.durationMs });
      await this.release(remainingFrom(this.entries, this.index), 'shutdown');
      return 'stop';
    }
    if (outcome.kind !== 'success' && verdict === 'hold') {
      // The app looks down or asked the task to slow down: keep the head and wait at the gate.
      if (this.ctx.parking) {
        // An outage may outlast the retention watchdog's deadline, and an operator may park the
        // source meanwhile: the next try reads the source's state again instead of trusting the receive's read.
        const watched = await this.watch(entry, m, this.ctx.parking, 0);
        if (watched.step) return watched.step;
        // The current entry, not the one this step began with: it may carry a newer receipt handle.
        this.entries[this.index] = { item: this.current.item, receivedAt: this.current.receivedAt };
        this.ownProof = false;
      }
      this.heldTries++;
      await this.recordFailure(m.sourceId, m.messageId, m.seq.text, attempt, outcome.detail, m.firstReceivedAt, 0, headOf(m, outcome));
      this.ctx.emit('deliveryFailed', { message: m, attempt, outcome, backoffSeconds: 0, released: 0, held: true });
      return 'again';
    }
    if (outcome.kind !== 'success') {
      let backoffSeconds = this.ctx.backoff(attempt, entry.receivedAt, outcome.kind === 'http-error' ? outcome.retryAfterSeconds : undefined);
      if (this.ctx.parking) {
        const watched = await this.watch(entry, m, this.ctx.parking, backoffSeconds);
        if (watched.step) return watched.step;
        backoffSeconds = watched.backoffSeconds;
      }
      await this.recordFailure(m.sourceId, m.messageId, m.seq.text, attempt, outcome.detail, m.firstReceivedAt, backoffSeconds, headOf(m, outcome));
      this.ctx.flow.backedOff(m.sourceId, entryOf(this.current), backoffSeconds, outcome);
      const released = await this.backOff(backoffSeconds);
      this.ctx.emit('deliveryFailed', { message: m, attempt, outcome, backoffSeconds, released, held: false });
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
    this.ownProof = true;
    await this.finish();
    this.ctx.retrying.delete(m.sourceId);
    this.ctx.emit('delivered', { message: m, attempt, status: outcome.status, durationMs: outcome.durationMs, ledger });
    return 'next';
  }

  /**
   * Rule 1 and rule 4: the consistent read made for this receive decides (the lane's own advance
   * stands in for it once it has one); a parked or replaying source's message goes to the journal.
   */
  private async route(entry: LaneEntry, m: RelayMessage, p: ParkingPath, cached: LedgerPosition | undefined): Promise<{ step?: Step; position: LedgerPosition | undefined }> {
    let control: SourceControl;
    try {
      // After this lane's own delivery the receive's read is stale for state (an operator may have
      // parked the source meanwhile): the next message of the batch reads again.
      control = await p.standing(this.ownProof ? undefined : entry.standing, m.sourceId);
    } catch (err) {
      return { step: await this.ledgerFailed(entry, m, 'read', err as Error), position: cached };
    }
    const position = this.ownProof ? cached : control.position;
    // A producer seq that went backwards is kept and held whatever the state: routing it would
    // call it a duplicate and delete it.
    if (isSeqRegression(m.seq, control.position) || isSeqRegression(m.seq, position)) {
      return { step: await this.holdRegression(entry, m, control.position ?? position), position };
    }
    let route = routeFor({ ...control, position }, m.seq);
    let deliverFrom = position;
    if (route === 'journal') {
      const j = await p.journal(m);
      if (j.kind === 'journaled') {
        await this.finish();
        this.ctx.retrying.delete(m.sourceId);
        this.ctx.emit('journaled', { message: m, written: j.written });
        return { step: 'next', position };
      }
      if (j.kind === 'error') {
        const backoffSeconds = this.ctx.backoff(m.receiveCount, entry.receivedAt);
        this.ctx.emit('journalError', { message: m, error: j.error, conflict: j.conflict, backoffSeconds });
        await this.backOff(backoffSeconds);
        return { step: 'stop', position };
      }
      route = j.kind === 'deliver' ? 'deliver' : j.kind;
      if (j.kind === 'deliver') deliverFrom = j.position;
    }
    if (route === 'duplicate') {
      await this.finish();
      this.ctx.retrying.delete(m.sourceId);
      this.ctx.emit('duplicateSkipped', { message: m });
      return { step: 'next', position };
    }
    if (route === 'hold') return { step: await this.holdForState(entry, m), position };
    this.ctx.cache.set(m.sourceId, deliverFrom);
    return { position: deliverFrom };
  }

  /** A fresh consistent read after a long wait: still active and not yet covered? A failed read says no. */
  private async stillDeliverable(m: RelayMessage, p: ParkingPath): Promise<boolean> {
    try {
      return routeFor(await p.standing(undefined, m.sourceId), m.seq) === 'deliver';
    } catch {
      return false;
    }
  }

  private async holdForState(entry: LaneEntry, m: RelayMessage): Promise<Step> {
    const backoffSeconds = this.ctx.backoff(1, entry.receivedAt);
    this.ctx.emit('heldForState', { message: m, backoffSeconds });
    await this.backOff(backoffSeconds);
    return 'stop';
  }

  /** The retention watchdog (rules 3, 6, 7): a failed head's backoff ends by its park deadline, and at the deadline the source is parked. */
  private async watch(entry: LaneEntry, m: RelayMessage, p: ParkingPath, backoffSeconds: number): Promise<{ step?: Step; backoffSeconds: number }> {
    let w;
    try {
      w = await p.watch(m, backoffSeconds);
    } catch (err) {
      this.ctx.emit('journalError', { message: m, error: err as Error, conflict: false, backoffSeconds });
      return { backoffSeconds };
    }
    if (w.kind === 'go') return { backoffSeconds: w.backoffSeconds };
    if (w.kind === 'hold') return { step: await this.holdForState(entry, m), backoffSeconds };
    // Parked (the head is journaled and journalVersion bumped in the same write) or covered: delete the
    // head, and hand the rest back so the next receive reads the new state before doing anything with them.
    await this.finish();
    this.ctx.retrying.delete(m.sourceId);
    if (w.kind === 'parked') this.ctx.emit('autoParked', { message: m, ageSeconds: Math.round((this.ctx.now() - m.sentAt) / 1000), deadlineAt: w.deadlineAt });
    else this.ctx.emit('duplicateSkipped', { message: m });
    await this.release(remainingFrom(this.entries, this.index + 1), 'after-failure');
    return { step: 'stop', backoffSeconds };
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

  /** Kept, blocking its source like an invalid message: only an operator can say what it should be. */
  private async holdRegression(entry: LaneEntry, m: RelayMessage, position: LedgerPosition | undefined): Promise<Step> {
    const detail = `seq went backwards: ${m.seq.text} arrived after ${String(position?.producerSeq)} was delivered`;
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
    const backoffSeconds = this.ctx.backoff(m.receiveCount, entry.receivedAt);
    await this.recordFailure(m.sourceId, m.messageId, m.seq.text, m.receiveCount, detail, m.firstReceivedAt, backoffSeconds, { sentAt: m.sentAt });
    const released = await this.backOff(backoffSeconds);
    this.ctx.emit('invalidMessage', { invalid, backoffSeconds, released });
    return 'stop';
  }

  private async backOffAfterBug(error: Error): Promise<void> {
    const entry = this.entries[this.index];
    if (!entry) return;
    const receiveCount = entry.item.ok ? entry.item.message.receiveCount : entry.item.invalid.receiveCount;
    const backoffSeconds = this.ctx.backoff(receiveCount, entry.receivedAt);
    if (entry.item.ok) {
      const m = entry.item.message;
      await this.recordFailure(m.sourceId, m.messageId, m.seq.text, receiveCount, `internal error: ${error.message}`, m.firstReceivedAt, backoffSeconds, { sentAt: m.sentAt });
    }
    await this.backOff(backoffSeconds);
  }

  private async ledgerFailed(entry: LaneEntry, m: RelayMessage, stage: 'read' | 'advance', error: Error): Promise<Step> {
    const backoffSeconds = this.ctx.backoff(m.receiveCount, entry.receivedAt);
    this.ctx.emit('ledgerError', { message: m, stage, error, backoffSeconds });
    // A ledger outage holds the source up as surely as a failing app: the stuck gauges must see it.
    await this.recordFailure(m.sourceId, m.messageId, m.seq.text, m.receiveCount, `ledger ${stage} failed: ${error.message}`, m.firstReceivedAt, backoffSeconds, { sentAt: m.sentAt });
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
      const lost = this.ctx.heartbeat.isLost(held);
      await this.ctx.heartbeat.forget(held);
      if (lost) continue;
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
