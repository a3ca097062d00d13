/**
 * Runs the LocalStack ready hook with a stand-in `awslocal` that records each call, so the JSON it
 * builds in bash is parsed and checked here rather than first by LocalStack.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { STUCK_INDEX_NAME } from '../../infra/lib/progress-table-stack';

const script = resolve(__dirname, '..', '..', 'deploy', 'localstack', 'init-aws.sh');
const QUEUE_URL = 'http://localstack:4566/000000000000/fifo-relay.fifo';

/** Each awslocal invocation's arguments, in order. */
function runHook(env: Record<string, string>, tableExists = false): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'fifo-relay-init-'));
  try {
    const log = join(dir, 'calls.jsonl');
    const fake = join(dir, 'awslocal');
    writeFileSync(
      fake,
      `#!${process.execPath}
const args = process.argv.slice(2);
require('node:fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n');
if (args[0] === 'sqs' && args[1] === 'create-queue') console.log(${JSON.stringify(QUEUE_URL)});
if (args[0] === 'dynamodb' && args[1] === 'describe-table') process.exit(${tableExists ? 0 : 255});
`,
    );
    chmodSync(fake, 0o755);
    const r = spawnSync('bash', [script], { env: { PATH: `${dir}:${process.env.PATH ?? ''}`, ...env }, encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    return readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function option(args: string[], name: string): string {
  const i = args.indexOf(name);
  if (i < 0) throw new Error(`${args.slice(0, 2).join(' ')} has no ${name}`);
  return args[i + 1]!;
}

/** Every value after an option up to the next option (shorthand lists such as --key-schema). */
function values(args: string[], name: string): string[] {
  const i = args.indexOf(name);
  if (i < 0) throw new Error(`${args.slice(0, 2).join(' ')} has no ${name}`);
  const end = args.findIndex((a, j) => j > i && a.startsWith('--'));
  return args.slice(i + 1, end < 0 ? undefined : end);
}

const call = (calls: string[][], service: string, op: string) => calls.filter((c) => c[0] === service && c[1] === op);

describe('deploy/localstack/init-aws.sh', () => {
  it('is an executable bash script that stops at the first failure', () => {
    // LocalStack runs only executable hooks.
    expect(statSync(script).mode & 0o111).not.toBe(0);
    const text = readFileSync(script, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toContain('set -euo pipefail');
  });

  it('creates a high-throughput FIFO queue with maximum retention and no redrive policy', () => {
    const [create] = call(runHook({ FIFO_RELAY_QUEUE_NAME: 'orders.fifo' }), 'sqs', 'create-queue');
    expect(option(create!, '--queue-name')).toBe('orders.fifo');
    expect(JSON.parse(option(create!, '--attributes'))).toEqual({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      MessageRetentionPeriod: '1209600',
      VisibilityTimeout: '30',
    });
  });

  it('creates the progress table with the same key and index as the CDK app, unless it exists', () => {
    const calls = runHook({ FIFO_RELAY_TABLE: 'ledger' });
    const [create] = call(calls, 'dynamodb', 'create-table');
    expect(option(create!, '--table-name')).toBe('ledger');
    expect(option(create!, '--billing-mode')).toBe('PAY_PER_REQUEST');
    expect(values(create!, '--key-schema')).toEqual(['AttributeName=pk,KeyType=HASH', 'AttributeName=sk,KeyType=RANGE']);
    expect(values(create!, '--attribute-definitions')).toEqual(
      expect.arrayContaining(['AttributeName=pk,AttributeType=S', 'AttributeName=sk,AttributeType=S']),
    );
    expect(JSON.parse(option(create!, '--global-secondary-indexes'))).toEqual([
      {
        IndexName: STUCK_INDEX_NAME,
        KeySchema: [
          { AttributeName: 'stuck', KeyType: 'HASH' },
          { AttributeName: 'stuckSince', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(call(runHook({}, true), 'dynamodb', 'create-table')).toHaveLength(0);
  });

  it('seeds demo messages in batches SQS accepts, each source in seq order with its own dedup ids', () => {
    const calls = runHook({ FIFO_RELAY_DEMO_SOURCES: '2', FIFO_RELAY_DEMO_MESSAGES_PER_SOURCE: '12' });
    const batches = call(calls, 'sqs', 'send-message-batch');
    for (const b of batches) expect(option(b, '--queue-url')).toBe(QUEUE_URL);
    const entries = batches.map((b) => JSON.parse(option(b, '--entries')) as Array<Record<string, unknown>>);
    for (const e of entries) {
      expect(e.length).toBeGreaterThan(0);
      expect(e.length).toBeLessThanOrEqual(10);
      expect(new Set(e.map((m) => m.Id)).size).toBe(e.length);
    }
    const all = entries.flat();
    expect(all).toHaveLength(24);
    expect(new Set(all.map((m) => m.MessageDeduplicationId)).size).toBe(24);
    for (const source of ['demo-1', 'demo-2']) {
      const mine = all.filter((m) => m.MessageGroupId === source);
      const seqs = mine.map((m) => Number((m.MessageAttributes as { seq: { DataType: string; StringValue: string } }).seq.StringValue));
      expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      for (const m of mine) expect(JSON.parse(m.MessageBody as string)).toMatchObject({ source });
    }
  });
});
