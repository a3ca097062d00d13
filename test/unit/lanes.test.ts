import { groupBySource, orphanKey, planAfterFailure, remainingFrom } from '../../src/core/lanes';
import { parseMessage, type RawMessage } from '../../src/core/message';

const msg = (id: string, group: string | undefined, seq: number): RawMessage => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  Body: id,
  Attributes: { ...(group ? { MessageGroupId: group } : {}), SequenceNumber: String(seq) },
});

describe('groupBySource', () => {
  it('keeps SQS order within a source and separates sources', () => {
    const parsed = [msg('a1', 'A', 1), msg('b1', 'B', 2), msg('a2', 'A', 3), msg('a3', 'A', 4)].map((m) => parseMessage(m, 'arn'));
    const lanes = groupBySource(parsed);
    expect(lanes.map((l) => l.key)).toEqual(['A', 'B']);
    expect(lanes[0]?.items.map((i) => (i.ok ? i.message.messageId : ''))).toEqual(['a1', 'a2', 'a3']);
  });

  it('keeps an invalid message in its source lane so it blocks what follows', () => {
    const bad: RawMessage = { ...msg('a1', 'A', 1), MessageAttributes: { seq: { DataType: 'Number', StringValue: 'x' } } };
    const lanes = groupBySource([bad, msg('a2', 'A', 2)].map((m) => parseMessage(m, 'arn')));
    expect(lanes).toHaveLength(1);
    expect(lanes[0]?.items.map((i) => i.ok)).toEqual([false, true]);
  });

  it('gives a message without a group a lane of its own', () => {
    const lanes = groupBySource([msg('x', undefined, 1), msg('y', undefined, 2)].map((m) => parseMessage(m, 'arn')));
    expect(lanes.map((l) => l.key)).toEqual([orphanKey('x'), orphanKey('y')]);
  });
});

describe('planAfterFailure', () => {
  it('holds back the failed item and releases only those after it', () => {
    expect(planAfterFailure(['a', 'b', 'c', 'd'], 1)).toEqual({ backoff: 'b', release: ['c', 'd'] });
    expect(planAfterFailure(['a'], 0)).toEqual({ backoff: 'a', release: [] });
    expect(() => planAfterFailure(['a'], 3)).toThrow(RangeError);
    expect(remainingFrom(['a', 'b', 'c'], 1)).toEqual(['b', 'c']);
  });
});
