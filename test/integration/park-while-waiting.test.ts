import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoJournal } from '../../src/adapters/journal';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

/** Answers 200; source A's calls take holdMs first, so the only slot stays busy that long. */
async function slowApp(holdMs: number): Promise<{ url: string; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const source = String(req.headers['x-source-id'] ?? '');
    calls.push(source);
    req.resume();
    setTimeout(() => res.writeHead(200).end('ok'), source === 'A' ? holdMs : 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, calls, close: () => new Promise((r) => server.close(() => r())) };
}

describe('MAX_CONCURRENT_SOURCES=1 on fauxqs + DynamoDB Local: a park while a lane waits for the slot', () => {
  let fx: Fixture;
  let relay: RunningRelay | undefined;
  let app: Awaited<ReturnType<typeof slowApp>>;
  beforeAll(async () => {
    fx = await freshQueueAndTable('parkwait');
    app = await slowApp(4000);
  });
  afterAll(async () => {
    await relay?.stop(1000);
    await app.close();
    fx.close();
  });

  it('B, received with A but parked while A holds the slot, is journaled and never delivered', async () => {
    const ledger = new DynamoLedger(fx.dynamo, fx.table);
    const control = new DynamoSourceControl(fx.dynamo, fx.table);
    const journal = new DynamoJournal(fx.dynamo, fx.table);
    await ledger.advance('B', { kind: 'producer', value: 0n, text: '0', key: '0', sqs: 0n, queueId: 'earlier' }, 'm-0', 1);
    await send(fx.sqs, fx.queueUrl, [
      { sourceId: 'A', seq: 1, body: '{"a":1}' },
      { sourceId: 'B', seq: 1, body: '{"b":1}' },
    ]);
    relay = await startTestRelay(fx.config({ targetUrl: app.url, maxConcurrentSources: 1, receiveConcurrency: 1, appTimeoutMs: 8000, visibilityTimeoutSeconds: 20 }));
    await waitFor('A in flight', () => app.calls.includes('A'), 20_000);
    const c = await control.read('B');
    expect((await control.park('B', { actor: 'op', reason: 'test', nowMs: Date.now(), expectVersion: c.controlVersion })).ok).toBe(true);
    await waitFor('B journaled and gone from SQS', async () => (await journal.count('B')) === 1 && (await messagesLeft(fx)) === 0, 30_000);
    expect(app.calls.filter((s) => s === 'B')).toEqual([]);
    expect(app.calls.filter((s) => s === 'A')).toEqual(['A']);
  }, 60_000);
});
