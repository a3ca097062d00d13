import type { LedgerPort } from '../adapters/progress-ledger';
import type { RelayMessage, Sequence } from '../core/message';
import type { Emit } from './lane-hold';

export interface RetryingHead {
  sourceId: string;
  messageId: string;
  seq: string;
  attempt: number;
  lastError: string;
  /** First receive of the head (shared by all tasks): how long the source has been held up. */
  since: number;
  nextAttemptAt: number;
}

/** One failed try of a source's head, as the stuck list and the ledger item keep it. */
export interface HeadFailure {
  sourceId: string;
  messageId: string;
  seq: string;
  attempt: number;
  error: string;
  /** First receive of the head; 0 when unknown. */
  since: number;
  /** SentTimestamp of the head (ms); 0 when unknown. */
  sentAt: number;
  lastStatus?: number;
  /** The head's sequence, when it has one: the record is conditioned on the position not having passed it. */
  sequence?: Sequence;
}

export interface FailureLogDeps {
  ledger: Pick<LedgerPort, 'recordFailure'>;
  /** False: only this task's own list is kept, nothing goes to the table. */
  recordFailures: boolean;
  /** The queue's MessageRetentionPeriod: with a head's SentTimestamp, when SQS will delete it. */
  retentionSeconds?: number;
  now(): number;
  emit: Emit;
}

/** What this task knows of failing heads: its own list, and the failure record on the ledger item. */
export class FailureLog {
  readonly retrying = new Map<string, RetryingHead>();

  constructor(private readonly deps: FailureLogDeps) {}

  /** message: the head as received, named in the event if the record cannot be written. */
  async record(f: HeadFailure, backoffSeconds: number, message: RelayMessage | undefined): Promise<void> {
    const now = this.deps.now();
    const nextAttemptAt = now + backoffSeconds * 1000;
    this.retrying.set(f.sourceId, { sourceId: f.sourceId, messageId: f.messageId, seq: f.seq, attempt: f.attempt, lastError: f.error, since: f.since || now, nextAttemptAt });
    if (!this.deps.recordFailures) return;
    // Written while this task still holds the head, so it cannot land after another task's success.
    try {
      const sentAt = f.sentAt > 0 ? f.sentAt : undefined;
      const retention = this.deps.retentionSeconds;
      await this.deps.ledger.recordFailure(f.sourceId, {
        messageId: f.messageId,
        seq: f.seq,
        attempt: f.attempt,
        error: f.error,
        atMs: now,
        nextAttemptAtMs: nextAttemptAt,
        ...(f.lastStatus === undefined ? {} : { lastStatus: f.lastStatus }),
        ...(f.sequence === undefined ? {} : { headSeq: f.sequence }),
        ...(sentAt === undefined ? {} : { headSentAt: sentAt }),
        ...(sentAt === undefined || retention === undefined ? {} : { retentionDeadlineAt: sentAt + retention * 1000 }),
      });
    } catch (err) {
      if (message) this.deps.emit('ledgerError', { message, stage: 'record-failure', error: err as Error, backoffSeconds });
    }
  }

  /** The source's head got through (delivered, journaled or found covered): it is no longer failing here. */
  clear(sourceId: string): void {
    this.retrying.delete(sourceId);
  }

  /**
   * Drops entries whose head has surely been taken over by another task or finished there.
   * Runs on its own timer only: every gauge reads stats() at each scrape.
   */
  prune(staleAfterMs: number, held: (sourceId: string) => boolean): void {
    const now = this.deps.now();
    for (const [key, r] of this.retrying) {
      if (!held(key) && now - r.nextAttemptAt > staleAfterMs) this.retrying.delete(key);
    }
  }
}

/** The failure record of a delivered-path head: what it knows of the message. */
export function failureOf(m: RelayMessage, attempt: number, error: string, lastStatus?: number): HeadFailure {
  return {
    sourceId: m.sourceId,
    messageId: m.messageId,
    seq: m.seq.text,
    attempt,
    error,
    since: m.firstReceivedAt,
    sentAt: m.sentAt,
    sequence: m.seq,
    ...(lastStatus === undefined ? {} : { lastStatus }),
  };
}
