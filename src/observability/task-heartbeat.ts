import type { TaskHealthPort } from '../adapters/task-health';
import type { TaskHealth } from '../core/app-health';
import type { Worker } from '../worker/worker';

export interface TaskHeartbeatOptions {
  taskId: string;
  /** How often the task writes its line (ms). */
  intervalMs: number;
  /** Deliveries since start, from the status page's own counter. */
  delivered: () => number;
  now?: () => number;
  onError?: (err: Error) => void;
}

/** A breaker change is written early, but never more often than this. */
const MIN_GAP_MS = 1000;

/**
 * Writes this task's breaker state and load into the table every interval, and soon after the
 * breaker changes state: one small PutItem per task per interval, whoever is looking.
 */
export class TaskHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private lastWrite = 0;
  private writing: Promise<void> | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly startedAt: number;
  private breakerSince: number;
  private readonly onTransition = () => {
    this.breakerSince = this.now();
    this.writeSoon();
  };

  constructor(
    private readonly worker: Worker,
    private readonly port: TaskHealthPort,
    private readonly opts: TaskHeartbeatOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    this.breakerSince = this.startedAt;
  }

  start(): void {
    this.worker.on('flowTransition', this.onTransition);
    void this.write();
    this.timer = setInterval(() => void this.write(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops writing and removes this task's line, so the others do not count a gone task. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.worker.off('flowTransition', this.onTransition);
    clearInterval(this.timer);
    clearTimeout(this.soon);
    await this.writing;
    await this.port.remove(this.opts.taskId).catch((err: Error) => this.opts.onError?.(err));
  }

  snapshot(): TaskHealth {
    const s = this.worker.stats();
    return {
      taskId: this.opts.taskId,
      seenAt: this.now(),
      startedAt: this.startedAt,
      breaker: s.breaker,
      breakerSince: this.breakerSince,
      inFlightSources: s.inFlightSources,
      heldMessages: s.heldMessages,
      retryingSources: s.retryingSources,
      deliveredSinceStart: this.opts.delivered(),
      stopping: s.stopping,
    };
  }

  private writeSoon(): void {
    if (this.soon || this.stopped) return;
    const wait = Math.max(0, this.lastWrite + MIN_GAP_MS - this.now());
    this.soon = setTimeout(() => {
      this.soon = undefined;
      void this.write();
    }, wait);
    this.soon.unref();
  }

  private async write(): Promise<void> {
    if (this.stopped || this.writing) return;
    this.lastWrite = this.now();
    this.writing = this.port
      .write(this.snapshot())
      .catch((err: Error) => this.opts.onError?.(err))
      .finally(() => {
        this.writing = undefined;
      });
    await this.writing;
  }
}
