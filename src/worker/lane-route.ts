import type { JournalEntry } from '../adapters/journal';
import type { LedgerPort } from '../adapters/progress-ledger';
import { contiguousStep } from '../core/contiguity';
import { advancePosition, isCoveredByLedger, isSeqRegression, needsLedgerRead, type LedgerPosition } from '../core/ledger-position';
import type { RelayMessage } from '../core/message';
import { routeFor } from '../core/source-state';
import type { ParkingPath } from './journal-path';
import type { LaneEntry } from './lane-hold';
import type { LedgerCache } from './ledger-cache';
import type { Standing } from './standing-reads';

/** Where a message goes, decided before any app call. */
export type RouteDecision =
  /** readAt: when the consistent state read that allowed it was sent; absent where no state is kept. */
  /** exactNext: a contiguous source at position seq − 1; its advance is conditioned exact-next. */
  | { kind: 'deliver'; position: LedgerPosition | undefined; readAt?: number; exactNext?: boolean }
  /** A contiguous source behind the message: deliver this journal entry (position + 1) first, then ask again. */
  | { kind: 'fill'; entry: JournalEntry; position: LedgerPosition | undefined; readAt: number }
  /**
   * A contiguous source whose position + 1 (missing) is not in the journal: keep the message in SQS,
   * record the gap, and look again on the next attempt. settling: the entry is there but younger
   * than a producer may still rewrite it, so the wait is not a gap.
   */
  | { kind: 'gap'; missing: bigint; settling: boolean }
  | { kind: 'duplicate' }
  /** Journaled and its journalVersion bumped (rule 4): delete it from SQS. */
  | { kind: 'journaled'; written: boolean }
  /** Keep it in SQS a little while (closing, or a state that changed under the lane); why: for the failure record. */
  | { kind: 'hold'; why: string }
  /** A producer seq that went backwards: kept and held whatever the state, routing it would delete it. */
  | { kind: 'regression'; position: LedgerPosition | undefined }
  | { kind: 'journal-error'; error: Error; conflict: boolean }
  | { kind: 'read-failed'; error: Error };

/** The questions a lane asks about a source's position and state. */
export interface Router {
  /**
   * ownProof: this lane got its own 2xx for the source's previous message, so its cached position
   * is proof (rule 1). fresh: read the state anew whatever the age of the receive's read. tried:
   * the message was tried before (it may be a failing head).
   */
  route(entry: LaneEntry, m: RelayMessage, ownProof: boolean, fresh?: boolean, tried?: boolean): Promise<RouteDecision>;
  /** Whether a 'deliver' read at readAt may still allow an app call starting now (STANDING_MAX_AGE_MS). */
  isFresh(readAt: number | undefined): boolean;
  /** Records a 2xx (rule 2: never conditioned on the state) and remembers the new position. exactNext: a contiguous source's advance. */
  recordSuccess(m: RelayMessage, from: LedgerPosition | undefined, nowMs: number, exactNext?: boolean): Promise<'advanced' | 'stale'>;
  /** Best effort: the source waits for missing (its position + 1), for status and the alarm. */
  recordGap(sourceId: string, missing: bigint, nowMs: number): Promise<void>;
}

/** A journal entry younger than this may still be rewritten by its producer (docs/producer.md, claim step 6: 5 s by default), so it is not delivered yet. */
export const JOURNAL_SETTLE_MS = 10_000;

/** The last word on a position once the state allows delivery: a regression is held, a covered seq is a duplicate. */
function judge(m: RelayMessage, position: LedgerPosition | undefined, readAt?: number, contiguous = false): RouteDecision {
  // A contiguous source's seq is claimed once, with one body, in the journal: a lower seq arriving
  // late is the copy of an entry already delivered from the journal, not a producer going backwards.
  if (!contiguous && isSeqRegression(m.seq, position)) return { kind: 'regression', position };
  if (isCoveredByLedger(m.seq, position)) return { kind: 'duplicate' };
  return { kind: 'deliver', position, ...(readAt === undefined ? {} : { readAt }) };
}

/** Positions only: for a worker without parking, a cached position is proof and the ledger is read only when it must be. */
export class PositionRouter implements Router {
  constructor(
    protected readonly ledger: Pick<LedgerPort, 'read' | 'advance' | 'recordGap' | 'clearGap'>,
    protected readonly cache: LedgerCache,
  ) {}

  async route(_entry: LaneEntry, m: RelayMessage, _ownProof: boolean, _fresh?: boolean, _tried?: boolean): Promise<RouteDecision> {
    let position = this.cache.get(m.sourceId);
    if (needsLedgerRead(m.seq, m.receiveCount, position)) {
      try {
        position = await this.ledger.read(m.sourceId);
        this.cache.set(m.sourceId, position);
      } catch (err) {
        return { kind: 'read-failed', error: err as Error };
      }
    }
    return judge(m, position);
  }

  isFresh(_readAt: number | undefined): boolean {
    return true;
  }

