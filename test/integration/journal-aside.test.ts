import { DynamoJournal } from '../../src/adapters/journal';
import { DynamoAsideStore as DynamoAside } from '../../src/adapters/aside-store';
import type { AutoAsideEntry as AsideEntry } from '../../src/adapters/journal-aside';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { SourceStatusReader } from '../../src/adapters/source-status';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import { formatStory } from '../../src/cli/status';
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
  });

  it('a body larger than one item holds is put aside in chunks and listed whole, byte for byte', async () => {
    const aside = new DynamoAside(fx.dynamo, fx.table);
    const body = 'é'.repeat(200_000) + '\u{1F600}'.repeat(50_000) + 'end';
    expect(await aside.putAside(entry({ sourceId: 'BIG', messageId: 'big', body }))).toBe('written');
    expect(await aside.putAside(entry({ sourceId: 'BIG', messageId: 'big', body }))).toBe('exists');
    const listed = await aside.list('BIG');
    expect(listed).toHaveLength(1);
    expect(listed[0]?.body.length).toBe(body.length);
    expect(listed[0]?.body === body).toBe(true);
    expect(await new DynamoJournal(fx.dynamo, fx.table).count('BIG')).toBe(0);
  });

  it('does not disturb the story of its source', async () => {
    await new DynamoLedger(fx.dynamo, fx.table).advance('R', { kind: 'producer', value: 5n, text: '5', key: '5', sqs: 1005n, queueId: entry().queueId }, 'm-5', 1);
    const status = new SourceStatusReader(fx.dynamo, fx.table);
    const story = await status.describe('R', { attempts: 5, afterMs: 60_000 }, Date.now());
    expect(story?.source.producerSeq).toBe('5');
    expect(story?.journal.entries).toBe(0);
  });

  it('a put-aside head is marked on its item (no retention time left) and the story lists the aside items', async () => {
    const ledger = new DynamoLedger(fx.dynamo, fx.table);
    const queueId = entry().queueId;
    await ledger.advance('S', { kind: 'producer', value: 5n, text: '5', key: '5', sqs: 1005n, queueId }, 'm-5', 1);
    const now = Date.now();
    await ledger.recordFailure('S', {
      messageId: 'm-late-s', seq: '1', attempt: 3, error: 'seq went backwards: 1 arrived after 5 was delivered', atMs: now, nextAttemptAtMs: now + 1000,
      headSentAt: now - 90_000, retentionDeadlineAt: now - 1000, headSeq: { kind: 'sqs', value: 1010n, text: '1', key: '1', sqs: 1010n, queueId },
    });
    await new DynamoAside(fx.dynamo, fx.table).putAside(entry({ sourceId: 'S', messageId: 'm-late-s' }));
    const status = new SourceStatusReader(fx.dynamo, fx.table);
    const before = await status.describe('S', { attempts: 5, afterMs: 60_000 }, now);
    expect(before?.source.retentionLeftMs).toBeLessThan(0);
    const control = new DynamoSourceControl(fx.dynamo, fx.table);
    // Another head's id leaves the record alone; the head's own marks it.
    await control.markHeadAside('S', 'someone-else', now);
    expect((await status.describe('S', { attempts: 5, afterMs: 60_000 }, now))?.source.head?.asideAt).toBeUndefined();
    await control.markHeadAside('S', 'm-late-s', now);
    const story = await status.describe('S', { attempts: 5, afterMs: 60_000 }, now);
    expect(story?.source.head?.asideAt).toBe(now);
    expect(story?.source.retentionLeftMs).toBeUndefined();
    expect(story?.aside).toEqual({ count: 1, messageIds: ['m-late-s'] });
    const text = formatStory(story!, now).join('\n');
    expect(text).toMatch(/^aside\s+1 message\(s\) put aside .*: m-late-s$/m);
    expect(text).toMatch(/^retention\s+head m-late-s was put aside at /m);
    expect((await status.list({ attempts: 5, afterMs: 60_000 }, now)).sources.find((x) => x.sourceId === 'S')?.retentionLeftMs).toBeUndefined();
  });
});
