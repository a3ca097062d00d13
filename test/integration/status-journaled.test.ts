import { Registry } from 'prom-client';
import { DynamoJournal, sha256 } from '../../src/adapters/journal';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import { SourceStatusReader } from '../../src/adapters/source-status';
import { formatList, formatStory } from '../../src/cli/status';
import { CommandSourceControl } from '../../src/demo/source-control';
import { renderStatusPage } from '../../src/observability/status-page';
import type { StatusView } from '../../src/observability/status-view';
import { registerTableGauges } from '../../src/observability/table-metrics';
import { TableStatusCache } from '../../src/observability/table-status';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';
import { SourceItems } from '../support/source-items';

const DAY = 86_400_000;
const RETENTION_S = 14 * 86_400;
const thresholds = { attempts: 5, afterMs: 15 * 60_000 };
let fx: Fixture;
let reader: SourceStatusReader;
let items: SourceItems;

const producer = (n: bigint) => ({ kind: 'producer' as const, value: n, text: String(n), key: String(n), sqs: n, queueId: 'q@1' });

/** A source whose head failed, then was parked by an operator before any worker journaled the head. */
async function failThenPark(sourceId: string, position: bigint, headSeq: string, leftMs: number): Promise<void> {
  const now = Date.now();
  const ledger = new DynamoLedger(fx.dynamo, fx.table);
  await ledger.advance(sourceId, producer(position), `m-${position}`, now);
  await ledger.recordFailure(sourceId, {
    messageId: `head-${sourceId}`, seq: headSeq, attempt: 3, error: 'HTTP 500: boom', lastStatus: 500,
    atMs: now - 60_000, nextAttemptAtMs: now + 120_000, headSentAt: now + leftMs - RETENTION_S * 1000, retentionDeadlineAt: now + leftMs,
  });
  await new CommandSourceControl(fx.dynamo, fx.table, 'alice').park(sourceId, 'incident');
}

function page(list: Awaited<ReturnType<SourceStatusReader['list']>>): string {
  const view = {
    generatedAt: Date.now(),
    task: { inFlightSources: 0, heldMessages: 0, retryingSources: 0, stopping: false, breaker: 'closed', retrying: [] },
    flow: { state: 'closed' },
    throughput: { perSecond10s: 0, perSecond60s: 0, deliveredSinceStart: 0 },
    health: { app: { state: 'ok', failingSources: 0, breakers: { closed: 0, holding: 0, ramping: 0, tasks: 0 } }, tasks: [] },
    table: { readAt: Date.now(), ageMs: 0, thresholds, counts: list.counts, truncated: false, sources: list.sources },
    retentionSeconds: RETENTION_S,
  } as unknown as StatusView;
  return renderStatusPage(view);
}

const cell = (html: string, sourceId: string) => /<td class="num retention">(.*?)<\/td>/.exec(html.split(`data-source="${sourceId}"`)[1] ?? '')?.[1] ?? '';

async function leastRetentionGauge(): Promise<number> {
  const registry = new Registry();
  registerTableGauges(registry, new TableStatusCache(reader, { thresholds, refreshMs: 0 }), RETENTION_S);
  const text = await registry.metrics();
  return Number(/^fifo_relay_least_retention_left_seconds (\S+)$/m.exec(text)?.[1]);
}

beforeAll(async () => {
  fx = await freshQueueAndTable('journaled');
  reader = new SourceStatusReader(fx.dynamo, fx.table);
  items = new SourceItems(fx.dynamo, fx.table);
});
afterAll(() => fx.close());

