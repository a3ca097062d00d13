import type { QueueDepth } from '../adapters/queue-health';
import type { SourceList } from '../adapters/source-status';
import type { TaskHealth } from '../core/app-health';
import type { StuckThresholds } from '../core/source-condition';

export interface TableSnapshot {
  /** When the table was read (ms); 0 before the first read finished. */
  readAt: number;
  list?: SourceList;
  /** The last read's failure, when it failed (the previous list, if any, is kept). */
  error?: string;
  /** Every task's own line (breaker state, load), read with the list. */
  tasks?: TaskHealth[];
  tasksError?: string;
  /** The queue's depth from GetQueueAttributes, read with the list. */
  queue?: QueueDepth;
  queueError?: string;
}

export interface TableStatusOptions {
  thresholds: StuckThresholds;
  refreshMs: number;
  now?: () => number;
  /** Upper bound on sources read per index. */
  limit?: number;
  onError?: (err: Error) => void;
  /** Read on the same refresh as the list, each on its own: one failing does not hide the others. */
  tasks?: () => Promise<TaskHealth[]>;
  queue?: () => Promise<QueueDepth>;
}

/**
 * The cross-task list every page view and metrics scrape shows, read from the table at most
 * once per refresh interval and only while someone asks: a page open in ten browsers costs the
 * same few index queries as one. Callers get the cached copy at once; a stale one triggers a
 * single refresh in the background.
 */
export class TableStatusCache {
  private snapshot: TableSnapshot = { readAt: 0 };
  private refreshing: Promise<TableSnapshot> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly reader: { list(t: StuckThresholds, now: number, limit?: number): Promise<SourceList> },
    private readonly opts: TableStatusOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  get thresholds(): StuckThresholds {
    return this.opts.thresholds;
  }

  get refreshMs(): number {
    return this.opts.refreshMs;
  }

  /** The snapshot as it is, never reading: for callers that must not wait (/readyz). */
  peek(): TableSnapshot {
    return this.snapshot;
  }

  /**
   * The cached snapshot. A slightly stale one is returned at once and refreshed in the
   * background; one nobody asked for in a while (two intervals or more) is read again first.
   */
  async get(): Promise<TableSnapshot> {
    const age = this.now() - this.snapshot.readAt;
    if (age < this.opts.refreshMs) return this.snapshot;
    const refresh = this.refresh();
    return age >= 2 * this.opts.refreshMs ? refresh : this.snapshot;
  }

  /** One read at a time, whoever asks. */
  refresh(): Promise<TableSnapshot> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async read(): Promise<TableSnapshot> {
    const at = this.now();
    const [list, tasks, queue] = await Promise.allSettled([
      this.reader.list(this.opts.thresholds, at, this.opts.limit ?? 1000),
      this.opts.tasks?.() ?? Promise.resolve(undefined),
      this.opts.queue?.() ?? Promise.resolve(undefined),
    ]);
    // Keep the last good value of each part, marked with its error; retry on the next interval, not on every view.
    const prev = this.snapshot;
    const next: TableSnapshot = { readAt: at };
    if (list.status === 'fulfilled') next.list = list.value;
    else {
      this.opts.onError?.(list.reason as Error);
      if (prev.list) next.list = prev.list;
      next.error = (list.reason as Error).message;
    }
    if (tasks.status === 'fulfilled') {
      if (tasks.value) next.tasks = tasks.value;
    } else {
      this.opts.onError?.(tasks.reason as Error);
      if (prev.tasks) next.tasks = prev.tasks;
      next.tasksError = (tasks.reason as Error).message;
    }
    if (queue.status === 'fulfilled') {
      if (queue.value) next.queue = queue.value;
    } else {
      this.opts.onError?.(queue.reason as Error);
      next.queueError = (queue.reason as Error).message;
    }
    this.snapshot = next;
    return this.snapshot;
  }
}
