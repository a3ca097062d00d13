import { Lane, type LaneDeps, type LaneEntry } from '../../src/worker/lane';
import type { RelayMessage } from '../../src/core/message';
import { ParkingPath } from '../../src/worker/journal-path';
import { QUEUE_ID } from '../support/in-memory';
import { MemorySourceTable } from '../support/in-memory-table';

const msg = (n: number, sqs = 100 + n): RelayMessage => ({
  messageId: `m-${n}`, receiptHandle: `h-${n}`, sourceId: 'A',
  seq: { kind: 'producer', value: BigInt(n), text: String(n), key: String(n), sqs: BigInt(sqs), queueId: QUEUE_ID },
  body: `b${n}`, contentType: 'text/plain', receiveCount: 1, firstReceivedAt: 1, sentAt: Date.now() - 1000, trace: {},
});

describe('a lane past the flow gate', () => {
  it('lets go of a message SQS stopped hiding during the gate wait before it reads the state again (nothing journaled)', async () => {
    let admitted = false;
    const routes: boolean[] = [];
    const released: string[] = [];
    const m = msg(1);
    const deps = {
      hold: {
        isLost: () => admitted,
        release: async (_l: unknown, _e: unknown, reason: string) => void released.push(reason),
      },
      router: {
        route: async (_e: unknown, _m: unknown, _p: boolean, fresh = false) => {
          routes.push(fresh);
          return { kind: 'deliver', position: undefined, readAt: 0 };
        },
        isFresh: () => false,
      },
      failures: {},
      app: { deliver: async () => { throw new Error('no app call expected'); } },
      flow: { admit: async () => { admitted = true; return {}; }, report: () => 'ok' },
      clock: { now: Date.now, isStopping: () => false, backoff: () => 1, canStillHold: () => true, deliverySignal: new AbortController().signal },
      emit: () => undefined,
    } as unknown as LaneDeps;
    const entry: LaneEntry = { item: { ok: true, message: m }, receivedAt: Date.now() };
    await new Lane('A', [entry], deps, () => undefined).run();
    expect(released).toEqual(['visibility-lost']);
    // Only the route before the gate: no second read, which could have journaled a message no longer held.
    expect(routes).toEqual([false]);
  });
});

describe('a state read still stale after the re-read at the gate', () => {
  it('holds the head with a failure record (shown with its time left), not silently', async () => {
    const whys: Array<string | undefined> = [];
    const m = msg(1);
    const deps = {
      hold: {
        isLost: () => false,
        forState: async (_l: unknown, _e: unknown, _m: unknown, _s: number, why?: string) => {
          whys.push(why);
          return 'stop';
        },
      },
      router: { route: async () => ({ kind: 'deliver', position: undefined, readAt: 0 }), isFresh: () => false },
      failures: {},
      app: { deliver: async () => { throw new Error('no app call expected'); } },
      flow: { admit: async () => ({}), report: () => 'ok' },
      clock: { now: Date.now, isStopping: () => false, backoff: () => 1, canStillHold: () => true, deliverySignal: new AbortController().signal },
      emit: () => undefined,
    } as unknown as LaneDeps;
    await new Lane('A', [{ item: { ok: true, message: m }, receivedAt: Date.now() }], deps, () => undefined).run();
    expect(whys).toEqual([expect.stringContaining('held in SQS')]);
  });
});

describe('a hold the journal bump decided', () => {
  it('says what the bump found, not "closing its replay"', async () => {
    const table = new MemorySourceTable();
    const ports = { control: table.control, journal: table, audit: table };
    const path = new ParkingPath(ports, { retentionSeconds: 1000, retentionParkShare: 0.75 }, Date.now);
    // The source went back to active past seq 5 (a replay finished) before the bump of seq 3.
    await table.advance('A', msg(5).seq);
    // Seq 3 sent after seq 5 (a later SequenceNumber): a producer seq regression.
    const j = await path.journal(msg(3, 110));
    expect(j).toEqual({ kind: 'hold', why: expect.stringContaining('behind the position') });
  });
});
