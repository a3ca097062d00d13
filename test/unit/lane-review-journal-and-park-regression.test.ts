import { ParkingPath } from '../../src/worker/journal-path';
import { parkSource } from '../../src/cli/source-actions';
import { isJournalEntryCovered } from '../../src/core/ledger-position';
import type { RelayMessage } from '../../src/core/message';
import { QUEUE_ID } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';

const msg = (n: number, sqs: number): RelayMessage => ({
  messageId: `m-${n}-${sqs}`, receiptHandle: 'h', sourceId: 'A',
  seq: { kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: BigInt(sqs), queueId: QUEUE_ID },
  body: `b${n}`, contentType: 'text/plain', receiveCount: 3, firstReceivedAt: 1, sentAt: Date.now() - 1000, trace: {},
});

it('journalAndPark holds a seq-regression message of a parked source instead of journaling it (replay would drop it as covered)', async () => {
  const table = new MemorySourceTable();
  const ports = { control: table.control, journal: table, audit: table };
  const path = new ParkingPath(ports, { retentionSeconds: 100, retentionParkShare: 0.75 }, Date.now);
  // seq 5 delivered at SequenceNumber 105; then the source is parked.
  await table.advance('A', msg(5, 105).seq);
  await parkSource(ports, { sourceId: 'A', actor: 'op', reason: 'r', nowMs: Date.now() });
  // A producer seq regression: seq 3 sent after seq 5 (SequenceNumber 110). The lane would hold it (route: 'regression').
  const late = msg(3, 110);
  const verdict = await path.journalAndPark(late, 'guard');
  const entry = table.entriesOf('A').find((e) => e.messageId === late.messageId);
  // eslint-disable-next-line no-console
  console.log(`journalAndPark -> ${verdict}; journal entry written: ${entry !== undefined}; covered by the position (replay deletes it undelivered): ${entry ? isJournalEntryCovered(entry.seq, table.positions.get('A')) : 'n/a'}`);
  // 'journaled' tells the caller to delete the SQS message: the body then lives only in an entry replay treats as delivered.
  expect(verdict).toBe('hold');
  expect(entry).toBeUndefined();
});

it('the watchdog at the park deadline does not journal a seq-regression head either', async () => {
  const table = new MemorySourceTable();
  const ports = { control: table.control, journal: table, audit: table };
  const path = new ParkingPath(ports, { retentionSeconds: 100, retentionParkShare: 0.75 }, Date.now);
  await table.advance('A', msg(5, 105).seq);
  const late = { ...msg(3, 110), sentAt: Date.now() - 90_000 };
  const verdict = await path.watch(late, 30);
  expect(verdict).toEqual({ kind: 'hold' });
  expect(table.entriesOf('A').find((e) => e.messageId === late.messageId)).toBeUndefined();
});
