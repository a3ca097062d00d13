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
    const p = problems({ ...valid, APP_TIMEOUT_MS: String(60 * 60 * 1000), VISIBILITY_TIMEOUT_SECONDS: '3600', RETRY_MAX_SECONDS: String(3 * 3600) });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/12-hour/);
    expect(problems({ ...valid, APP_TIMEOUT_MS: String(60 * 60 * 1000), VISIBILITY_TIMEOUT_SECONDS: '3600', RETRY_MAX_SECONDS: '3600' })).toEqual([]);
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

  it('refuses credentials inside TARGET_URL and never repeats them', () => {
    const p = problems({ ...valid, TARGET_URL: 'https://svc:hunter2@app.example.com/ops' });
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/targetUrl: must not carry credentials/);
    expect(p.join('\n')).not.toContain('hunter2');
  });

  it('documents every key with its environment variable', () => {
    for (const k of describeConfig()) {
      expect(k.env).toMatch(/^[A-Z_]+$/);
      expect(k.doc.length).toBeGreaterThan(10);
    }
  });
});
