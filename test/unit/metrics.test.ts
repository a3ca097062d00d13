import { Metrics } from '../../src/observability/metrics';
import { Worker, type WorkerOptions } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp, fail, ok, seqAttr } from '../support/in-memory';
import { waitFor } from '../support/fixtures';

const options: WorkerOptions = {
  queueId: QUEUE_ID,
  maxConcurrentSources: 4,
  receiveConcurrency: 1,
  visibilityTimeoutSeconds: 30,
  retry: { baseSeconds: 1, maxSeconds: 2 },
  deleteFlushMs: 1,
  ledgerCacheSize: 100,
  recordFailures: false,
  appTimeoutMs: 1000,
};

/** The value of one exported series, or undefined when the series is not exported at all. */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics a Prometheus user can alert on', () => {
  let worker: Worker | undefined;
  afterEach(async () => {
    await worker?.stop(100);
    worker = undefined;
  });

  it('exports every counter label set at zero before anything happened, so rate() works from the first scrape', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.attach(new Worker(options, { queue: new MemoryFifoQueue(), ledger: new MemoryLedger(), app: new ScriptedApp() }));
    const text = await m.registry.metrics();
    for (const series of [
      'fifo_relay_delivery_attempts_total{outcome="success"}',
      'fifo_relay_delivery_attempts_total{outcome="network-error"}',
      'fifo_relay_delivery_attempts_total{outcome="timeout"}',
      'fifo_relay_errors_total{operation="ledger-advance"}',
      'fifo_relay_errors_total{operation="receive"}',
      'fifo_relay_errors_total{operation="status-read"}',
      'fifo_relay_invalid_messages_total{reason="seq-regression"}',
      'fifo_relay_messages_released_total{reason="visibility-lost"}',
      'fifo_relay_duplicates_total{kind="delivered"}',
      'fifo_relay_breaker_transitions_total{to="open"}',
      'fifo_relay_aws_requests_total{service="sqs",action="ReceiveMessage",outcome="error"}',
      'fifo_relay_aws_requests_total{service="dynamodb",action="BatchExecuteStatement",outcome="error"}',
      'fifo_relay_breaker_state_seconds_total{state="open"}',
    ]) {
      expect([series, value(text, series)]).toEqual([series, 0]);
    }
  });

  it('labels AWS calls by the AWS API name and the outcome words the delivery families use', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.observeAws('sqs', 'ReceiveMessageCommand', 'ok', { durationMs: 20, items: 3 });
    m.observeAws('sqs', 'ReceiveMessageCommand', 'error', { durationMs: 5 });
    m.observeAws('dynamodb', 'DescribeTableCommand', 'aborted', { durationMs: 1 });
    const text = await m.registry.metrics();
    expect(value(text, 'fifo_relay_aws_requests_total{service="sqs",action="ReceiveMessage",outcome="success"}')).toBe(1);
    expect(value(text, 'fifo_relay_aws_requests_total{service="sqs",action="ReceiveMessage",outcome="error"}')).toBe(1);
    // An action outside the worker's list appears, with all three outcomes, once it is first called.
    expect(value(text, 'fifo_relay_aws_requests_total{service="dynamodb",action="DescribeTable",outcome="aborted"}')).toBe(1);
    expect(value(text, 'fifo_relay_aws_requests_total{service="dynamodb",action="DescribeTable",outcome="success"}')).toBe(0);
    expect(value(text, 'fifo_relay_aws_batch_items_sum{service="sqs",action="ReceiveMessage"}')).toBe(3);
    expect(value(text, 'fifo_relay_aws_request_duration_seconds_count{service="sqs",action="ReceiveMessage"}')).toBe(2);
    expect(text).not.toContain('Command"');
    expect(text).not.toContain('outcome="ok"');
  });

  it('counts deliveries and failures by outcome through a real worker, on the latency histogram with the same outcome words', async () => {
    const queue = new MemoryFifoQueue();
    for (let i = 1; i <= 3; i++) queue.send('A', `a${i}`, seqAttr(i));
    let failures = 1;
    const app = new ScriptedApp(() => (failures-- > 0 ? fail(503) : ok()));
    const m = new Metrics({ defaultMetrics: false });
    worker = new Worker({ ...options, retry: { baseSeconds: 0, maxSeconds: 0 } }, { queue, ledger: new MemoryLedger(), app });
    m.attach(worker);
    worker.start();
    await waitFor('all delivered', () => queue.size === 0, 20_000);
    const first = await m.registry.metrics();
    expect(value(first, 'fifo_relay_delivery_attempts_total{outcome="success"}')).toBe(3);
    expect(value(first, 'fifo_relay_delivery_attempts_total{outcome="http-error"}')).toBe(1);
    expect(value(first, 'fifo_relay_delivery_duration_seconds_count{outcome="success"}')).toBe(3);
    expect(value(first, 'fifo_relay_delivery_duration_seconds_count{outcome="http-error"}')).toBe(1);
    expect(value(first, 'fifo_relay_messages_delivered_total{path="queue"}')).toBe(3);
    expect(value(first, 'fifo_relay_messages_delivered_total{path="replay"}')).toBe(0);
    // A scrape takes what was counted since the last one and adds it: nothing is counted twice.
    const second = await m.registry.metrics();
    expect(value(second, 'fifo_relay_delivery_attempts_total{outcome="success"}')).toBe(3);
    m.countError('status-read');
    expect(await m.registry.getSingleMetricAsString('fifo_relay_errors_total')).toContain('fifo_relay_errors_total{operation="status-read"} 1');
  });

  it('exports the time in each breaker state as a counter that only grows', async () => {
    const spent = { closed: 0, open: 0, probing: 0, ramping: 0 };
    const stand = { on: () => stand, stats: () => ({}), flowStatus: () => ({ state: 'closed', timeInStateMs: spent, waitingAtGate: 0 }) };
    const m = new Metrics({ defaultMetrics: false });
    m.attach(stand as unknown as Worker);
    spent.closed = 1500;
    spent.open = 250;
    let text = await m.registry.getSingleMetricAsString('fifo_relay_breaker_state_seconds_total');
    expect(text).toContain('# TYPE fifo_relay_breaker_state_seconds_total counter');
    expect(value(text, 'fifo_relay_breaker_state_seconds_total{state="closed"}')).toBe(1.5);
    expect(value(text, 'fifo_relay_breaker_state_seconds_total{state="open"}')).toBe(0.25);
    spent.closed = 4000;
    text = await m.registry.getSingleMetricAsString('fifo_relay_breaker_state_seconds_total');
    expect(value(text, 'fifo_relay_breaker_state_seconds_total{state="closed"}')).toBe(4);
    expect(value(text, 'fifo_relay_breaker_state_seconds_total{state="open"}')).toBe(0.25);
  });

  it('exports fifo_relay_build_info{version,node} = 1', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const text = await m.registry.getSingleMetricAsString('fifo_relay_build_info');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { version } = require('../../package.json') as { version: string };
    expect(value(text, `fifo_relay_build_info{version="${version}",node="${process.versions.node}"}`)).toBe(1);
  });
});
