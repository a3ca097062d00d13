import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import { Producer } from '../../src/index';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, startTestRelay, waitFor, type Fixture } from '../support/fixtures';
import { accepted, startPoisonApp } from '../support/poison-app';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

// A producer-journaled message of a parked source: the worker finds the producer's entry already
// there (same body) and keeps it as the one entry for that seq; replay delivers each seq once.
describe('producer messages of a parked source', () => {
  let fx: Fixture;
  let app: Awaited<ReturnType<typeof startPoisonApp>>;
  let relay: RunningRelay | undefined;
  beforeAll(async () => {
    fx = await freshQueueAndTable('producer-parked');
    app = await startPoisonApp(new Set());
  });
  afterAll(async () => {
    await relay?.stop(1000);
    await app.close();
    fx.close();
  });
  const cli = (args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, PROGRESS_TABLE: fx.table, QUEUE_URL: fx.queueUrl } });
  const journal = async () =>
    ((await fx.dynamo.send(new QueryCommand({ TableName: fx.table, KeyConditionExpression: 'pk = :p AND begins_with(sk, :j)', ExpressionAttributeValues: { ':p': { S: 'PP' }, ':j': { S: 'j#' } }, ConsistentRead: true }))).Items ?? []).map(
      (i) => ({ seq: i.seq?.S, origin: i.origin?.S, messageId: i.messageId?.S }),
    );

  it('keeps one journal entry per seq (the producer\'s) and replays 3..5 once each, in order', async () => {
    const producer = new Producer({ queueUrl: fx.queueUrl, table: fx.table, sqs: fx.sqs, dynamodb: fx.dynamo });
    relay = await startTestRelay(fx.config({ targetUrl: app.url, replayPollMs: 200 }));
    await producer.sendBatch([1, 2].map((n) => ({ sourceId: 'PP', body: `{"n":${n}}` })));
    await waitFor('1 and 2 delivered', () => accepted(app.records, 'PP').length === 2);

    await cli(['park', 'PP', '--reason', 'maintenance', '--actor', 'test']);
    const sent = await producer.sendBatch([3, 4, 5].map((n) => ({ sourceId: 'PP', body: `{"n":${n}}` })));
    const control = new DynamoSourceControl(fx.dynamo, fx.table);
    await waitFor('3..5 journaled by the worker and gone from SQS', async () => (await messagesLeft(fx)) === 0 && (await control.read('PP')).journalVersion >= 3, 30_000, 200);
    expect(accepted(app.records, 'PP')).toEqual([1, 2]);
    const entries = (await journal()).filter((e) => Number(e.seq) >= 3);
    expect(entries).toEqual(sent.map((r) => ({ seq: r.seq.toString(), origin: 'producer', messageId: r.journalId })));

    await cli(['unpark', 'PP', '--reason', 'done', '--actor', 'test']);
    await waitFor('replayed and active', async () => accepted(app.records, 'PP').length === 5 && (await control.read('PP')).state === 'active', 40_000, 200);
    expect(accepted(app.records, 'PP')).toEqual([1, 2, 3, 4, 5]);
    // The producer continues after the replay.
    expect((await producer.send({ sourceId: 'PP', body: '{"n":6}' })).seq).toBe(6n);
    await waitFor('6 delivered', () => accepted(app.records, 'PP').includes(6));
  }, 120_000);
});
