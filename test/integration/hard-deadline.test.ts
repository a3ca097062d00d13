import { queueDepth } from '../../src/adapters/sqs-queue';
import { ensureTable } from '../../src/cli/setup';
import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import { freshQueueAndTable, send, waitFor, type Fixture } from '../support/fixtures';
import { startPrivateDynamo, type PrivateDynamo } from '../support/private-dynamo';
import { envFor, events, startWorkerProcess, type WorkerProcess } from '../support/processes';

describe('shutdown has a hard deadline (real worker process, DynamoDB frozen mid-run)', () => {
  let fx: Fixture;
  let ddb: PrivateDynamo;
  let app: DemoApp;
  let proc: WorkerProcess | undefined;

  beforeAll(async () => {
    fx = await freshQueueAndTable('hard');
    ddb = await startPrivateDynamo();
    await ensureTable(ddb.client, fx.table);
    app = await startDemoApp();
    // A second DynamoDB Local starts slowly on a loaded two-core machine.
  }, 180_000);
  afterAll(async () => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
    await app.close();
    await ddb.stop();
    fx.close();
  });

  it('cuts SDK calls short after the grace, releases what it holds and exits 0', async () => {
    // Request timeout 5 s with the SDK's retries: one ledger call alone outlasts grace + hard stop.
    const config = fx.config({ targetUrl: app.url, appTimeoutMs: 1000, shutdownGraceSeconds: 2, awsRequestTimeoutMs: 5000, visibilityTimeoutSeconds: 30 });
    proc = startWorkerProcess({ ...envFor(config), AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint });
    await proc.started;
    await send(fx.sqs, fx.queueUrl, [{ sourceId: 'warm', seq: 1, body: '{}' }]);
    await waitFor('first delivery', () => app.records.length === 1, 20_000);

    ddb.freeze();
    await send(fx.sqs, fx.queueUrl, ['a', 'b', 'c'].flatMap((sourceId) => [1, 2].map((seq) => ({ sourceId, seq, body: '{}' }))));
    // Their ledger reads hang on the frozen table, with the messages held.
    await waitFor('messages held', async () => (await queueDepth(fx.sqs, fx.queueUrl)).inFlight >= 3, 20_000, 200);
    proc.child.kill('SIGTERM');
    const exit = await Promise.race([proc.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 25_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(events(proc, 'stopped')[0]).toMatchObject({ hardDeadline: true });
    // Released at the deadline, not left hidden for the 30-s visibility.
    const depth = await queueDepth(fx.sqs, fx.queueUrl);
    expect(depth.inFlight).toBe(0);
    expect(depth.visible).toBeGreaterThan(0);
  });
});
