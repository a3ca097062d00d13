import convict from 'convict';
import { validateHeaderValue } from 'node:http';

/** SQS refuses any visibility that reaches past 12 hours after a receive. */
export const SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60;
/** Messages one ReceiveMessage may return; a lane holds at most this many at once. */
export const SQS_MAX_BATCH = 10;

function requiredString(name: string) {
  return (value: unknown): void => {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new Error(`is required (set ${name})`);
    }
  };
}

function requiredUrl(name: string) {
  return (value: unknown): void => {
    requiredString(name)(value);
    let url: URL;
    try {
      url = new URL(value as string);
    } catch {
      throw new Error(`must be an absolute http(s) URL (set ${name})`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`must be an http(s) URL (set ${name})`);
    }
    // The URL is logged at start; credentials belong in TARGET_AUTH_HEADER, which never is.
    if (url.username !== '' || url.password !== '') {
      throw new Error(`must not carry credentials (user:password@); use TARGET_AUTH_HEADER (set ${name})`);
    }
  };
}

/**
 * convict's own int and Boolean formats read "64abc" as 64 and "0" or "no" as true; a setting
 * such as ALLOW_REDRIVE_POLICY must never be switched on by a typo, so these accept exact text only.
 */
function intRange(min: number, max: number): string {
  const name = `int-${min}-${max}`;
  convict.addFormat({
    name,
    coerce: (v: unknown) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    validate: (value: unknown) => {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw new Error(`must be a whole number from ${min} to ${max}`);
      }
    },
  });
  return name;
}

convict.addFormat({
  name: 'strict-boolean',
  coerce: (v: unknown) => (typeof v === 'string' && /^(true|false)$/i.test(v.trim()) ? v.trim().toLowerCase() === 'true' : v),
  validate: (value: unknown) => {
    if (typeof value !== 'boolean') throw new Error('must be true or false');
  },
});

convict.addFormat({
  name: 'park-share',
  coerce: (v: unknown) => (typeof v === 'string' && /^\s*\d*\.?\d+\s*$/.test(v) ? Number(v) : v),
  validate: (value: unknown) => {
    if (typeof value !== 'number' || !(value >= 0.05 && value <= 0.95)) throw new Error('must be a number from 0.05 to 0.95');
  },
});

