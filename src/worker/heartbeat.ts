import type { BatchFailure, QueueEntry, VisibilityEntry } from '../adapters/sqs-queue';
import { SQS_MAX_VISIBILITY_SECONDS } from '../config';
import { visibilityCeilingSeconds } from '../core/retry-policy';

interface Held extends QueueEntry {
  receivedAt: number;
  visibleUntil: number;
  extending?: Promise<void>;
}

export interface HeartbeatDeps {
  changeVisibility(entries: VisibilityEntry[]): Promise<BatchFailure[]>;
  now(): number;
  visibilityTimeoutSeconds: number;
  onExtended(extended: number, capped: number): void;
  onFailures(failures: BatchFailure[]): void;
  onError(error: Error): void;
}

const CEILING_MARGIN_SECONDS = 5;
const RENEW_WHEN_LEFT = 2 / 3;

/**
 * Renews the visibility of every message this task holds (the one being delivered and those
 * waiting behind it in the lane) once a third of it has run out, in batches of ten. Messages the
 * app answers quickly are never renewed, so a fast app costs no heartbeat calls at all.
 */
export class Heartbeat {
  private readonly held = new Map<string, Held>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: HeartbeatDeps) {}

  hold(entries: QueueEntry[], receivedAt: number): void {
    const visibleUntil = receivedAt + this.deps.visibilityTimeoutSeconds * 1000;
    for (const e of entries) this.held.set(e.messageId, { ...e, receivedAt, visibleUntil });
  }

  /**
   * Stops renewing a message; waits for a renewal already sent so it cannot land after ours.
   * Keyed by receipt handle too: a lane letting go of an old receive must not drop the renewal
   * of the same message received again since.
   */
  async forget(entry: QueueEntry): Promise<void> {
    const h = this.held.get(entry.messageId);
    if (h?.receiptHandle !== entry.receiptHandle) return;
    this.held.delete(entry.messageId);
    if (h.extending) await h.extending;
  }

  start(): void {
    const every = Math.min(1000, (this.deps.visibilityTimeoutSeconds * 1000) / 4);
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get heldCount(): number {
    return this.held.size;
  }

  tick(): void {
    const now = this.deps.now();
    const visibilityMs = this.deps.visibilityTimeoutSeconds * 1000;
    const due: Array<{ held: Held; seconds: number }> = [];
    let capped = 0;
    for (const h of this.held.values()) {
      // Renewing with a third still left leaves room for a slow or retried call to land in time.
      if (h.extending || h.visibleUntil - now > RENEW_WHEN_LEFT * visibilityMs) continue;
      const ceiling = visibilityCeilingSeconds(h.receivedAt, now, SQS_MAX_VISIBILITY_SECONDS, CEILING_MARGIN_SECONDS);
      const seconds = Math.min(this.deps.visibilityTimeoutSeconds, ceiling);
      if (seconds < this.deps.visibilityTimeoutSeconds) capped++;
      if (seconds > 0) due.push({ held: h, seconds });
    }
    if (due.length === 0) return;
    const sent = this.deps
      .changeVisibility(due.map((d) => ({ messageId: d.held.messageId, receiptHandle: d.held.receiptHandle, seconds: d.seconds })))
      .then((failures) => {
        const failed = new Set(failures.map((f) => f.messageId));
        for (const d of due) if (!failed.has(d.held.messageId)) d.held.visibleUntil = now + d.seconds * 1000;
        if (failures.length > 0) this.deps.onFailures(failures);
        this.deps.onExtended(due.length - failures.length, capped);
      })
      .catch((err: Error) => this.deps.onError(err))
      .finally(() => {
        for (const d of due) delete d.held.extending;
      });
    for (const d of due) d.held.extending = sent;
  }
}