  async recordSuccess(m: RelayMessage, from: LedgerPosition | undefined, nowMs: number, exactNext = false): Promise<'advanced' | 'stale'> {
    const result = await this.ledger.advance(m.sourceId, m.seq, m.messageId, nowMs, exactNext ? { exactNext } : undefined);
    this.cache.set(m.sourceId, result.status === 'advanced' ? advancePosition(from, m.seq) : result.position);
    return result.status;
  }

  async recordGap(sourceId: string, missing: bigint, nowMs: number): Promise<void> {
    await this.ledger.recordGap?.(sourceId, { seq: missing, nowMs });
  }
}

/**
 * Rule 1 and rule 4: the consistent read made for the receive decides (the lane's own advance
 * stands in for its position once it has one); a parked or replaying source's message goes to
 * the journal.
 */
export class ParkingRouter extends PositionRouter {
  constructor(
    ledger: Pick<LedgerPort, 'read' | 'advance' | 'recordGap' | 'clearGap'>,
    cache: LedgerCache,
    private readonly parking: ParkingPath,
    private readonly now: () => number = Date.now,
  ) {
    super(ledger, cache);
  }

  override async route(entry: LaneEntry, m: RelayMessage, ownProof: boolean, fresh = false, tried = false): Promise<RouteDecision> {
    const cached = this.cache.get(m.sourceId);
    let standing: Standing;
    try {
      // The receive's read only while it is young: a lane may have waited for a slot or at the gate
      // for as long as others ran, and an operator may have parked the source meanwhile. After this
      // lane's own delivery it is stale for state whatever its age: a park that landed during that
      // call is honoured by the next message of the batch.
      standing = fresh || ownProof ? await this.parking.reads.fresh(m.sourceId) : await this.parking.standing(entry.standing, m.sourceId);
    } catch (err) {
      return { kind: 'read-failed', error: err as Error };
    }
    const { control } = standing;
    let readAt = standing.readAt;
    const position = ownProof ? cached : control.position;
    const contiguous = control.contiguous === true && m.seq.kind === 'producer';
    if (!contiguous && (isSeqRegression(m.seq, control.position) || isSeqRegression(m.seq, position))) return { kind: 'regression', position: control.position ?? position };
    const route = routeFor({ ...control, position }, m.seq);
    let deliverFrom = position;
    if (route === 'journal') {
      // The bump's failed condition returns the state as the bump saw it, a read sent after now.
      const bumpFrom = this.parking.reads.stamp();
      const j = await this.parking.journal(m, tried);
      if (j.kind === 'journaled') return { kind: 'journaled', written: j.written };
      if (j.kind === 'error') return { kind: 'journal-error', error: j.error, conflict: j.conflict };
      if (j.kind === 'duplicate') return { kind: 'duplicate' };
      if (j.kind === 'hold') return { kind: 'hold', why: j.why };
      deliverFrom = j.position;
      readAt = this.parking.reads.answered(bumpFrom);
    } else if (route === 'duplicate') {
      return { kind: 'duplicate' };
    } else if (route === 'hold') {
      return { kind: 'hold', why: 'the source is closing its replay' };
    }
    this.cache.set(m.sourceId, deliverFrom);
    const verdict = judge(m, deliverFrom, readAt, contiguous);
    if (verdict.kind !== 'deliver' || !contiguous) return verdict;
    return this.exactlyNext(m, deliverFrom, readAt, control.gap?.seq);
  }

  /** A contiguous source delivers seq n only at position n − 1; below that, position + 1 comes first, from the journal. */
  private async exactlyNext(m: RelayMessage, position: LedgerPosition | undefined, readAt: number, recordedGap?: bigint): Promise<RouteDecision> {
    const step = contiguousStep(m.seq.value, position?.producerSeq);
    if (step.kind === 'covered') return { kind: 'duplicate' };
    if (step.kind === 'next') return { kind: 'deliver', position, readAt, exactNext: true };
    let found: JournalEntry[];
    try {
      // Only the lowest missing seq: one is delivered at a time, each after a fresh state read.
      found = await this.parking.producerEntries(m.sourceId, position, step.from, step.to, 1);
    } catch (err) {
      return { kind: 'read-failed', error: err as Error };
    }
    const entry = found[0];
    if (entry?.seq.value !== step.from) return { kind: 'gap', missing: step.from, settling: false };
    // Recorded as missing by an earlier look, it is in the journal now: not a gap any more (status, declare-lost).
    if (recordedGap === step.from) await this.ledger.clearGap?.(m.sourceId, step.from).catch(() => undefined);
    if (this.now() - entry.journaledAt < JOURNAL_SETTLE_MS) return { kind: 'gap', missing: step.from, settling: true };
    let sealed: JournalEntry | undefined;
    try {
      sealed = await this.parking.sealed(entry);
    } catch (err) {
      return { kind: 'read-failed', error: err as Error };
    }
    if (sealed === undefined) return { kind: 'gap', missing: step.from, settling: false };
    return { kind: 'fill', entry: sealed, position, readAt };
  }

  override isFresh(readAt: number | undefined): boolean {
    return readAt !== undefined && this.parking.reads.isFresh(readAt);
  }
}
