import type { RelayMessage } from '../core/message';
import type { AsideResult, ParkingPath, WatchResult } from './journal-path';
import type { Emit } from './lane-hold';

/**
 * The retention watchdog as a lane asks it (rules 3 and 7): a failed head's backoff ends by its
 * park deadline, and at the deadline the head is journaled and the source parked. A watchdog
 * that cannot reach the table lets the head go on with its backoff: it asks again next time.
 */
export class LaneWatch {
  constructor(
    private readonly parking: ParkingPath,
    private readonly emit: Emit,
  ) {}

  /** The backoff cut to end by the head's park deadline (rule 3), without asking the table. */
  cap(m: RelayMessage, backoffSeconds: number): number {
    return this.parking.capAtDeadline(m, backoffSeconds);
  }

  /** The backoff of a parked source's head whose journal write failed: bounded by SQS's retention, never below floorSeconds. */
  capJournal(m: RelayMessage, backoffSeconds: number, floorSeconds: number): number {
    return this.parking.capAtRetention(m, backoffSeconds, floorSeconds);
  }

  async aside(m: RelayMessage, reason: string, detail: string, backoffSeconds: number): Promise<AsideResult> {
    try {
      return await this.parking.watchAside(m, reason, detail, backoffSeconds);
    } catch (err) {
      this.emit('journalError', { message: m, error: err as Error, conflict: false, backoffSeconds });
      return { kind: 'go', backoffSeconds };
    }
  }

  async watch(m: RelayMessage, backoffSeconds: number): Promise<WatchResult> {
    try {
      return await this.parking.watch(m, backoffSeconds);
    } catch (err) {
      this.emit('journalError', { message: m, error: err as Error, conflict: false, backoffSeconds });
      return { kind: 'go', backoffSeconds };
    }
  }
}
