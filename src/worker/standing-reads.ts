import type { ControlPort } from '../adapters/source-control';
import { ACTIVE_UNKNOWN, type SourceControl } from '../core/source-state';

/**
 * The oldest a consistent read of a source's state may be when the app call it allowed starts
 * (rule 1). Measured from when the read was sent, so it is a bound on how long a park, committed
 * before that, can go unseen: an app call starting more than this after a park's write was
 * acknowledged always sees it.
 */
export const STANDING_MAX_AGE_MS = 1000;

/**
 * A read slower than STANDING_MAX_AGE_MS is not refused for its own slowness (the lane would read
 * again, as slowly, for ever): it stays usable for this long after its answer came, enough for the
 * steps that follow it without any wait (slot or gate). A wait after it makes it stale as usual.
 */
export const ANSWERED_SLACK_MS = 200;

/**
 * A source's state with the time its consistent read counts as made: when it was sent, or, for a
 * read that took longer than the bound, just under the bound before its answer came.
 */
export interface Standing {
  control: SourceControl;
  readAt: number;
}

/** The read made for one receive: one BatchGetItem for all its sources. */
export interface ReceiveRead {
  readAt: number;
  controls: Map<string, SourceControl>;
}

interface Waiter {
  resolve(s: Standing): void;
  reject(e: unknown): void;
}

/**
 * Consistent reads of source state, each at most STANDING_MAX_AGE_MS old when used. Lanes that
 * need a fresh read in the same turn (several lanes let out of their slot wait at once, or past
 * a long gate wait) share one BatchGetItem.
 */
export class StandingReads {
  private pending = new Map<string, Waiter[]>();
  private scheduled = false;

  constructor(
    private readonly control: Pick<ControlPort, 'readMany'>,
    private readonly now: () => number,
    private readonly maxAgeMs = STANDING_MAX_AGE_MS,
  ) {}

  async forReceive(sourceIds: string[]): Promise<ReceiveRead> {
    const sentAt = this.now();
    const controls = await this.control.readMany(sourceIds);
    return { readAt: this.answered(sentAt), controls };
  }

  /** The time a read sent from now on would carry. */
  stamp(): number {
    return this.now();
  }

  /**
   * The stamp of a read sent at sentAt whose answer has just come: sentAt, unless the read itself
   * took longer than the bound; then it is fresh for ANSWERED_SLACK_MS more, and only a wait after
   * it (for a slot, at the gate) makes it stale.
   */
  answered(sentAt: number): number {
    return Math.max(sentAt, this.now() - this.maxAgeMs + ANSWERED_SLACK_MS);
  }

  isFresh(readAt: number): boolean {
    return this.now() - readAt <= this.maxAgeMs;
  }

  /** The receive's read while it is young enough, else a fresh one. */
  async of(receive: Promise<ReceiveRead> | undefined, sourceId: string): Promise<Standing> {
    if (receive !== undefined) {
      const r = await receive;
      if (this.isFresh(r.readAt)) return { control: r.controls.get(sourceId) ?? ACTIVE_UNKNOWN, readAt: r.readAt };
    }
    return this.fresh(sourceId);
  }

  /** A read sent from now on; asks made in the same turn go out together. */
  fresh(sourceId: string): Promise<Standing> {
    return new Promise<Standing>((resolve, reject) => {
      const waiters = this.pending.get(sourceId) ?? [];
      waiters.push({ resolve, reject });
      this.pending.set(sourceId, waiters);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    const sentAt = this.now();
    try {
      const controls = await this.control.readMany([...batch.keys()]);
      const readAt = this.answered(sentAt);
      for (const [id, waiters] of batch) for (const w of waiters) w.resolve({ control: controls.get(id) ?? ACTIVE_UNKNOWN, readAt });
    } catch (err) {
      for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
    }
  }
}
