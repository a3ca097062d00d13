import { startDemoApp, type DemoApp, type DeliveryRecord } from '../../src/demo/app-server';
import { freshQueueAndTable, messagesLeft, send, waitFor, type Fixture } from '../support/fixtures';
import { envFor, startWorkerProcess, type WorkerProcess } from '../support/processes';

/** Per source, the seqs of the first successful delivery of each message, in the order the app saw them. */
function firstSuccesses(records: DeliveryRecord[]): Map<string, number[]> {
  const seen = new Set<string>();
  const bySource = new Map<string, number[]>();
  for (const r of records) {
    if (r.status !== 200 || seen.has(r.idempotencyKey)) continue;
    seen.add(r.idempotencyKey);
    bySource.set(r.sourceId, [...(bySource.get(r.sourceId) ?? []), Number(r.seq)]);
  }
  return bySource;
}

describe('order across several worker processes on one queue', () => {
  let fx: Fixture;
  let app: DemoApp;
  const procs: WorkerProcess[] = [];

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await app?.close();
    fx?.close();
  });

  it('three workers and a flaky app: every message delivered, each source in order, no duplicate successes', async () => {
    fx = await freshQueueAndTable('multi');
    app = await startDemoApp({ failRate: 0.2, latencyMs: 3 });
    const sources = 30;
    const perSource = 10;
    const messages = [];
    for (let seq = 1; seq <= perSource; seq++) for (let s = 0; s < sources; s++) messages.push({ sourceId: `src-${s}`, seq, body: `{"s":${s},"seq":${seq}}` });
    await send(fx.sqs, fx.queueUrl, messages);

    const env = envFor(fx.config({ targetUrl: app.url, maxConcurrentSources: 8 }));
    for (let i = 0; i < 3; i++) procs.push(startWorkerProcess(env));
    await Promise.all(procs.map((p) => p.started));

    await waitFor(
      'queue drained',
      async () => (await messagesLeft(fx)) === 0,
      90_000,
      250,
    );

    const expected = Array.from({ length: perSource }, (_, i) => i + 1);
    const bySource = firstSuccesses(app.records);
    expect(bySource.size).toBe(sources);
    for (const seqs of bySource.values()) expect(seqs).toEqual(expected);
    const successes = app.records.filter((r) => r.status === 200);
    expect(successes).toHaveLength(sources * perSource);
    expect(app.records.some((r) => r.status === 503)).toBe(true);
    // Several processes really shared the work.
    const workersThatDelivered = procs.filter((p) => p.lines.some((l) => l.includes('"event":"delivered"'))).length;
    expect(workersThatDelivered).toBeGreaterThanOrEqual(2);

    for (const p of procs) p.child.kill('SIGTERM');
    for (const p of procs) expect((await p.exited).code).toBe(0);
  });
});
