/**
 * The task's circuit breaker over app calls: a state machine over a sliding window of outcomes.
 * Pure: time comes in as an argument, nothing is scheduled here; the worker's flow gate asks it
 * before each call and tells it each outcome.
 *
 *   closed ──(window trips)──▶ open ──(probe due, one call admitted)──▶ probing
 *     ▲                          ▲                                         │
 *     │                          └──────(probe failed; delay doubles)──────┤
 *     └──(cap reached full)── ramping ◀──────(probe answered)──────────────┘
 *                                │ (window trips again) ──▶ open
 *
 * A 429 also pauses every start until its Retry-After and, from closed, restarts the ramp: the
 * whole task slows, not only the source that got it.
 */

import { OutcomeWindow } from './outcome-window';

export type BreakerState = 'closed' | 'open' | 'probing' | 'ramping';

/** What an outcome says about the app as a whole. */
export type CallClass =
  /** The app answered (any 2xx, or a 4xx other than 429: the source's own problem). */
  | 'answered'
  /** Network error, timeout, 5xx: the app may be down. */
  | 'failed'
  /** 429: the app asks the task to slow down. */
  | 'throttled'
  /** Says nothing about the app (the worker cut the call short itself). */
  | 'ignored';

export interface BreakerPolicy {
  /** Share of failed calls in the window that opens the breaker, in (0, 1]. */
  failureRate: number;
  windowMs: number;
  /** Calls in the window before the share is trusted. */
  minCalls: number;
  /** Distinct sources that must have failed in the window: one source failing alone never opens it. */
  minSources: number;
  probeBaseMs: number;
  probeMaxMs: number;
  /** Calls in flight allowed once the ramp starts; doubles every rampStepMs. */
  rampStart: number;
  rampStepMs: number;
  /** Calls in flight at which the ramp ends (the task's source bound). */
  fullConcurrency: number;
  /** Longest task-wide pause a 429's Retry-After can ask for. */
  maxPauseMs: number;
  /** False: the window never opens the breaker (429 pauses still apply). */
  enabled: boolean;
}

export interface Transition {
  from: BreakerState;
  to: BreakerState;
  at: number;
  /** How long the breaker was in `from`. */
  inPreviousMs: number;
  reason: string;
}

export type Admission =
  | { go: true; probe: boolean; transition?: Transition }
  /** Ask again at `retryAt` (ms), or when a call in flight ends (`retryAt` absent). */
  | { go: false; retryAt?: number; transition?: Transition };

export interface Recorded {
  /** True when the caller should keep its message and wait at the gate instead of backing off alone. */
  hold: boolean;
  transition?: Transition;
}

export interface BreakerSnapshot {
  state: BreakerState;
  since: number;
  windowCalls: number;
  windowFailures: number;
  windowFailingSources: number;
  nextProbeAt?: number;
  probeDelayMs: number;
  pausedUntil?: number;
  /** Calls in flight the ramp allows now (fullConcurrency when closed, 0 or 1 when open). */
  cap: number;
  /** Milliseconds spent in each state since the breaker was made, the current one included. */
  timeInStateMs: Record<BreakerState, number>;
}

/** Shortest run of consecutive failures the streak rule acts on. */
const STREAK_FLOOR = 10;

/** Classifies an outcome shaped like the app adapter's, without depending on it. */
export function classify(outcome: { kind: string; status?: number }): CallClass {
  switch (outcome.kind) {
    case 'success':
      return 'answered';
    case 'aborted':
      return 'ignored';
    case 'http-error': {
      const status = outcome.status ?? 0;
      if (status === 429) return 'throttled';
      return status >= 500 || status < 400 ? 'failed' : 'answered';
    }
    default:
      return 'failed';
  }
}

export class CircuitBreaker {
  private state: BreakerState = 'closed';
  private since: number;
  private readonly window: OutcomeWindow;
  private probeDelayMs: number;
  private nextProbeAt = 0;
  private rampStartedAt = 0;
  private pausedUntil = 0;
  private readonly spent: Record<BreakerState, number> = { closed: 0, open: 0, probing: 0, ramping: 0 };

