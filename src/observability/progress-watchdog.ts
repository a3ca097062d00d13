import type { Worker } from '../worker/worker';

/** Events that prove the loop moved: a message finished, failed, was handed back or was judged. */
const PROGRESS = [
  'delivered',
  'deliveryFailed',
  'deliveryAborted',
  'duplicateSkipped',
  'invalidMessage',
  'ledgerError',
  'released',
  'journaled',
  'journalError',
  'heldForState',
  'autoParked',
] as const;

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
    // Lanes waiting at the flow gate (breaker open, a 429 pause, the rate limit) wait by design,
    // on the gate's own timers: an outage of the app must not make ECS replace healthy tasks.
    const flow = this.worker.flowStatus();
    const now = this.now();
    // Not merely "someone waits at the gate": with a rate limit someone always does, and a hung
    // lane must still be seen. The breaker being open or a 429 pause running is a wait by design.
    const waitingByDesign = flow.state !== 'closed' || (flow.pausedUntil !== undefined && flow.pausedUntil > now);
    if (idle || waitingByDesign) this.lastProgressAt = now;
    return idle || waitingByDesign || now - this.lastProgressAt < this.stuckAfterMs;
  }
}

/** Longer than any single step can take: an app call plus a ledger read and write with retries. */
export function stuckAfterMs(appTimeoutMs: number, awsRequestTimeoutMs: number): number {
  return Math.max(60_000, 2 * appTimeoutMs + 6 * awsRequestTimeoutMs);
}
