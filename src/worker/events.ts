import { EventEmitter } from 'node:events';
import type { InvalidMessage, RelayMessage } from '../core/message';
import type { DeliveryOutcome } from '../adapters/http-app';
import type { BatchFailure } from '../adapters/sqs-queue';
import type { Transition } from '../core/circuit-breaker';

export type ReleaseReason = 'after-failure' | 'shutdown' | 'visibility-limit' | 'visibility-lost';

export type FailureOutcome = Exclude<DeliveryOutcome, { kind: 'success' } | { kind: 'aborted' }>;

/** Everything observable about the worker: logs and metrics subscribe, the loop never knows them. */
export interface WorkerEvents {
  received: [{ count: number; lanes: number }];
  delivered: [{ message: RelayMessage; attempt: number; status: number; durationMs: number; ledger: 'advanced' | 'stale' }];
  deliveryFailed: [{ message: RelayMessage; attempt: number; outcome: FailureOutcome; backoffSeconds: number; released: number; held: boolean }];
  duplicateSkipped: [{ message: RelayMessage }];
  invalidMessage: [{ invalid: InvalidMessage; backoffSeconds: number; released: number }];
  ledgerError: [{ message: RelayMessage; stage: 'read' | 'advance' | 'record-failure'; error: Error; backoffSeconds: number }];
  released: [{ count: number; reason: ReleaseReason }];
  /** A call cut short by the shutdown after its grace; the message goes back unprocessed. */
  deliveryAborted: [{ message: RelayMessage; attempt: number; durationMs: number }];
  queueError: [{ operation: 'receive' | 'delete' | 'change-visibility'; error: Error }];
  batchFailures: [{ operation: 'delete' | 'change-visibility'; failures: BatchFailure[] }];
  heartbeat: [{ extended: number; capped: number }];
  /** A message of a parked or replaying source went into the journal and is deleted from SQS. */
  journaled: [{ message: RelayMessage; written: boolean }];
  /** Journaling failed (conflict = a different body already holds this seq): the message stays in SQS. */
  journalError: [{ message: RelayMessage; error: Error; conflict: boolean; backoffSeconds: number }];
  /** Kept in SQS briefly: the source is closing its replay, or its state moved under the lane. */
  heldForState: [{ message: RelayMessage; backoffSeconds: number }];
  /** A contiguous source's message waits in SQS: seq `missing` (its position + 1) is in neither the queue nor the journal. */
  gapHeld: [{ message: RelayMessage; missing: bigint }];
  /** A contiguous source was behind `before`: `message` (its position + 1) was delivered from the journal first. */
  filledFromJournal: [{ message: RelayMessage; before: RelayMessage }];
  /** An operator's set-aside of a seq-regression head was carried out: kept in the table, deleted from SQS. */
  setAside: [{ message: RelayMessage; detail: string }];
  /** The retention watchdog parked a source whose head was about to reach the queue's retention. */
  autoParked: [{ message: RelayMessage; ageSeconds: number; deadlineAt: number }];
  /** A head that can never take its place in the order was put aside before its deadline and deleted from SQS. */
  putAside: [{ message: RelayMessage; reason: string; parked: boolean }];
  /** SQS refused a renewal because this task no longer holds the message: its lane lets go of it. */
  visibilityLost: [{ messageIds: string[] }];
  /** A bug in the loop itself: the lane's messages were handed back so nothing is stranded. */
  internalError: [{ lane: string; error: Error }];
  /** The circuit breaker changed state (closed, open, probing, ramping). */
  flowTransition: [Transition];
  /** Heads backed off during an outage, handed back early (visibility 0) when the app answered again. */
  recalled: [{ count: number; failures: BatchFailure[] }];
  /** Heads backed off here whose source was parked meanwhile, handed back (visibility 0) so the next receive journals them. */
  parkedHeadsRecalled: [{ sourceIds: string[]; failures: BatchFailure[] }];
  stopping: [{ inFlight: number; graceMs: number }];
  /** hardDeadline: the stop cut SDK calls short and released what was still held (releasedAtDeadline). */
  stopped: [{ abortedDeliveries: number; hardDeadline: boolean; releasedAtDeadline: number }];
}

export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly emitter = new EventEmitter();

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    this.emitter.emit(event, ...args);
  }
}
