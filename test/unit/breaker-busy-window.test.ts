import { CircuitBreaker, type BreakerPolicy } from '../../src/core/circuit-breaker';

/** The defaults the worker builds its breaker from (src/config.ts), with MAX_CONCURRENT_SOURCES=64. */
const defaults: BreakerPolicy = {
  failureRate: 0.5,
  windowMs: 10_000,
  minCalls: 20,
  minSources: 3,
  probeBaseMs: 1000,
  probeMaxMs: 5000,
  rampStart: 1,
  rampStepMs: 1000,
  fullConcurrency: 64,
  maxPauseMs: 30_000,
  enabled: true,
};

interface Run {
  openedAt: number | undefined;
  /** Failed calls that started while the breaker was closed (each reached the failing app). */
  failedBeforeOpen: number;
  sourcesFailedBeforeOpen: number;
}

/**
 * A millisecond-step model of one task: every source has `messages` to deliver one at a time,
 * each call takes `latencyMs`, a failed call backs its source off (1 s doubling, as
 * RETRY_BASE_SECONDS), a call the breaker holds waits at the gate. The app answers 2xx to calls
 * that start before `failFrom`, 503 after.
 */
function simulate(sources: number, messages: number, latencyMs: number, failFrom: number, until: number): Run {
  const b = new CircuitBreaker(defaults, 0);
  const left = Array.from({ length: sources }, () => messages);
  const attempts = Array.from({ length: sources }, () => 0);
  const readyAt = Array.from({ length: sources }, () => 0);
  const inFlight = new Map<number, { endsAt: number; startedAt: number; probe: boolean; closed: boolean }>();
  let openedAt: number | undefined;
  let failedBeforeOpen = 0;
  const failedSources = new Set<number>();
  for (let now = 0; now <= until; now++) {
    for (const [s, call] of [...inFlight]) {
      if (call.endsAt > now) continue;
      inFlight.delete(s);
      const ok = call.startedAt < failFrom;
      const r = b.record(now, `s${s}`, ok ? 'answered' : 'failed', call.probe);
      if (r.transition?.to === 'open' && openedAt === undefined) openedAt = now;
      if (ok) {
        left[s] = (left[s] ?? 0) - 1;
        attempts[s] = 0;
        continue;
      }
      if (call.closed) {
        failedBeforeOpen++;
        failedSources.add(s);
      }
      if (!r.hold) {
        attempts[s] = (attempts[s] ?? 0) + 1;
        readyAt[s] = now + 1000 * 2 ** Math.min(8, (attempts[s] ?? 1) - 1);
      }
    }
    for (let s = 0; s < sources; s++) {
      if (inFlight.has(s) || (left[s] ?? 0) <= 0 || (readyAt[s] ?? 0) > now) continue;
      const closed = b.current === 'closed';
      const a = b.admit(now, inFlight.size);
      if (a.transition?.to === 'open' && openedAt === undefined) openedAt = now;
      if (!a.go) continue;
      inFlight.set(s, { endsAt: now + latencyMs, startedAt: now, probe: a.probe, closed });
    }
  }
  return { openedAt, failedBeforeOpen, sourcesFailedBeforeOpen: failedSources.size };
}

describe('circuit breaker after a busy period', () => {
  it('50 sources × 40 messages, app at 20 ms then 503 everywhere: opens within about one failing call per source', () => {
    const run = simulate(50, 40, 20, 400, 20_000);
    expect(run.openedAt).toBeDefined();
    // Every source was mid-batch when the app went down: one failing call each at most.
    expect(run.failedBeforeOpen).toBeLessThanOrEqual(50);
    expect(run.sourcesFailedBeforeOpen).toBeLessThanOrEqual(50);
    console.log(`opened ${(run.openedAt ?? 0) - 400} ms after the app went down, ${run.failedBeforeOpen} failing calls reached it from ${run.sourcesFailedBeforeOpen} sources`);
  });

  it('a busy window of successes does not delay detection for a few active sources either', () => {
    const run = simulate(12, 400, 20, 3000, 20_000);
    expect(run.openedAt).toBeDefined();
    expect(run.failedBeforeOpen).toBeLessThanOrEqual(12);
  });

  it('a flaky-but-up app (1 call in 5 failing at random, busy) never opens it', () => {
    const b = new CircuitBreaker(defaults, 0);
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 200_000; i++) b.record(Math.floor(i / 5), `s${i % 50}`, rnd() < 0.2 ? 'failed' : 'answered', false);
    expect(b.current).toBe('closed');
  });
});
