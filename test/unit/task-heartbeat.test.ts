import { EventEmitter } from 'node:events';
import type { TaskHealthPort } from '../../src/adapters/task-health';
import type { TaskHealth } from '../../src/core/app-health';
import { TaskHeartbeat } from '../../src/observability/task-heartbeat';
import type { Worker } from '../../src/worker/worker';

/** A worker as the heartbeat sees it: stats() and the breaker's transitions. */
function fakeWorker() {
  const events = new EventEmitter();
  const stats = { inFlightSources: 2, heldMessages: 3, heldBytes: 0, retryingSources: 1, oldestRetryingHeadAgeSeconds: 0, stopping: false, breaker: 'closed' as string };
  const worker = { on: (e: string, f: () => void) => events.on(e, f), off: (e: string, f: () => void) => events.off(e, f), stats: () => stats } as unknown as Worker;
  return { worker, stats, transition: () => events.emit('flowTransition', {}) };
}

function memoryPort() {
  const written: TaskHealth[] = [];
  const removed: string[] = [];
  const port: TaskHealthPort = { write: async (t) => void written.push(t), remove: async (id) => void removed.push(id), list: async () => written };
  return { port, written, removed };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('each task writes its own health line', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('at start, every interval, soon after a breaker change (never more than once a second), and removes it at stop', async () => {
    let clock = 1_000_000;
    const w = fakeWorker();
    const p = memoryPort();
    const hb = new TaskHeartbeat(w.worker, p.port, { taskId: 'host/abc', intervalMs: 15_000, delivered: () => 42, now: () => clock });
    hb.start();
    await flush();
    expect(p.written).toHaveLength(1);
    expect(p.written[0]).toMatchObject({ taskId: 'host/abc', breaker: 'closed', inFlightSources: 2, heldMessages: 3, retryingSources: 1, deliveredSinceStart: 42, stopping: false, seenAt: 1_000_000 });

    clock += 15_000;
    jest.advanceTimersByTime(15_000);
    await flush();
    expect(p.written).toHaveLength(2);

    // The breaker opens: written about a second later, not at the next interval; two changes, one write.
    w.stats.breaker = 'open';
    w.transition();
    w.transition();
    clock += 1000;
    jest.advanceTimersByTime(1000);
    await flush();
    expect(p.written).toHaveLength(3);
    expect(p.written[2]).toMatchObject({ breaker: 'open', breakerSince: 1_015_000 });

    await hb.stop();
    expect(p.removed).toEqual(['host/abc']);
    jest.advanceTimersByTime(60_000);
    await flush();
    expect(p.written).toHaveLength(3);
  });
});
