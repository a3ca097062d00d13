import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

describe('delivery to the app (fauxqs + DynamoDB Local)', () => {
  let fx: Fixture;
  let app: DemoApp;
  let relay: RunningRelay | undefined;

  beforeEach(async () => {
    fx = await freshQueueAndTable('delivery');
    app = await startDemoApp({ keepBodies: true, expectedAuth: 'Bearer s3cret' });
  });
  afterEach(async () => {
    await relay?.stop(1000);
    relay = undefined;
    await app.close();
    fx.close();
  });

  it('delivers every message once, in order per source, with the contract headers, then deletes it and advances the ledger', async () => {
    const sources = ['alpha', 'beta', 'gamma', 'delta'];
    const perSource = 6;
    const messages = sources.flatMap((sourceId) =>
      Array.from({ length: perSource }, (_, i) => ({ sourceId, seq: i + 1, body: JSON.stringify({ sourceId, n: i + 1, text: 'é ✓ "quoted"' }) })),
    );
    await send(fx.sqs, fx.queueUrl, messages);
    relay = await startTestRelay(fx.config({ targetUrl: app.url, targetAuthHeader: 'Bearer s3cret' }));

    await waitFor('all deliveries', () => app.records.length >= messages.length);
    await waitFor('queue drained', async () => (await messagesLeft(fx)) === 0);

    expect(app.records).toHaveLength(messages.length);
    expect(app.records.every((r) => r.status === 200)).toBe(true);
    for (const sourceId of sources) {
      const seqs = app.records.filter((r) => r.sourceId === sourceId).map((r) => Number(r.seq));
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    }
    const first = app.records.find((r) => r.sourceId === 'beta' && r.seq === '3');
    expect(first).toMatchObject({ idempotencyKey: 'beta:3', attempt: 1, contentType: 'application/json' });
    expect(first?.messageId).toMatch(/\S+/);
    expect(first?.body).toBe(JSON.stringify({ sourceId: 'beta', n: 3, text: 'é ✓ "quoted"' }));

    const item = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: { sourceId: { S: 'gamma' } }, ConsistentRead: true }));
    expect(item.Item?.producerSeq?.N).toBe('6');
    expect(item.Item?.sqsQueueArn?.S).toBe(relay.facts.arn);
  });

  it('falls back to the SQS SequenceNumber when there is no seq attribute, and forwards contentType', async () => {
    await send(fx.sqs, fx.queueUrl, [
      { sourceId: 's1', body: '<a/>', contentType: 'application/xml' },
      { sourceId: 's1', body: '<b/>', contentType: 'application/xml' },
    ]);
    relay = await startTestRelay(fx.config({ targetUrl: app.url, targetAuthHeader: 'Bearer s3cret' }));
    await waitFor('two deliveries', () => app.records.length >= 2);
    const [a, b] = app.records;
    expect(a?.body).toBe('<a/>');
    expect(b?.body).toBe('<b/>');
    expect(a?.contentType).toBe('application/xml');
    expect(BigInt(b?.seq ?? '0')).toBeGreaterThan(BigInt(a?.seq ?? '0'));
    expect(a?.idempotencyKey).toBe(`s1:${a?.seq}`);
    const ledgerSqsSeq = async () =>
      (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: { sourceId: { S: 's1' } }, ConsistentRead: true }))).Item;
    await waitFor('ledger at the second message', async () => BigInt((await ledgerSqsSeq())?.sqsSeq?.N ?? '0') === BigInt(b?.seq ?? '-1'));
    const item = { Item: await ledgerSqsSeq() };
    expect(item.Item?.producerSeq).toBeUndefined();
  });
});
