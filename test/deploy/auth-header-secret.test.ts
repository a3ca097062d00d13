/**
 * The Secrets Manager console stores a new secret as key/value JSON by default. ECS hands the
 * whole JSON text to the container, which would send it as the Authorization header and get 401
 * for ever while the tasks look healthy: the worker refuses it at start instead.
 */
import { ConfigError, loadConfig } from '../../src/config';

const base = { QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo', TARGET_URL: 'https://app.example.com/ops', PROGRESS_TABLE: 't', AWS_REGION: 'eu-west-1' };

function problems(header: string): string[] {
  try {
    loadConfig({ ...base, TARGET_AUTH_HEADER: header });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('TARGET_AUTH_HEADER from a key/value secret', () => {
  it('is refused with one line that says what to store instead, and never echoes the value', () => {
    const secret = '{"Authorization":"Bearer s3cr3t"}';
    const found = problems(secret);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^TARGET_AUTH_HEADER looks like a JSON object \(a key\/value secret\?\).*plaintext/);
    expect(found[0]).not.toContain('s3cr3t');
  });

  it('is named a JSON object even when pretty-printed or padded, not a line break or whitespace fault', () => {
    for (const secret of ['{\n  "Authorization": "Bearer s3cr3t"\n}\n', '{"Authorization":"Bearer s3cr3t"} ', '\n{"Authorization":"Bearer s3cr3t"}']) {
      const found = problems(secret);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/^TARGET_AUTH_HEADER looks like a JSON object \(a key\/value secret\?\)/);
      expect(found[0]).not.toContain('s3cr3t');
    }
  });

  it('still names a trailing newline after a plain header value', () => {
    expect(problems('Bearer s3cr3t\n')).toEqual([expect.stringMatching(/line break \(a secret file's trailing newline\?\)/)]);
  });

  it('accepts a header value, including one that carries braces after the scheme', () => {
    expect(problems('Bearer abc.def')).toEqual([]);
    expect(problems('Custom {"k":"v"}')).toEqual([]);
    expect(problems('')).toEqual([]);
  });
});
