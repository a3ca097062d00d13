/** Backoff between attempts, as whole seconds of SQS visibility. */

export interface RetryPolicy {
  baseSeconds: number;
  maxSeconds: number;
}

export interface BackoffInput {
  /** 1 for the first failed attempt. */
  attempt: number;
  /** Seconds the app asked for with Retry-After, if any. */
  retryAfterSeconds?: number;
  /** A number in [0, 1), injected so tests are exact. */
  random: number;
  /** The most SQS still allows for this receive (its 12-hour limit). */
  ceilingSeconds: number;
}

export interface Backoff {
  seconds: number;
  /** Why the result is what it is, for logs. */
  basis: 'exponential' | 'retry-after' | 'ceiling';
}

/**
 * Capped exponential with "equal jitter": half the step is kept so a down app is never hammered
 * at zero delay, the other half spreads retries of many sources apart.
 */
export function backoffFor(policy: RetryPolicy, input: BackoffInput): Backoff {
  const ceiling = Math.max(1, Math.floor(input.ceilingSeconds));
  if (input.retryAfterSeconds !== undefined && input.retryAfterSeconds >= 0) {
    // At least a second: "Retry-After: 0" must not turn a failing source into a hot loop.
    const asked = Math.max(1, Math.ceil(input.retryAfterSeconds));
    return asked > ceiling ? { seconds: ceiling, basis: 'ceiling' } : { seconds: asked, basis: 'retry-after' };
  }
  const exponent = Math.min(Math.max(input.attempt, 1) - 1, 52);
  const step = Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** exponent);
  const jittered = Math.max(1, Math.round(step / 2 + input.random * (step / 2)));
  return jittered > ceiling ? { seconds: ceiling, basis: 'ceiling' } : { seconds: jittered, basis: 'exponential' };
}

/**
 * Parses a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Returns undefined when absent or unreadable, so the normal backoff applies.
 */
export function parseRetryAfter(header: string | null | undefined, nowMs: number): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  // An HTTP-date always names a day or month; anything else ("-5", "1.5") is not one.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** Seconds of visibility SQS still accepts for a message received at receivedAtMs. */
export function visibilityCeilingSeconds(receivedAtMs: number, nowMs: number, maxVisibilitySeconds: number, marginSeconds: number): number {
  const left = maxVisibilitySeconds - Math.ceil((nowMs - receivedAtMs) / 1000) - marginSeconds;
  return Math.max(0, left);
}
