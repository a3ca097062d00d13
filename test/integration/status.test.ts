import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { SourceStatusReader } from '../../src/adapters/source-status';
import { ledgerKey } from '../../src/adapters/table-keys';
import { runStatus, type StatusOptions } from '../../src/cli/status';
import { CommandSourceControl } from '../../src/demo/source-control';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';
import { SourceItems } from '../support/source-items';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
let fx: Fixture;
let now: number;
const thresholds = { attempts: 5, afterMs: 15 * MIN };

class Capture {
  text = '';
  write(chunk: string) {
    this.text += chunk;
  }
}

async function status(extra: Partial<StatusOptions> = {}): Promise<{ code: number; out: string; err: string }> {
  const out = new Capture();
  const err = new Capture();
  const code = await runStatus({ table: fx.table, region: process.env.AWS_REGION ?? '', json: false, limit: 50, thresholds, ...extra }, out, err);
  return { code, out: out.text, err: err.text };
}

beforeAll(async () => {
  fx = await freshQueueAndTable('status');
  now = Date.now();
  const ledger = new DynamoLedger(fx.dynamo, fx.table);
  const items = new SourceItems(fx.dynamo, fx.table);
  const fail = (sourceId: string, f: { attempt: number; ago: number; left?: number; status?: number; error: string; seq: string }) =>
    ledger.recordFailure(sourceId, {
      messageId: `m-${sourceId}`,
      seq: f.seq,
      attempt: f.attempt,
      error: f.error,
      atMs: now - f.ago,
      nextAttemptAtMs: now + 10 * MIN,
      ...(f.status === undefined ? {} : { lastStatus: f.status }),
      ...(f.left === undefined ? {} : { headSentAt: now + f.left - 14 * DAY, retentionDeadlineAt: now + f.left }),
    });
  await fail('older', { attempt: 9, ago: 10 * MIN, left: 2 * DAY, status: 500, error: 'HTTP 500: boom', seq: '3' });
  await fail('soon', { attempt: 6, ago: 1 * MIN, left: 20 * MIN, status: 422, error: 'HTTP 422: rejected', seq: '8' });
  await fail('newer', { attempt: 2, ago: 1000, left: 13 * DAY, error: 'network error: ECONNREFUSED', seq: '7' });
  await fail('long', { attempt: 1, ago: 20 * MIN, error: 'no answer within 10000 ms', seq: '1' });

  await ledger.advance('parked-1', { kind: 'producer', value: 41n, text: '41', key: '41', sqs: 900n, queueId: 'q@1' }, 'm41', now);
  await new CommandSourceControl(fx.dynamo, fx.table, 'alice').park('parked-1', 'poison message at seq 42');
  await items.journal('parked-1', 42n, '{"n":42}');
  await items.journal('parked-1', 43n, 'x', { chunks: 2 });
  await items.setState('replaying-1', 'replaying', { since: now - 2 * MIN, reason: 'unpark', actor: 'bob' });
});

afterAll(() => fx.close());

describe('fifo-relay status across all tasks', () => {
  it('lists stuck, retrying, parked and replaying sources worst first, with time left before retention', async () => {
    const r = await status();
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SOURCE\s+CONDITION\s+FOR\s+ATTEMPT\s+HEAD SEQ\s+HTTP\s+RETENTION LEFT\s+LAST ERROR \/ REASON$/);
    // Stuck first, the one closest to losing its head to retention at the top; "long" is stuck by time, not attempts.
    expect(lines[1]).toMatch(/^soon\s+STUCK\s+\d+s\s+6\s+8\s+422\s+(19|20)m\s+HTTP 422: rejected$/);
    expect(lines[2]).toMatch(/^older\s+STUCK\s+10m\s+9\s+3\s+500\s+2\.0d\s+HTTP 500: boom$/);
    expect(lines[3]).toMatch(/^long\s+STUCK\s+20m\s+1\s+1\s+-\s+-\s+no answer within 10000 ms$/);
    expect(lines[4]).toMatch(/^newer\s+RETRYING\s+\d+s\s+2\s+7\s+-\s+13\.0d\s+network error: ECONNREFUSED$/);
    expect(lines[5]).toMatch(/^parked-1\s+PARKED\s+\d+s\s+-\s+-\s+-\s+-\s+poison message at seq 42 \(alice\)$/);
    expect(lines[6]).toMatch(/^replaying-1\s+REPLAYING\s+2m\s+.*unpark \(bob\)$/);
    expect(lines.at(-1)).toBe('3 stuck, 1 retrying, 1 parked, 1 replaying — stuck = attempts ≥ 5 or failing ≥ 15m');
  });

  it('uses the thresholds it is given, and --json carries counts and full records', async () => {
    const r = await status({ json: true, thresholds: { attempts: 2, afterMs: DAY } });
    const body = JSON.parse(r.out) as { counts: Record<string, number>; sources: Array<{ sourceId: string; condition: string; retentionLeftMs?: number; head?: { lastStatus?: number } }> };
    expect(body.counts).toEqual({ stuck: 3, retrying: 1, parked: 1, replaying: 1, closing: 0 });
    expect(body.sources.map((s) => [s.sourceId, s.condition])).toEqual([
      ['soon', 'stuck'],
      ['older', 'stuck'],
      ['newer', 'stuck'],
      ['long', 'retrying'],
      ['parked-1', 'parked'],
      ['replaying-1', 'replaying'],
    ]);
    expect(body.sources[0]?.head?.lastStatus).toBe(422);
    expect(body.sources[0]?.retentionLeftMs).toBeGreaterThan(15 * MIN);
  });

  it('--limit keeps the worst and says there are more', async () => {
    const r = await status({ limit: 2 });
    expect(r.out).toMatch(/^soon /m);
    expect(r.out).toMatch(/^older /m);
    expect(r.out).not.toMatch(/^newer /m);
    expect(r.out).toContain('(more than listed)');
  });
});

