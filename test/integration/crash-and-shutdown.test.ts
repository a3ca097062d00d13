import { queueDepth } from '../../src/adapters/sqs-queue';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import { freshQueueAndTable, send, waitFor, type Fixture } from '../support/fixtures';
import { envFor, events, startWorkerProcess, type WorkerProcess } from '../support/processes';
import { ledgerKey } from '../../src/adapters/table-keys';
import { startDelayProxy, type DelayProxy } from '../../src/dev/delay-proxy';
import { endpoints } from '../support/fixtures';

describe('real worker processes: kill -9 and SIGTERM', () => {
  let fx: Fixture;
  let app: DemoApp;
  const procs: WorkerProcess[] = [];

  beforeEach(async () => {
    fx = await freshQueueAndTable('crash');
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await app.close();
    fx.close();
  });

  const counts = () => queueDepth(fx.sqs, fx.queueUrl);
  const ledgerSeq = async (sourceId: string) =>
    (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey(sourceId), ConsistentRead: true }))).Item?.producerSeq?.N;

  it('a worker killed between the ledger write and the delete does not make the app see the message twice', async () => {
    app = await startDemoApp();
    // Deletes leave at once: a network that holds every delete for seconds keeps the gap between
    // ledger write and delete wide enough to land a kill in (a delete whose sender died never arrives).
    const slowDeletes: DelayProxy = await startDelayProxy(endpoints().sqs, (req) => (String(req.headers['x-amz-target']).startsWith('AmazonSQS.DeleteMessage') ? 8000 : 0));
    const config = fx.config({ targetUrl: app.url, visibilityTimeoutSeconds: 5 });
    await send(fx.sqs, fx.queueUrl, [{ sourceId: 'pay-1', seq: 1, body: '{"op":"charge"}' }]);

    const first = startWorkerProcess({ ...envFor(config), AWS_ENDPOINT_URL_SQS: slowDeletes.endpoint });
    procs.push(first);
    await waitFor('ledger written', async () => (await ledgerSeq('pay-1')) === '1', 30_000, 10);
    first.child.kill('SIGKILL');
    await first.exited;
    await slowDeletes.close();
    // The crash landed in the window: the message is still in the queue, held by the dead worker.
    expect(await counts()).toEqual({ visible: 0, inFlight: 1 });
    expect(app.records).toHaveLength(1);

    const second = startWorkerProcess(envFor(config));
    procs.push(second);
    await waitFor('redelivered message dropped', async () => {
      const c = await counts();
      return c.visible + c.inFlight === 0;
    }, 30_000, 200);
    expect(app.records).toHaveLength(1);
    await waitFor('log line', () => events(second, 'duplicate_skipped').length === 1);
    expect(events(second, 'duplicate_skipped')[0]).toMatchObject({ sourceId: 'pay-1', seq: '1', attempt: 2 });
    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });

  it('SIGTERM: finishes the delivery in flight, releases the rest at once, exits 0', async () => {
    app = await startDemoApp({ slowRate: 1, slowMs: 1500 });
    const config = fx.config({ targetUrl: app.url, visibilityTimeoutSeconds: 30, shutdownGraceSeconds: 10 });
    await send(fx.sqs, fx.queueUrl, [1, 2, 3].map((seq) => ({ sourceId: 'dev-7', seq, body: `{"n":${seq}}` })));

    const worker = startWorkerProcess(envFor(config));
    procs.push(worker);
    await waitFor('first delivery started', () => app.records.length === 0 && events(worker, 'started').length === 1, 30_000);
    await worker.started;
    await new Promise((r) => setTimeout(r, 700));
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(app.records.map((r) => r.seq)).toEqual(['1']);
    expect(events(worker, 'delivered').map((e) => e.seq)).toEqual(['1']);
    expect(events(worker, 'stopped')).toHaveLength(1);
    // Nothing is left hidden for a visibility timeout: the next worker can start right away.
    await waitFor('released messages visible', async () => (await counts()).visible === 2, 5000, 100);

    app.behaviour.slowRate = 0;
    const next = startWorkerProcess(envFor(config));
    procs.push(next);
    await waitFor('rest delivered', () => app.records.length === 3, 30_000);
    expect(app.records.map((r) => r.seq)).toEqual(['1', '2', '3']);
    next.child.kill('SIGTERM');
    expect((await next.exited).code).toBe(0);
  });
});
