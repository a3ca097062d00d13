import type { BatchFailure, QueueEntry } from '../adapters/sqs-queue';
import { SQS_MAX_BATCH } from '../config';

export interface DeleteBatcherDeps {
  deleteBatch(entries: QueueEntry[]): Promise<BatchFailure[]>;
  onFailures(failures: BatchFailure[]): void;
  onError(error: Error, entries: QueueEntry[]): void;
  /** The longest a finished message waits for its delete while earlier deletes are in flight. */
  flushMs: number;
  /** DeleteMessageBatch calls of fewer than ten in flight at once (full batches always go). */
  maxInFlight?: number;
}

const DEFAULT_MAX_IN_FLIGHT = 1;

/**
 * Deletes finished messages by group commit, up to ten per DeleteMessageBatch. With no delete in
 * flight, a message goes at the end of the current event-loop turn (with whatever else finished
 * in that turn): at low load nobody waits for a timer, and SQS hands out a deep source's next
 * message as soon as it can. Messages finishing while the calls are in flight wait for one to
 * return, so under load each call carries more; flushMs only bounds that wait. A lane need not
 * wait for its delete: the ledger already records the message as done, so a delete that fails
 * only means SQS hands the message out again and it is then dropped without a second app call.
 */
export class DeleteBatcher {
  private pending: QueueEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly maxInFlight: number;

  constructor(private readonly deps: DeleteBatcherDeps) {
    this.maxInFlight = Math.max(1, deps.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  }

  add(entry: QueueEntry): void {
    this.pending.push(entry);
    if (this.pending.length >= SQS_MAX_BATCH) {
      this.send(false);
    } else if (this.inFlight.size < this.maxInFlight) {
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.send(false);
        });
      }
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.deps.flushMs);
    }
  }

  /** Sends everything pending now, whatever is in flight. */
  flush(): void {
    this.send(true);
  }

  /** Sends full batches, and a partial one while a call slot is free (or when forced). */
  private send(force: boolean): void {
    while (this.pending.length >= SQS_MAX_BATCH || (this.pending.length > 0 && (force || this.inFlight.size < this.maxInFlight))) {
      const part = this.pending.splice(0, SQS_MAX_BATCH);
      const p = this.deps
        .deleteBatch(part)
        .then((failures) => {
          if (failures.length > 0) this.deps.onFailures(failures);
        })
        .catch((err: Error) => this.deps.onError(err, part))
        .finally(() => {
          this.inFlight.delete(p);
          this.send(false);
        });
      this.inFlight.add(p);
    }
    if (this.pending.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Sends what is pending and waits for every delete in flight. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
