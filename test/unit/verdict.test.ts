import type { DeliveryRecord } from '../../src/demo/app-server';
import { judge } from '../../src/demo/verdict';

const rec = (sourceId: string, seq: number, status = 200): DeliveryRecord => ({
  sourceId,
  seq: String(seq),
  idempotencyKey: `${sourceId}:${seq}`,
  attempt: 1,
  messageId: `${sourceId}-${seq}`,
  contentType: 'application/json',
  status,
  at: 0,
});
const sent = (sourceId: string, ...seqs: number[]) => seqs.map((s) => ({ sourceId, seq: String(s) }));

describe('judge', () => {
  it('passes a complete, ordered run and counts retries and duplicates', () => {
    const v = judge(sent('a', 1, 2), [rec('a', 1, 503), rec('a', 1), rec('a', 1), rec('a', 2)]);
    expect(v).toMatchObject({ ok: true, sent: 2, delivered: 2, lost: [], orderViolations: [], duplicateSuccesses: 1, failedCalls: 1 });
  });

  it('fails on a lost message', () => {
    const v = judge(sent('a', 1, 2), [rec('a', 1), rec('a', 2, 503)]);
    expect(v.ok).toBe(false);
    expect(v.lost).toEqual(['a:2']);
  });

  it('fails when a source\'s first successes go backwards', () => {
    const v = judge(sent('a', 1, 2), [rec('a', 2), rec('a', 1)]);
    expect(v.ok).toBe(false);
    expect(v.orderViolations).toEqual([{ sourceId: 'a', previous: '2', seq: '1' }]);
  });

  it('does not count a redelivered earlier message as an order violation', () => {
    expect(judge(sent('a', 1, 2), [rec('a', 1), rec('a', 2), rec('a', 1)]).ok).toBe(true);
  });
});
