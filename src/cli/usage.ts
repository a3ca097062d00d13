/** Default quiet period before a skip: the default app timeout (10 s) + visibility (30 s), with room. */
export const DEFAULT_SKIP_QUIET_SECONDS = 60;

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
  status   list stuck sources (failing heads), oldest first, from the progress table ($PROGRESS_TABLE)
             --limit N         at most N (default 50)
             --json            print JSON instead of a table
  park     park a source: its messages (the failing head and every later one) move, in order,
           from SQS into the journal; nothing is delivered for it until unpark
             <sourceId>        the source (MessageGroupId)
             --reason TEXT     why (required; goes into the audit trail)
             --actor NAME      who (default: $FIFO_RELAY_ACTOR, else user@host)
  unpark   replay a parked source's journal in order, then resume it from SQS
             <sourceId> --reason TEXT [--actor NAME]
             --dry-run         print what would be delivered, change nothing (no reason needed)
             --limit N         entries the dry run lists at most (default 100)
  skip     give up exactly the head of a parked source (its body stays in the journal)
             <sourceId> --seq N --reason TEXT [--actor NAME]
             --quiet-seconds S time since the park before a skip is allowed (default ${DEFAULT_SKIP_QUIET_SECONDS};
                               keep it above APP_TIMEOUT_MS + VISIBILITY_TIMEOUT_SECONDS)
  demo     run the whole system locally on emulators and judge the result (needs Java 17+)
             --messages N      messages to send (default 3000)
             --sources N       sources they are spread over (default 40)
             --workers N       worker tasks (default 2)
             --fail-rate R     share of app calls that fail (default 0.1)
             --slow-rate R     share of app calls that are slow (default 0.02)
             --slow-ms MS      how slow (default 1500)
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