describe('"journaled" is shown only for a head the journal holds', () => {
  it('right after a park, before the head is journaled: time left everywhere, and the gauge counts it', async () => {
    await failThenPark('held-1', 4n, '5', 13 * DAY);
    const list = await reader.list(thresholds, Date.now());
    const row = list.sources.find((s) => s.sourceId === 'held-1');
    expect(row?.condition).toBe('parked');
    expect(row?.headJournaled).toBe(false);
    expect(row?.retentionLeftMs).toBeGreaterThan(12.9 * DAY);
    expect(cell(page(list), 'held-1')).toBe('13.0d');
    expect(formatList(list, thresholds, Date.now()).find((l) => l.startsWith('held-1'))).toMatch(/^held-1\s+PARKED\s+\S+\s+3\s+5\s+500\s+13\.0d\s+incident \(alice\)$/);
    expect(await leastRetentionGauge()).toBeLessThan(13 * 86_400 + 60);

    const story = await reader.describe('held-1', thresholds, Date.now());
    expect(story?.source.headJournaled).toBe(false);
    const lines = formatStory(story!, Date.now()).join('\n');
    expect(lines).toMatch(/^retention\s+not journaled yet: SQS deletes the head in 13\.0d \(at \S+Z\)/m);
  });

  it('a parked seq-regression head (never journaled) shows its time left, not "journaled"', async () => {
    await failThenPark('regress-1', 5n, '1', 2 * DAY);
    const list = await reader.list(thresholds, Date.now());
    expect(cell(page(list), 'regress-1')).toMatch(/^(<span class="[^"]*">)?2\.0d/);
    expect(await leastRetentionGauge()).toBeLessThan(2 * 86_400 + 60);
  });

  it('once the journal holds the head (same message), "journaled" and no time left', async () => {
    await items.journal('held-1', 5n, '{"n":5}', { messageId: 'head-held-1' });
    const list = await reader.list(thresholds, Date.now());
    const row = list.sources.find((s) => s.sourceId === 'held-1');
    expect(row?.headJournaled).toBe(true);
    expect(row?.retentionLeftMs).toBeUndefined();
    expect(cell(page(list), 'held-1')).toBe('<span class="muted">journaled</span>');
    expect(formatList(list, thresholds, Date.now()).find((l) => l.startsWith('held-1'))).toMatch(/^held-1\s+PARKED\s+\S+\s+3\s+5\s+500\s+journaled\s+incident/);
    const story = await reader.describe('held-1', thresholds, Date.now());
    expect(formatStory(story!, Date.now()).join('\n')).toMatch(/^retention\s+head seq 5 is journaled: SQS retention no longer applies to it$/m);
  });

  it('a different message journaled at the head\'s seq does not count as the head', async () => {
    await failThenPark('other-1', 1n, '2', 5 * DAY);
    await items.journal('other-1', 2n, '{"n":2}', { messageId: 'not-the-head' });
    const row = (await reader.list(thresholds, Date.now())).sources.find((s) => s.sourceId === 'other-1');
    expect(row?.headJournaled).toBe(false);
    expect(row?.retentionLeftMs).toBeGreaterThan(4.9 * DAY);
  });

  it('a seq-less head (journaled at its receive key) shows "journaled", found by its message id', async () => {
    const sqsSeq = 18_000_000_000_000_000_123n;
    await failThenPark('seqless-1', 1n, String(sqsSeq), 6 * DAY);
    expect((await reader.list(thresholds, Date.now())).sources.find((s) => s.sourceId === 'seqless-1')?.headJournaled).toBe(false);
    const seq = { kind: 'sqs' as const, value: sqsSeq, text: String(sqsSeq), key: `q1.${sqsSeq}`, sqs: sqsSeq, queueId: 'arn:aws:sqs:us-east-1:000000000000:q.fifo@1700000000' };
    await new DynamoJournal(fx.dynamo, fx.table).put({
      sourceId: 'seqless-1', seq, messageId: 'head-seqless-1', contentType: 'application/json', body: '{}', bodySha256: sha256('{}'), sentAt: 1, firstSeenAt: 1, journaledAt: 1,
    });
    const row = (await reader.list(thresholds, Date.now())).sources.find((s) => s.sourceId === 'seqless-1');
    expect(row?.headJournaled).toBe(true);
    expect(row?.retentionLeftMs).toBeUndefined();
  });

  it('a head the lane marked journaled (headJournaledAt) counts as journaled without a journal read', async () => {
    await failThenPark('marked-1', 1n, '2', 5 * DAY);
    await new DynamoSourceControl(fx.dynamo, fx.table).markHeadJournaled('marked-1', 'head-marked-1', Date.now());
    const row = (await reader.list(thresholds, Date.now())).sources.find((s) => s.sourceId === 'marked-1');
    expect(row?.headJournaled).toBe(true);
  });
});
