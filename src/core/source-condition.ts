/**
 * How bad a source's situation is, from what its ledger item says: pure, so the CLI, the page
 * and the metrics all judge and order sources the same way.
 */

export type SourceState = 'active' | 'parked' | 'replaying' | 'closing';
export type Condition = 'stuck' | 'retrying' | 'parked' | 'replaying' | 'closing' | 'ok';

export const CONDITIONS: readonly Condition[] = ['stuck', 'retrying', 'parked', 'replaying', 'closing'];

export interface FailingHead {
  seq: string;
  messageId: string;
  attempt: number;
  /** First recorded failure of this head (stuckSince). */
  since: number;
  failedAt: number;
  nextAttemptAt: number;
  lastError: string;
  /** The app's HTTP status; absent for timeouts and network errors. */
  lastStatus?: number;
  /** SentTimestamp of the head (ms). */
  sentAt?: number;
  /** When SQS deletes the head if it is still there. */
  retentionDeadlineAt?: number;
  /** When this head went into the journal (headJournaledAt): from then on SQS retention no longer applies to it. */
  journaledAt?: number;
  /** When this head was put aside (headAsideAt): kept in the table and deleted from SQS, so retention no longer applies. */
  asideAt?: number;
  /** The task that recorded the last failure, while it held the head. */
  heldBy?: string;
}

export interface SourceRecord {
  sourceId: string;
  state: SourceState;
  stateSince?: number;
  stateReason?: string;
  stateActor?: string;
  head?: FailingHead;
  producerSeq?: string;
  sqsSeq?: string;
  updatedAt?: number;
  lastMessageId?: string;
  journalCount?: number;
  /** A contiguous source waiting for seq (its position + 1), in neither the queue nor the journal since `since` (gapSeq, gapSince). */
  gap?: { seq: string; since: number };
  /**
   * Whether the journal holds the failing head (same seq, same message id): only then is the head
   * safe from SQS retention. Undefined when nobody looked (an active source's head is never journaled).
   */
  headJournaled?: boolean;
}

/** "Stuck" = failing for at least `attempts` attempts or for at least `afterMs`; less is "retrying". */
export interface StuckThresholds {
  attempts: number;
  afterMs: number;
}

export const DEFAULT_THRESHOLDS: StuckThresholds = { attempts: 5, afterMs: 15 * 60_000 };

export interface SourceSummary extends SourceRecord {
  condition: Condition;
  /** ms until SQS deletes the failing head (≤ 0: past), whatever the state, unless the head is known to be journaled. */
  retentionLeftMs?: number;
  /** ms since the head first failed, for a failing head. */
  failingForMs?: number;
}

export function summarize(r: SourceRecord, t: StuckThresholds, now: number): SourceSummary {
  const out: SourceSummary = { ...r, condition: 'ok' };
  if (r.head) out.failingForMs = Math.max(0, now - r.head.since);
  // A parked, replaying or closing source's head is safe only once it is in the journal: until
  // then SQS deletes it at its deadline like any other (a closing hold, a seq regression, an
  // invalid message, a park the holder has not acted on yet).
  if (r.head?.retentionDeadlineAt !== undefined && r.headJournaled !== true && r.head.journaledAt === undefined && r.head.asideAt === undefined) out.retentionLeftMs = r.head.retentionDeadlineAt - now;
  if (r.state !== 'active') {
    out.condition = r.state;
    return out;
  }
  if (!r.head) return out;
  out.condition = r.head.attempt >= t.attempts || (out.failingForMs ?? 0) >= t.afterMs ? 'stuck' : 'retrying';
  return out;
}

const RANK: Record<Condition, number> = { stuck: 0, retrying: 1, parked: 2, closing: 3, replaying: 3, ok: 4 };

/**
 * Worst first: stuck, then retrying (each by least time left before retention, then longest
 * failing), then parked and replaying sources (longest in that state first). A parked source's
 * messages are safe in the journal; a failing head is not.
 */
export function worstFirst(a: SourceSummary, b: SourceSummary): number {
  const rank = RANK[a.condition] - RANK[b.condition];
  if (rank !== 0) return rank;
  const left = (a.retentionLeftMs ?? Infinity) - (b.retentionLeftMs ?? Infinity);
  if (left !== 0 && !Number.isNaN(left)) return left;
  const since = (x: SourceSummary) => (x.condition === 'stuck' || x.condition === 'retrying' ? (x.head?.since ?? 0) : (x.stateSince ?? 0));
  const bySince = since(a) - since(b);
  return bySince !== 0 ? bySince : a.sourceId < b.sourceId ? -1 : a.sourceId > b.sourceId ? 1 : 0;
}

export type ConditionCounts = Record<Exclude<Condition, 'ok'>, number>;

export function countByCondition(rows: readonly SourceSummary[]): ConditionCounts {
  const counts: ConditionCounts = { stuck: 0, retrying: 0, parked: 0, replaying: 0, closing: 0 };
  for (const r of rows) if (r.condition !== 'ok') counts[r.condition]++;
  return counts;
}

/** The gauges' inputs: no per-source detail, only the extremes. */
export function extremes(rows: readonly SourceSummary[]): { oldestStuckMs?: number; leastRetentionLeftMs?: number } {
  let oldestStuckMs: number | undefined;
  let leastRetentionLeftMs: number | undefined;
  for (const r of rows) {
    if (r.condition === 'stuck' && r.failingForMs !== undefined) oldestStuckMs = Math.max(oldestStuckMs ?? 0, r.failingForMs);
    if (r.retentionLeftMs !== undefined) leastRetentionLeftMs = Math.min(leastRetentionLeftMs ?? Infinity, r.retentionLeftMs);
  }
  return { ...(oldestStuckMs === undefined ? {} : { oldestStuckMs }), ...(leastRetentionLeftMs === undefined ? {} : { leastRetentionLeftMs }) };
}

/** Short human durations for tables and the page: 45s, 12m, 3.5h, 9.2d. */
export function humanDuration(ms: number): string {
  const neg = ms < 0;
  const s = Math.round(Math.abs(ms) / 1000);
  const text = s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : s < 86_400 ? `${(s / 3600).toFixed(1)}h` : `${(s / 86_400).toFixed(1)}d`;
  return neg ? `-${text}` : text;
}

/** The one wording of "no such source", for the page, `status`, `show` and every operator action. */
export function unknownSource(sourceId: string): string {
  return `unknown source "${sourceId}": the progress table holds nothing for it`;
}
