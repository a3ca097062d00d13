import type { Worker } from '../worker/worker';

/** Events that prove the loop moved: a message finished, failed, was handed back or was judged. */
const PROGRESS = ['delivered', 'deliveryFailed', 'deliveryAborted', 'duplicateSkipped', 'invalidMessage', 'ledgerError', 'released'] as const;

/**
 * Liveness beyond "the process answers": unhealthy when the worker holds work but nothing has
 * finished, failed or been handed back for stuckAfterMs. Every app call and SDK call ends on its
 * own deadline, so a loop that is silent that long while holding messages is hung, and ECS should
 * replace the task (its messages come back after their visibility).
 */
export class ProgressWatchdog {
  private lastProgressAt: number;

  constructor(
    private readonly worker: Worker,
    private readonly stuckAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastProgressAt = now();
    for (const event of PROGRESS) worker.on(event, () => (this.lastProgressAt = this.now()));
  }

  healthy(): boolean {
    const s = this.worker.stats();
    const idle = s.inFlightSources === 0 && s.heldMessages === 0;
    if (idle) this.lastProgressAt = this.now();
    return idle || this.now() - this.lastProgressAt < this.stuckAfterMs;
  }
}

/** Longer than any single step can take: an app call plus a ledger read and write with retries. */
export function stuckAfterMs(appTimeoutMs: number, awsRequestTimeoutMs: number): number {
  return Math.max(60_000, 2 * appTimeoutMs + 6 * awsRequestTimeoutMs);
}
