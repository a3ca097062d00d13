import { backoffFor, parseRetryAfter, visibilityCeilingSeconds } from '../../src/core/retry-policy';

const policy = { baseSeconds: 1, maxSeconds: 300 };
const BIG = 43200;

describe('backoffFor', () => {
  it('doubles per attempt, keeping half the step and jittering the other half', () => {
    expect(backoffFor(policy, { attempt: 1, random: 0, ceilingSeconds: BIG }).seconds).toBe(1);
    expect(backoffFor(policy, { attempt: 4, random: 0, ceilingSeconds: BIG }).seconds).toBe(4);
    expect(backoffFor(policy, { attempt: 4, random: 0.999, ceilingSeconds: BIG }).seconds).toBe(8);
    expect(backoffFor(policy, { attempt: 6, random: 0.5, ceilingSeconds: BIG }).seconds).toBe(24);
  });

  it('caps at maxSeconds however many attempts', () => {
    const b = backoffFor(policy, { attempt: 500, random: 0.999, ceilingSeconds: BIG });
    expect(b).toEqual({ seconds: 300, basis: 'exponential' });
    expect(backoffFor(policy, { attempt: 500, random: 0, ceilingSeconds: BIG }).seconds).toBe(150);
  });

  it('never backs off less than a second, so a down app is not hammered', () => {
    expect(backoffFor({ baseSeconds: 1, maxSeconds: 1 }, { attempt: 1, random: 0, ceilingSeconds: BIG }).seconds).toBe(1);
  });

  it('honours Retry-After, even beyond maxSeconds, but never past the SQS ceiling', () => {
    expect(backoffFor(policy, { attempt: 1, random: 0, retryAfterSeconds: 900, ceilingSeconds: BIG })).toEqual({ seconds: 900, basis: 'retry-after' });
    expect(backoffFor(policy, { attempt: 1, random: 0, retryAfterSeconds: 0, ceilingSeconds: BIG })).toEqual({ seconds: 1, basis: 'retry-after' });
    expect(backoffFor(policy, { attempt: 1, random: 0, retryAfterSeconds: 99999, ceilingSeconds: 600 })).toEqual({ seconds: 600, basis: 'ceiling' });
    expect(backoffFor(policy, { attempt: 9, random: 0.9, ceilingSeconds: 10 })).toEqual({ seconds: 10, basis: 'ceiling' });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
  });
});

describe('visibilityCeilingSeconds', () => {
  it('counts down SQS\'s 12 hours from the receive, less a margin', () => {
    expect(visibilityCeilingSeconds(0, 0, 43200, 60)).toBe(43140);
    expect(visibilityCeilingSeconds(0, 43100 * 1000, 43200, 60)).toBe(40);
    expect(visibilityCeilingSeconds(0, 50000 * 1000, 43200, 60)).toBe(0);
  });
});
