import { TokenBucket } from '../../src/core/rate-limit';

describe('token bucket', () => {
  it('allows a burst, then one call per 1/rate seconds', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(0), b.take(0), b.take(0)].every((t) => t.ok)).toBe(true);
    expect(b.take(0)).toEqual({ ok: false, retryAt: 100 });
    expect(b.take(100)).toEqual({ ok: true });
    expect(b.take(150)).toEqual({ ok: false, retryAt: 200 });
  });

  it('never holds more than the burst, and a clock stepping back mints nothing', () => {
    const b = new TokenBucket(5, 2, 0);
    expect(b.available(60_000)).toBe(2);
    b.take(60_000);
    b.take(60_000);
    expect(b.available(1000)).toBe(0);
  });

  it('over a long run admits rate × seconds plus the burst', () => {
    const b = new TokenBucket(20, 5, 0);
    let admitted = 0;
    for (let t = 0; t <= 10_000; t += 7) if (b.take(t).ok) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(200);
    expect(admitted).toBeLessThanOrEqual(205);
  });

  it('refuses a rate or burst that could never admit a call', () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow('positive rate');
    expect(() => new TokenBucket(1, 0, 0)).toThrow('burst');
  });
});
