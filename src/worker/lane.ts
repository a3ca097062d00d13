import type { AppPort } from '../adapters/http-app';
import { remainingFrom } from '../core/lanes';
import type { RelayMessage } from '../core/message';
import type { FlowGate } from './flow-control';
import { failureOf, type FailureLog } from './lane-failures';
import { fillFromJournal } from './lane-fill';
import { entryOf, idOf, regressionDetail, type BackoffFn, type Emit, type LaneCursor, type LaneEntry, type LaneHold } from './lane-hold';
import type { RouteDecision, Router } from './lane-route';
import type { LaneWatch } from './lane-watch';

export type { LaneEntry } from './lane-hold';
export type { RetryingHead } from './lane-failures';

/** Time and the task's limits, as a lane asks about them. */
export interface LaneClock {
  now(): number;
  isStopping(): boolean;
  backoff: BackoffFn;
  /** False when a message received at receivedAt could not stay hidden through one more app call. */
  canStillHold(receivedAt: number): boolean;
  /** Aborts app calls at shutdown's grace. */
  deliverySignal: AbortSignal;
}

/** What a lane asks of its worker: a few narrow questions, each answered by a part of its own. */
export interface LaneDeps {
  /** SQS visibility and deletes, and the steps that keep a head in SQS with a backoff. */
  hold: LaneHold;
  /** Where a message goes (deliver, journal, hold) and the record of a 2xx. */
  router: Router;
  /** The retention watchdog; absent when the worker runs without parking. */
  watch?: LaneWatch;
  failures: FailureLog;
  app: AppPort;
  /** The task's gate before every app call: circuit breaker, 429 pause, rate limit. */
  flow: FlowGate;
  clock: LaneClock;
  emit: Emit;
}

/** 'again': the same message once more, still held (it waited at the flow gate instead of backing off). */
type Step = 'next' | 'stop' | 'again';

/**
 * One source's held messages, run strictly in order; a failure ends the lane. A lane closes
 * (synchronously) before its last SQS call: whatever SQS hands out for the source after that
 * starts a new lane instead of joining one that is about to let go.
 */
export class Lane implements LaneCursor {
  private at = 0;
  private closed = false;
  /** This lane got its own 2xx for the source's previous message, so its cached position is proof (rule 1). */
  private ownProof = false;
  /** Tries of the current message made without a new receive (held through an outage): they add to X-Attempt. */
  private heldTries = 0;

  constructor(
    readonly key: string,
    private readonly queued: LaneEntry[],
    private readonly deps: LaneDeps,
    private readonly onClose: () => void,
  ) {}

  get entries(): readonly LaneEntry[] {
    return this.queued;
  }

  get index(): number {
    return this.at;
  }

  /**
   * Takes more messages of this source (only when SQS handed the group out again, after a held
   * message's visibility lapsed). A message already waiting here takes the newer receipt handle.
   * Returns false once the lane is closed.
   */
  offer(more: LaneEntry[]): boolean {
    if (this.closed) return false;
    for (const e of more) {
      const at = this.queued.findIndex((x, i) => i >= this.at && idOf(x) === idOf(e));
      if (at >= 0) this.queued[at] = e;
      else this.queued.push(e);
    }
    return true;
  }

