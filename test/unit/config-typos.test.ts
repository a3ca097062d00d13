import { configTypoWarnings, editDistance } from '../../src/config-typos';

// Variables a task, a shell or CI commonly has: none of them is a misspelt fifo-relay setting.
const UNRELATED = [
  'PATH', 'HOME', 'HOSTNAME', 'PWD', 'SHLVL', 'TERM', 'LANG', 'TZ', 'PORT', 'USER', 'CI', 'NODE_ENV', 'NODE_OPTIONS',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_EXECUTION_ENV',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'ECS_CONTAINER_METADATA_URI_V4', 'ECS_AGENT_URI', 'FIFO_RELAY_ACTOR',
  'LOCALSTACK_AUTH_TOKEN', 'CHROMIUM_PATH', 'JAVA_HOME',
];

describe('misspelt configuration variables', () => {
  it('counts a dropped, doubled, changed or swapped letter as one edit', () => {
    expect(editDistance('MAX_CONCURENT_SOURCES', 'MAX_CONCURRENT_SOURCES')).toBe(1);
    expect(editDistance('RETRY_MAX_SECONDSS', 'RETRY_MAX_SECONDS')).toBe(1);
    expect(editDistance('APP_TIMEOUT_MX', 'APP_TIMEOUT_MS')).toBe(1);
    expect(editDistance('LOG_LEVLE', 'LOG_LEVEL')).toBe(1);
    expect(editDistance('ABC', 'ABC')).toBe(0);
    expect(editDistance('', 'ABC')).toBe(3);
  });

  it('names the setting a misspelling resembles, and the default that stays in use', () => {
    expect(configTypoWarnings({ MAX_CONCURENT_SOURCES: '3' })).toEqual([
      'MAX_CONCURENT_SOURCES is not a fifo-relay setting and is ignored: did you mean MAX_CONCURRENT_SOURCES? (MAX_CONCURRENT_SOURCES keeps its default, 64)',
    ]);
    expect(configTypoWarnings({ STUK_ATTEMPTS: '9', breaker_enabled: 'false' })).toEqual([
      'STUK_ATTEMPTS is not a fifo-relay setting and is ignored: did you mean STUCK_ATTEMPTS? (STUCK_ATTEMPTS keeps its default, 5)',
      'breaker_enabled is not a fifo-relay setting and is ignored: did you mean BREAKER_ENABLED? (BREAKER_ENABLED keeps its default, true)',
    ]);
  });

  it('never shows a value it was given (an auth header misspelt stays secret)', () => {
    const [w] = configTypoWarnings({ TARGET_AUTH_HEADR: 'Bearer s3cret' });
    expect(w).toBe('TARGET_AUTH_HEADR is not a fifo-relay setting and is ignored: did you mean TARGET_AUTH_HEADER? (TARGET_AUTH_HEADER stays unset)');
  });

  it('stays quiet about unrelated variables, and about a near-miss whose setting is set too', () => {
    expect(configTypoWarnings(Object.fromEntries(UNRELATED.map((k) => [k, 'x'])))).toEqual([]);
    expect(configTypoWarnings({ HTTPS_PORT: '8443', HTTP_PORT: '9400' })).toEqual([]);
  });
});
