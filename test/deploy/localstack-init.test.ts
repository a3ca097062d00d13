/**
 * Runs the LocalStack ready hook with a stand-in `awslocal` that records each call, so the JSON it
 * builds in bash is parsed and checked here rather than first by LocalStack. That the table it
 * creates matches the table's one definition is test/deploy/table-definition.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { LOCALSTACK_TABLE_JSON } from '../../infra/bin/write-localstack-table';
import { HOOK as script, HOOK_QUEUE_URL as QUEUE_URL, option, runHook as runHookCalls } from './localstack-hook';

const TABLE_JSON = { FIFO_RELAY_TABLE_JSON: LOCALSTACK_TABLE_JSON };
const runHook = (env: Record<string, string>, tableExists = false) => runHookCalls({ ...TABLE_JSON, ...env }, tableExists).map((c) => c.args);
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

  it('creates the progress table from the definition file, under the configured name, unless it exists', () => {
    const [create] = call(runHook({ FIFO_RELAY_TABLE: 'ledger' }), 'dynamodb', 'create-table');
    expect(option(create!, '--table-name')).toBe('ledger');
    expect(option(create!, '--cli-input-json')).toBe(`file://${LOCALSTACK_TABLE_JSON}`);
    expect(call(runHook({}, true), 'dynamodb', 'create-table')).toHaveLength(0);
  });

  it('stops with one clear line when the definition file is not mounted', () => {
    const r = spawnSync('bash', [script], { env: { PATH: process.env.PATH ?? '', FIFO_RELAY_TABLE_JSON: '/nonexistent/progress-table.json' }, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('/nonexistent/progress-table.json is missing');
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
