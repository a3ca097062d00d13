import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

const root = resolve(__dirname, '..', '..');

function cli(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, ...env } }, (err, stdout, stderr) =>
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

describe('fifo-relay send through the producer', () => {
  let fx: Fixture;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    fx = await freshQueueAndTable('producer-cli');
    env = { QUEUE_URL: fx.queueUrl, PROGRESS_TABLE: fx.table };
  });
  afterAll(() => fx.close());

  const depth = async () => Number((await fx.sqs.send(new GetQueueAttributesCommand({ QueueUrl: fx.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages);
  const journal = async (source: string) =>
    ((await fx.dynamo.send(new QueryCommand({ TableName: fx.table, KeyConditionExpression: 'pk = :p AND begins_with(sk, :j)', ExpressionAttributeValues: { ':p': { S: source }, ':j': { S: 'j#' } }, ConsistentRead: true }))).Items ?? []).map(
      (i) => [i.seq?.S, i.body?.S],
    );

  it('continues a source at its next seq on every run (never 1 again), and takes a body from a file', async () => {
    expect((await cli(['send', '--source', 'c-1', '--count', '3'], env)).stdout).toMatch(/^sent 3 message\(s\) for source c-1, seq 1\.\.3 in /);
    const dir = mkdtempSync(join(tmpdir(), 'producer-cli-'));
    try {
      writeFileSync(join(dir, 'b.json'), '{"from":"file"}');
      expect((await cli(['send', '--source', 'c-1', '--body-file', join(dir, 'b.json')], env)).stdout).toMatch(/seq 4\.\.4/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect((await journal('c-1')).map(([s]) => s)).toEqual(['1', '2', '3', '4']);
    expect((await journal('c-1'))[3]?.[1]).toBe('{"from":"file"}');
    const refused = await cli(['send', '--source', 'c-1', '--seq', '9'], env);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('nothing sent: seq 9 for source c-1 is not the next one (next is 5)');
    expect(await journal('c-1')).toHaveLength(4);
  });

  it('--stdin: one bad line anywhere sends nothing and names every bad line', async () => {
    const before = await depth();
    const input = ['{"sourceId":"in-1","body":"a"}', '', '{"body":"no source"}', '{"sourceId":"in-1","body":"b"}', 'oops', '{"sourceId":"in-1","body":""}'].join('\n');
    const r = await cli(['send', '--stdin'], env, input);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')).toEqual([
      'line 3: sourceId is missing',
      expect.stringMatching(/^line 5: not JSON/),
      'line 6: body is empty (SQS refuses empty messages)',
      'nothing sent: 3 bad line(s) of 5',
    ]);
    expect(await journal('in-1')).toEqual([]);
    expect(await depth()).toBe(before);
  });

  it('--stdin: a seq-less source in a later call is refused before anything is sent, with its line', async () => {
    // A source already delivered by plain messages: its ledger has an SQS SequenceNumber and no producer seq.
    await fx.dynamo.send(new PutItemCommand({ TableName: fx.table, Item: { pk: { S: 'plain-1' }, sk: { S: 'ledger' }, sqsSeq: { S: '1'.padStart(40, '0') } } }));
    const before = await depth();
    const lines = Array.from({ length: 150 }, (_, i) => JSON.stringify({ sourceId: 'early-1', body: `m${i}` }));
    lines.push(JSON.stringify({ sourceId: 'plain-1', body: 'late' }));
    const r = await cli(['send', '--stdin'], env, lines.join('\n') + '\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('line 151: source plain-1 is already delivered by plain messages');
    expect(r.stdout).toContain('nothing sent: 1 source(s) refused');
    expect(await journal('early-1')).toEqual([]);
    expect(await depth()).toBe(before);
  });

  it('--stdin: good input is sent in order per source, with a summary', async () => {
    const lines = Array.from({ length: 250 }, (_, i) => JSON.stringify({ sourceId: `in-${i % 3}`, body: `m${i}` }));
    const r = await cli(['send', '--stdin'], env, lines.join('\n') + '\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sent 250 message\(s\) over 3 source\(s\) in /m);
    const j = await journal('in-1');
    expect(j.map(([s]) => s)).toEqual(Array.from({ length: 83 }, (_, i) => String(i + 1)));
    expect(j.map(([, b]) => b)).toEqual(Array.from({ length: 83 }, (_, i) => `m${i * 3 + 1}`));
  });
});
