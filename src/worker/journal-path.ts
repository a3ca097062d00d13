import type { AuditPort } from '../adapters/audit-log';
import { entryFromMessage, JournalConflictError, type JournalEntry, type JournalPort } from '../adapters/journal';
import type { AsidePort } from '../adapters/aside-store';
import type { AutoAsidePort } from '../adapters/journal-aside';
import { isRewritableClaim, type JournalRangePort } from '../adapters/journal-range';
import type { ControlPort } from '../adapters/source-control';
import { isSeqRegression, type LedgerPosition } from '../core/ledger-position';
import type { RelayMessage } from '../core/message';
import { capBackoffAtDeadline, capBackoffAtRetention, parkDeadline, routeFor, type SourceControl } from '../core/source-state';
import { StandingReads, type ReceiveRead, type Standing } from './standing-reads';

/** What became of a message of a parked or replaying source. */
export type JournalResult =
  | { kind: 'journaled'; written: boolean }
  /** The bump found the source active again (replay done): deliver from SQS, from this position. */
  | { kind: 'deliver'; position: LedgerPosition | undefined }
  | { kind: 'duplicate' }
  /** Keep it in SQS a little while (closing, or a state that changed under us); why: what the bump found. */
  | { kind: 'hold'; why: string }
  | { kind: 'error'; error: Error; conflict: boolean };

export type AsideResult = { kind: 'go'; backoffSeconds: number } | { kind: 'aside'; parked: boolean } | { kind: 'hold' };

export type WatchResult = { kind: 'go'; backoffSeconds: number } | { kind: 'parked'; deadlineAt: number } | { kind: 'hold' } | { kind: 'duplicate' };

export interface ParkingPorts {
  control: ControlPort;
  journal: JournalPort;
  audit: AuditPort;
  /** Where a head that can never take its place in the order is saved before its deadline. */
  /** The watchdog's put-aside of a head at its retention deadline. */
  aside?: AutoAsidePort;
  /** An operator's set-aside, carried out by the holder (the same store as aside in production). */
  setAside?: AsidePort;
  /** Reads a contiguous source's missing seqs by key; without it they are looked for in the whole journal. */
  range?: JournalRangePort;
}

export interface ParkingOptions {
  /** The queue's MessageRetentionPeriod, in seconds. */
  retentionSeconds: number;
  /** Share of the retention after which a failing head is parked automatically (0 < share < 1). */
  retentionParkShare: number;
}

/**
 * The narrow questions a lane asks about parking (docs/parking.md), so the lane itself stays a
 * plain sequence of steps: where does the source stand (rule 1), journal this message (rule 4),
 * is this failing head too old to keep in SQS (rules 3, 6 and 7).
 */
export class ParkingPath {
  readonly reads: StandingReads;

  constructor(
    private readonly ports: ParkingPorts,
    private readonly opts: ParkingOptions,
    private readonly now: () => number,
  ) {
    this.reads = new StandingReads(ports.control, now);
  }

  /** The consistent read made for a receive: one BatchGetItem for all its sources. */
  readForReceive(sourceIds: string[]): Promise<ReceiveRead> {
    return this.reads.forReceive(sourceIds);
  }

  /** Where the source stands, from the receive's read while it is young enough (STANDING_MAX_AGE_MS), else from a fresh one. */
  standing(read: Promise<ReceiveRead> | undefined, sourceId: string): Promise<Standing> {
    return this.reads.of(read, sourceId);
  }

  /** Rule 4: journal entry first, then the journalVersion bump conditioned on the state; the caller deletes only after 'journaled'. */
  async journal(m: RelayMessage, tried = false): Promise<JournalResult> {
    let written: boolean;
    try {
      written = (await this.ports.journal.put(entryFromMessage(m, this.now()))) === 'written';
    } catch (err) {
      return { kind: 'error', error: err as Error, conflict: err instanceof JournalConflictError };
    }
    let bump;
    try {
      bump = await this.ports.control.bumpJournal(m.sourceId);
    } catch (err) {
      return { kind: 'error', error: err as Error, conflict: false };
    }
    if (bump.ok) {
      // A message tried before may be the head a failure record names: that record now says journaled.
      if (tried) await this.markHeadJournaled(m);
      return { kind: 'journaled', written };
    }
    // Act on the state the failed condition returned: the entry stays, the SQS message is kept.
    if (isSeqRegression(m.seq, bump.control.position)) return { kind: 'hold', why: `the journal bump found seq ${m.seq.text} behind the position` };
    switch (routeFor(bump.control, m.seq)) {
      case 'duplicate':
        return { kind: 'duplicate' };
      case 'deliver':
        return { kind: 'deliver', position: bump.control.position };
      default:
        return { kind: 'hold', why: bump.control.state === 'closing' ? 'the source is closing its replay' : `the journal bump found the source ${bump.control.state}` };
    }
  }

