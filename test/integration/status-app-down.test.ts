import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceStatusReader } from '../../src/adapters/source-status';
import { DynamoTaskHealth } from '../../src/adapters/task-health';
import { runStatus } from '../../src/cli/status';
import type { RunningRelay } from '../../src/relay';
import type { StatusView } from '../../src/observability/status-view';
import { Browser } from '../support/browser';
import { freshQueueAndTable, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

let fx: Fixture;
let relay: RunningRelay;
let base: string;
let browser: Browser | undefined;
let stopped = false;
const SOURCES = ['acct-1', 'acct-2', 'acct-3', 'acct-4', 'acct-5', 'acct-6'];

/** A port nothing listens on: every call to it is ECONNREFUSED. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

beforeAll(async () => {
  fx = await freshQueueAndTable('appdown');
  relay = await startTestRelay(fx.config({ targetUrl: `http://127.0.0.1:${await refusedPort()}/`, stuckAttempts: 2, statusRefreshSeconds: 1, retryBaseSeconds: 1, retryMaxSeconds: 1 }));
  base = `http://127.0.0.1:${relay.server.port}`;
  await send(fx.sqs, fx.queueUrl, SOURCES.flatMap((sourceId) => [1, 2].map((seq) => ({ sourceId, seq, body: `{"seq":${seq}}` }))));
}, 60_000);

afterAll(async () => {
  browser?.kill();
  if (!stopped) await relay?.stop(1000);
  fx?.close();
});

const view = async () => (await (await fetch(`${base}/status`, { headers: { accept: 'application/json' } })).json()) as StatusView;

describe('an unreachable app is one app-level signal', () => {
  it('the page, /readyz and `fifo-relay status` all say the app is down, above the list', async () => {
    await waitFor('the app condition', async () => (await view()).health.app.state === 'down', 60_000, 500);
    const v = await view();
    expect(v.health.app.dominant?.kind).toBe('network');
    expect(v.health.app.failingSources).toBeGreaterThanOrEqual(3);
    expect(v.health.tasks).toHaveLength(1);
    expect(v.health.tasks[0]?.self).toBe(true);

    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; breaker: string; app?: string };
    expect(body.status).toBe('degraded');
    expect(body.app).toMatch(/^the app looks down — cannot reach the app: \d+ of \d+ failing sources fail this way; circuit breaker open on [01] of 1 task\(s\)\./);
    // The breaker state as the task itself reports it (open once enough calls failed across sources).
    expect(['open', 'probing', 'ramping', 'closed']).toContain(body.breaker);

    const out = { text: '', write(c: string) { this.text += c; } };
    const code = await runStatus({ table: fx.table, region: process.env.AWS_REGION ?? '', json: false, limit: 50, thresholds: { attempts: 2, afterMs: 900_000 } }, out, out, new SourceStatusReader(fx.dynamo, fx.table), new DynamoTaskHealth(fx.dynamo, fx.table));
    expect(code).toBe(0);
    const printed = out.text.split('\n');
    expect(printed[0]).toMatch(/^APP DOWN: cannot reach the app: \d+ of \d+ failing sources fail this way; circuit breaker open on [01] of 1 task\(s\)\. Fix the app: these sources resume by themselves once it answers; parking them does not help$/);
    expect(printed[2]).toMatch(/^SOURCE\s+CONDITION/);

    browser = await Browser.launch();
    await browser.goto(`${base}/status.html`);
    expect(await browser.eval<string>(`document.getElementById('app-condition')?.textContent ?? ''`)).toMatch(/^The app looks down\. Cannot reach the app/);
    expect(await browser.eval<string>('document.title')).toMatch(/^APP DOWN · /);
    await browser.screenshot(process.env.STATUS_APP_DOWN_SCREENSHOT ?? join(tmpdir(), 'fifo-relay-status-app-down.png'));
    expect(await browser.close()).toEqual([]);
    browser = undefined;

    // The task's own line in the table, as the other tasks and the CLI read it; removed when it stops.
    const lines = await new DynamoTaskHealth(fx.dynamo, fx.table).list();
    expect(lines).toEqual([expect.objectContaining({ taskId: v.health.tasks[0]?.taskId, stopping: false })]);
    stopped = true;
    await relay.stop(1000);
    expect(await new DynamoTaskHealth(fx.dynamo, fx.table).list()).toEqual([]);
  }, 120_000);
});
