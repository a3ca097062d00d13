import type { DeliveryOutcome } from '../adapters/http-app';
import type { BatchFailure, QueueEntry, VisibilityEntry } from '../adapters/sqs-queue';
import { CircuitBreaker, classify, type BreakerPolicy, type BreakerSnapshot, type Transition } from '../core/circuit-breaker';
import { TokenBucket } from '../core/rate-limit';

export interface FlowOptions {
  breaker: BreakerPolicy;
  /** App calls per second for the whole task; 0 means no limit. */
  ratePerSecond: number;
  /** Calls the bucket may let through at once after a quiet spell (at least 1). */
  burst: number;
}

export interface FlowDeps {
  now(): number;
  changeVisibility(entries: VisibilityEntry[]): Promise<BatchFailure[]>;
  /** True while this task holds a message of the source: its old receipt handle must not be touched. */
  holdsSource(sourceId: string): boolean;
  onTransition(t: Transition): void;
  onRecalled(count: number, failures: BatchFailure[]): void;
  onError(error: Error): void;
}

/** Handed out by admit(), handed back with the outcome. */
export interface Ticket {
  probe: boolean;
}

/** What a lane asks before and tells after each app call. */
export interface FlowGate {
  /** Resolves when this call may start; undefined when the worker is stopping (release, do not call). */
  admit(): Promise<Ticket | undefined>;
  /** 'hold': keep the message and come back to admit(); 'backoff': the source waits out its own backoff. */
  report(sourceId: string, outcome: DeliveryOutcome, ticket: Ticket): 'hold' | 'backoff';
  /** A head that failed like the app was down now waits out a backoff; the ramp may bring it back early. */
  backedOff(sourceId: string, entry: QueueEntry | undefined, seconds: number, outcome: DeliveryOutcome): void;
}

export interface FlowStatus extends BreakerSnapshot {
  waitingAtGate: number;
  callsInFlight: number;
  ratePerSecond: number;
  /** Heads backed off during trouble that the next ramp would hand back early. */
  recallable: number;
}

/** A recalled head must stay hidden at least this long more, or another task may already hold it. */
const RECALL_MARGIN_MS = 2000;
const ALWAYS_OPEN: FlowOptions = {
  breaker: { failureRate: 1, windowMs: 1000, minCalls: 1, minSources: 2, probeBaseMs: 1000, probeMaxMs: 1000, rampStart: 1, rampStepMs: 1000, fullConcurrency: 1, maxPauseMs: 1000, enabled: false },
  ratePerSecond: 0,
  burst: 1,
};

/**
 * The gate every app call passes: the circuit breaker, the 429 pause and the rate limit, with
 * the waiting lanes queued in arrival order and woken by one timer. Held heads wait here with
 * their visibility kept alive by the heartbeat instead of going back to SQS.
 */
