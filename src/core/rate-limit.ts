/**
 * A token bucket over app calls per second, per task. Pure: time comes in as an argument.
 * Tokens refill continuously at `ratePerSecond` up to `burst`; one call takes one token.
 */

export type Take = { ok: true } | { ok: false; retryAt: number };

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new Error('token bucket needs a positive rate and a burst of at least 1');
    this.tokens = burst;
    this.last = now;
  }

  take(now: number): Take {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAt: now + Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000) };
  }

  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  private refill(now: number): void {
    // A clock that steps back must not mint tokens.
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.ratePerSecond);
    this.last = Math.max(this.last, now);
  }
}
