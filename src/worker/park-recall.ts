import type { ControlPort } from '../adapters/source-control';
import type { BatchFailure, QueueEntry, VisibilityEntry } from '../adapters/sqs-queue';
import type { Emit } from './lane-hold';

/** How often the states of this task's backed-off heads are read (one BatchGetItem per 100 sources). */
export const PARK_POLL_MS = 5000;
/** A head about to be visible anyway is left alone: another task may hold it by the time the call lands. */
const RECALL_MARGIN_MS = 2000;

export interface ParkRecallDeps {
  control: Pick<ControlPort, 'readMany'>;
  changeVisibility(entries: VisibilityEntry[]): Promise<BatchFailure[]>;
  /** True while a lane of the source is open here: its old receipt handle must not be touched. */
  holdsSource(sourceId: string): boolean;
  now(): number;
  emit: Emit;
}

/**
 * A head waiting out its backoff is hidden in SQS, held by nobody: a park made meanwhile would
 * only take effect when the backoff ends (up to RETRY_MAX_SECONDS). This remembers the heads
 * this task backed off and, every pollMs, reads their sources' state; a head whose source is now
 * parked or replaying is handed back (visibility 0), so the next receive journals it.
 */
export class ParkRecall {
  private readonly heads = new Map<string, QueueEntry & { visibleAt: number }>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly deps: ParkRecallDeps,
    private readonly pollMs = PARK_POLL_MS,
  ) {}

  /** The head of sourceId now waits seconds before SQS shows it again. */
  backedOff(sourceId: string, entry: QueueEntry, seconds: number): void {
    const visibleAt = this.deps.now() + seconds * 1000;
    if (visibleAt - this.deps.now() > RECALL_MARGIN_MS) this.heads.set(sourceId, { ...entry, visibleAt });
    else this.heads.delete(sourceId);
  }

  get watching(): number {
    return this.heads.size;
  }

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look at the states; a failed read is tried again at the next tick. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = this.deps.now();
      for (const [id, h] of this.heads) if (h.visibleAt - now <= RECALL_MARGIN_MS || this.deps.holdsSource(id)) this.heads.delete(id);
      if (this.heads.size === 0) return;
      const states = await this.deps.control.readMany([...this.heads.keys()]).catch(() => undefined);
      // The table did not answer: the heads stay watched and the next tick reads again.
      if (!states) return;
      const recall: Array<[string, VisibilityEntry]> = [];
      const at = this.deps.now();
      for (const [id, h] of this.heads) {
        const state = states.get(id)?.state;
        if ((state === 'parked' || state === 'replaying') && h.visibleAt - at > RECALL_MARGIN_MS && !this.deps.holdsSource(id)) {
          recall.push([id, { messageId: h.messageId, receiptHandle: h.receiptHandle, seconds: 0 }]);
        }
      }
      if (recall.length === 0) return;
      for (const [id] of recall) this.heads.delete(id);
      const failures = await this.deps.changeVisibility(recall.map(([, e]) => e));
      this.deps.emit('parkedHeadsRecalled', { sourceIds: recall.map(([id]) => id), failures });
    } catch (err) {
      this.deps.emit('queueError', { operation: 'change-visibility', error: err as Error });
    } finally {
      this.polling = false;
    }
  }
}
