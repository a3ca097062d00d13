import type { BatchFailure, QueueEntry, VisibilityEntry } from '../adapters/sqs-queue';
import { SQS_MAX_BATCH, SQS_MAX_VISIBILITY_SECONDS } from '../config';
import { visibilityCeilingSeconds } from '../core/retry-policy';

interface Held extends QueueEntry {
  receivedAt: number;
  bytes: number;
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
  /** Messages SQS says this task no longer holds (visibility lapsed, or received again elsewhere). */
  onLost?(lost: QueueEntry[]): void;
}

/** Renewal failures that mean the receive is gone for good: retrying them only burns calls. */
export function isLostFailure(f: BatchFailure): boolean {
  return /MessageNotInflight|ReceiptHandleIsInvalid/i.test(f.code) || /receipt handle (has expired|is invalid)/i.test(f.message);
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
  /** Receipt handles SQS refused as no longer held, until their lane lets go of them. */
  private readonly lostHandles = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: HeartbeatDeps) {}

  private bytes = 0;

  /** bytes: the message's body size, counted against the held-bytes budget while it is held. */
  hold(entries: Array<QueueEntry & { bytes?: number }>, receivedAt: number): void {
    const visibleUntil = receivedAt + this.deps.visibilityTimeoutSeconds * 1000;
    for (const e of entries) {
      this.drop(e.messageId);
      const bytes = e.bytes ?? 0;
      this.bytes += bytes;
      this.held.set(e.messageId, { messageId: e.messageId, receiptHandle: e.receiptHandle, receivedAt, visibleUntil, bytes });
    }
  }

  /** Body bytes of every message held now. */
  get heldBytes(): number {
    return this.bytes;
  }

  private drop(messageId: string): Held | undefined {
    const h = this.held.get(messageId);
    if (!h) return undefined;
    this.held.delete(messageId);
    this.bytes -= h.bytes;
    return h;
  }

  /**
   * Stops renewing a message; waits for a renewal already sent so it cannot land after ours.
   * Keyed by receipt handle too: a lane letting go of an old receive must not drop the renewal
   * of the same message received again since.
   */
  async forget(entry: QueueEntry): Promise<void> {
    const h = this.held.get(entry.messageId);
    this.lostHandles.delete(entry.receiptHandle);
    if (h?.receiptHandle !== entry.receiptHandle) return;
    this.drop(entry.messageId);
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

  /** True when SQS said this receive is no longer held: its lane must not act as if it were. */
  isLost(entry: QueueEntry): boolean {
    return this.lostHandles.has(entry.receiptHandle);
  }

  /** Every held message, no longer renewed: for the last release pass at a hard stop. */
  takeAll(): QueueEntry[] {
    const all = [...this.held.values()].map((h) => ({ messageId: h.messageId, receiptHandle: h.receiptHandle }));
    this.held.clear();
    this.bytes = 0;
    return all;
  }

  get heldCount(): number {
    return this.held.size;
  }

  tick(): void {
    const now = this.deps.now();
    const visibilityMs = this.deps.visibilityTimeoutSeconds * 1000;
    const due: Array<{ held: Held; seconds: number }> = [];
    for (const h of this.held.values()) {
      // Renewing with a third still left leaves room for a slow or retried call to land in time.
      if (h.extending || h.visibleUntil - now > RENEW_WHEN_LEFT * visibilityMs) continue;
      const ceiling = visibilityCeilingSeconds(h.receivedAt, now, SQS_MAX_VISIBILITY_SECONDS, CEILING_MARGIN_SECONDS);
      const seconds = Math.min(this.deps.visibilityTimeoutSeconds, ceiling);
      if (seconds > 0) due.push({ held: h, seconds });
    }
    if (due.length === 0) return;
    // Each batch of ten goes out at once and is tracked on its own: under an SQS latency spike a
    // later batch must not wait for an earlier one and run out of slack.
    for (let i = 0; i < due.length; i += SQS_MAX_BATCH) this.renew(due.slice(i, i + SQS_MAX_BATCH), now);
  }

  private renew(part: Array<{ held: Held; seconds: number }>, now: number): void {
    const capped = part.filter((d) => d.seconds < this.deps.visibilityTimeoutSeconds).length;
    const sent = this.deps
      .changeVisibility(part.map((d) => ({ messageId: d.held.messageId, receiptHandle: d.held.receiptHandle, seconds: d.seconds })))
      .then((failures) => {
        const failed = new Map(failures.map((f) => [f.messageId, f]));
        const lost: QueueEntry[] = [];
        for (const d of part) {
          const f = failed.get(d.held.messageId);
          if (!f) d.held.visibleUntil = now + d.seconds * 1000;
          else if (isLostFailure(f)) {
            lost.push({ messageId: d.held.messageId, receiptHandle: d.held.receiptHandle });
            // Only a message still held here is marked: one its lane already let go of has no one to tell.
            if (this.held.get(d.held.messageId) === d.held) {
              this.drop(d.held.messageId);
              this.lostHandles.add(d.held.receiptHandle);
            }
          }
        }
        if (failures.length > 0) this.deps.onFailures(failures);
        if (lost.length > 0) this.deps.onLost?.(lost);
        this.deps.onExtended(part.length - failures.length, capped);
      })
      .catch((err: Error) => this.deps.onError(err))
      .finally(() => {
        for (const d of part) delete d.held.extending;
      });
    for (const d of part) d.held.extending = sent;
  }
}
