/**
 * When the wait for the SIGTERM round to drain may give up. Under a loaded machine the run's
 * deadline can pass while the restarted workers are still booting, so a message in an ordinary
 * backoff would be called lost. Past the deadline the wait therefore goes on while the app still
 * sees calls for the round, and ends once none came for stallMs: a message that is really stuck
 * (left invisible, never released, deleted undelivered) makes no calls and still fails the run,
 * only stallMs later. hardCapAt bounds the whole run whatever happens.
 */
export interface DrainWait {
  now: number;
  /** The run's own deadline: before it the wait never gives up. */
  deadlineAt: number;
  /** Latest app call for the round's messages, or the moment the workers were back up if later. */
  lastProgressAt: number;
  stallMs: number;
  hardCapAt: number;
}

export function drainWaitOver(w: DrainWait): boolean {
  if (w.now >= w.hardCapAt) return true;
  if (w.now < w.deadlineAt) return false;
  return w.now - w.lastProgressAt >= w.stallMs;
}
