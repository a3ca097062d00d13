import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { ledgerKey } from '../../src/adapters/table-keys';
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

    const item = await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey('gamma'), ConsistentRead: true }));
    expect(item.Item?.producerSeq?.N).toBe('6');
    expect(item.Item?.sqsQueueId?.S).toBe(relay.facts.id);
    expect(relay.facts.id).toMatch(new RegExp(`^${relay.facts.arn}@\\d+$`));
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
    const created = relay.facts.id.split('@')[1];
    expect(a?.idempotencyKey).toBe(`s1:q${created}.${a?.seq}`);
    const ledgerSqsSeq = async () =>
      (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey('s1'), ConsistentRead: true }))).Item;
    await waitFor('ledger at the second message', async () => BigInt((await ledgerSqsSeq())?.sqsSeq?.S ?? '0') === BigInt(b?.seq ?? '-1'));
    const item = { Item: await ledgerSqsSeq() };
    expect(item.Item?.producerSeq).toBeUndefined();
  });

  it('never takes a queue deleted and created again under the same name for the old one', async () => {
    await send(fx.sqs, fx.queueUrl, [1, 2, 3].map((n) => ({ sourceId: 'rc', body: `old-${n}` })));
    relay = await startTestRelay(fx.config({ targetUrl: app.url, targetAuthHeader: 'Bearer s3cret' }));
    await waitFor('old queue drained', async () => app.records.length === 3 && (await messagesLeft(fx)) === 0);
    const oldId = relay.facts.id;
    await relay.stop(1000);
    relay = undefined;

    // Same name, same URL, same ARN; its SequenceNumbers start again from the bottom.
    const name = fx.queueUrl.split('/').pop() ?? '';
    await fx.sqs.send(new DeleteQueueCommand({ QueueUrl: fx.queueUrl }));
    await new Promise((r) => setTimeout(r, 1100));
    await fx.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false' } }));
    // The first attempt fails, so the redelivery consults the ledger, which holds the old queue's seq 3.
    app.behaviour.down = true;
    await send(fx.sqs, fx.queueUrl, [{ sourceId: 'rc', body: 'new-1' }]);
    relay = await startTestRelay(fx.config({ targetUrl: app.url, targetAuthHeader: 'Bearer s3cret' }));
    expect(relay.facts.id).not.toBe(oldId);
    await waitFor('first attempt on the new queue', () => app.records.length >= 4);
    app.behaviour.down = false;
    await waitFor('new message delivered', () => app.records.some((r) => r.body === 'new-1' && r.status === 200), 15_000);
    const keys = app.records.filter((r) => r.status === 200).map((r) => r.idempotencyKey);
    expect(new Set(keys).size).toBe(4);
    await waitFor('queue empty', async () => (await messagesLeft(fx)) === 0);
  });
});
