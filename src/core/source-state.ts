import { isCoveredByLedger, type LedgerPosition } from './ledger-position';
import type { Sequence } from './message';
import { unknownSource } from './source-condition';

/**
 * A source's state machine (docs/parking.md). Pure: the adapters do the conditional writes that
 * move a source between states; these functions only decide what a holder or an operator may do.
 *
 *   active ──park / auto-park──▶ parked ──unpark──▶ replaying ──(journal delivered)──▶ closing ──(drained)──▶ active
 *                                  ▲                    │
 *                                  └──────── park ──────┘ (a newer park wins: every automatic step checks controlVersion)
 */
export type SourceState = 'active' | 'parked' | 'replaying' | 'closing';

export interface SourceControl {
  state: SourceState;
  controlVersion: number;
  journalVersion: number;
  position: LedgerPosition | undefined;
  stateSince?: number;
  stateReason?: string;
  stateActor?: string;
  /** False when the table has no ledger item for the source at all. */
  exists: boolean;
  /** Declared by the producer (the ledger item's `contiguous`): seqs 1, 2, 3, … with no hole, delivered exactly next. */
  contiguous?: boolean;
  /** A contiguous source held at a missing seq (gapSeq) since gapSince (ms). */
  gap?: { seq: bigint; since: number };
}

export const ACTIVE_UNKNOWN: SourceControl = { state: 'active', controlVersion: 0, journalVersion: 0, position: undefined, exists: false };

/** What a holder does with a received message, decided from a consistent read made after receiving it (rule 1). */
export type Route = 'deliver' | 'duplicate' | 'journal' | 'hold';

export function routeFor(control: SourceControl, seq: Sequence): Route {
  if (isCoveredByLedger(seq, control.position)) return 'duplicate';
  switch (control.state) {
    case 'active':
      return 'deliver';
    case 'parked':
    case 'replaying':
      // Journal before delete, state after journal (rule 4).
      return 'journal';
    case 'closing':
      // The replayer is draining for the last time: appends now would be missed, so keep it in SQS briefly.
      return 'hold';
  }
}

export type Refusal = { ok: false; reason: string };
export type Verdict = { ok: true } | Refusal;

const refuse = (reason: string): Refusal => ({ ok: false, reason });

export function mayPark(sourceId: string, c: SourceControl): Verdict {
  if (!c.exists) return refuse(unknownSource(sourceId));
  if (c.state === 'parked') return refuse(`source "${sourceId}" is already parked`);
  return { ok: true };
}

export function mayUnpark(sourceId: string, c: SourceControl): Verdict {
  if (!c.exists) return refuse(unknownSource(sourceId));
  if (c.state !== 'parked') return refuse(`source "${sourceId}" is not parked (state: ${c.state})`);
  return { ok: true };
}

/**
 * Skip is narrow (rule 6): parked, exactly the head, and only once no delivery that started
 * before the park can still be running (quiet period longer than app timeout + visibility).
 */
export function maySkip(sourceId: string, c: SourceControl, args: { seq: string; headSeq: string | undefined; headValue?: bigint; nowMs: number; quietMs: number }): Verdict {
  if (!c.exists) return refuse(unknownSource(sourceId));
  if (c.state !== 'parked') return refuse(`source "${sourceId}" is not parked (state: ${c.state}); park it first`);
  if (args.headSeq === undefined) return refuse(`source "${sourceId}" has nothing journaled above its position yet: its head is not known`);
  if (args.seq !== args.headSeq) return refuse(`seq ${args.seq} is not the head of source "${sourceId}" (the head is ${args.headSeq})`);
  // A contiguous source's head above a hole: skipping it would pass the hole too, unrecorded.
  const next = (c.position?.producerSeq ?? 0n) + 1n;
  if (c.contiguous === true && args.headValue !== undefined && args.headValue !== next) {
    return refuse(`seq ${next} of contiguous source "${sourceId}" is missing below the journal's head ${args.headSeq}: skip gives up only the next seq; wait for ${next} or run fifo-relay declare-lost ${sourceId} --seq ${next}`);
  }
  const quietUntil = (c.stateSince ?? 0) + args.quietMs;
  if (args.nowMs < quietUntil) {
    return refuse(`source "${sourceId}" was parked ${Math.round((args.nowMs - (c.stateSince ?? 0)) / 1000)} s ago; skip is allowed ${Math.ceil((quietUntil - args.nowMs) / 1000)} s from now (quiet period)`);
  }
  return { ok: true };
}

/**
 * The retention watchdog's trigger (rule 6 of the issue, rules 3 and 7 of the design): the time by
 * which a failing head must be parked, as a share of the queue's retention since SentTimestamp.
 */
export function parkDeadline(sentAtMs: number, retentionSeconds: number, share: number): number {
  return sentAtMs + Math.floor(retentionSeconds * share * 1000);
}

/**
 * A backoff that would carry the head past its park deadline is cut to end at the deadline (rule 3).
 * Never below one second (unless asked for less): a head at or past its deadline that cannot be
 * parked must not be retried in a tight loop.
 */
export function capBackoffAtDeadline(backoffSeconds: number, nowMs: number, deadlineMs: number): number {
  const left = Math.floor((deadlineMs - nowMs) / 1000);
  return Math.min(backoffSeconds, Math.max(1, left));
}

/** How long before SQS's retention a head kept in SQS must be visible again, for one more try to land in time. */
export const RETENTION_MARGIN_SECONDS = 60;

/**
 * The backoff for a head of a source that is parked already (its journal write failed): the park
 * deadline means nothing to it, only SQS's retention does. Cut to end a margin before the
 * retention, but never below floorSeconds: past that point one more try is all that is left, and
 * it must not spin.
 */
export function capBackoffAtRetention(backoffSeconds: number, nowMs: number, sentAtMs: number, retentionSeconds: number, floorSeconds: number): number {
  const left = Math.floor((sentAtMs + (retentionSeconds - RETENTION_MARGIN_SECONDS) * 1000 - nowMs) / 1000);
  // The floor itself must not carry the head past retention: at most half of what is left of it.
  const untilRetention = Math.floor((sentAtMs + retentionSeconds * 1000 - nowMs) / 1000);
  const floor = Math.min(floorSeconds, backoffSeconds, Math.max(1, Math.floor(untilRetention / 2)));
  return Math.max(floor, Math.min(backoffSeconds, left));
}
