import type { InvalidMessage, ParseResult, RelayMessage } from './message';

/** One received message as a lane holds it: parsed, or invalid but still owned by its group. */
export type LaneItem = { ok: true; message: RelayMessage } | { ok: false; invalid: InvalidMessage };

export interface LaneBatch {
  /** The source (MessageGroupId), or a key of its own for a message whose group is unknown. */
  key: string;
  items: LaneItem[];
}

/** Lane key for a message with no group: it must still be retried, alone, never dropped. */
export function orphanKey(messageId: string): string {
  return `\u0000orphan:${messageId}`;
}

export function laneKeyOf(item: ParseResult): string {
  if (item.ok) return item.message.sourceId;
  return item.invalid.sourceId ?? orphanKey(item.invalid.messageId);
}

/**
 * Groups one ReceiveMessage result by source, keeping the order SQS gave: within a group, FIFO
 * returns messages in order, and that order is the delivery order.
 */
export function groupBySource(items: readonly ParseResult[]): LaneBatch[] {
  const lanes = new Map<string, LaneItem[]>();
  for (const item of items) {
    const key = laneKeyOf(item);
    const lane = lanes.get(key);
    if (lane) lane.push(item);
    else lanes.set(key, [item]);
  }
  return [...lanes].map(([key, laneItems]) => ({ key, items: laneItems }));
}

export interface FailurePlan<T> {
  /** The failed head: it waits out its backoff, keeping the group blocked in SQS. */
  backoff: T;
  /** Everything after it in the lane: released at once (visibility 0) so no task holds them. */
  release: T[];
}

/** After item `index` of a lane failed, which item waits and which go straight back. */
export function planAfterFailure<T>(items: readonly T[], index: number): FailurePlan<T> {
  const backoff = items[index];
  if (backoff === undefined) throw new RangeError(`no item ${index} in a lane of ${items.length}`);
  return { backoff, release: items.slice(index + 1) };
}

/** Messages still held when a lane stops early (shutdown): all go back with visibility 0. */
export function remainingFrom<T>(items: readonly T[], index: number): T[] {
  return items.slice(index);
}