  /**
   * A contiguous source's producer entries from … to (inclusive), in seq order, with their bodies:
   * the seqs a lane must deliver before the one it holds.
   */
  /** The entry a journal fill may deliver: sealed against its producer's rewrite when it is a journal-first claim. */
  async sealed(e: JournalEntry): Promise<JournalEntry | undefined> {
    if (!this.ports.range || !isRewritableClaim(e)) return e;
    return this.ports.range.seal(e, this.now());
  }

  async producerEntries(sourceId: string, position: LedgerPosition | undefined, from: bigint, to: bigint, limit: number): Promise<JournalEntry[]> {
    if (this.ports.range) return this.ports.range.producerRange(sourceId, from, to, limit);
    const above = await this.ports.journal.above(sourceId, position, Number.MAX_SAFE_INTEGER);
    return above
      .filter((e) => e.seq.kind === 'producer' && e.seq.value >= from && e.seq.value <= to)
      .sort((a, b) => (a.seq.value < b.seq.value ? -1 : a.seq.value > b.seq.value ? 1 : 0))
      .slice(0, limit);
  }

  /** Rule 3 without any I/O: a backoff that ends by the head's park deadline. */
  capAtDeadline(m: RelayMessage | { sentAt: number }, backoffSeconds: number): number {
    if (!m.sentAt) return backoffSeconds;
    return capBackoffAtDeadline(backoffSeconds, this.now(), parkDeadline(m.sentAt, this.opts.retentionSeconds, this.opts.retentionParkShare));
  }

  /**
   * For a head of a source already parked or replaying (its journal write failed): the park
   * deadline is behind it by design, so only SQS's retention bounds its backoff; floorSeconds
   * keeps a head near or past the retention from being retried in a tight loop.
   */
  capAtRetention(m: RelayMessage, backoffSeconds: number, floorSeconds: number): number {
    if (!m.sentAt) return backoffSeconds;
    return capBackoffAtRetention(backoffSeconds, this.now(), m.sentAt, this.opts.retentionSeconds, floorSeconds);
  }

  /**
   * The retention watchdog, asked by the lane holding a head that has failed: 'go' with a backoff
   * that ends by the park deadline (rule 3), or, once the deadline has come, journal the head and
   * park the source on the condition that nothing moved since the read (rule 7: a success landing
   * at the same moment makes the condition fail, and the success wins).
   */
  async watch(m: RelayMessage, backoffSeconds: number): Promise<WatchResult> {
    if (!m.sentAt) return { kind: 'go', backoffSeconds };
    const deadlineAt = parkDeadline(m.sentAt, this.opts.retentionSeconds, this.opts.retentionParkShare);
    const now = this.now();
    if (now < deadlineAt) return { kind: 'go', backoffSeconds: Math.max(0, capBackoffAtDeadline(backoffSeconds, now, deadlineAt)) };
    // Read before the journal put: a seq regression must never be journaled (replay would take it as delivered).
    const c = await this.ports.control.read(m.sourceId);
    if (isSeqRegression(m.seq, c.position)) return { kind: 'hold' };
    const route = routeFor(c, m.seq);
    if (route === 'duplicate') return { kind: 'duplicate' };
    if (route !== 'deliver' && c.state !== 'closing') return { kind: 'hold' };
    await this.ports.journal.put(entryFromMessage(m, now));
    // Active, or closing (its head is held in SQS through the replay's last drain): park it, on
    // the condition that nothing moved since the read.
    const ageSeconds = Math.round((now - m.sentAt) / 1000);
    const reason = `head seq ${m.seq.text} is ${ageSeconds} s old, past ${Math.round(this.opts.retentionParkShare * 100)}% of the queue's ${this.opts.retentionSeconds} s retention`;
    if (!(await this.parkJournaled(m, c, reason, now, { deadlineAt }))) return { kind: 'hold' };
    return { kind: 'parked', deadlineAt };
  }

