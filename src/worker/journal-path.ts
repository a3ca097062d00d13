import type { AuditPort } from '../adapters/audit-log';
import { entryFromMessage, JournalConflictError, type JournalPort } from '../adapters/journal';
import type { ControlPort } from '../adapters/source-control';
import { isSeqRegression, type LedgerPosition } from '../core/ledger-position';
import type { RelayMessage } from '../core/message';
import { capBackoffAtDeadline, parkDeadline, routeFor } from '../core/source-state';
import { StandingReads, type ReceiveRead, type Standing } from './standing-reads';

/** What became of a message of a parked or replaying source. */
export type JournalResult =
  | { kind: 'journaled'; written: boolean }
  /** The bump found the source active again (replay done): deliver from SQS, from this position. */
  | { kind: 'deliver'; position: LedgerPosition | undefined }
  | { kind: 'duplicate' }
  /** Keep it in SQS a little while (closing, or a state that changed under us). */
  | { kind: 'hold' }
  | { kind: 'error'; error: Error; conflict: boolean };

export type WatchResult = { kind: 'go'; backoffSeconds: number } | { kind: 'parked'; deadlineAt: number } | { kind: 'hold' } | { kind: 'duplicate' };

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
    private readonly ports: { control: ControlPort; journal: JournalPort; audit: AuditPort },
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
  async journal(m: RelayMessage): Promise<JournalResult> {
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
    if (bump.ok) return { kind: 'journaled', written };
    // Act on the state the failed condition returned: the entry stays, the SQS message is kept.
    if (isSeqRegression(m.seq, bump.control.position)) return { kind: 'hold' };
    switch (routeFor(bump.control, m.seq)) {
      case 'duplicate':
        return { kind: 'duplicate' };
      case 'deliver':
        return { kind: 'deliver', position: bump.control.position };
      default:
        return { kind: 'hold' };
    }
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
    await this.ports.journal.put(entryFromMessage(m, now));
    const c = await this.ports.control.read(m.sourceId);
    if (isSeqRegression(m.seq, c.position)) return { kind: 'hold' };
    const route = routeFor(c, m.seq);
    if (route === 'duplicate') return { kind: 'duplicate' };
    if (route !== 'deliver') return { kind: 'hold' };
    const ageSeconds = Math.round((now - m.sentAt) / 1000);
    const reason = `head seq ${m.seq.text} is ${ageSeconds} s old, past ${Math.round(this.opts.retentionParkShare * 100)}% of the queue's ${this.opts.retentionSeconds} s retention`;
    const parked = await this.ports.control.autoPark(m.sourceId, { actor: 'fifo-relay watchdog', reason, nowMs: now, expectVersion: c.controlVersion, position: c.position });
    if (!parked.ok) return { kind: 'hold' };
    await this.ports.audit
      .record({ sourceId: m.sourceId, action: 'auto-park', actor: 'fifo-relay watchdog', reason, at: now, details: { headSeq: m.seq.text, messageId: m.messageId, sentAt: m.sentAt, deadlineAt } })
      .catch(() => undefined);
    return { kind: 'parked', deadlineAt };
  }
}
