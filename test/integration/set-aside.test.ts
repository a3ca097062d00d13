import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoAsideStore } from '../../src/adapters/aside-store';
import { DynamoAuditLog } from '../../src/adapters/audit-log';
import { ledgerKey } from '../../src/adapters/table-keys';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

describe('set-aside: an operator moves a seq-regression head out of the way', () => {
  let fx: Fixture;
  let relay: RunningRelay;
  let server: Server;
  const bodies: string[] = [];

  const cli = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, QUEUE_URL: fx.queueUrl, PROGRESS_TABLE: fx.table, FIFO_RELAY_ACTOR: 'ops@test' } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const ledgerOf = async (sourceId: string) => (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey(sourceId), ConsistentRead: true }))).Item ?? {};

  beforeAll(async () => {
    fx = await freshQueueAndTable('set-aside');
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    relay = await startTestRelay(fx.config({ targetUrl: `http://127.0.0.1:${port}/` }));
  });
  afterAll(async () => {
    await relay.stop();
    await new Promise((r) => server.close(r));
    fx.close();
  });

  it('refuses anything but the recorded regression head; sets that one aside (kept with its body, audited) and the source moves on; send defaults above the ledger', async () => {
    // The README's send, run twice: the second run now continues the numbering instead of regressing.
    expect((await cli(['send', '--source', 'meter-1', '--count', '3'])).stdout).toContain('seq 1..3');
    await waitFor('three delivered', async () => (await ledgerOf('meter-1')).producerSeq?.N === '3', 30_000);
    expect((await cli(['send', '--source', 'meter-1', '--count', '2'])).stdout).toContain('seq 4..5');
    await waitFor('five delivered', async () => (await ledgerOf('meter-1')).producerSeq?.N === '5', 30_000);

    // A regression on a source its producer feeds with plain SendMessage calls (a source written by
    // the journal-first producer claims each seq once, so a lower seq there is a copy, not a regression).
    const ledger = () => ledgerOf('plain-1');
    await send(fx.sqs, fx.queueUrl, [1, 2, 3, 4, 5].map((seq) => ({ sourceId: 'plain-1', seq, body: `plain-${seq}` })));
    await waitFor('plain-1 at 5', async () => (await ledger()).producerSeq?.N === '5', 30_000);
    await send(fx.sqs, fx.queueUrl, [
      { sourceId: 'plain-1', seq: 2, body: 'regressed-2' },
      { sourceId: 'plain-1', seq: 6, body: 'after-6' },
    ]);
    await waitFor('the regression recorded as the failing head', async () => (await ledger()).lastError?.S?.startsWith('seq went backwards') === true, 30_000);
    const headId = (await ledger()).headMessageId?.S ?? '';
    expect(headId).not.toBe('');

    const wrong = await cli(['set-aside', 'plain-1', '--message-id', 'not-the-head', '--reason', 'test']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(new RegExp(`^fifo-relay set-aside: refused: the failing head of "plain-1" is message ${headId}, not not-the-head; set-aside accepts only`));
    const unknown = await cli(['set-aside', 'nobody', '--message-id', headId, '--reason', 'test']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('refused: source "nobody" has no ledger item');
    const usage = await cli(['set-aside', 'plain-1', '--reason', 'test']);
    expect(usage.code).toBe(2);

    const done = await cli(['set-aside', 'plain-1', '--message-id', headId, '--reason', 'producer resent seq 2', '--wait', '60']);
    expect(done.stderr).toBe('');
    expect(done.stdout).toContain(`set-aside of message ${headId} (plain-1) recorded`);
    expect(done.stdout).toContain(`done: message ${headId} is set aside`);
    expect(done.code).toBe(0);

    await waitFor('seq 6 delivered and the queue empty', async () => (await ledger()).producerSeq?.N === '6' && (await messagesLeft(fx)) === 0, 30_000);
    expect(bodies.filter((b) => b === 'regressed-2')).toEqual([]);
    expect(bodies.filter((b) => b === 'after-6')).toHaveLength(1);

    const aside = await new DynamoAsideStore(fx.dynamo, fx.table).list('plain-1');
    expect(aside).toHaveLength(1);
    expect(aside[0]).toMatchObject({ messageId: headId, body: 'regressed-2', seq: '2', contentType: 'application/json', intent: { actor: 'ops@test', reason: 'producer resent seq 2' } });
    expect(aside[0]?.detail).toMatch(/^seq went backwards: 2 arrived after 5/);
    const item = await ledger();
    expect(item.asideMessageId).toBeUndefined();
    expect(item.headMessageId).toBeUndefined();

    const audit = (await new DynamoAuditLog(fx.dynamo, fx.table).list('plain-1')).filter((r) => r.action === 'set-aside');
    expect(audit.map((r) => r.details?.requested ?? 'done')).toEqual([true, 'done']);

    const listed = await cli(['set-aside', 'plain-1', '--list']);
    expect(listed.stdout).toContain('1 message(s) set aside for plain-1');
    expect(listed.stdout).toContain(`aside  message ${headId}  seq 2`);
    // Asked again: nothing to do.
    expect((await cli(['set-aside', 'plain-1', '--message-id', headId, '--reason', 'again'])).stdout).toContain('already set aside');
  }, 180_000);
});
