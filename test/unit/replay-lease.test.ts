import { Replayer } from '../../src/worker/replayer';
import { parkSource, unparkSource } from '../../src/cli/source-actions';
import { QUEUE_ID, ScriptedApp, fail, ok } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';

const ports = (t: MemorySourceTable) => ({ control: t.control, journal: t, audit: t });
const act = { actor: 'op', reason: 'test' };

async function parkedWith(table: MemorySourceTable, n: number): Promise<void> {
  table.touch('A');
  await parkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now() });
  for (let i = 1; i <= n; i++) {
    await table.put({ sourceId: 'A', seq: { kind: 'producer', value: BigInt(i), text: String(i), key: String(i), sqs: BigInt(i), queueId: QUEUE_ID }, messageId: `m${i}`, contentType: 'text/plain', body: `a${i}`, bodySha256: `h${i}`, sentAt: 1, firstSeenAt: 1, journaledAt: 1 });
  }
  await unparkSource(ports(table), { sourceId: 'A', ...act, nowMs: Date.now(), dryRun: false, limit: 10 });
}

describe('the replayer on in-memory ports: lease, slices, failure records', () => {
  it('renews its lease while a long pass runs: no send happens on a lease another task could take', async () => {
    const table = new MemorySourceTable();
    await parkedWith(table, 12);
    let t = 1_000_000;
    const leaseLeftAtSend: number[] = [];
    const app = new ScriptedApp(() => {
      leaseLeftAtSend.push((table.states.get('A')?.replayLeaseUntil ?? 0) - t);
      t += 9_000; // each app call takes 9 s of a 30 s lease
      return ok();
    });
    const r = new Replayer({ ...ports(table), ledger: table, app, now: () => t, listReplaying: async () => ['A'] }, { owner: 'r1', leaseMs: 30_000, pollMs: 10, batch: 5, maxBackoffMs: 100, sliceMs: 3_600_000 });

    expect(await r.replay('A')).toBe('done');
    expect(app.seqsOf('A')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // At every send at least two thirds of the lease was left, so a call never outlives it.
    expect(Math.min(...leaseLeftAtSend)).toBeGreaterThanOrEqual(20_000);
  });

  it('gives up its turn after its time slice, and goes on where it stopped at the next call', async () => {
    const table = new MemorySourceTable();
    await parkedWith(table, 6);
    let t = 1_000_000;
    const app = new ScriptedApp(() => {
      t += 1_000;
      return ok();
    });
    const r = new Replayer({ ...ports(table), ledger: table, app, now: () => t, listReplaying: async () => ['A'] }, { owner: 'r1', leaseMs: 30_000, pollMs: 10, batch: 5, maxBackoffMs: 100, sliceMs: 2_500 });

    expect(await r.replay('A')).toBe('yielded');
    expect(app.seqsOf('A')).toEqual([1, 2, 3]);
    expect(table.entriesOf('A').map((e) => e.seq.text)).toEqual(['4', '5', '6']);
    expect(await r.replay('A')).toBe('done');
    expect(app.seqsOf('A')).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a failing replay reports its error and head seq for the source item, once per failed attempt', async () => {
    const table = new MemorySourceTable();
    await parkedWith(table, 2);
    const app = new ScriptedApp(() => fail(502));
    const r = new Replayer({ ...ports(table), ledger: table, app, listReplaying: async () => ['A'] }, { owner: 'r1', leaseMs: 30_000, pollMs: 10, batch: 5, maxBackoffMs: 0 });
    await r.pass();
    await r.pass();
    expect(table.replayFailures.get('A')).toEqual({ error: 'HTTP 502', seq: '1', attempts: 2 });
  });
});

describe('how often an idle replayer looks for work', () => {
  it('waits longer after each empty look, up to idlePollMs, lists closing sources every third idle look, and is quick again once it finds work', async () => {
    const looks: boolean[] = [];
    let found: string[] = [];
    const table = new MemorySourceTable();
    const r = new Replayer(
      { ...ports(table), ledger: table, app: new ScriptedApp(), listReplaying: async (o) => (looks.push(o?.closing ?? true), found) },
      { owner: 'r1', leaseMs: 30_000, pollMs: 2_000, batch: 5, maxBackoffMs: 100 },
    );
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) waits.push(r.nextLookIn(await r.pass()));
    expect(waits).toEqual([4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000]);
    expect(looks).toEqual([true, false, false, true, false, false, true, false]);
    found = ['gone']; // listed, but no longer replaying: still work seen
    expect(r.nextLookIn(await r.pass())).toBe(2_000);
  });
});
