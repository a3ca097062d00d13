export const USAGE = `usage: fifo-relay <command> [options]

commands:
  setup    create the FIFO queue and the progress table if missing (development and tests;
           production uses the CDK app in infra/)
             --queue-url URL   queue to create (default: $QUEUE_URL; its last path segment is the name)
             --table NAME      progress table (default: $PROGRESS_TABLE)
  send     send test messages to the queue ($QUEUE_URL)
             --source ID       MessageGroupId (required)
             --count N         how many (default 1)
             --seq-start N     producer seq of the first one (default 1)
             --body TEXT       body (default: a small JSON document)
  status [SOURCE]
           without SOURCE: stuck, retrying, parked and replaying sources across all tasks, worst
           first, with the time left before SQS retention deletes each failing head; with SOURCE:
           its position, state, failing head, journal size and audit trail ($PROGRESS_TABLE)
             --limit N              at most N sources (default 50)
             --json                 print JSON instead of a table
             --stuck-attempts N     stuck once a head failed N attempts (default $STUCK_ATTEMPTS, else 5)
             --stuck-after DURATION stuck once a head failed this long: 900, 15m, 2h, 1d
                                    (default $STUCK_AFTER_SECONDS, else 15m)
  demo     run the whole system locally on emulators and judge the result (needs Java 17+)
             --messages N      messages to send (default 3000)
             --sources N       sources they are spread over (default 40)
             --workers N       worker tasks (default 2)
             --fail-rate R     share of app calls that fail (default 0.1)
             --slow-rate R     share of app calls that are slow (default 0.02)
             --slow-ms MS      how slow (default 1500)
             --poison          one message the app rejects until fixed: the run shows its source
                               stuck, parks it, fixes the app, unparks it, and still checks the verdict
  help     print this text

AWS settings come from the environment: AWS_REGION, credentials, and for custom endpoints
AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB.
`;

/** A wrong command line: print usage and exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${name} must be a whole number of at least 1, got "${value}"`);
  return Number(value);
}

export function rate(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${name} must be a number from 0 to 1, got "${value}"`);
  return n;
}

export function required(name: string, value: string | undefined, envName?: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name}${envName ? ` (or ${envName})` : ''} is required`);
  return value;
}
