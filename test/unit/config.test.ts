import { ConfigError, describeConfig, loadConfig } from '../../src/config';

const valid = {
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo',
  TARGET_URL: 'http://app:8080/ops',
  PROGRESS_TABLE: 'fifo-relay-progress',
  AWS_REGION: 'eu-west-1',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('reads the environment with documented defaults', () => {
    const c = loadConfig({ ...valid, TARGET_AUTH_HEADER: 'Bearer x', MAX_CONCURRENT_SOURCES: '10' });
    expect(c).toMatchObject({ queueUrl: valid.QUEUE_URL, maxConcurrentSources: 10, visibilityTimeoutSeconds: 30, shutdownGraceSeconds: 25, allowRedrivePolicy: false, targetAuthHeader: 'Bearer x' });
  });

  it('reports every missing required key on a line of its own', () => {
    const p = problems({});
    expect(p).toHaveLength(4);
    for (const name of ['QUEUE_URL', 'TARGET_URL', 'PROGRESS_TABLE', 'AWS_REGION']) expect(p.some((line) => line.includes(name))).toBe(true);
  });

  it('rejects malformed values with the key named', () => {
    const p = problems({ ...valid, TARGET_URL: 'ftp://x', MAX_CONCURRENT_SOURCES: '0', RECEIVE_WAIT_SECONDS: '21', LOG_LEVEL: 'loud' });
    expect(p).toHaveLength(4);
    expect(p.join('\n')).toMatch(/TARGET_URL/);
    expect(p.join('\n')).toMatch(/MAX_CONCURRENT_SOURCES/);
    expect(p.join('\n')).toMatch(/RECEIVE_WAIT_SECONDS/);
    expect(p.join('\n')).toMatch(/LOG_LEVEL/);
  });

  it('refuses timeouts that could run into the 12-hour visibility limit', () => {
    // A grace must cover the app timeout (at most 110 s), so the longest usable app timeout is 110 s.
    const long = { ...valid, APP_TIMEOUT_MS: '110000', SHUTDOWN_GRACE_SECONDS: '110', VISIBILITY_TIMEOUT_SECONDS: '3600' };
    const p = problems({ ...long, RETRY_MAX_SECONDS: '40000' });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/12-hour/);
    expect(problems({ ...long, RETRY_MAX_SECONDS: '38000' })).toEqual([]);
  });

  it('reads booleans and numbers exactly: a typo never switches a safety check off', () => {
    expect(loadConfig({ ...valid, ALLOW_REDRIVE_POLICY: 'TRUE', RECORD_FAILURES: 'false' })).toMatchObject({ allowRedrivePolicy: true, recordFailures: false });
    const p = problems({ ...valid, ALLOW_REDRIVE_POLICY: '0', RECORD_FAILURES: 'no', MAX_CONCURRENT_SOURCES: '64abc', APP_TIMEOUT_MS: '1.5e3' });
    expect(p).toHaveLength(4);
    expect(p.join('\n')).toMatch(/ALLOW_REDRIVE_POLICY: must be true or false/);
    expect(p.join('\n')).toMatch(/MAX_CONCURRENT_SOURCES: must be a whole number/);
  });

  it('refuses a base backoff above the maximum', () => {
    expect(problems({ ...valid, RETRY_BASE_SECONDS: '10', RETRY_MAX_SECONDS: '5' })[0]).toMatch(/RETRY_BASE_SECONDS/);
  });

  it('never puts the auth header value into an error', () => {
    const p = problems({ ...valid, TARGET_AUTH_HEADER: 'Bearer top-secret', MAX_CONCURRENT_SOURCES: 'x' });
    expect(p.join('\n')).not.toContain('top-secret');
  });

  it('refuses an auth header node:http would reject, in one line that never shows the value', () => {
    for (const bad of ['Bearer s3cret\n', 'Bearer s3cret\r\n', 'Bearer s3cr\u20act']) {
      const p = problems({ ...valid, TARGET_AUTH_HEADER: bad });
      expect(p).toHaveLength(1);
      expect(p[0]).toMatch(/^TARGET_AUTH_HEADER is not a valid HTTP header value/);
      expect(p[0]).not.toContain('s3cr');
    }
    expect(problems({ ...valid, TARGET_AUTH_HEADER: 'Bearer abc.def-ghi' })).toEqual([]);
  });

  it('refuses a receive wait of 0, a grace shorter than the app timeout, and a visibility too short for a timed-out renewal plus one more', () => {
    expect(problems({ ...valid, RECEIVE_WAIT_SECONDS: '0' }).join('\n')).toMatch(/RECEIVE_WAIT_SECONDS/);
    expect(problems({ ...valid, SHUTDOWN_GRACE_SECONDS: '5', APP_TIMEOUT_MS: '10000' })).toEqual([expect.stringMatching(/^SHUTDOWN_GRACE_SECONDS \(5 s\) is shorter than APP_TIMEOUT_MS/)]);
    expect(problems({ ...valid, VISIBILITY_TIMEOUT_SECONDS: '10', AWS_REQUEST_TIMEOUT_MS: '5000', APP_TIMEOUT_MS: '1000' })).toEqual([expect.stringMatching(/^VISIBILITY_TIMEOUT_SECONDS \(10\) is too short/)]);
    expect(problems({ ...valid, VISIBILITY_TIMEOUT_SECONDS: '15', AWS_REQUEST_TIMEOUT_MS: '5000' })).toEqual([]);
  });

  it('refuses credentials inside TARGET_URL and never repeats them', () => {
    const p = problems({ ...valid, TARGET_URL: 'https://svc:hunter2@app.example.com/ops' });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^TARGET_URL: must not carry credentials/);
    expect(p.join('\n')).not.toContain('hunter2');
  });

  it('documents every key with its environment variable', () => {
    for (const k of describeConfig()) {
      expect(k.env).toMatch(/^[A-Z_]+$/);
      expect(k.doc.length).toBeGreaterThan(10);
    }
  });
});
