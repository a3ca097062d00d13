import { ParkingPath } from '../../src/worker/journal-path';
import { parkSource } from '../../src/cli/source-actions';
import type { RelayMessage } from '../../src/core/message';
import { QUEUE_ID } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';

const msg = (sourceId: string, n: number): RelayMessage => ({
  messageId: `m-${n}`,
  receiptHandle: 'h',
  sourceId,
  seq: { kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: BigInt(100 + n), queueId: QUEUE_ID },
  body: `b${n}`,
  contentType: 'text/plain',
  receiveCount: 1,
  firstReceivedAt: 1,
  sentAt: Date.now() - 1000,
  trace: {},
});

describe('journalAndPark: the seam for a watchdog outside the lanes', () => {
  const setup = () => {
    const table = new MemorySourceTable();
    const ports = { control: table.control, journal: table, audit: table };
    return { table, ports, path: new ParkingPath(ports, { retentionSeconds: 100, retentionParkShare: 0.75 }, Date.now) };
  };

  it('an active source: the message is journaled and the source parked, audited', async () => {
    const { table, path } = setup();
    table.touch('A');
    expect(await path.journalAndPark(msg('A', 1), 'queue guard: oldest message past the park share')).toBe('parked');
    expect(table.snapshot('A')).toMatchObject({ state: 'parked', journalVersion: 1 });
    expect(table.entriesOf('A').map((e) => e.seq.text)).toEqual(['1']);
    expect(table.audits.map((a) => a.action)).toEqual(['auto-park']);
  });

  it('a parked source takes it by rule 4; a covered one is a duplicate', async () => {
    const { table, ports, path } = setup();
    table.touch('B');
    await parkSource(ports, { sourceId: 'B', actor: 'op', reason: 'r', nowMs: Date.now() });
    expect(await path.journalAndPark(msg('B', 2), 'guard')).toBe('journaled');
    expect(table.snapshot('B').journalVersion).toBe(1);
    await table.advance('C', msg('C', 5).seq);
    expect(await path.journalAndPark(msg('C', 5), 'guard')).toBe('duplicate');
    expect(table.snapshot('C').state).toBe('active');
  });
});
