import type { WorkerEvents } from '../../src/worker/events';
import type { Worker } from '../../src/worker/worker';

/** Every payload the worker emits for one event, in order, for a test to assert on. */
export function collect<K extends keyof WorkerEvents & string>(worker: Worker, event: K): Array<WorkerEvents[K][0]> {
  const seen: Array<WorkerEvents[K][0]> = [];
  worker.on(event, ((e: WorkerEvents[K][0]) => seen.push(e)) as never);
  return seen;
}
