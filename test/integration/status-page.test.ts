import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoLedger } from '../../src/adapters/progress-ledger';
import { CommandSourceControl } from '../../src/demo/source-control';
import { startDemoApp, type DemoApp } from '../../src/demo/app-server';
import type { RunningRelay } from '../../src/relay';
import type { StatusView } from '../../src/observability/status-view';
import { Browser } from '../support/browser';
import { freshQueueAndTable, send, startTestRelay, waitFor, type Fixture } from '../support/fixtures';
import { SourceItems } from '../support/source-items';

// Untrusted text in a source id: it must show as text, never become markup.
const STUCK = '<img/src=x/onerror=window.__pwned=1>';
const MIN = 60_000;

let fx: Fixture;
let app: DemoApp;
let relay: RunningRelay;
let browser: Browser | undefined;
let base: string;

const getJson = async <T>(path: string, accept = 'application/json'): Promise<T> => (await fetch(base + path, { headers: { accept } })).json() as Promise<T>;
const metric = async (name: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};
const rowCondition = (id: string) => `[...document.querySelectorAll('#sources tbody tr')].find((r) => r.dataset.source === ${JSON.stringify(id)})?.querySelector('.badge')?.textContent`;

beforeAll(async () => {
  fx = await freshQueueAndTable('page');
  app = await startDemoApp({ down: true });
  relay = await startTestRelay(fx.config({ targetUrl: app.url, stuckAttempts: 2, statusRefreshSeconds: 1, retryBaseSeconds: 1, retryMaxSeconds: 1 }));
  base = `http://127.0.0.1:${relay.server.port}`;
  // A few more sources in other states, written in the table layout, so the page shows every kind.
  const now = Date.now();
  const ledger = new DynamoLedger(fx.dynamo, fx.table);
  await ledger.recordFailure('meter-17', {
    messageId: 'm-17', seq: '5120', attempt: 212, error: 'HTTP 500: upstream database unavailable', lastStatus: 500,
    atMs: now - 3 * 60 * MIN, nextAttemptAtMs: now + MIN, headSentAt: now - 14 * 24 * 60 * MIN + 40 * MIN, retentionDeadlineAt: now + 40 * MIN,
  });
  await ledger.recordFailure('meter-4', { messageId: 'm-4', seq: '88', attempt: 1, error: 'no answer within 10000 ms', atMs: now - 4000, nextAttemptAtMs: now + 2000, headSentAt: now - 5000, retentionDeadlineAt: now + 14 * 24 * 60 * MIN });
  const items = new SourceItems(fx.dynamo, fx.table);
  await items.setState('billing-eu', 'parked', { since: now - 26 * MIN, reason: 'schema change rejected by the app; waiting for the fix', actor: 'alice' });
  await items.setState('orders-7', 'replaying', { since: now - 40_000, reason: 'fix deployed', actor: 'bob', replayLease: { owner: 'another-task', untilMs: now + 3_600_000 } });
}, 60_000);

afterAll(async () => {
  browser?.kill();
  await relay?.stop(1000);
  await app?.close();
  fx?.close();
});