  constructor(
    private readonly policy: BreakerPolicy,
    now: number,
  ) {
    this.since = now;
    this.probeDelayMs = policy.probeBaseMs;
    this.window = new OutcomeWindow(policy.windowMs);
  }

  get current(): BreakerState {
    return this.state;
  }

  /** May one more call start now, with `inFlight` calls already running? */
  admit(now: number, inFlight: number): Admission {
    if (now < this.pausedUntil) return { go: false, retryAt: this.pausedUntil };
    switch (this.state) {
      case 'closed':
        return inFlight < this.policy.fullConcurrency ? { go: true, probe: false } : { go: false };
      case 'open':
        if (now < this.nextProbeAt) return { go: false, retryAt: this.nextProbeAt };
        if (inFlight > 0) return { go: false };
        return { go: true, probe: true, transition: this.move('probing', now, `probe after ${this.probeDelayMs} ms`) };
      case 'probing':
        return { go: false };
      case 'ramping': {
        const cap = this.rampCap(now);
        if (cap >= this.policy.fullConcurrency) {
          const transition = this.move('closed', now, 'ramp complete');
          return inFlight < this.policy.fullConcurrency ? { go: true, probe: false, transition } : { go: false, transition };
        }
        if (inFlight < cap) return { go: true, probe: false };
        return { go: false, retryAt: this.nextRampStepAt(now) };
      }
    }
  }

  /** Takes in one call's outcome; `probe` says whether admit() let it in as the probe. */
  record(now: number, source: string, cls: CallClass, probe: boolean, retryAfterMs?: number): Recorded {
    if (cls === 'ignored') {
      // A probe cut short proves nothing: probe again at once.
      if (probe && this.state === 'probing') return { hold: false, transition: this.reopen(now, 'probe aborted', false) };
      return { hold: false };
    }
    let transition: Transition | undefined;
    if (cls === 'throttled') {
      const pause = Math.min(this.policy.maxPauseMs, Math.max(1000, retryAfterMs ?? 1000));
      this.pausedUntil = Math.max(this.pausedUntil, now + pause);
      if (this.state === 'closed') {
        transition = this.move('ramping', now, `429: paused ${pause} ms, then ramp`);
        this.rampStartedAt = this.pausedUntil;
      } else if (this.state === 'ramping') {
        this.rampStartedAt = this.pausedUntil;
      }
    }
    if (this.state === 'probing' && probe) {
      if (cls === 'failed' || cls === 'throttled') return { hold: true, transition: this.reopen(now, 'probe failed', true) };
      this.probeDelayMs = this.policy.probeBaseMs;
      this.rampStartedAt = Math.max(now, this.pausedUntil);
      this.window.clear();
      return { hold: false, transition: this.move('ramping', now, 'probe answered') };
    }
    if (this.state === 'open' || this.state === 'probing') {
      // A call started before the breaker opened: the probe alone decides.
      return { hold: cls !== 'answered' };
    }
    this.window.push({ at: now, source, failed: cls !== 'answered' });
    this.window.prune(now);
    const tripped = cls !== 'answered' ? this.trips() : undefined;
    if (tripped) {
      this.probeDelayMs = this.policy.probeBaseMs;
      transition = this.reopen(now, tripped, false);
    }
    return { hold: cls === 'throttled' || this.isHolding(), ...(transition ? { transition } : {}) };
  }

  /**
   * A ramp completes with time, not only when a call asks to start: without this an idle task
   * that recovered from an outage would say "ramping" (and readiness "degraded") for ever.
   */
  settle(now: number): Transition | undefined {
    if (this.state === 'ramping' && now >= this.pausedUntil && this.rampCap(now) >= this.policy.fullConcurrency) return this.move('closed', now, 'ramp complete');
    return undefined;
  }

  /** Should the task receive more messages now? Not while open, except to find a probe when none is held. */
  mayReceive(now: number, waitingAtGate: number): boolean {
    if (this.state === 'closed' || this.state === 'ramping') return true;
    return this.state === 'open' && now >= this.nextProbeAt && waitingAtGate === 0;
  }

