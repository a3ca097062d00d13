import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The package's version, from package.json beside src/ and dist/ alike (the image copies it). */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(resolve(__dirname, '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export const WORKER_USAGE = [
  'usage: node dist/main.js [--help | --version]     (from a checkout: npm run dev -- --help)',
  '',
  'Runs one worker task: receives from the SQS FIFO queue, delivers each source\'s messages to',
  'TARGET_URL in order, records progress in PROGRESS_TABLE. Stops gracefully on SIGTERM/SIGINT.',
  '',
  'Configuration comes from the environment only (no arguments). Required:',
  '  QUEUE_URL        the SQS FIFO queue (MessageGroupId = sourceId)',
  '  TARGET_URL       where the app receives deliveries (POST, one message per request)',
  '  PROGRESS_TABLE   the DynamoDB progress table',
  '  AWS_REGION       region of the queue and the table',
  'Every other key, with its default: docs/configuration.md or .env.example.',
  'Custom endpoints: AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB.',
  '',
  'HTTP_PORT (default 9400) serves /metrics, /healthz, /readyz, /status and /status.html.',
  'Exit codes: 0 after a clean stop; 1 bad configuration or a refused start; 2 bad arguments.',
  'Operator commands (status, park, unpark, skip, …) are in the other binary: fifo-relay --help.',
].join('\n');

export type WorkerArgs = { kind: 'run' } | { kind: 'help' } | { kind: 'version' } | { kind: 'bad'; problem: string };

/** The worker takes no arguments beyond these two: anything else is a mistake, not a setting. */
export function parseWorkerArgs(argv: readonly string[]): WorkerArgs {
  if (argv.length === 0) return { kind: 'run' };
  const [first] = argv;
  if (argv.length === 1 && (first === '--help' || first === '-h')) return { kind: 'help' };
  if (argv.length === 1 && (first === '--version' || first === '-V')) return { kind: 'version' };
  return { kind: 'bad', problem: `unexpected argument ${JSON.stringify(first)}: the worker is configured through the environment` };
}

/** One line for a port the observability server cannot have, instead of a stack trace. */
export function portProblem(err: unknown, port: number): string | undefined {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'EADDRINUSE') return `HTTP_PORT ${port} is already in use (another worker on this machine?): set HTTP_PORT to a free port, or 0 to pick one`;
  if (code === 'EACCES') return `HTTP_PORT ${port} cannot be opened by this user (ports below 1024 need root): set HTTP_PORT to 1024-65535`;
  return undefined;
}
