import { PRODUCER_CLAIM_GRACE_MS, Replayer } from '../../src/worker/replayer';
import { parkSource, unparkSource } from '../../src/cli/source-actions';
import { ScriptedApp, ok } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';

const ports = (t: MemorySourceTable) => ({ control: t.control, journal: t, audit: t });
const act = { actor: 'op', reason: 'test' };
// queueId '' and sqs 0: written by a producer before SQS numbered it (docs/producer.md).
const entry = (i: number, queueId: string, journaledAt: number) => ({
  sourceId: 'A',
  seq: { kind: 'producer' as const, value: BigInt(i), text: String(i), key: String(i), sqs: queueId === '' ? 0n : BigInt(i), queueId },
  messageId: `m${i}`,
  contentType: 'text/plain',
  body: `a${i}`,
  bodySha256: `h${i}`,
  sentAt: journaledAt,
  firstSeenAt: journaledAt,
  journaledAt,
});

describe('the replayer and a producer claim still being filled', () => {
  it('stops before a producer entry younger than the grace and delivers it once it is older, in order', async () => {
    const table = new MemorySourceTable();
    let t = 1_000_000;
    table.touch('A');
    await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: t });
    await table.put(entry(1, '', 1)); // a producer's claim made long ago
    await table.put(entry(2, '', t)); // a producer's claim, just made
    await table.put(entry(3, '', 1));
    await unparkSource(ports(table), { sourceId: 'A', ...act, nowMs: t, dryRun: false, limit: 10 });
    const app = new ScriptedApp(() => ok());
    const r = new Replayer({ ...ports(table), ledger: table, app, now: () => t, listReplaying: async () => ['A'] }, { owner: 'r1', leaseMs: 30_000, pollMs: 10, batch: 5, maxBackoffMs: 100, sliceMs: 3_600_000 });

    t += 1_000;
    expect(await r.replay('A')).toBe('yielded');
    expect(app.seqsOf('A')).toEqual([1]);
    expect(table.entriesOf('A').map((e) => e.seq.text)).toEqual(['2', '3']);

    t += PRODUCER_CLAIM_GRACE_MS;
    expect(await r.replay('A')).toBe('done');
    expect(app.seqsOf('A')).toEqual([1, 2, 3]);
  });
});