describe('the status page in a real browser', () => {
  it('renders, shows a stuck source the worker recorded, and updates by itself after it is parked', async () => {
    await send(fx.sqs, fx.queueUrl, [{ sourceId: STUCK, seq: 1, body: '{"n":1}' }, { sourceId: STUCK, seq: 2, body: '{"n":2}' }]);
    // The worker records the failing head (503 from the app) and, after two attempts, it counts as stuck.
    await waitFor('the source to be stuck', async () => (await getJson<StatusView>('/status')).table.sources.some((s) => s.sourceId === STUCK && s.condition === 'stuck'), 45_000, 250);
    const view = await getJson<StatusView>('/status');
    const row = view.table.sources.find((s) => s.sourceId === STUCK);
    expect(row?.head).toMatchObject({ seq: '1', lastStatus: 503, attempt: expect.any(Number) });
    expect(row?.head?.retentionDeadlineAt).toBe((row?.head?.sentAt ?? 0) + relay.facts.retentionSeconds * 1000);
    expect(view.table.sources.map((s) => s.sourceId)).toEqual(['meter-17', STUCK, 'meter-4', 'billing-eu', 'orders-7']);
    expect(await metric('fifo_relay_sources_stuck')).toBe(2);
    expect(await metric('fifo_relay_least_retention_left_seconds')).toBeLessThanOrEqual(40 * 60);

    browser = await Browser.launch();
    await browser.goto(`${base}/status.html`);
    expect(await browser.eval<string>(rowCondition(STUCK))).toBe('stuck');
    expect(await browser.eval<string>(`document.querySelector('[data-count="stuck"] .n').textContent`)).toBe('2');
    expect(await browser.eval<string>(`document.querySelector('tr[data-source="meter-17"] .retention span').className`)).toBe('left-critical');
    // Shown as text, not run as markup.
    expect(await browser.eval<string>(`[...document.querySelectorAll('td.src')].map((t) => t.textContent).join('|')`)).toContain(STUCK);
    expect(await browser.eval<unknown>('window.__pwned ?? null')).toBeNull();
    expect(await browser.eval<number>(`document.querySelectorAll('#content img').length`)).toBe(0);
    // The health strip: this task's line (from the table), the queue's depth, the oldest failing head.
    await browser.waitFor(`document.querySelectorAll('#tasks tbody tr').length === 1 && document.querySelector('[data-count="visible"]') !== null`, 20_000);
    expect(await browser.eval<string>(`document.querySelector('#tasks tbody tr').textContent`)).toContain('(this task)');
    expect(await browser.eval<string>('document.title')).toMatch(/^(APP DOWN · )?2 stuck · 1 retrying · 1 parked · 1 replaying — fifo-relay$/);
    await browser.screenshot(process.env.STATUS_SCREENSHOT ?? join(tmpdir(), 'fifo-relay-status-page.png'));

    // The drill-down, reached by clicking the source: everything an operator needs, no body, and the commands.
    await browser.eval(`setTimeout(() => document.querySelector('tr[data-source="' + CSS.escape(${JSON.stringify(STUCK)}) + '"] a').click(), 0)`);
    await browser.waitFor(`location.search.startsWith('?source=') && document.getElementById('head-message') !== null`, 20_000);
    const fact = (id: string) => browser!.eval<string>(`document.getElementById(${JSON.stringify(id)})?.textContent ?? ''`);
    expect(await browser.eval<string>(`document.getElementById('source-id').textContent`)).toBe(STUCK);
    expect(await fact('head-seq')).toBe('1');
    expect(await fact('head-message')).toBe(row?.head?.messageId);
    expect(Number(await fact('head-attempts'))).toBeGreaterThanOrEqual(2);
    expect(await fact('head-first-failure')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(\d+s ago\)$/);
    expect(await fact('head-next')).toMatch(/Z/);
    expect(await fact('head-status')).toBe('503');
    expect(await fact('head-error')).toContain('503');
    expect(await fact('head-holder')).toMatch(/\/[0-9a-f]{8} \(the task that recorded the last failure\)$/);
    expect(await fact('head-retention')).toMatch(/^14\.0d SQS deletes the head at \S+Z$/);
    expect(await fact('journal')).toBe('0 entries');
    expect(await browser.eval<string>('document.title')).toBe(`${STUCK} · stuck — fifo-relay`);
    const commands = () => browser!.eval<string[]>(`[...document.querySelectorAll('#commands code')].map((c) => c.textContent)`);
    expect(await commands()).toEqual([`fifo-relay status '${STUCK}'`, `fifo-relay show '${STUCK}'`, `fifo-relay park '${STUCK}' --reason 'REASON'`]);
    // No message body anywhere on the page.
    expect(await browser.eval<boolean>(`document.body.textContent.includes('{"n":1}')`)).toBe(false);
    await browser.screenshot(process.env.STATUS_SOURCE_SCREENSHOT ?? join(tmpdir(), 'fifo-relay-status-source.png'));

    // Parked, the same drill-down follows by itself: not journaled yet, then the unpark and skip commands.
    await browser.eval('window.__sameDocument = true');
    await new CommandSourceControl(fx.dynamo, fx.table, 'test-operator').park(STUCK, 'app rejects it');
    await browser.waitFor(`document.querySelector('#condition .badge')?.textContent === 'parked'`, 30_000);
    expect(await browser.eval<boolean>('window.__sameDocument === true')).toBe(true);
    await browser.waitFor(`[...document.querySelectorAll('#commands code')].some((c) => c.textContent.startsWith('fifo-relay unpark'))`, 20_000);
    expect(await commands()).toEqual(expect.arrayContaining([`fifo-relay unpark '${STUCK}' --dry-run`, `fifo-relay unpark '${STUCK}' --reason 'REASON'`]));
    await browser.waitFor(`document.querySelector('#audit tbody tr')?.textContent.includes('test-operator') === true`, 20_000);
    await browser.goto(`${base}/status.html`);

    await browser.waitFor(`${rowCondition(STUCK)} === 'parked'`, 30_000);
    expect(await browser.eval<string>(`document.querySelector('[data-count="parked"] .n').textContent`)).toBe('2');
    expect(await browser.eval<string>(`document.getElementById('updated').textContent`)).toMatch(/^updated \d+ s ago$/);
    await waitFor('the parked gauge', async () => (await metric('fifo_relay_sources_parked')) === 2, 20_000, 250);
    expect(await browser.close()).toEqual([]);
    browser = undefined;
  }, 120_000);

  it('answers /status with JSON by default and HTML to a browser, with a strict content security policy', async () => {
    const json = await fetch(`${base}/status`);
    expect(json.headers.get('content-type')).toBe('application/json');
    const html = await fetch(`${base}/status`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+'; connect-src 'self'/);
    // An unknown source's drill-down: 404, worded as everywhere else.
    const unknown = await fetch(`${base}/status.html?source=${encodeURIComponent('no such')}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('unknown source &#34;no such&#34;: the progress table holds nothing for it');
    const unknownJson = await fetch(`${base}/status?source=nope`, { headers: { accept: 'application/json' } });
    expect(unknownJson.status).toBe(404);
    expect(((await unknownJson.json()) as { sourceId: string; story?: unknown }).story).toBeUndefined();
    const post = await fetch(`${base}/status.html`, { method: 'POST' });
    expect(post.status).toBe(405);
  });
});
