import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startMrecPair, type MrecPair } from '../support/mrec-pair';

// The simulator is what multi-region tests rest on: each MREC behaviour a program must survive is
// shown here on two real DynamoDB Locals, so a test that passes on it has met that behaviour.
jest.setTimeout(120_000);

let pair: MrecPair;
const key = (pk: string, sk = 'ledger') => ({ pk: { S: pk }, sk: { S: sk } });

async function get(c: DynamoDBClient, pk: string, sk = 'ledger') {
  const out = await c.send(new GetItemCommand({ TableName: pair.table, Key: key(pk, sk), ConsistentRead: true }));
  return out.Item;
}

async function until(check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Scripted delays: each change takes the next value (0..1 of the delay range), so a test can make
// one change overtake another.
const script: number[] = [];
beforeAll(async () => {
  pair = await startMrecPair({ delayMs: { min: 100, max: 2000 }, pollMs: 20, random: () => script.shift() ?? 0 });
});
afterAll(async () => {
  await pair?.stop();
});

test('a change reaches the other region only after its delay, deletes too, and nothing echoes back', async () => {
  script.push(0.5); // about 1 s
  await pair.a.client.send(new PutItemCommand({ TableName: pair.table, Item: { ...key('s1'), v: { N: '1' } } }));
  await new Promise((r) => setTimeout(r, 300));
  expect(await get(pair.b.client, 's1')).toBeUndefined();
  await until(async () => (await get(pair.b.client, 's1'))?.v?.N === '1');
  await pair.b.client.send(new DeleteItemCommand({ TableName: pair.table, Key: key('s1') }));
  await until(async () => (await get(pair.a.client, 's1')) === undefined);
  await pair.replicator.settled();
  const before = pair.replicator.stats();
  await new Promise((r) => setTimeout(r, 500));
  expect(pair.replicator.stats().applied).toEqual(before.applied);
  expect(before.seen).toEqual({ 'eu-west-1': 1, 'us-east-1': 1 });
});

test('items replicate independently: a later change to another item can arrive first', async () => {
  script.push(1, 0); // first change waits the longest, second the shortest
  await pair.a.client.send(new PutItemCommand({ TableName: pair.table, Item: { ...key('s2', 'j#1'), body: { S: 'one' } } }));
  await pair.a.client.send(new PutItemCommand({ TableName: pair.table, Item: { ...key('s2', 'j#2'), body: { S: 'two' } } }));
  await until(async () => (await get(pair.b.client, 's2', 'j#2')) !== undefined);
  expect(await get(pair.b.client, 's2', 'j#1')).toBeUndefined();
  await until(async () => (await get(pair.b.client, 's2', 'j#1')) !== undefined);
});

test('last writer wins on the whole item: the older region loses the attribute it changed', async () => {
  await pair.a.client.send(new PutItemCommand({ TableName: pair.table, Item: { ...key('s3'), position: { N: '5' }, state: { S: 'active' } } }));
  await pair.replicator.settled();
  pair.replicator.partition(true);
  // A advances the position; B, later, parks the source: different attributes of one item.
  await pair.a.client.send(new UpdateItemCommand({ TableName: pair.table, Key: key('s3'), UpdateExpression: 'SET #p = :p', ExpressionAttributeNames: { '#p': 'position' }, ExpressionAttributeValues: { ':p': { N: '6' } } }));
  await new Promise((r) => setTimeout(r, 100));
  await pair.b.client.send(new UpdateItemCommand({ TableName: pair.table, Key: key('s3'), UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'state' }, ExpressionAttributeValues: { ':s': { S: 'parked' } } }));
  pair.replicator.partition(false);
  await pair.replicator.settled();
  const [ia, ib] = [await get(pair.a.client, 's3'), await get(pair.b.client, 's3')];
  expect(ia).toEqual(ib);
  // The newer whole item (B's) replaced A's: A's advance to 6 is gone in both regions.
  expect(ib?.position?.N).toBe('5');
  expect(ib?.state?.S).toBe('parked');
  expect(pair.replicator.stats().overwritten['us-east-1']).toBeGreaterThanOrEqual(1);
});

test('a conditional put is checked only locally: both regions win the same key, one body disappears', async () => {
  pair.replicator.partition(true);
  const claim = (c: DynamoDBClient, body: string) =>
    c.send(new PutItemCommand({ TableName: pair.table, Item: { ...key('s4', 'j#7'), body: { S: body } }, ConditionExpression: 'attribute_not_exists(pk)' }));
  await claim(pair.a.client, 'from A');
  await new Promise((r) => setTimeout(r, 100));
  await claim(pair.b.client, 'from B');
  pair.replicator.partition(false);
  await pair.replicator.settled();
  const [ia, ib] = [await get(pair.a.client, 's4', 'j#7'), await get(pair.b.client, 's4', 'j#7')];
  expect(ia).toEqual(ib);
  expect(ib?.body?.S).toBe('from B');
});

test('a one-way cut holds changes until it heals, then delivers them all', async () => {
  pair.replicator.setLink('eu-west-1', 'us-east-1', false);
  for (let i = 0; i < 20; i++) await pair.a.client.send(new PutItemCommand({ TableName: pair.table, Item: { ...key('s5', `j#${i}`), n: { N: String(i) } } }));
  await pair.b.client.send(new PutItemCommand({ TableName: pair.table, Item: { ...key('s5b'), n: { N: '1' } } }));
  await until(async () => (await get(pair.a.client, 's5b')) !== undefined);
  await new Promise((r) => setTimeout(r, 2500));
  expect(pair.replicator.stats().pending['us-east-1']).toBe(20);
  expect(await get(pair.b.client, 's5', 'j#0')).toBeUndefined();
  pair.replicator.setLink('eu-west-1', 'us-east-1', true);
  await pair.replicator.settled();
  for (let i = 0; i < 20; i++) expect((await get(pair.b.client, 's5', `j#${i}`))?.n?.N).toBe(String(i));
});

test('a local write that lands while its older remote change is on the way is kept', async () => {
  script.push(0.6);
  await pair.a.client.send(new PutItemCommand({ TableName: pair.table, Item: { ...key('s6'), v: { S: 'A-old' } } }));
  await new Promise((r) => setTimeout(r, 150));
  await pair.b.client.send(new PutItemCommand({ TableName: pair.table, Item: { ...key('s6'), v: { S: 'B-new' } } }));
  await pair.replicator.settled();
  expect((await get(pair.a.client, 's6'))?.v?.S).toBe('B-new');
  expect((await get(pair.b.client, 's6'))?.v?.S).toBe('B-new');
});

test('under concurrent writes to the same items from both regions, the replicas converge', async () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const writers = [pair.a.client, pair.b.client].map(async (c, w) => {
    for (let i = 0; i < 150; i++) {
      const k = key('s7', `k#${Math.floor(rnd() * 6)}`);
      if (rnd() < 0.15) await c.send(new DeleteItemCommand({ TableName: pair.table, Key: k }));
      else await c.send(new PutItemCommand({ TableName: pair.table, Item: { ...k, w: { N: String(w) }, i: { N: String(i) } } }));
      if (rnd() < 0.3) await new Promise((r) => setTimeout(r, rnd() * 40));
    }
  });
  await Promise.all(writers);
  await pair.replicator.settled();
  const all = async (c: DynamoDBClient) => (await c.send(new QueryCommand({ TableName: pair.table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: 's7' } }, ConsistentRead: true }))).Items ?? [];
  const [ia, ib] = [await all(pair.a.client), await all(pair.b.client)];
  expect(ia.length).toBeGreaterThan(0);
  expect(ia).toEqual(ib);
});
