import { runStatus, statusOptions } from '../status';
import { defineCommand } from '../spec';
import { requiredEnv } from '../usage';

export const status = defineCommand({
  name: 'status',
  summary: 'stuck, retrying, parked and replaying sources across all tasks, worst first; or one source\'s story',
  positionals: [{ name: 'sourceId', help: 'show this source: position, state, failing head, journal size, audit trail' }],
  options: {
    table: { kind: 'string', value: 'NAME', help: 'progress table', env: 'PROGRESS_TABLE', required: true },
    limit: { kind: 'int', value: 'N', help: 'at most N sources', default: 50 },
    json: { kind: 'flag', help: 'print JSON instead of a table' },
    'stuck-attempts': { kind: 'string', value: 'N', help: 'stuck once a head failed N attempts (default $STUCK_ATTEMPTS, else 5)' },
    'stuck-after': { kind: 'string', value: 'DURATION', help: 'stuck once a head failed this long: 900, 15m, 2h, 1d (default $STUCK_AFTER_SECONDS, else 15m)' },
  },
  details: [
    'Lists worst first: stuck (least time left before SQS retention deletes the head first), retrying, parked, replaying. ' +
      'When the app fails everywhere (many sources failing the same app-wide way, or a task\'s circuit breaker open), the first line says APP DOWN: fix the app, do not park. ' +
      'An unknown source is refused with exit code 1. Needs dynamodb:Query on the table and its stuck-by-since and state-by-since indexes.',
  ],
  async run(v, args, out) {
    const opts = statusOptions(
      {
        table: v.table,
        region: requiredEnv('AWS_REGION', 'the region of the table'),
        limit: v.limit,
        json: v.json,
        ...(args[0] === undefined ? {} : { sourceId: args[0] }),
        ...(v['stuck-attempts'] === undefined ? {} : { stuckAttempts: v['stuck-attempts'] }),
        ...(v['stuck-after'] === undefined ? {} : { stuckAfter: v['stuck-after'] }),
      },
      process.env,
    );
    // runStatus writes whole blocks; the CLI's out takes lines.
    const lines = { write: (chunk: string) => chunk.replace(/\n$/, '').split('\n').forEach((l) => out(l)) };
    return runStatus(opts, lines);
  },
});
