import type { BatchFailure, QueueEntry } from '../adapters/sqs-queue';
import { SQS_MAX_BATCH } from '../config';

export interface DeleteBatcherDeps {
  deleteBatch(entries: QueueEntry[]): Promise<BatchFailure[]>;
  onFailures(failures: BatchFailure[]): void;
  onError(error: Error, entries: QueueEntry[]): void;
  flushMs: number;
}

/**
 * Collects finished messages and deletes them ten at a time. A lane need not wait for its delete:
 * the ledger already records the message as done, so a delete that fails only means SQS hands the
 * message out again and it is then dropped without a second app call.
 */
export class DeleteBatcher {
  private pending: QueueEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: DeleteBatcherDeps) {}

  add(entry: QueueEntry): void {
    this.pending.push(entry);
    if (this.pending.length >= SQS_MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.deps.flushMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const part = this.pending.splice(0, SQS_MAX_BATCH);
      const p = this.deps
        .deleteBatch(part)
        .then((failures) => {
          if (failures.length > 0) this.deps.onFailures(failures);
        })
        .catch((err: Error) => this.deps.onError(err, part))
        .finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  /** Sends what is pending and waits for every delete in flight. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
