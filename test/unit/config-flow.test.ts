import { ConfigError, loadConfig } from '../../src/config';
import { flowOptions } from '../../src/relay';

const valid = {
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo',
  TARGET_URL: 'http://app:8080/ops',
  PROGRESS_TABLE: 'fifo-relay-progress',
  AWS_REGION: 'eu-west-1',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...valid, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('circuit breaker and rate limit settings', () => {
  it('defaults: breaker on at 50 % over 10 s, 20 calls, 3 sources; probes 1 s to 5 s; no rate limit', () => {
    const f = flowOptions(loadConfig(valid));
    expect(f).toEqual({
      breaker: { enabled: true, failureRate: 0.5, windowMs: 10_000, minCalls: 20, minSources: 3, probeBaseMs: 1000, probeMaxMs: 5000, rampStart: 1, rampStepMs: 1000, fullConcurrency: 64, maxPauseMs: 300_000 },
      ratePerSecond: 0,
      burst: 0,
    });
    expect(flowOptions(loadConfig({ ...valid, RATE_LIMIT_PER_SECOND: '50' })).burst).toBe(50);
  });

  it('refuses each threshold outside its range with one line each', () => {
    const p = problems({ BREAKER_FAILURE_PERCENT: '0', BREAKER_MIN_SOURCES: '1', BREAKER_WINDOW_SECONDS: '0', BREAKER_PROBE_BASE_MS: '10', RATE_LIMIT_PER_SECOND: '-1', BREAKER_ENABLED: 'yes' });
    expect(p).toHaveLength(6);
    for (const key of ['BREAKER_FAILURE_PERCENT', 'BREAKER_MIN_SOURCES', 'BREAKER_WINDOW_SECONDS', 'BREAKER_PROBE_BASE_MS', 'RATE_LIMIT_PER_SECOND', 'BREAKER_ENABLED']) {
      expect(p.some((line) => line.includes(key))).toBe(true);
    }
  });

  it('refuses settings that contradict each other', () => {
    expect(problems({ BREAKER_PROBE_BASE_MS: '9000', BREAKER_PROBE_MAX_SECONDS: '5' })).toEqual([expect.stringContaining('BREAKER_PROBE_BASE_MS (9000) must not exceed')]);
    // A small source bound with the breaker's defaults is a valid setting, never refused.
    expect(problems({ MAX_CONCURRENT_SOURCES: '2' })).toEqual([]);
    expect(problems({ RATE_LIMIT_BURST: '5' })).toEqual([expect.stringContaining('RATE_LIMIT_BURST is set but RATE_LIMIT_PER_SECOND is 0')]);
  });
});