  snapshot(now: number): BreakerSnapshot {
    this.window.prune(now);
    const timeInStateMs = { ...this.spent, [this.state]: this.spent[this.state] + (now - this.since) };
    return {
      state: this.state,
      since: this.since,
      windowCalls: this.window.calls,
      windowFailures: this.window.failures,
      windowFailingSources: this.window.failingSources,
      ...(this.state === 'open' ? { nextProbeAt: this.nextProbeAt } : {}),
      probeDelayMs: this.probeDelayMs,
      ...(this.pausedUntil > now ? { pausedUntil: this.pausedUntil } : {}),
      cap: this.capAt(now),
      timeInStateMs,
    };
  }

  private isHolding(): boolean {
    return this.state === 'open' || this.state === 'probing';
  }

  private capAt(now: number): number {
    if (this.state === 'closed') return this.policy.fullConcurrency;
    if (this.state === 'ramping') return Math.min(this.policy.fullConcurrency, this.rampCap(now));
    return this.state === 'open' ? 0 : 1;
  }

  private rampCap(now: number): number {
    const steps = Math.max(0, Math.floor((now - this.rampStartedAt) / this.policy.rampStepMs));
    return this.policy.rampStart * 2 ** Math.min(steps, 30);
  }

  private nextRampStepAt(now: number): number {
    if (now < this.rampStartedAt) return this.rampStartedAt;
    const steps = Math.floor((now - this.rampStartedAt) / this.policy.rampStepMs);
    return this.rampStartedAt + (steps + 1) * this.policy.rampStepMs;
  }

  /** Why the breaker should open now, if it should. */
  private trips(): string | undefined {
    if (!this.policy.enabled) return undefined;
    const streak = this.streakTrips();
    if (streak) return `${streak.calls} calls in a row failed across ${streak.sources} sources`;
    return this.shareTrips() ? this.describeWindow() : undefined;
  }

  /**
   * An app that starts failing everywhere after a busy spell: the share rule would wait until
   * the failures outnumber the window's successes (several failing calls per source). A run of
   * failures with no answer between them, long enough to cover the sources the window has seen
   * calling (within [STREAK_FLOOR, minCalls]) and spread over minSources, says the same at once.
   * The floor keeps a flaky-but-up app from tripping it by chance: one call in five failing at
   * random strings ten failures together about once in 10^7 calls.
   */
  private streakTrips(): { calls: number; sources: number } | undefined {
    const needed = Math.max(this.policy.minSources, Math.min(this.policy.minCalls, Math.max(STREAK_FLOOR, this.window.activeSources)));
    const sources = new Set<string>();
    for (let n = 0; n < needed; n++) {
      const s = this.window.fromEnd(n);
      if (!s?.failed) return undefined;
      sources.add(s.source);
    }
    return sources.size >= this.policy.minSources ? { calls: needed, sources: sources.size } : undefined;
  }

  private shareTrips(): boolean {
    const w = this.window;
    // The call count is required while ramping too: with few calls a flaky-but-up app (say 20 %
    // failures) would reach the share by chance and make the breaker flap, starving throughput.
    const enoughCalls = w.calls >= this.policy.minCalls;
    return enoughCalls && w.failingSources >= this.policy.minSources && w.failures / w.calls >= this.policy.failureRate;
  }

  private describeWindow(): string {
    const w = this.window;
    return `${w.failures}/${w.calls} calls failed across ${w.failingSources} sources`;
  }

  private reopen(now: number, reason: string, backOff: boolean): Transition {
    if (backOff) this.probeDelayMs = Math.min(this.policy.probeMaxMs, this.probeDelayMs * 2);
    this.nextProbeAt = now + (reason === 'probe aborted' ? 0 : this.probeDelayMs);
    this.window.clear();
    return this.move('open', now, reason);
  }

  private move(to: BreakerState, now: number, reason: string): Transition {
    const from = this.state;
    const inPreviousMs = now - this.since;
    this.spent[from] += inPreviousMs;
    this.state = to;
    this.since = now;
    return { from, to, at: now, inPreviousMs, reason };
  }
}