export class FlowControl implements FlowGate {
  private readonly breaker: CircuitBreaker;
  private readonly bucket: TokenBucket | undefined;
  private readonly waiters: Array<(t: Ticket | undefined) => void> = [];
  private readonly backedOffHeads = new Map<string, QueueEntry & { visibleAt: number }>();
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly opts: FlowOptions,
    private readonly deps: FlowDeps,
  ) {
    this.breaker = new CircuitBreaker(opts.breaker, deps.now());
    this.bucket = opts.ratePerSecond > 0 ? new TokenBucket(opts.ratePerSecond, Math.max(1, opts.burst), deps.now()) : undefined;
  }

  /** No breaker, no limit: for workers built without flow settings. */
  static passThrough(fullConcurrency: number, deps: FlowDeps): FlowControl {
    return new FlowControl({ ...ALWAYS_OPEN, breaker: { ...ALWAYS_OPEN.breaker, fullConcurrency } }, deps);
  }

  admit(): Promise<Ticket | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.pump();
    });
  }

  report(sourceId: string, outcome: DeliveryOutcome, ticket: Ticket): 'hold' | 'backoff' {
    this.inFlight = Math.max(0, this.inFlight - 1);
    const now = this.deps.now();
    const retryAfterMs = outcome.kind === 'http-error' && outcome.retryAfterSeconds !== undefined ? outcome.retryAfterSeconds * 1000 : undefined;
    const r = this.breaker.record(now, sourceId, classify(outcome), ticket.probe, retryAfterMs);
    if (r.transition) this.transitioned(r.transition);
    this.pump();
    return r.hold && !this.stopped ? 'hold' : 'backoff';
  }

  backedOff(sourceId: string, entry: QueueEntry | undefined, seconds: number, outcome: DeliveryOutcome): void {
    const cls = classify(outcome);
    if (!entry || (cls !== 'failed' && cls !== 'throttled')) return;
    const now = this.deps.now();
    for (const [key, h] of this.backedOffHeads) if (h.visibleAt <= now) this.backedOffHeads.delete(key);
    this.backedOffHeads.set(sourceId, { ...entry, visibleAt: now + seconds * 1000 });
  }

  /** The poll loop asks before each receive. */
  mayReceive(): boolean {
    this.settle();
    return !this.stopped && this.breaker.mayReceive(this.deps.now(), this.waiters.length);
  }

  status(): FlowStatus {
    this.settle();
    const now = this.deps.now();
    return {
      ...this.breaker.snapshot(now),
      waitingAtGate: this.waiters.length,
      callsInFlight: this.inFlight,
      ratePerSecond: this.opts.ratePerSecond,
      recallable: [...this.backedOffHeads.values()].filter((h) => h.visibleAt - now > RECALL_MARGIN_MS).length,
    };
  }

  /** Lets every waiting lane go (with undefined: they release their messages) and admits no more. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const resolve of this.waiters.splice(0)) resolve(undefined);
  }

  private pump(): void {
    if (this.stopped) return;
    while (this.waiters.length > 0) {
      const now = this.deps.now();
      // The bucket is asked first and taken from last: a probe must never be admitted and then refused a token.
      if (this.bucket && this.bucket.available(now) < 1) {
        const t = this.bucket.take(now);
        if (!t.ok) this.wakeAt(t.retryAt);
        return;
      }
      const a = this.breaker.admit(now, this.inFlight);
      if (a.transition) this.transitioned(a.transition);
      if (!a.go) {
        if (a.retryAt !== undefined) this.wakeAt(a.retryAt);
        return;
      }
      this.bucket?.take(now);
      this.inFlight++;
      (this.waiters.shift() as (t: Ticket | undefined) => void)({ probe: a.probe });
    }
  }

  private wakeAt(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(1, at - this.deps.now()));
    this.timer.unref();
  }

  private settle(): void {
    const t = this.breaker.settle(this.deps.now());
    if (t) this.transitioned(t);
  }

  private transitioned(t: Transition): void {
    this.deps.onTransition(t);
    if (t.from === 'probing' && t.to === 'ramping') void this.recall();
  }

  /**
   * The app answered again: heads that only wait out a backoff the outage caused come back now,
   * through the ramp, instead of sitting out the rest of it. Only heads still hidden for a while
   * more: before then no other task can have received them, so this task's handle is the live one.
   */
  private async recall(): Promise<void> {
    const now = this.deps.now();
    const entries: VisibilityEntry[] = [];
    for (const [sourceId, h] of this.backedOffHeads) {
      this.backedOffHeads.delete(sourceId);
      if (h.visibleAt - now > RECALL_MARGIN_MS && !this.deps.holdsSource(sourceId)) entries.push({ messageId: h.messageId, receiptHandle: h.receiptHandle, seconds: 0 });
    }
    if (entries.length === 0) return;
    try {
      const failures = await this.deps.changeVisibility(entries);
      this.deps.onRecalled(entries.length - failures.length, failures);
    } catch (err) {
      this.deps.onError(err as Error);
    }
  }
}
