import { capBackoffAtDeadline, capBackoffAtRetention, RETENTION_MARGIN_SECONDS } from '../../src/core/source-state';

describe('backoff caps', () => {
  it('the park-deadline cap never gives 0 s for a positive backoff, even past the deadline', () => {
    expect(capBackoffAtDeadline(60, 10_000, 40_000)).toBe(30);
    expect(capBackoffAtDeadline(60, 50_000, 40_000)).toBe(1);
    expect(capBackoffAtDeadline(0, 50_000, 40_000)).toBe(0);
  });

  it('the retention cap ends a margin before retention, with a floor once that point is past', () => {
    const retention = 1000;
    // Sent at 0: the cap is retention minus the margin from now.
    expect(capBackoffAtRetention(5000, 100_000, 0, retention, 7)).toBe(retention - RETENTION_MARGIN_SECONDS - 100);
    expect(capBackoffAtRetention(30, 100_000, 0, retention, 7)).toBe(30);
    // Past retention minus the margin: the floor, never 0, and at most half of what is left (10 s here).
    expect(capBackoffAtRetention(30, 990_000, 0, retention, 7)).toBe(5);
    expect(capBackoffAtRetention(3, 990_000, 0, retention, 7)).toBe(3);
    // A floor longer than what is left of retention is cut to half of it: the try lands before SQS deletes the head.
    expect(capBackoffAtRetention(60, 970_000, 0, retention, 60)).toBe(15);
    expect(capBackoffAtRetention(60, 999_500, 0, retention, 60)).toBe(1);
  });
});
