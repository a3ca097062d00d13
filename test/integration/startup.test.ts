import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { ensureQueue } from '../../src/cli/setup';
import { startRelay, StartupError } from '../../src/relay';
import { freshQueueAndTable, silentLogger, sqsClient, startTestRelay, type Fixture } from '../support/fixtures';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

describe('start-up checks and the observability port', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('startup');
  });
  afterAll(() => fx.close());

  it('refuses a queue that is not FIFO', async () => {
    const sqs = sqsClient();
    const { url } = await ensureQueue(sqs, `plain-${Date.now()}`, {});
    sqs.destroy();
    const config = { ...fx.config(), queueUrl: url };
    await expect(startRelay(config, silentLogger(), { defaultMetrics: false })).rejects.toThrow(/is not a FIFO queue/);
  });

  it('refuses a queue with a redrive policy unless ALLOW_REDRIVE_POLICY is set', async () => {
    const sqs = sqsClient();
    const dlq = await ensureQueue(sqs, `dlq-${Date.now()}.fifo`);
    const withRedrive = await ensureQueue(sqs, `redrive-${Date.now()}.fifo`, {
      FifoQueue: 'true',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${dlq.url.split('/').pop()}`, maxReceiveCount: 5 }),
    });
    sqs.destroy();
    const config = { ...fx.config(), queueUrl: withRedrive.url };
    const refused = startRelay(config, silentLogger(), { defaultMetrics: false });
    await expect(refused).rejects.toBeInstanceOf(StartupError);
    await expect(refused).rejects.toThrow(/redrive policy.*ALLOW_REDRIVE_POLICY=true/s);
    const allowed = await startRelay({ ...config, allowRedrivePolicy: true }, silentLogger(), { defaultMetrics: false });
    await allowed.stop(100);
  });

  it('refuses a missing progress table with its name', async () => {
    await expect(startTestRelay({ ...fx.config(), progressTable: 'no-such-table' })).rejects.toThrow(/cannot read progress table no-such-table/);
  });

  it('serves /healthz, /readyz, /metrics and /status, and turns unready while stopping', async () => {
    const relay = await startTestRelay(fx.config());
    const base = `http://127.0.0.1:${relay.server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'fifo_relay_messages_received_total',
      'fifo_relay_messages_delivered_total',
      'fifo_relay_delivery_attempts_total',
      'fifo_relay_duplicates_total',
      'fifo_relay_delivery_duration_seconds',
      'fifo_relay_sources_in_flight',
      'fifo_relay_sources_retrying',
      'fifo_relay_oldest_retrying_head_age_seconds',
      'fifo_relay_aws_requests_total',
    ]) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toMatch(/fifo_relay_aws_requests_total\{service="sqs",action="GetQueueAttributes",outcome="success"\} 1/);
    expect(await (await fetch(`${base}/status`)).json()).toMatchObject({ task: { inFlightSources: 0, retrying: [] }, table: { sources: [] } });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const stopping = relay.stop(200);
    expect(relay.worker.isRunning).toBe(false);
    await stopping;
  });

  it('the entry point prints one line per configuration problem and exits non-zero', async () => {
    const env = { PATH: process.env.PATH, MAX_CONCURRENT_SOURCES: 'lots' };
    const err = await run(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: root, env }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in err && err.code).toBe(1);
    const lines = (err as { stderr: string }).stderr.trim().split('\n');
    expect(lines[0]).toBe('fifo-relay: invalid configuration:');
    expect(lines.filter((l) => l.startsWith('  - '))).toHaveLength(5);
  });

  it('long polls for longer than the per-request timeout without a single failed receive', async () => {
    const relay = await startTestRelay({ ...fx.config(), receiveWaitSeconds: 3, awsRequestTimeoutMs: 1000 });
    const errors: string[] = [];
    relay.worker.on('queueError', (e) => errors.push(e.error.message));
    await new Promise((r) => setTimeout(r, 4500));
    await relay.stop(200);
    expect(errors).toEqual([]);
    const calls = await relay.metrics.registry.getSingleMetricAsString('fifo_relay_aws_requests_total');
    expect(calls).toMatch(/action="ReceiveMessage",outcome="success"\} [1-9]/);
    expect(calls).not.toMatch(/action="ReceiveMessage",outcome="error"} [1-9]/);
  });
});
