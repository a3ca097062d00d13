import { BatchWriteItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoAuditLog, type AuditPort } from '../../src/adapters/audit-log';
import type { AppPort, DeliveryOutcome } from '../../src/adapters/http-app';
import { DynamoJournal, entryFromMessage, type JournalEntry } from '../../src/adapters/journal';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import { ledgerKey, PK, SK } from '../../src/adapters/table-keys';
import { skipHead } from '../../src/cli/source-actions';
import type { RelayMessage, Sequence } from '../../src/core/message';
import { Replayer } from '../../src/worker/replayer';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

const Q = 'arn:aws:sqs:us-east-1:000000000000:records.fifo@1700000000';
const producer = (n: bigint): Sequence => ({ kind: 'producer', value: n, text: String(n), key: String(n), sqs: 1000n + n, queueId: Q });
const message = (sourceId: string, seq: Sequence): RelayMessage => ({
  messageId: `m-${seq.text}`,
  receiptHandle: 'h',
  sourceId,
  seq,
  body: `body-${seq.text}`,
  contentType: 'application/json',
  receiveCount: 1,
  firstReceivedAt: 1,
  sentAt: 1,
  trace: {},
});
const failing: AppPort = { deliver: async () => ({ kind: 'http-error', status: 500, durationMs: 1, detail: 'HTTP 500: app broken' }) as DeliveryOutcome };
const accepting: AppPort = { deliver: async () => ({ kind: 'success', status: 200, durationMs: 1 }) };

describe('what replay and skip leave on the table (DynamoDB Local)', () => {
  let fx: Fixture;
  let journal: DynamoJournal;
  let control: DynamoSourceControl;
  let ledger: DynamoLedger;
  let audit: DynamoAuditLog;
  beforeAll(async () => {
    fx = await freshQueueAndTable('replay-records');
    journal = new DynamoJournal(fx.dynamo, fx.table);
    control = new DynamoSourceControl(fx.dynamo, fx.table);
    ledger = new DynamoLedger(fx.dynamo, fx.table);
    audit = new DynamoAuditLog(fx.dynamo, fx.table);
  });
  afterAll(() => fx.close());

  const act = () => ({ actor: 'op', reason: 'test', nowMs: Date.now() });
  const item = async (sourceId: string) => (await fx.dynamo.send(new GetItemCommand({ TableName: fx.table, Key: ledgerKey(sourceId), ConsistentRead: true }))).Item ?? {};
  async function parked(sourceId: string, seqs: Sequence[]): Promise<void> {
    await ledger.advance(sourceId, producer(1n), 'm-1', Date.now());
    expect((await control.park(sourceId, { ...act(), expectVersion: (await control.read(sourceId)).controlVersion })).ok).toBe(true);
    for (const s of seqs) await journal.put(entryFromMessage(message(sourceId, s), Date.now()));
  }
  const unpark = async (sourceId: string) => expect((await control.unpark(sourceId, { ...act(), expectVersion: (await control.read(sourceId)).controlVersion })).ok).toBe(true);
  const replayer = (app: AppPort, sourceId: string, a: AuditPort = audit) =>
    new Replayer({ control, journal, ledger, audit: a, app, listReplaying: async () => [sourceId] }, { owner: 'r1', leaseMs: 30_000, pollMs: 50, batch: 25, maxBackoffMs: 0 });

  it('a replay that keeps failing records its last error, head and attempts on the source item; the return to active clears them', async () => {
    await parked('failing', [producer(2n)]);
    await unpark('failing');
    const r = replayer(failing, 'failing');
    await r.pass();
    await r.pass();

    const failed = await item('failing');
    expect(failed.state?.S).toBe('replaying');
    expect(failed.replayLastError?.S).toContain('HTTP 500: app broken');
    expect(failed.replayHeadSeq?.S).toBe('2');
    expect(failed.replayAttempts?.N).toBe('2');
    expect(Number(failed.replayFailedAt?.N)).toBeGreaterThan(0);
    expect(failed.replayNextAttemptAt?.N).toBeDefined();

    expect(await replayer(accepting, 'failing').replay('failing')).toBe('done');
    const done = await item('failing');
    expect(done.state).toBeUndefined();
    expect(done.replayLastError).toBeUndefined();
    expect(done.replayAttempts).toBeUndefined();
  });

  it('listInState reads past the first 1,000 sources of a state', async () => {
    const ids = Array.from({ length: 1010 }, (_, i) => `many-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < ids.length; i += 25) {
      await fx.dynamo.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [fx.table]: ids.slice(i, i + 25).map((id, j) => ({
              PutRequest: { Item: { [PK]: { S: id }, [SK]: { S: 'ledger' }, state: { S: 'closing' }, listState: { S: 'closing' }, stateSince: { N: String(1_000 + i + j) } } },
            })),
          },
        }),
      );
    }
    const listed = await control.listInState('closing');
    expect(listed.length).toBe(1010);
    expect(new Set(listed)).toEqual(new Set(ids));
  });

  it('skip: the body survives a failure to mark the entry after the skip write, and a crash before the audit record still leaves a trace', async () => {
    await parked('skip-record', [producer(2n), producer(3n)]);
    // The journal write after the skip fails (and so would a markSkipped without a step).
    const flaky = Object.create(journal) as DynamoJournal;
    flaky.markSkipped = async (e: JournalEntry, nowMs: number, actor: string, step?: 'pending' | 'done') => {
      if (step !== 'pending') throw new Error('throttled');
      return journal.markSkipped(e, nowMs, actor, step);
    };
    // The audit write never happens (the process dies before it).
    const dead: AuditPort = { record: async () => Promise.reject(new Error('killed')), list: async () => [] };
    const r = await skipHead({ control, journal: flaky, audit: dead }, { sourceId: 'skip-record', seq: '2', quietMs: 0, ...act() });
    expect(r.ok).toBe(true);

    const trace = await item('skip-record');
    expect(trace.lastSkipSeq?.S).toBe('2');
    expect(trace.lastSkipMessageId?.S).toBe('m-2');
    expect(trace.lastSkipActor?.S).toBe('op');

    await unpark('skip-record');
    expect(await replayer(accepting, 'skip-record').replay('skip-record')).toBe('done');
    // Seq 3 was delivered and removed; the skipped body of seq 2 is still there.
    const left = await journal.covered('skip-record', (await control.read('skip-record')).position, 10);
    expect(left.map((e) => e.seq.text)).toEqual(['2']);
    expect(left[0]?.body).toBe('body-2');
  });
});
