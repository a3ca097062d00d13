import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import type { Transition } from '../../src/core/circuit-breaker';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, sleep, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

const SOURCES = 50;
const PER_SOURCE = 3;
const OUTAGE_MS = 20_000;

/** ReceiveMessage calls the relay made, from its own AWS call counter. */
async function receives(relay: RunningRelay): Promise<number> {
  const text = await relay.metrics.registry.getSingleMetricAsString('fifo_relay_aws_requests_total');
  return text
    .split('\n')
    .filter((l) => l.includes('action="ReceiveMessage'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('app down for 20 s with 50 sources (fauxqs + DynamoDB Local)', () => {
  let fx: Fixture;
  let app: DemoApp;
  let relay: RunningRelay | undefined;

  beforeAll(async () => {
    fx = await freshQueueAndTable('outage');
  });
  afterAll(async () => {
    await relay?.stop(1000);
    await app?.close();
    fx.close();
  });

  it('keeps app calls during the outage within sources + 10, holds what it has, and drains in order soon after recovery with a ramp', async () => {
    app = await startDemoApp({ down: true });
    const messages = [];
    for (let n = 1; n <= PER_SOURCE; n++) for (let s = 0; s < SOURCES; s++) messages.push({ sourceId: `src-${s}`, seq: n, body: `{"n":${n}}` });
    await send(fx.sqs, fx.queueUrl, messages);
    // The setting: with it, sources that back off alone wait up to 30 s after the app is back.
    relay = await startTestRelay(fx.config({ targetUrl: app.url, retryMaxSeconds: 30, visibilityTimeoutSeconds: 10 }));
    const transitions: Transition[] = [];
    relay.worker.on('flowTransition', (t) => transitions.push(t));

    await sleep(OUTAGE_MS);
    const callsDuringOutage = app.records.length;
    const receivesDuringOutage = await receives(relay);
    const degraded = await fetch(`http://127.0.0.1:${relay.server.port}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as { status: string } }));
    const status = (await fetch(`http://127.0.0.1:${relay.server.port}/status`).then((r) => r.json())) as { flow: { state: string; timeInStateMs: Record<string, number> } };

    app.behaviour.down = false;
    const upAt = Date.now();
    // Well inside the 30 s a source backing off on its own could still have to wait.
    await waitFor('all delivered', async () => (await messagesLeft(fx)) === 0, 25_000, 200);
    const drainMs = Date.now() - upAt;
    process.stdout.write(
      `outage: ${callsDuringOutage} app calls and ${receivesDuringOutage} receives in ${OUTAGE_MS / 1000} s with ${SOURCES} sources; ` +
        `drained ${SOURCES * PER_SOURCE} messages ${(drainMs / 1000).toFixed(1)} s after recovery; transitions ${transitions.map((t) => t.to).join(' → ')}\n`,
    );

    expect(callsDuringOutage).toBeLessThanOrEqual(SOURCES + 10);
    expect(degraded).toEqual({ status: 200, body: expect.objectContaining({ status: 'degraded', breaker: expect.stringMatching(/open|probing/) }) });
    expect(status.flow.timeInStateMs.open).toBeGreaterThan(0);
    // Nothing lost or reordered: each source's successes are 1..3 in order, once each.
    for (let s = 0; s < SOURCES; s++) {
      const ok = app.records.filter((r) => r.sourceId === `src-${s}` && r.status === 200).map((r) => Number(r.seq));
      expect(ok).toEqual([1, 2, 3]);
    }
    // The ramp ends on its own steps, possibly after the backlog is gone.
    await waitFor('the ramp to close the breaker', () => transitions.some((t) => t.to === 'closed'), 30_000, 100);
    expect(transitions.map((t) => t.to)).toEqual(expect.arrayContaining(['open', 'probing', 'ramping', 'closed']));
    const probes = transitions.filter((t) => t.to === 'probing');
    expect(probes.length).toBeGreaterThanOrEqual(2);
    const metrics = await relay.metrics.registry.getSingleMetricAsString('fifo_relay_breaker_transitions_total');
    expect(metrics).toMatch(/to="ramping"} [1-9]/);
  });
});
