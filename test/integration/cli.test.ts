import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { dynamoClient, freshQueueAndTable, sqsClient } from '../support/fixtures';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('fifo-relay CLI', () => {
  it.each([
    [['frobnicate'], 'usage: fifo-relay <command> [options]'],
    [[], 'usage: fifo-relay <command> [options]'],
    [['send', '--count', '3'], 'usage: fifo-relay send '],
    [['send', '--source', 'a', '--count', 'x'], 'usage: fifo-relay send '],
    [['status', '--bogus'], 'usage: fifo-relay status '],
  ])('exits 2 on a bad command line with one usage line and a pointer to --help: %j', async (args, usage) => {
    const r = await cli(args, { QUEUE_URL: '', PROGRESS_TABLE: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(usage);
    if (args.length > 1) {
      expect(r.stderr.trim().split('\n')).toHaveLength(3);
      expect(r.stderr).toContain(`run "fifo-relay ${args[0]} --help" for details`);
    }
  });

  it('prints a command\'s own help for --help and -h, exit 0', async () => {
    const r = await cli(['send', '-h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: fifo-relay send /);
    expect(r.stdout).toContain('--count N');
  });

  it('a bad count gets the project\'s own message', async () => {
    const r = await cli(['send', '--source', 'a', '--count', '-5'], { QUEUE_URL: 'http://localhost/1/q.fifo' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fifo-relay send: --count must be a whole number of at least 1, got "-5"$/m);
  });

  it('setup creates the FIFO queue and the table, and a second run changes nothing', async () => {
    const name = `setup-${Date.now()}`;
    const env = { QUEUE_URL: `http://localhost/000000000000/${name}.fifo`, PROGRESS_TABLE: `${name}-progress` };
    const first = await cli(['setup'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/queue created: .*\.fifo/);
    expect(first.stdout).toMatch(/table created/);
    const second = await cli(['setup'], env);
    expect(second.stdout).toMatch(/queue exists/);
    expect(second.stdout).toMatch(/table exists/);

    const sqs = sqsClient();
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${name}.fifo` }));
    const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes ?? {};
    sqs.destroy();
    expect(attrs).toMatchObject({ FifoQueue: 'true', MessageRetentionPeriod: '1209600' });
    expect(attrs.RedrivePolicy).toBeUndefined();
    const ddb = dynamoClient();
    const table = await ddb.send(new DescribeTableCommand({ TableName: env.PROGRESS_TABLE }));
    ddb.destroy();
    expect(table.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(['state-by-since', 'stuck-by-since']);
  });

  it('send puts numbered messages on the queue, and status lists stuck sources oldest first', async () => {
    const fx = await freshQueueAndTable('cli');
    try {
      const sent = await cli(['send', '--queue-url', fx.queueUrl, '--table', fx.table, '--source', 'meter-1', '--count', '12']);
      expect(sent.stdout).toContain('sent 12 message(s) for source meter-1, seq 1..12');
      const attrs = await fx.sqs.send(new GetQueueAttributesCommand({ QueueUrl: fx.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
      expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe('12');

      const ledger = new DynamoLedger(fx.dynamo, fx.table);
      const now = Date.now();
      await ledger.recordFailure('newer', { messageId: 'm2', seq: '7', attempt: 2, error: 'HTTP 500: boom', atMs: now - 1000, nextAttemptAtMs: now + 1000 });
      await ledger.recordFailure('older', { messageId: 'm1', seq: '3', attempt: 9, error: 'network error: ECONNREFUSED', atMs: now - 600_000, nextAttemptAtMs: now + 1000 });
      const status = await cli(['status', '--table', fx.table]);
      expect(status.code).toBe(0);
      const lines = status.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^SOURCE\s+CONDITION\s+FOR\s+ATTEMPT\s+HEAD SEQ/);
      expect(lines[1]).toMatch(/^older\s+STUCK\s+10m\s+9\s+3\s+.*network error: ECONNREFUSED$/);
      // Seconds, not an exact figure: the CLI process may start slowly on a loaded machine.
      expect(lines[2]).toMatch(/^newer\s+RETRYING\s+\d+s\s+2\s+7\s+.*HTTP 500: boom$/);
      const json = JSON.parse((await cli(['status', '--json', '--limit', '1'], { PROGRESS_TABLE: fx.table })).stdout) as { sources: unknown[] };
      expect(json.sources).toEqual([expect.objectContaining({ sourceId: 'older', head: expect.objectContaining({ attempt: 9 }) })]);
    } finally {
      fx.close();
    }
  });
});