  async run(): Promise<void> {
    const { hold, clock } = this.deps;
    try {
      for (;;) {
        if (this.at >= this.queued.length) {
          this.close();
          return;
        }
        if (clock.isStopping()) return await hold.release(this, this.rest(), 'shutdown');
        const entry = this.current;
        // SQS no longer hides it: another task may be delivering it now. Let go of everything.
        if (hold.isLost(entry)) return await hold.release(this, this.rest(), 'visibility-lost');
        // Received so long ago that SQS's 12-hour limit could expire mid-call: hand it back for a fresh receive.
        if (!clock.canStillHold(entry.receivedAt)) return await hold.release(this, this.rest(), 'visibility-limit');
        const step = entry.item.ok ? await this.deliver(entry, entry.item.message) : await hold.invalid(this, entry, entry.item.invalid);
        if (step === 'stop') return;
        if (step === 'again') continue;
        this.at++;
        this.heldTries = 0;
      }
    } catch (err) {
      this.deps.emit('internalError', { lane: this.key, error: err as Error });
      await hold.afterBug(this, err as Error).catch(() => undefined);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
  }

  /** The entry at the current position: it may carry a newer receipt handle than when its step began. */
  private get current(): LaneEntry {
    return this.queued[this.at] as LaneEntry;
  }

  private rest(from = this.at): LaneEntry[] {
    return remainingFrom(this.queued, from);
  }

  private async deliver(entry: LaneEntry, m: RelayMessage): Promise<Step> {
    const { app, flow, clock, hold, emit } = this.deps;
    const tried = m.receiveCount > 1 || this.heldTries > 0;
    let routed = await this.deps.router.route(entry, m, this.ownProof, false, tried);
    while (routed.kind === 'fill') {
      // A contiguous source behind this message: its missing seqs first, from the journal, one at a time.
      const lane = { entries: this.queued, index: this.at, close: () => this.close(), current: this.current, watched: (e: LaneEntry, x: RelayMessage, s: number) => this.watched(e, x, s) };
      if ((await fillFromJournal(this.deps, lane, entry, m, routed)) === 'stop') return 'stop';
      this.ownProof = true;
      routed = await this.deps.router.route(entry, m, this.ownProof, true, tried);
    }
    if (routed.kind !== 'deliver') return this.routedAway(entry, m, routed);

    const ticket = await flow.admit();
    if (!ticket || clock.isStopping()) {
      // The stop came while the ledger was read or the gate was waited at: no app call starts after it.
      if (ticket) flow.report(m.sourceId, { kind: 'aborted', durationMs: 0, detail: 'stopping' }, ticket);
      await hold.release(this, this.rest(), 'shutdown');
      return 'stop';
    }
    // The wait at the gate can be long (a rate limit, a 429 pause, an open breaker): SQS may have
    // stopped hiding the message meanwhile, or its 12-hour limit may be too close for one more call.
    // Checked before anything else is done with it: a message SQS no longer hides is not ours to journal.
    const lost = hold.isLost(this.current);
    if (lost || !clock.canStillHold(this.current.receivedAt)) {
      flow.report(m.sourceId, { kind: 'aborted', durationMs: 0, detail: 'no longer held' }, ticket);
      await hold.release(this, this.rest(), lost ? 'visibility-lost' : 'visibility-limit');
      return 'stop';
    }
    if (!this.deps.router.isFresh(routed.readAt)) {
      // The wait at the gate outlasted the state read: read again, so a park made meanwhile is seen (rule 1).
      const again = await this.deps.router.route(entry, m, this.ownProof, true, tried);
      if (again.kind !== 'deliver' || !this.deps.router.isFresh(again.readAt)) {
        flow.report(m.sourceId, { kind: 'aborted', durationMs: 0, detail: 'state changed at the gate' }, ticket);
        // Still not fresh (a wait came after the read): the head waits briefly and comes back,
        // recorded and watched like any head held in SQS.
        return again.kind === 'deliver' ? this.holdInSqs(entry, m, 'the state read before the app call was stale') : this.routedAway(entry, m, again);
      }
      routed = again;
    }
    const attempt = m.receiveCount + this.heldTries;
    const outcome = await app.deliver(m, attempt, clock.deliverySignal);
    const verdict = flow.report(m.sourceId, outcome, ticket);
    if (outcome.kind === 'aborted') {
      emit('deliveryAborted', { message: m, attempt, durationMs: outcome.durationMs });
      await hold.release(this, this.rest(), 'shutdown');
      return 'stop';
    }
    if (outcome.kind !== 'success') {
      const failure = failureOf(m, attempt, outcome.detail, outcome.kind === 'http-error' ? outcome.status : undefined);
      if (verdict === 'hold') {
        // The app looks down or asked the task to slow down: keep the head and wait at the gate.
        if (this.deps.watch) {
          // An outage may outlast the retention watchdog's deadline, and an operator may park the
          // source meanwhile: the next try reads the source's state again instead of trusting the receive's read.
          const watched = await this.watch(entry, m, 0);
          if (typeof watched !== 'number') return watched;
          // The current entry, not the one this step began with: it may carry a newer receipt handle.
          this.queued[this.at] = { item: this.current.item, receivedAt: this.current.receivedAt };
          this.ownProof = false;
        }
        this.heldTries++;
        await this.deps.failures.record(failure, 0, m);
        emit('deliveryFailed', { message: m, attempt, outcome, backoffSeconds: 0, released: 0, held: true });
        return 'again';
      }
      let backoffSeconds = clock.backoff(attempt, entry.receivedAt, outcome.kind === 'http-error' ? outcome.retryAfterSeconds : undefined);
      if (this.deps.watch) {
        const watched = await this.watch(entry, m, backoffSeconds);
        if (typeof watched !== 'number') return watched;
        backoffSeconds = watched;
      }
      await this.deps.failures.record(failure, backoffSeconds, m);
      flow.backedOff(m.sourceId, entryOf(this.current), backoffSeconds, outcome);
      // Routed to the app, so the source was active: a park meanwhile should reach this head early.
      const released = await hold.backOff(this, backoffSeconds, true);
      emit('deliveryFailed', { message: m, attempt, outcome, backoffSeconds, released, held: false });
      return 'stop';
    }

    let ledger: 'advanced' | 'stale';
    try {
      ledger = await this.deps.router.recordSuccess(m, routed.position, clock.now(), routed.exactNext === true);
    } catch (err) {
      // Not recorded means not done: the message comes back and the app sees the same key again.
      return hold.ledgerFailed(this, entry, m, 'advance', err as Error);
    }
    this.ownProof = true;
    await this.done(m);
    emit('delivered', { message: m, attempt, status: outcome.status, durationMs: outcome.durationMs, ledger });
    return 'next';
  }

  /** A message that goes anywhere but to the app now. */
  private async routedAway(entry: LaneEntry, m: RelayMessage, r: Exclude<RouteDecision, { kind: 'deliver' }>): Promise<Step> {
    const { hold, emit } = this.deps;
    switch (r.kind) {
      case 'duplicate':
        await this.done(m);
        emit('duplicateSkipped', { message: m });
        return 'next';
      case 'journaled':
        await this.done(m);
        emit('journaled', { message: m, written: r.written });
        return 'next';
      case 'hold':
        return this.holdInSqs(entry, m, r.why);
      case 'regression': {
        const backoffSeconds = this.deps.clock.backoff(m.receiveCount, entry.receivedAt);
        const w = this.deps.watch ? await this.deps.watch.aside(m, 'seq-regression', regressionDetail(m, r.position), backoffSeconds) : undefined;
        if (w?.kind === 'hold') return hold.forState(this, entry, m);
        if (w?.kind !== 'aside') return hold.regression(this, entry, m, r.position, w?.backoffSeconds ?? backoffSeconds);
        await this.done(m);
        emit('putAside', { message: m, reason: 'seq-regression', parked: w.parked });
        await hold.release(this, this.rest(this.at + 1), 'after-failure');
        return 'stop';
      }
      case 'fill':
        // Only after the gate's wait (a fill starts from the first read): the message comes back shortly and fills then.
        return hold.forState(this, entry, m);
      case 'gap': {
        const now = this.deps.clock.now();
        if (!r.settling) {
          await this.deps.router.recordGap(m.sourceId, r.missing, now).catch(() => undefined);
          emit('gapHeld', { message: m, missing: r.missing });
        }
        // Kept in SQS like a failing head (rules 3 and 7), looked at again after a backoff that
        // grows with the receives (a settling entry is looked at again soon).
        const watched = await this.watch(entry, m, this.deps.clock.backoff(r.settling ? 1 : m.receiveCount, entry.receivedAt));
        if (typeof watched !== 'number') return watched;
        const why = r.settling ? `waiting for seq ${r.missing} (journaled moments ago) before ${m.seq.text}` : `gap: seq ${r.missing} is in neither the queue nor the journal; ${m.seq.text} waits for it`;
        return hold.forState(this, entry, m, watched, why);
      }
      case 'journal-error':
        // The source is parked or replaying already: its park deadline is no bound, SQS's retention is.
        return hold.journalFailed(this, entry, m, r.error, r.conflict, (s) => this.deps.watch?.capJournal(m, s, this.deps.clock.backoff(1, entry.receivedAt)) ?? s);
      case 'read-failed':
        return hold.ledgerFailed(this, entry, m, 'read', r.error);
    }
  }

  /** Held in SQS a little while (a replay's last drain, a state the bump found, a stale read): recorded, and the watchdog covers it like a failing head (rules 3 and 7). */
  private async holdInSqs(entry: LaneEntry, m: RelayMessage, why: string): Promise<Step> {
    const watched = await this.watch(entry, m, this.deps.clock.backoff(1, entry.receivedAt));
    if (typeof watched !== 'number') return watched;
    return this.deps.hold.forState(this, entry, m, watched, `held in SQS: ${why}`);
  }

  /**
   * The watchdog's answer for a failed head: the backoff to wait (capped at the park deadline), or
   * the step that ends the lane. Parked (the head is journaled and journalVersion bumped in the
   * same write) or covered: delete the head, and hand the rest back so the next receive reads the
   * new state before doing anything with them.
   */
  private async watch(entry: LaneEntry, m: RelayMessage, backoffSeconds: number): Promise<number | Step> {
    const { hold, emit, clock } = this.deps;
    if (!this.deps.watch) return backoffSeconds;
    const w = await this.deps.watch.watch(m, backoffSeconds);
    if (w.kind === 'go') return w.backoffSeconds;
    if (w.kind === 'hold') return hold.forState(this, entry, m, undefined, 'held in SQS: the watchdog could not park the source (its state or position moved)');
    await this.done(m);
    if (w.kind === 'parked') emit('autoParked', { message: m, ageSeconds: Math.round((clock.now() - m.sentAt) / 1000), deadlineAt: w.deadlineAt });
    else emit('duplicateSkipped', { message: m });
    await hold.release(this, this.rest(this.at + 1), 'after-failure');
    return 'stop';
  }

  private async watched(entry: LaneEntry, m: RelayMessage, backoffSeconds: number): Promise<number | 'stop'> {
    const w = await this.watch(entry, m, backoffSeconds);
    return typeof w === 'number' ? w : 'stop';
  }

  /** The head got through: delete it with its newest receipt handle, and it is no longer failing. */
  private async done(m: RelayMessage): Promise<void> {
    await this.deps.hold.finish(this.current);
    this.deps.failures.clear(m.sourceId);
  }
}
