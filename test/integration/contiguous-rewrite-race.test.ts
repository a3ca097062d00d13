import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Producer } from '../../src/index';
import type { RunningRelay } from '../../src/relay';
import { dynamoClient, freshQueueAndTable, messagesLeft, sleep, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

interface Got {
  seq: string;
  key: string;
  body: string;
}

async function bodyApp(): Promise<{ url: string; got: Got[]; close(): Promise<void> }> {
  const got: Got[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ seq: String(req.headers['x-sequence'] ?? ''), key: String(req.headers['idempotency-key'] ?? ''), body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    got,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * The producer checks its rewrite window (10 s from journaledAt) once, before its rewrites; the
 * worker's lane fills an entry from the journal once it is JOURNAL_SETTLE_MS (10 s) old. A round
 * whose proof returns at 9.3 s and whose rewrites take a few seconds (throttled PutItem retried by
 * the SDK, 24 rewrites in a row under load) rewrites entries a worker has already delivered.
 */
describe('a producer rewriting its claims while a worker fills them from the journal', () => {
  let fx: Fixture;
  let relay: RunningRelay | undefined;
  let app: Awaited<ReturnType<typeof bodyApp>>;
  beforeAll(async () => {
    fx = await freshQueueAndTable('gaprev-rw');
    app = await bodyApp();
  });
  afterAll(async () => {
    await relay?.stop(1000);
    await app.close();
    fx.close();
  });

  it('every message of a batch is delivered when the round rewrites its claims close to the window', async () => {
    const S = 'RW';
    relay = await startTestRelay(fx.config({ targetUrl: app.url }));
    const other = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    const third = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    const slow = dynamoClient();
    let phase: 'start' | 'inserted' | 'proved' = 'start';
    let t0 = 0;
    const rewritesLandedAt: number[] = [];
    slow.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName;
        const input = args.input as { ConditionExpression?: string };
        if (name === 'BatchExecuteStatementCommand' && phase === 'start') {
          t0 = Date.now();
          // Another producer process claims seq 1 just before this round's inserts land.
          await other.send({ sourceId: S, body: 'b1' });
          phase = 'inserted';
        } else if (name === 'GetItemCommand' && phase === 'inserted') {
          phase = 'proved';
          // A third producer claims the seq above this round's and sends it: a later seq reaches a worker.
          await third.send({ sourceId: S, body: 'c1' });
          // The proof read comes back late (a slow or throttled call), still inside the 10 s window.
          await sleep(Math.max(0, t0 + 9300 - Date.now()));
        } else if (name === 'PutItemCommand' && input.ConditionExpression?.startsWith('claimId = :c') === true) {
          // A rewrite that takes a few seconds to land (SDK retries of a throttled PutItem).
          await sleep(4000);
          const out = await next(args);
          rewritesLandedAt.push(Date.now() - t0);
          return out;
        }
        return next(args);
      },
      { step: 'initialize', name: 'reviewDelays' },
    );
    const victim = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: slow });
    const results = await victim.sendBatch([
      { sourceId: S, body: 'a1' },
      { sourceId: S, body: 'a2' },
      { sourceId: S, body: 'a3' },
    ]);
    await waitFor('queue drained', async () => (await messagesLeft(fx)) === 0, 60_000, 250);
    await sleep(2000);
    const delivered = app.got.map((g) => `${g.seq}:${g.body}`);
    console.log(JSON.stringify({ results: results.map((r) => `${r.seq}:${r.sourceId}`), rewritesLandedAt, delivered, stats: victim.stats }));
    // Expected: each of the five messages reaches the app (a1 included), each under one seq.
    expect([...new Set(app.got.map((g) => g.body))].sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'c1']);
    expect(app.got.map((g) => g.body).sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'c1']);
    for (const p of [other, third, victim]) p.close();
    slow.destroy();
  }, 120_000);

  it('a claim delivered from the journal while its round was stalled is not released and claimed again (one delivery per message)', async () => {
    const S = 'RL';
    relay ??= await startTestRelay(fx.config({ targetUrl: app.url }));
    const third = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    const slow = dynamoClient();
    let phase: 'start' | 'inserted' | 'proved' = 'start';
    let t0 = 0;
    slow.middlewareStack.add(
      (next, context) => async (args) => {
        const name = context.commandName;
        if (name === 'BatchExecuteStatementCommand' && phase === 'start') {
          t0 = Date.now();
          phase = 'inserted';
        } else if (name === 'GetItemCommand' && phase === 'inserted') {
          phase = 'proved';
          // Another producer process claims and sends the seq above ours.
          await third.send({ sourceId: S, body: 'c1' });
          // The proof read of our round comes back after 12 s (a stalled call or process).
          await sleep(Math.max(0, t0 + 12_000 - Date.now()));
        }
        return next(args);
      },
      { step: 'initialize', name: 'reviewDelays' },
    );
    const victim = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: slow });
    const r = await victim.send({ sourceId: S, body: 'a1' });
    await waitFor('queue drained', async () => (await messagesLeft(fx)) === 0, 60_000, 250);
    await sleep(2000);
    const mine = app.got.filter((g) => g.key.startsWith(`${S}:`));
    console.log(JSON.stringify({ result: { seq: String(r.seq) }, delivered: mine.map((g) => `${g.key}:${g.body}`), stats: victim.stats }));
    // Expected: a1 reaches the app once (or again only under the same key).
    expect(mine.filter((g) => g.body === 'a1').map((g) => g.key)).toEqual([`${S}:1`]);
    third.close();
    victim.close();
    slow.destroy();
  }, 120_000);
});
