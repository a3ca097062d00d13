import { CircuitBreaker, classify, type BreakerPolicy } from '../../src/core/circuit-breaker';

const policy = (over: Partial<BreakerPolicy> = {}): BreakerPolicy => ({
  failureRate: 0.5,
  windowMs: 10_000,
  minCalls: 4,
  minSources: 3,
  probeBaseMs: 1000,
  probeMaxMs: 8000,
  rampStart: 1,
  rampStepMs: 1000,
  fullConcurrency: 8,
  maxPauseMs: 30_000,
  enabled: true,
  ...over,
});

/** Opens a breaker at time t with failures from four sources. */
function opened(p = policy(), t = 0): CircuitBreaker {
  const b = new CircuitBreaker(p, t);
  for (const s of ['a', 'b', 'c', 'd']) b.record(t, s, 'failed', false);
  expect(b.current).toBe('open');
  return b;
}

describe('outcome classes', () => {
  it('counts network errors, timeouts, 5xx as failures, 429 as throttling, other 4xx and 2xx as the app answering', () => {
    expect(classify({ kind: 'network-error' })).toBe('failed');
    expect(classify({ kind: 'timeout' })).toBe('failed');
    expect(classify({ kind: 'http-error', status: 503 })).toBe('failed');
    expect(classify({ kind: 'http-error', status: 429 })).toBe('throttled');
    expect(classify({ kind: 'http-error', status: 400 })).toBe('answered');
    expect(classify({ kind: 'http-error', status: 409 })).toBe('answered');
    expect(classify({ kind: 'success', status: 200 })).toBe('answered');
    expect(classify({ kind: 'aborted' })).toBe('ignored');
  });
});

