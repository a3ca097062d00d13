import { DynamoJournal } from '../../src/adapters/journal';
import { DynamoAsideStore as DynamoAside } from '../../src/adapters/aside-store';
import type { AutoAsideEntry as AsideEntry } from '../../src/adapters/journal-aside';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { SourceStatusReader } from '../../src/adapters/source-status';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

const entry = (over: Partial<AsideEntry> = {}): AsideEntry => ({
  sourceId: 'R',
  messageId: 'm-late',
  reason: 'seq-regression',
  detail: 'seq went backwards: 1 arrived after 5 was delivered',
  body: '{"n":1}',
  contentType: 'application/json',
  seqText: '1',
  sqsSeq: 1010n,
  queueId: 'arn:aws:sqs:us-east-1:000000000000:q.fifo@1',
  sentAt: 1,
  firstSeenAt: 2,
  asideAt: 3,
  ...over,
});

describe('a head put aside on DynamoDB Local', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('aside');
  });
  afterAll(() => fx.close());

  it('is put once (a second holder finds it), and the journal and its count never see it', async () => {
    const aside = new DynamoAside(fx.dynamo, fx.table);
    const journal = new DynamoJournal(fx.dynamo, fx.table);
    expect(await aside.putAside(entry())).toBe('written');
    expect(await aside.putAside(entry())).toBe('exists');
    expect(await journal.count('R')).toBe(0);
    expect(await journal.above('R', undefined, 10)).toEqual([]);
    await expect(aside.putAside(entry({ messageId: 'big', body: 'x'.repeat(400_000) }))).rejects.toThrow(/too large to put aside/);
  });

  it('does not disturb the story of its source', async () => {
    await new DynamoLedger(fx.dynamo, fx.table).advance('R', { kind: 'producer', value: 5n, text: '5', key: '5', sqs: 1005n, queueId: entry().queueId }, 'm-5', 1);
    const status = new SourceStatusReader(fx.dynamo, fx.table);
    const story = await status.describe('R', { attempts: 5, afterMs: 60_000 }, Date.now());
    expect(story?.source.producerSeq).toBe('5');
    expect(story?.journal.entries).toBe(0);
  });
});
