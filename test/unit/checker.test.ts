import { judgeRun, type AppRecord, type SentMessage } from '../../src/demo/checker';

let clock = 1_000;
/** A call the app recorded, 10 ms after the previous one unless `at` is given. */
function call(sourceId: string, seq: number, status = 200, extra: Partial<AppRecord> = {}): AppRecord {
  clock += 10;
  return { sourceId, seq: String(seq), idempotencyKey: `${sourceId}:${seq}`, attempt: 1, status, at: clock, ...extra };
}
const sent = (...pairs: Array<[string, number]>): SentMessage[] => pairs.map(([sourceId, seq]) => ({ sourceId, seq }));
const opts = { kills: [] as number[], maxCallMs: 1000 };
const failed = (v: ReturnType<typeof judgeRun>) => v.rules.filter((r) => !r.ok).map((r) => r.rule);

beforeEach(() => {
  clock = 1_000;
});

describe('chaos checker: runs that must pass', () => {
  it('in order, with failures retried and sources interleaved', () => {
    const records = [call('a', 1, 503), call('b', 1), call('a', 1, 200, { attempt: 2 }), call('a', 2), call('b', 2, 503), call('b', 2, 200, { attempt: 2 })];
    const v = judgeRun(sent(['a', 1], ['b', 1], ['a', 2], ['b', 2]), records, opts);
    expect(failed(v)).toEqual([]);
    expect(v).toMatchObject({ ok: true, sent: 4, delivered: 4, failedCalls: 2, maxAttempt: 2, duplicates: [] });
  });

  it('a duplicate success after a kill, with the same key, is allowed and counted', () => {
    const first = call('a', 1);
    const kill = first.at + 5; // died after the 2xx, before recording it
    const records = [first, call('a', 1, 200, { attempt: 2 }), call('a', 2)];
    const v = judgeRun(sent(['a', 1], ['a', 2]), records, { kills: [kill], maxCallMs: 1000 });
    expect(v.ok).toBe(true);
    expect(v.duplicates).toEqual([expect.objectContaining({ key: 'a:1', explainedByKill: true, sameKey: true })]);
  });

  it('a call a killed worker left running may land after the retry of another worker', () => {
    // The kill came while the slow call was in flight; the retry succeeded first, the orphan later.
    const retry = call('a', 1, 200, { attempt: 2 });
    const orphan = { ...call('a', 1), at: retry.at + 300 };
    const kill = retry.at - 600; // within maxCallMs before the first success
    const v = judgeRun(sent(['a', 1]), [retry, orphan], { kills: [kill], maxCallMs: 1000 });
    expect(v.ok).toBe(true);
    expect(v.duplicates).toHaveLength(1);
  });

  it('the demo: a poison message refused until fixed, then delivered in order; a duplicate around a graceful stop is explained by it', () => {
    const first = call('a', 2);
    const stop = first.at + 2;
    const records = [call('a', 1), first, call('a', 3, 422), call('a', 3, 422, { attempt: 2 }), call('a', 2, 200, { attempt: 2 }), call('a', 3, 200, { attempt: 3 })];
    const v = judgeRun(sent(['a', 1], ['a', 2], ['a', 3]), records, { kills: [stop], maxCallMs: 1000 });
    expect(failed(v)).toEqual([]);
    expect(v).toMatchObject({ delivered: 3, failedCalls: 2, maxAttempt: 3 });
    expect(v.duplicates).toEqual([expect.objectContaining({ key: 'a:2', explainedByKill: true })]);
  });

  it('reads seqs as numbers: 010 is 10, and 9 comes before it', () => {
    const records = [call('a', 9), { ...call('a', 10), seq: '010', idempotencyKey: 'a:10' }];
    expect(judgeRun(sent(['a', 9], ['a', 10]), records, opts).ok).toBe(true);
  });
});

