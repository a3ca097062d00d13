import { DynamoJournal } from '../../src/adapters/journal';
import { DynamoSourceControl } from '../../src/adapters/source-control';
import type { Transition } from '../../src/core/circuit-breaker';
import type { RunningRelay } from '../../src/relay';
import { freshQueueAndTable, messagesLeft, send, sleep, startTestRelay, waitFor, type Fixture } from '../support/fixtures';

const SOURCES = Array.from({ length: 16 }, (_, i) => `s${String(i).padStart(2, '0')}`);

/** Sum of a counter's samples whose labels contain every given pair. */
function counted(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('retention guard: an open breaker does not blind the retention watchdog', () => {
  let fx: Fixture;
  let relay: RunningRelay | undefined;
  afterEach(async () => {
    await relay?.stop(1000);
    fx.close();
  });

  it('app down, breaker open, 16 sources but room for 2: every message ends journaled (sources parked), none deleted by the 60 s retention', async () => {
    fx = await freshQueueAndTable('guard', { FifoQueue: 'true', ContentBasedDeduplication: 'false', MessageRetentionPeriod: '60' });
    await send(fx.sqs, fx.queueUrl, SOURCES.flatMap((s) => [1, 2].map((n) => ({ sourceId: s, seq: n, body: `${s}-${n}` }))));
    const sentAt = Date.now();
    relay = await startTestRelay(
      fx.config({
        // Nothing listens on port 9: every call is a network error, the app is down throughout.
        targetUrl: 'http://127.0.0.1:9/',
        maxConcurrentSources: 2,
        retentionParkShare: 0.5,
        breakerEnabled: true,
        breakerMinCalls: 2,
        breakerMinSources: 2,
        breakerProbeBaseMs: 1000,
        breakerProbeMaxSeconds: 5,
      }),
    );
    const transitions: Transition[] = [];
    relay.worker.on('flowTransition', (t) => transitions.push(t));
    await waitFor('the breaker to open', () => transitions.some((t) => t.to === 'open'), 30_000, 100);
    const openedAt = Date.now();
    const before = await relay.metrics.registry.metrics();

    const journal = new DynamoJournal(fx.dynamo, fx.table);
    const control = new DynamoSourceControl(fx.dynamo, fx.table);
    const journaled = async () => (await Promise.all(SOURCES.map((s) => journal.count(s)))).reduce((a, b) => a + b, 0);
    // Park deadline 30 s after the send; SQS deletes at 60 s. Wait past the retention.
    await waitFor('all 32 journaled and the queue empty', async () => (await journaled()) === 32 && (await messagesLeft(fx)) === 0, 90_000, 1000);
    const states = await Promise.all(SOURCES.map(async (s) => (await control.read(s)).state));
    expect(states).toEqual(SOURCES.map(() => 'parked'));
    await sleep(Math.max(0, sentAt + 65_000 - Date.now()));
    // Past the retention: still every one of them in the journal, nothing in SQS.
    expect(await journaled()).toBe(32);
    expect(await messagesLeft(fx)).toBe(0);

    const after = await relay.metrics.registry.metrics();
    const minutes = (Date.now() - openedAt) / 60_000;
    const d = (action: string, service: string) => counted(after, 'fifo_relay_aws_requests_total', { service, action: `${action}Command` }) - counted(before, 'fifo_relay_aws_requests_total', { service, action: `${action}Command` });
    // Printed, not asserted: the price of the guard while the breaker is open.
    process.stdout.write(
      `retention guard, breaker open ${minutes.toFixed(2)} min: ReceiveMessage ${d('ReceiveMessage', 'sqs')}, ChangeMessageVisibilityBatch ${d('ChangeMessageVisibilityBatch', 'sqs')}, DeleteMessageBatch ${d('DeleteMessageBatch', 'sqs')}, ` +
        `GetItem ${d('GetItem', 'dynamodb')}, PutItem ${d('PutItem', 'dynamodb')}, UpdateItem ${d('UpdateItem', 'dynamodb')}, BatchGetItem ${d('BatchGetItem', 'dynamodb')}\n`,
    );
  }, 180_000);
});