describe('fifo-relay status <sourceId>', () => {
  it('shows position, state, journal size (chunks are not entries) and the audit trail', async () => {
    const r = await status({ sourceId: 'parked-1' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^state\s+parked since \S+Z \(\d+s\) by alice: poison message at seq 42$/m);
    expect(r.out).toMatch(/^position\s+producer seq 41, sqs seq 900, last message m41 at /m);
    expect(r.out).toMatch(/^journal\s+2 entries, seq 42 \.\. 43$/m);
    expect(r.out).toMatch(/^audit\s+1 record\(s\), oldest first$/m);
    expect(r.out).toMatch(/^\s+\S+Z\s+park\s+alice\s+poison message at seq 42$/m);
  });

  it('shows a failing head with its last HTTP status and when SQS will delete it', async () => {
    const r = await status({ sourceId: 'soon' });
    expect(r.out).toMatch(/^head\s+seq 8, message m-soon, attempt 6, failing \d+s, last HTTP 422, next attempt in (9|10)m$/m);
    expect(r.out).toMatch(/^retention\s+SQS deletes the head in (19|20)m \(at \S+Z\)$/m);
  });

  it('refuses an unknown source with one line and exit code 1', async () => {
    const r = await status({ sourceId: 'no-such-source' });
    expect(r).toEqual({ code: 1, out: '', err: `fifo-relay status: unknown source "no-such-source": the progress table holds nothing for it (table ${fx.table})\n` });
  });

  it('the success write removes every failing-head field, the new ones included', async () => {
    const ledger = new DynamoLedger(fx.dynamo, fx.table);
    await ledger.advance('newer', { kind: 'producer', value: 7n, text: '7', key: '7', sqs: 1n, queueId: 'q@1' }, 'm7', Date.now());
    const item = (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey('newer'), ConsistentRead: true }))).Item ?? {};
    expect(Object.keys(item).sort()).toEqual(['lastMessageId', 'pk', 'producerSeq', 'sk', 'sqsQueueId', 'sqsSeq', 'sqsSeqKind', 'updatedAt']);
    const story = await new SourceStatusReader(fx.dynamo, fx.table).describe('newer', thresholds, Date.now());
    expect(story?.source.condition).toBe('ok');
  });
});

describe('fifo-relay status on the command line', () => {
  it('exit 2 with usage on bad arguments, exit 1 for an unknown source, thresholds from the environment', async () => {
    for (const args of [['status', 'a', 'b'], ['status', '--stuck-after', '5x'], ['status', '--stuck-attempts', '0']]) {
      const r = await cli(args, { PROGRESS_TABLE: fx.table });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('usage: fifo-relay status ');
    }
    const unknown = await cli(['status', 'ghost'], { PROGRESS_TABLE: fx.table });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const env = await cli(['status', '--json'], { PROGRESS_TABLE: fx.table, STUCK_ATTEMPTS: '100', STUCK_AFTER_SECONDS: '86400' });
    expect((JSON.parse(env.stdout) as { counts: { stuck: number }; thresholds: unknown }).thresholds).toEqual({ attempts: 100, afterMs: DAY });
  }, 60_000);
});
