import { DynamoAuditLog } from '../../src/adapters/audit-log';
import { DynamoJournal, JournalConflictError, entryFromMessage, sha256 } from '../../src/adapters/journal';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import type { RelayMessage, Sequence } from '../../src/core/message';
import type { RunningRelay } from '../../src/relay';
import { ParkingPath } from '../../src/worker/journal-path';
import { freshQueueAndTable, messagesLeft, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';
import { startPoisonApp } from '../support/poison-app';

const QID = 'arn:aws:sqs:us-east-1:000000000000:q.fifo@1';
const seq = (n: number): Sequence => ({ kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: BigInt(1000 + n), queueId: QID });
const msg = (sourceId: string, n: number, body = `body-${n}`): RelayMessage => ({
  messageId: `m-${n}`,
  receiptHandle: 'h',
  sourceId,
  seq: seq(n),
  body,
  contentType: 'application/json',
  receiveCount: 2,
  firstReceivedAt: 1,
  sentAt: Date.now() - 100_000,
  trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
});
const act = (expectVersion: number) => ({ actor: 'op', reason: 'r', nowMs: Date.now(), expectVersion });

describe('conditional writes of park/journal/replay racing on DynamoDB Local', () => {
  let fx: Fixture;
  let control: DynamoSourceControl;
  let journal: DynamoJournal;
  let ledger: DynamoLedger;
  let audit: DynamoAuditLog;
  beforeAll(async () => {
    fx = await freshQueueAndTable('races');
    control = new DynamoSourceControl(fx.dynamo, fx.table);
    journal = new DynamoJournal(fx.dynamo, fx.table);
    ledger = new DynamoLedger(fx.dynamo, fx.table);
    audit = new DynamoAuditLog(fx.dynamo, fx.table);
  });
  afterAll(() => fx.close());

  const path = () => new ParkingPath({ control, journal, audit }, { retentionSeconds: 120, retentionParkShare: 0.5 }, Date.now);

  it('a worker whose visibility lapsed journals the same message as the new holder: one entry, both may delete; a different body is a loud conflict', async () => {
    await ledger.advance('V', seq(0), 'm-0', 1);
    expect((await control.park('V', act(0))).ok).toBe(true);
    const [first, second] = await Promise.all([path().journal(msg('V', 1)), path().journal(msg('V', 1))]);
    expect([first, second].map((r) => r.kind)).toEqual(['journaled', 'journaled']);
    expect(await journal.count('V')).toBe(1);
    expect((await control.read('V')).journalVersion).toBe(2);
    await expect(journal.put(entryFromMessage(msg('V', 1, 'another body'), Date.now()))).rejects.toThrow(JournalConflictError);
    expect((await path().journal(msg('V', 1, 'another body'))).kind).toBe('error');
  });

  it('the journal bump fails on an active or closing source and returns the state to act on', async () => {
    await ledger.advance('B', seq(4), 'm-4', 1);
    const r = await path().journal(msg('B', 5));
    expect(r).toEqual({ kind: 'deliver', position: expect.objectContaining({ producerSeq: 4n }) });
    expect((await path().journal(msg('B', 3))).kind).toBe('duplicate');
  });

  it('a paused replayer cannot close or reopen a source that was parked again; two replayers never hold one lease', async () => {
    await ledger.advance('R', seq(0), 'm-0', 1);
    expect((await control.park('R', act(0))).ok).toBe(true);
    expect((await control.unpark('R', act(1))).ok).toBe(true);
    const now = Date.now();
    expect((await control.acquireReplay('R', { owner: 'task-1', nowMs: now, leaseMs: 30_000, expectVersion: 2 })).ok).toBe(true);
    expect((await control.acquireReplay('R', { owner: 'task-2', nowMs: now, leaseMs: 30_000, expectVersion: 2 })).ok).toBe(false);
    // A worker appends while the replayer looked at an empty journal: closing on the old journalVersion fails.
    const jv = (await control.read('R')).journalVersion;
    expect((await path().journal(msg('R', 1))).kind).toBe('journaled');
    const stale = await control.toClosing('R', { owner: 'task-1', nowMs: now, expectVersion: 2, expectJournalVersion: jv });
    expect(stale).toMatchObject({ ok: false, control: { state: 'replaying', journalVersion: jv + 1 } });
    // The operator parks again; the paused replayer's next steps all fail.
    expect((await control.park('R', act(2))).ok).toBe(true);
    expect((await control.toClosing('R', { owner: 'task-1', nowMs: now, expectVersion: 2, expectJournalVersion: jv + 1 })).ok).toBe(false);
    expect((await control.toActive('R', { owner: 'task-1', expectVersion: 2 })).ok).toBe(false);
    expect((await control.read('R')).state).toBe('parked');
    // A 2xx that lands now is still recorded (rule 2: advance is never conditioned on park state).
    expect((await ledger.advance('R', seq(1), 'm-1', 2)).status).toBe('advanced');
  });

  it('the watchdog against a success landing at the same moment: the success wins and the source stays active', async () => {
    await ledger.advance('W', seq(0), 'm-0', 1);
    const before = await control.read('W');
    expect((await ledger.advance('W', seq(1), 'm-1', 2)).status).toBe('advanced');
    const parked = await control.autoPark('W', { ...act(before.controlVersion), position: before.position });
    expect(parked).toMatchObject({ ok: false, control: { state: 'active' } });
    // Without the race it parks, and one write also counts the head's journal entry.
    const now = await control.read('W');
    expect((await control.autoPark('W', { ...act(now.controlVersion), position: now.position })).ok).toBe(true);
    expect(await control.read('W')).toMatchObject({ state: 'parked', journalVersion: 1, controlVersion: 1 });
    expect(await control.listInState('parked')).toContain('W');
  });

  it('a body larger than an item (900 KB) is journaled in chunks and read back byte for byte', async () => {
    await ledger.advance('C', seq(0), 'm-0', 1);
    await control.park('C', act(0));
    const body = 'ü✓'.repeat(150_000) + 'x'.repeat(300_000);
    expect(Buffer.byteLength(body)).toBeGreaterThan(900_000);
    expect((await path().journal(msg('C', 1, body))).kind).toBe('journaled');
    expect(await journal.count('C')).toBe(1);
    const [entry] = await journal.above('C', (await control.read('C')).position, 10);
    expect(entry?.body.length).toBe(body.length);
    expect(entry?.bodySha256).toBe(sha256(body));
    expect(entry?.body === body).toBe(true);
    await journal.remove(entry!);
    expect(await journal.above('C', undefined, 10)).toEqual([]);
  });
});

describe('retention watchdog on a queue with a 60 s retention', () => {
  let fx: Fixture;
  let relay: RunningRelay | undefined;
  afterEach(async () => {
    await relay?.stop(1000);
    fx.close();
  });

  it('parks a source whose failing head reaches the configured share of the retention: journaled, audited, gone from SQS', async () => {
    fx = await freshQueueAndTable('watchdog', { FifoQueue: 'true', ContentBasedDeduplication: 'false', MessageRetentionPeriod: '60' });
    const app = await startPoisonApp(new Set(['old']));
    try {
      await send(fx.sqs, fx.queueUrl, [1, 2].map((n) => ({ sourceId: 'old', seq: n, body: `b${n}` })));
      // 10% of 60 s: parked 6 s after it was sent, long before SQS would delete it.
      relay = await startTestRelay(fx.config({ targetUrl: app.url, retryMaxSeconds: 1, retentionParkShare: 0.1 }));
      expect(relay.facts.retentionSeconds).toBe(60);
      const control = new DynamoSourceControl(fx.dynamo, fx.table);
      await waitFor('auto-parked', async () => (await control.read('old')).state === 'parked', 30_000);
      expect((await control.read('old')).stateActor).toBe('fifo-relay watchdog');
      await waitFor('both journaled, none left in SQS', async () => (await new DynamoJournal(fx.dynamo, fx.table).count('old')) === 2 && (await messagesLeft(fx)) === 0);
      const audit = await new DynamoAuditLog(fx.dynamo, fx.table).list('old');
      expect(audit).toEqual([expect.objectContaining({ action: 'auto-park', actor: 'fifo-relay watchdog', reason: expect.stringContaining('60 s retention') })]);
      const metrics = await (await fetch(`http://127.0.0.1:${relay.server.port}/metrics`)).text();
      expect(metrics).toMatch(/^fifo_relay_auto_parks_total 1$/m);
    } finally {
      await app.close();
    }
  });
});