describe('circuit breaker', () => {
  it('opens when the failure share crosses the threshold across enough sources, and says to hold', () => {
    const b = new CircuitBreaker(policy(), 0);
    expect(b.record(0, 'a', 'failed', false)).toEqual({ hold: false });
    b.record(1, 'b', 'failed', false);
    b.record(2, 'x', 'answered', false);
    const r = b.record(3, 'c', 'failed', false);
    expect(r.hold).toBe(true);
    expect(r.transition).toMatchObject({ from: 'closed', to: 'open', at: 3, inPreviousMs: 3, reason: '3/4 calls failed across 3 sources' });
    expect(b.admit(4, 0)).toEqual({ go: false, retryAt: 1003 });
  });

  it('never opens for one source failing on its own, however often', () => {
    const b = new CircuitBreaker(policy(), 0);
    for (let t = 0; t < 100; t++) expect(b.record(t, 'poison', 'failed', false).hold).toBe(false);
    expect(b.current).toBe('closed');
  });

  it('never opens for 4xx answers other than 429, from any number of sources', () => {
    const b = new CircuitBreaker(policy(), 0);
    for (let t = 0; t < 50; t++) b.record(t, `s${t}`, classify({ kind: 'http-error', status: 422 }), false);
    expect(b.current).toBe('closed');
  });

  it('needs the minimum number of calls, and forgets failures older than the window', () => {
    const b = new CircuitBreaker(policy({ minCalls: 10 }), 0);
    for (const s of ['a', 'b', 'c', 'd']) b.record(0, s, 'failed', false);
    expect(b.current).toBe('closed');
    for (let i = 0; i < 6; i++) b.record(20_000, `n${i}`, 'failed', false);
    // The first four fell out of the window: six calls, still under ten.
    expect(b.current).toBe('closed');
    expect(b.snapshot(20_000)).toMatchObject({ windowCalls: 6, windowFailures: 6, windowFailingSources: 6 });
  });

  it('stays under the threshold when most calls succeed, failures interleaved with answers', () => {
    const b = new CircuitBreaker(policy(), 0);
    for (let i = 0; i < 10; i++) b.record(i, `ok${i}`, 'answered', false);
    for (const s of ['a', 'b', 'c', 'd', 'e']) {
      b.record(20, s, 'failed', false);
      b.record(20, `ok-${s}`, 'answered', false);
    }
    expect(b.current).toBe('closed');
  });

  it('opens on a run of failures across sources with no answer between, however many successes the window holds', () => {
    const b = new CircuitBreaker(policy({ minCalls: 20 }), 0);
    for (let i = 0; i < 500; i++) b.record(i, `s${i % 5}`, 'answered', false);
    // Five sources active: the run needed is the floor of ten.
    for (let i = 0; i < 9; i++) expect(b.record(600, `s${i % 5}`, 'failed', false).transition).toBeUndefined();
    expect(b.record(600, 's4', 'failed', false)).toMatchObject({ hold: true, transition: { to: 'open', reason: '10 calls in a row failed across 5 sources' } });
  });

  it('a run of failures from one source alone never opens it', () => {
    const b = new CircuitBreaker(policy({ minCalls: 20 }), 0);
    for (let i = 0; i < 100; i++) b.record(i, `s${i % 5}`, 'answered', false);
    for (let i = 0; i < 50; i++) b.record(200 + i, 'poison', 'failed', false);
    expect(b.current).toBe('closed');
  });

  it('when disabled never opens', () => {
    const b = new CircuitBreaker(policy({ enabled: false }), 0);
    for (let i = 0; i < 20; i++) b.record(i, `s${i}`, 'failed', false);
    expect(b.current).toBe('closed');
  });

  it('admits exactly one probe once the delay is over and none is in flight', () => {
    const b = opened();
    expect(b.admit(999, 0).go).toBe(false);
    expect(b.admit(1000, 1)).toEqual({ go: false });
    const a = b.admit(1000, 0);
    expect(a).toMatchObject({ go: true, probe: true, transition: { from: 'open', to: 'probing' } });
    expect(b.admit(1001, 1)).toEqual({ go: false });
    expect(b.admit(1001, 0)).toEqual({ go: false });
  });

  it('doubles the probe delay after each failed probe, up to its cap', () => {
    const b = opened();
    let t = 0;
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const next = (b.snapshot(t).nextProbeAt ?? 0) - t;
      delays.push(next);
      t += next;
      expect(b.admit(t, 0).go).toBe(true);
      expect(b.record(t, 'p', 'failed', true)).toMatchObject({ hold: true, transition: { from: 'probing', to: 'open', reason: 'probe failed' } });
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('an idle task finishes its ramp with time: no call is needed to close the breaker', () => {
    const b = opened();
    b.admit(1000, 0);
    b.record(1000, 'p', 'answered', true);
    expect(b.settle(2500)).toBeUndefined();
    expect(b.current).toBe('ramping');
    expect(b.settle(4000)).toMatchObject({ from: 'ramping', to: 'closed', reason: 'ramp complete' });
    expect(b.current).toBe('closed');
    expect(b.settle(9000)).toBeUndefined();
  });

  it('a late result of a call started before opening does not decide anything', () => {
    const b = opened();
    expect(b.record(10, 'late', 'answered', false)).toEqual({ hold: false });
    expect(b.record(10, 'late2', 'failed', false)).toEqual({ hold: true });
    expect(b.current).toBe('open');
  });

  it('ramps back after a good probe: the cap doubles per step until full, then closes', () => {
    const b = opened();
    b.admit(1000, 0);
    expect(b.record(1000, 'p', 'answered', true).transition).toMatchObject({ from: 'probing', to: 'ramping' });
    expect(b.admit(1000, 0)).toEqual({ go: true, probe: false });
    expect(b.admit(1000, 1)).toEqual({ go: false, retryAt: 2000 });
    expect(b.admit(2000, 1).go).toBe(true);
    expect(b.admit(2000, 2).go).toBe(false);
    expect(b.admit(3000, 3).go).toBe(true);
    expect(b.admit(3000, 4)).toEqual({ go: false, retryAt: 4000 });
    const last = b.admit(4000, 4);
    expect(last).toMatchObject({ go: true, transition: { from: 'ramping', to: 'closed', reason: 'ramp complete' } });
    expect(b.snapshot(5000).timeInStateMs).toEqual({ closed: 1000, open: 1000, probing: 0, ramping: 3000 });
  });

  it('a 4xx answer to the probe is the app answering: the ramp starts', () => {
    const b = opened();
    b.admit(1000, 0);
    b.record(1000, 'p', classify({ kind: 'http-error', status: 400 }), true);
    expect(b.current).toBe('ramping');
  });

  it('an aborted probe lets another probe go at once, without doubling the delay', () => {
    const b = opened();
    b.admit(1000, 0);
    b.record(1100, 'p', 'ignored', true);
    expect(b.current).toBe('open');
    expect(b.admit(1100, 0)).toMatchObject({ go: true, probe: true });
    expect(b.snapshot(1100).probeDelayMs).toBe(1000);
  });

  it('reopens during the ramp when failures spread over sources again and the window holds enough calls', () => {
    const b = opened();
    b.admit(1000, 0);
    b.record(1000, 'p', 'answered', true);
    b.record(1100, 'a', 'failed', false);
    b.record(1200, 'b', 'failed', false);
    b.record(1250, 'c', 'failed', false);
    // Three sources failing, but only three calls since the ramp began: under the minimum of four.
    expect(b.current).toBe('ramping');
    expect(b.record(1300, 'd', 'failed', false)).toMatchObject({ hold: true, transition: { from: 'ramping', to: 'open' } });
  });

  it('a flaky app (1 call in 5 failing) never opens it once the window holds enough calls', () => {
    const b = new CircuitBreaker(policy({ minCalls: 20 }), 0);
    for (let i = 0; i < 1000; i++) b.record(i * 10, `s${i % 30}`, i % 5 === 0 ? 'failed' : 'answered', false);
    expect(b.current).toBe('closed');
  });

  it('a 429 pauses every start until its Retry-After (capped), then ramps from closed', () => {
    const b = new CircuitBreaker(policy({ maxPauseMs: 5000 }), 0);
    const r = b.record(100, 'a', 'throttled', false, 3000);
    expect(r).toMatchObject({ hold: true, transition: { from: 'closed', to: 'ramping' } });
    expect(b.admit(200, 0)).toEqual({ go: false, retryAt: 3100 });
    expect(b.admit(3100, 0).go).toBe(true);
    expect(b.admit(3100, 1).go).toBe(false);
    b.record(3200, 'b', 'throttled', false, 60_000);
    expect(b.admit(3300, 0)).toEqual({ go: false, retryAt: 8200 });
    expect(b.mayReceive(3300, 0)).toBe(true);
  });

  it('a 429 without Retry-After pauses a second', () => {
    const b = new CircuitBreaker(policy(), 0);
    b.record(0, 'a', 'throttled', false);
    expect(b.admit(1, 0)).toEqual({ go: false, retryAt: 1000 });
  });

  it('receives while closed or ramping; while open only to find a probe when none is held', () => {
    const b = opened();
    expect(b.mayReceive(500, 0)).toBe(false);
    expect(b.mayReceive(1000, 3)).toBe(false);
    expect(b.mayReceive(1000, 0)).toBe(true);
    b.admit(1000, 0);
    expect(b.mayReceive(1000, 0)).toBe(false);
  });
});