const schema = {
  queueUrl: {
    doc: 'URL of the SQS FIFO queue to consume (MessageGroupId = sourceId).',
    format: requiredUrl('QUEUE_URL'),
    default: '',
    env: 'QUEUE_URL',
  },
  targetUrl: {
    doc: 'URL the app receives deliveries on (POST, one message per request).',
    format: requiredUrl('TARGET_URL'),
    default: '',
    env: 'TARGET_URL',
    // Keeps a refused URL (which may hold credentials) out of the error message.
    sensitive: true,
  },
  targetAuthHeader: {
    doc: 'Value of the Authorization header sent to the app (for example "Bearer …"); empty sends none. Never logged.',
    format: String,
    default: '',
    env: 'TARGET_AUTH_HEADER',
    sensitive: true,
  },
  progressTable: {
    doc: 'Name of the DynamoDB table that records each source\'s progress.',
    format: requiredString('PROGRESS_TABLE'),
    default: '',
    env: 'PROGRESS_TABLE',
  },
  region: {
    doc: 'AWS region of the queue and the table. Custom endpoints use the SDK\'s own AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB.',
    format: requiredString('AWS_REGION'),
    default: '',
    env: 'AWS_REGION',
  },
  maxConcurrentSources: {
    doc: 'How many sources one task delivers for at the same time (one message in flight per source).',
    format: intRange(1, 10000),
    default: 64,
    env: 'MAX_CONCURRENT_SOURCES',
  },
  receiveConcurrency: {
    doc: 'How many ReceiveMessage long polls may be open at once while there is room for more sources.',
    format: intRange(1, 20),
    default: 4,
    env: 'RECEIVE_CONCURRENCY',
  },
  receiveWaitSeconds: {
    doc: 'Long-poll wait of each ReceiveMessage call, in seconds.',
    // At least 1: with 0 every poller would spin on empty receives as fast as SQS answers.
    format: intRange(1, 20),
    default: 20,
    env: 'RECEIVE_WAIT_SECONDS',
  },
  visibilityTimeoutSeconds: {
    doc: 'Visibility set on receive and renewed by the heartbeat while a message is held; a crashed task\'s messages come back after at most this long.',
    format: intRange(5, 3600),
    default: 30,
    env: 'VISIBILITY_TIMEOUT_SECONDS',
  },
  appTimeoutMs: {
    doc: 'Time allowed for one app call before it is aborted and counted as a failure, in milliseconds.',
    format: intRange(100, 60 * 60 * 1000),
    default: 10000,
    env: 'APP_TIMEOUT_MS',
  },
  retryBaseSeconds: {
    doc: 'Backoff of the first retry, in seconds; doubles with each attempt (with jitter) up to RETRY_MAX_SECONDS.',
    format: intRange(1, 3600),
    default: 1,
    env: 'RETRY_BASE_SECONDS',
  },
  retryMaxSeconds: {
    doc: 'Longest backoff between two attempts of one message, in seconds (a Retry-After from the app may ask for more, within SQS\'s 12-hour limit).',
    format: intRange(1, SQS_MAX_VISIBILITY_SECONDS),
    default: 300,
    env: 'RETRY_MAX_SECONDS',
  },
  shutdownGraceSeconds: {
    doc: 'On SIGTERM/SIGINT, how long in-flight deliveries may run before they are aborted and released; keep it below the ECS stopTimeout.',
    format: intRange(0, 110),
    default: 25,
    env: 'SHUTDOWN_GRACE_SECONDS',
  },
  allowRedrivePolicy: {
    doc: 'Start even if the queue has a redrive policy (SQS would move messages to a DLQ after maxReceiveCount, breaking order and retry-until-success).',
    format: 'strict-boolean',
    default: false,
    env: 'ALLOW_REDRIVE_POLICY',
  },
  recordFailures: {
    doc: 'Record a failing head (attempt, error, since) on its source\'s ledger item so `fifo-relay status` can list stuck sources across tasks; one extra write per failed attempt.',
    format: 'strict-boolean',
    default: true,
    env: 'RECORD_FAILURES',
  },
  stuckAttempts: {
    doc: 'Attempts after which a failing head counts as stuck rather than retrying (status page, `fifo-relay status`, stuck-sources metric); STUCK_AFTER_SECONDS is the other way in.',
    format: intRange(1, 1_000_000),
    default: 5,
    env: 'STUCK_ATTEMPTS',
  },
  stuckAfterSeconds: {
    doc: 'Seconds of failing after which a head counts as stuck, whatever its attempts.',
    format: intRange(0, 14 * 24 * 3600),
    default: 900,
    env: 'STUCK_AFTER_SECONDS',
  },
  statusRefreshSeconds: {
    doc: 'How old the cross-task list of stuck, parked and replaying sources on /status and in the metrics may get before it is read again from the table (one refresh at a time, only while someone looks).',
    format: intRange(1, 3600),
    default: 5,
    env: 'STATUS_REFRESH_SECONDS',
  },
  retentionParkShare: {
    doc: 'Share of the queue\'s MessageRetentionPeriod after which a failing head is journaled and its source parked automatically, before SQS would delete it (0.05 to 0.95).',
    format: 'park-share',
    default: 0.75,
    env: 'RETENTION_PARK_SHARE',
  },
  replayPollMs: {
    doc: 'How often each task looks for unparked (replaying) sources whose journal it should deliver, in milliseconds.',
    format: intRange(100, 600_000),
    default: 2000,
    env: 'REPLAY_POLL_MS',
  },
  ledgerCacheSize: {
    doc: 'How many sources\' ledger positions a task remembers, to skip a DynamoDB read for first-time deliveries.',
    format: intRange(0, 10_000_000),
    default: 100000,
    env: 'LEDGER_CACHE_SIZE',
  },
  deleteFlushMs: {
    doc: 'Upper bound on how long a finished message waits for its DeleteMessageBatch while earlier deletes are in flight, in milliseconds; with none in flight it is deleted at once, so low load never waits for it.',
    format: intRange(0, 1000),
    default: 20,
    env: 'DELETE_FLUSH_MS',
  },
  heldBytesBudget: {
    doc: 'Most message-body bytes one task holds at once (in lanes, waiting for a slot, or in the app); receives ask for fewer messages as it fills. 0 sizes it at a quarter of the task\'s memory (its cgroup limit, else the machine\'s).',
    format: intRange(0, Number.MAX_SAFE_INTEGER),
    default: 0,
    env: 'HELD_BYTES_BUDGET',
  },
  deleteBatchesInFlight: {
    doc: 'DeleteMessageBatch calls of fewer than ten messages a task keeps in flight at once; messages finishing meanwhile wait and go together in the next one.',
    format: intRange(1, 64),
    default: 1,
    env: 'DELETE_BATCHES_IN_FLIGHT',
  },
  ledgerBatchesInFlight: {
    doc: 'Ledger writes a task keeps in flight at once; advances of other sources finishing meanwhile wait and go together, up to 25 conditional statements per BatchExecuteStatement.',
    format: intRange(1, 64),
    default: 2,
    env: 'LEDGER_BATCHES_IN_FLIGHT',
  },
  awsRequestTimeoutMs: {
    doc: 'Timeout of one SQS or DynamoDB request (the long poll gets its wait on top), in milliseconds.',
    format: intRange(500, 120000),
    default: 5000,
    env: 'AWS_REQUEST_TIMEOUT_MS',
  },
  breakerEnabled: {
    doc: 'Circuit breaker over app calls: when failures (network errors, timeouts, 5xx, 429) spread over several sources, stop receiving and starting calls, keep what is held, probe one call at a time, then ramp back.',
    format: 'strict-boolean',
    default: true,
    env: 'BREAKER_ENABLED',
  },
  breakerFailurePercent: {
    doc: 'Share of app calls in the window that must have failed to open the breaker, in percent.',
    format: intRange(1, 100),
    default: 50,
    env: 'BREAKER_FAILURE_PERCENT',
  },
  breakerWindowSeconds: {
    doc: 'Sliding window of app-call outcomes the breaker judges, in seconds.',
    format: intRange(1, 600),
    default: 10,
    env: 'BREAKER_WINDOW_SECONDS',
  },
  breakerMinCalls: {
    doc: 'App calls the window must hold before the breaker may open.',
    format: intRange(1, 100000),
    default: 20,
    env: 'BREAKER_MIN_CALLS',
  },
  breakerMinSources: {
    doc: 'Distinct sources that must have failed in the window before the breaker may open: one source failing on its own never opens it.',
    format: intRange(2, 10000),
    default: 3,
    env: 'BREAKER_MIN_SOURCES',
  },
  breakerProbeBaseMs: {
    doc: 'Wait before the first probe once the breaker opened, in milliseconds; doubles after each failed probe up to BREAKER_PROBE_MAX_SECONDS.',
    format: intRange(100, 60000),
    default: 1000,
    env: 'BREAKER_PROBE_BASE_MS',
  },
  breakerProbeMaxSeconds: {
    doc: 'Longest wait between two probes while the breaker is open, in seconds.',
    format: intRange(1, 3600),
    default: 5,
    env: 'BREAKER_PROBE_MAX_SECONDS',
  },
  breakerRampStepMs: {
    doc: 'After a good probe, app calls in flight start at 1 and double every this many milliseconds until MAX_CONCURRENT_SOURCES.',
    format: intRange(50, 60000),
    default: 1000,
    env: 'BREAKER_RAMP_STEP_MS',
  },
  rateLimitPerSecond: {
    doc: 'Most app calls per second this task makes (token bucket); 0 means no limit. Per task: the app sees up to this times the task count.',
    format: intRange(0, 100000),
    default: 0,
    env: 'RATE_LIMIT_PER_SECOND',
  },
  rateLimitBurst: {
    doc: 'Calls the rate limit lets through at once after a quiet spell; 0 means one second\'s worth (RATE_LIMIT_PER_SECOND).',
    format: intRange(0, 100000),
    default: 0,
    env: 'RATE_LIMIT_BURST',
  },
  throttleMaxPauseSeconds: {
    doc: 'Longest pause of every app call in the task that one 429 can cause (its Retry-After, or 1 s without one), in seconds.',
    format: intRange(1, 3600),
    default: 300,
    env: 'THROTTLE_MAX_PAUSE_SECONDS',
  },
  httpPort: {
    doc: 'Port of the small HTTP server with /metrics, /healthz, /readyz and /status; 0 picks a free one.',
    format: intRange(0, 65535),
    default: 9400,
    env: 'HTTP_PORT',
  },
  emfNamespace: {
    doc: 'When set, a CloudWatch Embedded Metric Format line (deliveries, sources retrying, oldest retrying head age) is logged every minute under this namespace, for alarms without extra API calls; empty turns it off.',
    format: String,
    default: '',
    env: 'EMF_NAMESPACE',
  },
  logLevel: {
    doc: 'pino log level.',
    format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    env: 'LOG_LEVEL',
  },
};

