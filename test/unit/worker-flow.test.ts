import type { Transition } from '../../src/core/circuit-breaker';
import type { FlowOptions } from '../../src/worker/flow-control';
import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp, fail, ok, seqAttr } from '../support/in-memory';
import { waitFor } from '../support/fixtures';

const flow = (over: Partial<FlowOptions['breaker']> = {}, rate = 0): FlowOptions => ({
  breaker: { enabled: true, failureRate: 0.5, windowMs: 10_000, minCalls: 5, minSources: 3, probeBaseMs: 50, probeMaxMs: 200, rampStart: 1, rampStepMs: 20, fullConcurrency: 16, maxPauseMs: 30_000, ...over },
  ratePerSecond: rate,
  burst: rate,
});

const options = (f: FlowOptions): WorkerOptions => ({
  queueId: QUEUE_ID,
  maxConcurrentSources: 16,
  receiveConcurrency: 1,
  visibilityTimeoutSeconds: 30,
  retry: { baseSeconds: 1, maxSeconds: 60 },
  deleteFlushMs: 1,
  ledgerCacheSize: 1000,
  recordFailures: false,
  appTimeoutMs: 5000,
  flow: f,
});

describe('worker with the flow gate (in-memory ports)', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('app down: opens, probes one call at a time, holds heads instead of backing off, then ramps back and delivers all in order', async () => {
    const queue = new MemoryFifoQueue();
    const sources = Array.from({ length: 12 }, (_, i) => `s${i}`);
    for (const s of sources) for (let n = 1; n <= 3; n++) queue.send(s, `${s}-${n}`, seqAttr(n));
    let down = true;
    const app = new ScriptedApp(() => (down ? fail(503) : ok()));
    worker = new Worker(options(flow()), { queue, ledger: new MemoryLedger(), app });
    const transitions: Transition[] = [];
    worker.on('flowTransition', (t) => transitions.push(t));
    worker.start();
    await waitFor('three failed probes', () => transitions.filter((t) => t.reason === 'probe failed').length >= 3);
    expect(worker.flowStatus().state).not.toBe('closed');
    const callsWhileOpen = app.calls.length;
    // Before it opened: one call per source at most (the sources that tripped it); after: probes only, one at a time.
    expect(app.maxInFlight).toBeLessThanOrEqual(12);
    expect(callsWhileOpen).toBeLessThan(12 + 6);
    expect(worker.flowStatus().waitingAtGate).toBeGreaterThan(0);
    // Heads wait at the gate, so no receives either (an idle in-memory poll would be one every 5 ms).
    const receivesBefore = queue.receives;
    await new Promise((r) => setTimeout(r, 300));
    expect(queue.receives - receivesBefore).toBeLessThan(5);

    down = false;
    await waitFor('all delivered', () => queue.size === 0, 10_000);
    for (const s of sources) {
      const seqs = app.seqsOf(s);
      expect(new Set(seqs)).toEqual(new Set([1, 2, 3]));
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    }
    expect(transitions.map((t) => t.to)).toEqual(expect.arrayContaining(['open', 'probing', 'ramping', 'closed']));
    expect(transitions.at(-1)?.to).toBe('closed');
    // Held heads retried without a new receive carry a higher X-Attempt.
    expect(Math.max(...app.calls.map((c) => c.attempt))).toBeGreaterThan(1);
  });

  it('one poison source failing on its own never opens the breaker; the others keep flowing', async () => {
    const queue = new MemoryFifoQueue();
    queue.send('poison', 'p', seqAttr(1));
    for (let i = 0; i < 10; i++) queue.send(`ok${i}`, 'x', seqAttr(1));
    const app = new ScriptedApp((m) => (m.sourceId === 'poison' ? fail(500) : ok()));
    worker = new Worker(options(flow({ minCalls: 1 })), { queue, ledger: new MemoryLedger(), app });
    const transitions: Transition[] = [];
    worker.on('flowTransition', (t) => transitions.push(t));
    worker.start();
    await waitFor('others delivered', () => queue.size === 1);
    queue.expireAll();
    await waitFor('poison retried', () => app.seqsOf('poison').length >= 3);
    expect(transitions).toEqual([]);
    expect(worker.flowStatus().state).toBe('closed');
  });

  it('a 429 with Retry-After pauses every source, not only the one that got it', async () => {
    const queue = new MemoryFifoQueue();
    for (let i = 0; i < 6; i++) queue.send(`s${i}`, 'x', seqAttr(1));
    let throttled = 0;
    const app = new ScriptedApp(() => (throttled++ === 0 ? fail(429, 60) : ok()));
    worker = new Worker(options(flow()), { queue, ledger: new MemoryLedger(), app });
    worker.start();
    await waitFor('paused', () => worker!.flowStatus().pausedUntil !== undefined);
    const status = worker.flowStatus();
    // Sixty seconds asked: nothing else starts meanwhile, and the throttled head is held, not backed off.
    expect(status.state).toBe('ramping');
    await waitFor('others waiting at the gate', () => worker!.flowStatus().waitingAtGate >= 1);
    const calls = app.calls.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(app.calls.length).toBe(calls);
    expect(queue.visibilityCalls.flat().filter((e) => e.seconds > 0)).toEqual([]);
  });

  it('stopping while the breaker is open hands the held heads back at once', async () => {
    const queue = new MemoryFifoQueue();
    for (let i = 0; i < 8; i++) queue.send(`s${i}`, 'x', seqAttr(1));
    const app = new ScriptedApp(() => fail(503));
    worker = new Worker(options(flow({ probeBaseMs: 60_000, probeMaxMs: 60_000 })), { queue, ledger: new MemoryLedger(), app });
    worker.start();
    await waitFor('open with heads waiting', () => worker!.flowStatus().state === 'open' && worker!.flowStatus().waitingAtGate > 0);
    const w = worker;
    worker = undefined;
    await w.stop(5000);
    expect(w.flowStatus().waitingAtGate).toBe(0);
    const released = queue.visibilityCalls.flat().filter((e) => e.seconds === 0).length;
    expect(released).toBeGreaterThan(0);
  });

  it('the rate limit caps calls per second for the whole task', async () => {
    const queue = new MemoryFifoQueue();
    for (let i = 0; i < 10; i++) queue.send(`s${i}`, 'x', seqAttr(1));
    const app = new ScriptedApp();
    worker = new Worker(options(flow({}, 2)), { queue, ledger: new MemoryLedger(), app });
    worker.start();
    await waitFor('burst used', () => app.calls.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    // Two a second with a burst of two: by now at most the burst and one more.
    expect(app.calls.length).toBeLessThanOrEqual(3);
    expect(worker.flowStatus().waitingAtGate).toBeGreaterThan(0);
  });
});
