import { drainWaitOver, type DrainWait } from '../../chaos/drain-wait';

const base: DrainWait = { now: 0, deadlineAt: 100_000, lastProgressAt: 0, stallMs: 20_000, hardCapAt: 160_000 };

describe('drainWaitOver', () => {
  it('never gives up before the run deadline, even with no progress', () => {
    expect(drainWaitOver({ ...base, now: 99_999, lastProgressAt: 0 })).toBe(false);
  });

  it('goes on past the deadline while the app saw a call within the stall window', () => {
    expect(drainWaitOver({ ...base, now: 110_000, lastProgressAt: 95_000 })).toBe(false);
  });

  it('gives up past the deadline once nothing moved for the stall window: a stuck message still fails', () => {
    expect(drainWaitOver({ ...base, now: 120_000, lastProgressAt: 100_000 })).toBe(true);
    expect(drainWaitOver({ ...base, now: 130_000, lastProgressAt: 95_000 })).toBe(true);
  });

  it('gives up at the hard cap however recent the last call', () => {
    expect(drainWaitOver({ ...base, now: 160_000, lastProgressAt: 159_999 })).toBe(true);
  });
});