  /**
   * The seam for any watchdog holding a message it must not keep in SQS (a queue-level guard as
   * much as the lane's): journal it and see its source parked. 'parked' or 'journaled': the
   * caller may delete it from SQS. An active or closing source is parked on rule 7's conditions
   * (a success landing meanwhile wins: 'hold' or 'duplicate'); a parked or replaying one takes it
   * by rule 4 (entry, then the journalVersion bump).
   */
  async journalAndPark(m: RelayMessage, reason: string): Promise<'parked' | 'journaled' | 'duplicate' | 'hold'> {
    const now = this.now();
    const before = await this.ports.control.read(m.sourceId);
    // A seq regression has no place in the order: journaled, the position would make replay drop it as delivered.
    if (isSeqRegression(m.seq, before.position)) return 'hold';
    if (before.state === 'parked' || before.state === 'replaying') {
      const j = await this.journal(m, true);
      return j.kind === 'journaled' || j.kind === 'duplicate' ? j.kind : 'hold';
    }
    const route = routeFor(before, m.seq);
    if (route === 'duplicate') return 'duplicate';
    if (route !== 'deliver' && before.state !== 'closing') return 'hold';
    await this.ports.journal.put(entryFromMessage(m, now));
    // The park is conditioned on the version and position read before the put: a success landing meanwhile wins.
    return (await this.parkJournaled(m, before, reason, now, {})) ? 'parked' : 'hold';
  }

  /** The head is journaled: park (bumping journalVersion in the same write), audit, and mark the head journaled. */
  private async parkJournaled(m: RelayMessage, c: SourceControl, reason: string, now: number, details: Record<string, unknown>): Promise<boolean> {
    const parked = await this.ports.control.autoPark(m.sourceId, { actor: 'fifo-relay watchdog', reason, nowMs: now, expectVersion: c.controlVersion, position: c.position });
    if (!parked.ok) return false;
    await this.ports.audit
      .record({ sourceId: m.sourceId, action: 'auto-park', actor: 'fifo-relay watchdog', reason, at: now, details: { headSeq: m.seq.text, messageId: m.messageId, sentAt: m.sentAt, ...details } })
      .catch(() => undefined);
    await this.markHeadJournaled(m);
    return true;
  }

  /**
   * The watchdog for a head that can never take its place in the order (a seq regression): its
   * backoff ends by the park deadline, and at the deadline it is put aside (body kept, audited),
   * an active or closing source is parked on the same conditions as rule 7, and the caller
   * deletes it from SQS. Without an aside port it stays in SQS, shown with its time left.
   */
  async watchAside(m: RelayMessage, reason: string, detail: string, backoffSeconds: number): Promise<AsideResult> {
    if (!m.sentAt || !this.ports.aside) return { kind: 'go', backoffSeconds };
    const deadlineAt = parkDeadline(m.sentAt, this.opts.retentionSeconds, this.opts.retentionParkShare);
    const now = this.now();
    if (now < deadlineAt) return { kind: 'go', backoffSeconds: capBackoffAtDeadline(backoffSeconds, now, deadlineAt) };
    await this.ports.aside.putAside({
      sourceId: m.sourceId,
      messageId: m.messageId,
      reason,
      detail,
      body: m.body,
      contentType: m.contentType,
      seqText: m.seq.text,
      sqsSeq: m.seq.sqs,
      queueId: m.seq.queueId,
      sentAt: m.sentAt,
      firstSeenAt: m.firstReceivedAt || now,
      asideAt: now,
    });
    const c = await this.ports.control.read(m.sourceId);
    const why = `head ${m.messageId} (${reason}) put aside ${Math.round((now - m.sentAt) / 1000)} s after it was sent, before the queue's retention: ${detail}`;
    let parked = false;
    if (c.state === 'active' || c.state === 'closing') {
      const r = await this.ports.control.autoPark(m.sourceId, { actor: 'fifo-relay watchdog', reason: why, nowMs: now, expectVersion: c.controlVersion, position: c.position });
      if (!r.ok) return { kind: 'hold' };
      parked = true;
    }
    await this.ports.audit
      .record({ sourceId: m.sourceId, action: 'aside', actor: 'fifo-relay watchdog', reason: why, at: now, details: { messageId: m.messageId, seq: m.seq.text, sentAt: m.sentAt, deadlineAt, parked } })
      .catch(() => undefined);
    // Best effort, like the journaled mark: the head is safe in the table whether or not the record says so.
    await this.ports.control.markHeadAside?.(m.sourceId, m.messageId, now).catch(() => undefined);
    return { kind: 'aside', parked };
  }

  /** Best effort: the message is safe in the journal whether or not the record says so. */
  private async markHeadJournaled(m: RelayMessage): Promise<void> {
    await this.ports.control.markHeadJournaled?.(m.sourceId, m.messageId, this.now()).catch(() => undefined);
  }
}