export interface Config {
  queueUrl: string;
  targetUrl: string;
  targetAuthHeader: string;
  progressTable: string;
  region: string;
  maxConcurrentSources: number;
  receiveConcurrency: number;
  receiveWaitSeconds: number;
  visibilityTimeoutSeconds: number;
  appTimeoutMs: number;
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  shutdownGraceSeconds: number;
  allowRedrivePolicy: boolean;
  recordFailures: boolean;
  stuckAttempts: number;
  stuckAfterSeconds: number;
  statusRefreshSeconds: number;
  retentionParkShare: number;
  replayPollMs: number;
  ledgerCacheSize: number;
  deleteFlushMs: number;
  heldBytesBudget: number;
  deleteBatchesInFlight: number;
  ledgerBatchesInFlight: number;
  awsRequestTimeoutMs: number;
  breakerEnabled: boolean;
  breakerFailurePercent: number;
  breakerWindowSeconds: number;
  breakerMinCalls: number;
  breakerMinSources: number;
  breakerProbeBaseMs: number;
  breakerProbeMaxSeconds: number;
  breakerRampStepMs: number;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  throttleMaxPauseSeconds: number;
  httpPort: number;
  emfNamespace: string;
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Every key with its env variable, doc and default: the README table and .env.example come from this. */
export function describeConfig(): Array<{ key: string; env: string; doc: string; default: unknown }> {
  return Object.entries(schema).map(([key, s]) => ({ key, env: s.env, doc: s.doc, default: s.default }));
}

/**
 * The longest a message can stay received-but-unfinished in one task: every message of a batch
 * ahead of it runs first, each within the app timeout, and the heartbeat may have just renewed.
 * A backoff set after that must still end inside SQS's 12 hours from the receive.
 */
export function maxHoldSeconds(c: Pick<Config, 'appTimeoutMs' | 'visibilityTimeoutSeconds'>): number {
  return Math.ceil((SQS_MAX_BATCH * c.appTimeoutMs) / 1000) + c.visibilityTimeoutSeconds;
}

/**
 * A value node:http would refuse in a header makes every request throw: refused at start instead.
 * The message names the variable and the kind of fault, never the value (it may be a secret).
 */
function headerProblem(name: string, value: string): string | undefined {
  if (value === '') return undefined;
  // ECS passes a key/value secret (the Secrets Manager console's default) as its whole JSON text.
  // Checked first: pretty-printed JSON has line breaks too, and would read as a trailing newline.
  if (value.trimStart().startsWith('{')) {
    return `${name} looks like a JSON object (a key/value secret?): store the header value itself, such as "Bearer …", as the secret's plaintext`;
  }
  try {
    validateHeaderValue('x-check', value);
  } catch {
    const why = /[\r\n]/.test(value) ? 'it contains a line break (a secret file\'s trailing newline?)' : 'it contains a character outside visible Latin-1';
    return `TARGET_AUTH_HEADER is not a valid HTTP header value: ${why}`;
  }
  if (value !== value.trim()) return `${name} has leading or trailing whitespace, which HTTP drops: remove it`;
  return undefined;
}

function crossChecks(c: Config): string[] {
  const problems: string[] = [];
  const hold = maxHoldSeconds(c);
  if (hold + c.retryMaxSeconds > SQS_MAX_VISIBILITY_SECONDS) {
    problems.push(
      `APP_TIMEOUT_MS, VISIBILITY_TIMEOUT_SECONDS and RETRY_MAX_SECONDS could cross SQS's 12-hour visibility limit: ` +
        `10 × app timeout + visibility (${hold} s) + max backoff (${c.retryMaxSeconds} s) must stay within ${SQS_MAX_VISIBILITY_SECONDS} s`,
    );
  }
  if (c.appTimeoutMs / 1000 >= c.visibilityTimeoutSeconds * 100) {
    problems.push('APP_TIMEOUT_MS is over 100 × VISIBILITY_TIMEOUT_SECONDS: raise the visibility timeout so the heartbeat is not the only thing keeping long calls hidden');
  }
  if ((c.awsRequestTimeoutMs * 2) / 1000 > (c.visibilityTimeoutSeconds * 2) / 3) {
    problems.push(
      `VISIBILITY_TIMEOUT_SECONDS (${c.visibilityTimeoutSeconds}) is too short for AWS_REQUEST_TIMEOUT_MS (${c.awsRequestTimeoutMs}): the heartbeat renews with two thirds ` +
        'of the visibility left, which must hold a renewal that times out plus one more; raise the visibility to at least 3 × the request timeout',
    );
  }
  if (c.shutdownGraceSeconds * 1000 < c.appTimeoutMs) {
    problems.push(`SHUTDOWN_GRACE_SECONDS (${c.shutdownGraceSeconds} s) is shorter than APP_TIMEOUT_MS (${c.appTimeoutMs} ms): a deploy would abort calls that could still succeed`);
  }
  const header = headerProblem('TARGET_AUTH_HEADER', c.targetAuthHeader);
  if (header) problems.push(header);
  if (c.retryBaseSeconds > c.retryMaxSeconds) {
    problems.push(`RETRY_BASE_SECONDS (${c.retryBaseSeconds}) must not exceed RETRY_MAX_SECONDS (${c.retryMaxSeconds})`);
  }
  if (c.breakerProbeBaseMs > c.breakerProbeMaxSeconds * 1000) {
    problems.push(`BREAKER_PROBE_BASE_MS (${c.breakerProbeBaseMs}) must not exceed BREAKER_PROBE_MAX_SECONDS (${c.breakerProbeMaxSeconds} s)`);
  }
  // No check of BREAKER_MIN_SOURCES against MAX_CONCURRENT_SOURCES: the window counts distinct
  // failing sources over time, and lanes that back off make room for others, so a task with a
  // small source bound can still see enough of them fail (and a default must never refuse it).
  if (c.rateLimitBurst > 0 && c.rateLimitPerSecond === 0) {
    problems.push('RATE_LIMIT_BURST is set but RATE_LIMIT_PER_SECOND is 0 (no limit): set both, or neither');
  }
  return problems;
}

/** convict names the schema key (maxConcurrentSources); the user set the variable (MAX_CONCURRENT_SOURCES). */
export function withEnvName(problem: string): string {
  const m = /^(\w+): (.*)$/s.exec(problem);
  const env = m?.[1] !== undefined && Object.hasOwn(schema, m[1]) ? (schema as Record<string, { env: string }>)[m[1]]?.env : undefined;
  return env !== undefined && m ? `${env}: ${(m[2] ?? '').replace(` (set ${env})`, '')}` : problem;
}

/** Reads and validates the configuration; throws ConfigError with one line per problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const conf = convict(schema, { env, args: [] });
  const problems: string[] = [];
  try {
    conf.validate({ allowed: 'strict' });
  } catch (err) {
    for (const line of String((err as Error).message).split('\n')) {
      if (line.trim() !== '') problems.push(withEnvName(line.trim()));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = conf.getProperties() as Config;
  const more = crossChecks(config);
  if (more.length > 0) throw new ConfigError(more);
  return config;
}
