import { ConfigError, loadConfig, withEnvName } from '../../src/config';

const valid = { QUEUE_URL: 'http://localhost:1/000000000000/q.fifo', TARGET_URL: 'http://127.0.0.1:9/', PROGRESS_TABLE: 't', AWS_REGION: 'us-east-1' };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration errors name the variable the user set', () => {
  it('says MAX_CONCURRENT_SOURCES, not the internal key, for a value out of range', () => {
    expect(problems({ ...valid, MAX_CONCURRENT_SOURCES: '0' })).toEqual(['MAX_CONCURRENT_SOURCES: must be a whole number from 1 to 10000']);
  });

  it('names a missing variable once', () => {
    expect(problems({ ...valid, QUEUE_URL: '' })).toEqual(['QUEUE_URL: is required']);
  });

  it('leaves lines that name no schema key as they are', () => {
    expect(withEnvName('APP_TIMEOUT_MS is over 100 × VISIBILITY_TIMEOUT_SECONDS')).toBe('APP_TIMEOUT_MS is over 100 × VISIBILITY_TIMEOUT_SECONDS');
    expect(withEnvName('constructor: odd')).toBe('constructor: odd');
  });
});