describe('chaos checker: runs that must fail', () => {
  it('a message that never succeeded is lost', () => {
    const v = judgeRun(sent(['a', 1], ['a', 2]), [call('a', 1), call('a', 2, 503), call('a', 2, 503)], opts);
    expect(failed(v)).toEqual(['no message lost']);
    expect(v.lost).toEqual(['a:2']);
  });

  it('first successes out of order', () => {
    const v = judgeRun(sent(['a', 1], ['a', 2], ['a', 3]), [call('a', 1), call('a', 3), call('a', 2)], opts);
    expect(failed(v)).toContain('per-source order of first successes');
    expect(v.orderViolations).toEqual([expect.objectContaining({ sourceId: 'a', previous: '3', seq: '2' })]);
  });

  it('a call for a message before the one ahead of it succeeded, even if it failed', () => {
    const v = judgeRun(sent(['a', 1], ['a', 2]), [call('a', 1, 503), call('a', 2, 503), call('a', 1), call('a', 2)], opts);
    expect(failed(v)).toEqual(['no call before its predecessor succeeded']);
    expect(v.outOfTurn).toEqual([expect.objectContaining({ sourceId: 'a', seq: '2', waitingFor: '1' })]);
  });

  it('a duplicate success with no kill at all', () => {
    const v = judgeRun(sent(['a', 1]), [call('a', 1), call('a', 1, 200, { attempt: 2 })], opts);
    expect(failed(v)).toEqual(['duplicates only after a kill']);
  });

  it('a duplicate success whose only kill came before the original call could have started', () => {
    const first = call('a', 1);
    const dup = call('a', 1, 200, { attempt: 2 });
    const v = judgeRun(sent(['a', 1]), [first, dup], { kills: [first.at - 5000], maxCallMs: 1000 });
    expect(failed(v)).toEqual(['duplicates only after a kill']);
  });

  it('a duplicate success whose only kill came after it', () => {
    const first = call('a', 1);
    const dup = call('a', 1, 200, { attempt: 2 });
    const v = judgeRun(sent(['a', 1]), [first, dup], { kills: [dup.at + 1], maxCallMs: 1000 });
    expect(v.ok).toBe(false);
  });

  it('a redelivery under another idempotency key', () => {
    const first = call('a', 1);
    const v = judgeRun(sent(['a', 1]), [first, call('a', 1, 200, { idempotencyKey: 'a:1:retry' })], { kills: [first.at + 1], maxCallMs: 1000 });
    expect(failed(v)).toEqual(['duplicates carry the original idempotency key']);
  });

  it('a delivery of something never sent', () => {
    const v = judgeRun(sent(['a', 1]), [call('a', 1), call('ghost', 1)], opts);
    expect(failed(v)).toEqual(['nothing delivered that was not sent']);
    expect(v.unexpected).toEqual(['ghost:1']);
  });

  it('nothing received at all', () => {
    const v = judgeRun(sent(['a', 1], ['b', 1]), [], opts);
    expect(v.ok).toBe(false);
    expect(v.lost).toHaveLength(2);
  });
});

describe('chaos checker: a message the operator skipped', () => {
  it('is neither lost nor unexpected, and the one after it waits only for the one before it', () => {
    const records = [call('a', 1), call('a', 2, 422), call('a', 2, 422, { attempt: 2 }), call('a', 3), call('a', 4)];
    const v = judgeRun(sent(['a', 1], ['a', 2], ['a', 3], ['a', 4]), records, { ...opts, skipped: sent(['a', 2]) });
    expect(failed(v)).toEqual([]);
    expect(v).toMatchObject({ sent: 3, skipped: 1, delivered: 3, lost: [], failedCalls: 2 });
  });

  it('fails the run when the app accepted it after all', () => {
    const v = judgeRun(sent(['a', 1], ['a', 2], ['a', 3]), [call('a', 1), call('a', 2), call('a', 3)], { ...opts, skipped: sent(['a', 2]) });
    expect(failed(v)).toEqual(['skipped messages never delivered']);
  });

  it('still fails a call made before the message ahead of the skipped one succeeded', () => {
    const v = judgeRun(sent(['a', 1], ['a', 2], ['a', 3]), [call('a', 3), call('a', 1)], { ...opts, skipped: sent(['a', 2]) });
    expect(failed(v)).toContain('no call before its predecessor succeeded');
  });
});
