/**
 * The outage phase of npm run chaos: workers running, a backlog over many sources, the app down
 * for a fixed time, then back. Measured once with the shipped defaults (breaker on) and once with
 * BREAKER_ENABLED=false (the behaviour before the breaker) as the baseline, each on its own queue,
 * table and app so the two cannot disturb each other. Judged by the same rules as the other rounds.
 */
import { join } from 'node:path';
import { startDemoApp, type DemoApp } from '../src/demo/app-server';
import { awsEnv, freshQueueAndTable, harnessDynamo, harnessSqs, queueDepth, sendAll, plan, type Endpoints } from '../bench/lib/aws';
import { projectRoot } from '../bench/lib/build';
import { freePort, sleep, spawnNode, until, type Child } from '../bench/lib/processes';
import { judgeRun, type RunVerdict } from '../src/demo/checker';

export interface OutageOptions {
  sources: number;
  perSource: number;
  workers: number;
  downMs: number;
  /** Longest wait for the drain after the app is back. */
  drainCapMs: number;
  workerArgs: string[];
  endpoints: Endpoints;
  logDir: string;
  out(line: string): void;
}

export interface OutageVariant {
  name: string;
  breaker: boolean;
  downSeconds: number;
  receives: number;
  appCalls: number;
  receivesPerMinute: number;
  appCallsPerMinute: number;
  /** From the app coming back to every message succeeded and the queue empty; undefined if it did not drain within the cap. */
  drainSeconds?: number;
  verdict: RunVerdict;
}

export function outagePreset(size: 'full' | 'short'): Pick<OutageOptions, 'sources' | 'perSource' | 'downMs' | 'drainCapMs'> {
  return size === 'full' ? { sources: 50, perSource: 20, downMs: 40_000, drainCapMs: 120_000 } : { sources: 50, perSource: 10, downMs: 20_000, drainCapMs: 90_000 };
}

/** Sum of ReceiveMessage calls (every outcome) in a worker's /metrics; 0 if it does not answer. The label is the AWS API name. */
async function receivesOf(port: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
  let n = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('fifo_relay_aws_requests_total{') && line.includes('service="sqs"') && line.includes('action="ReceiveMessage"')) n += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return n;
}

async function runVariant(opts: OutageOptions, breaker: boolean): Promise<OutageVariant> {
  const name = breaker ? 'breaker on (defaults)' : 'breaker off (baseline)';
  const say = (line: string) => opts.out(`  [outage, ${name}] ${line}`);
  const sqs = harnessSqs(opts.endpoints);
  const dynamo = harnessDynamo(opts.endpoints);
  const workers: { child: Child; port: number }[] = [];
  let app: DemoApp | undefined;
  try {
    const { queueUrl, table } = await freshQueueAndTable(sqs, dynamo, breaker ? 'outage-on' : 'outage-off');
    app = await startDemoApp({ latencyMs: 2, failRate: 0, slowRate: 0 });
    const env = {
      ...awsEnv(opts.endpoints),
      QUEUE_URL: queueUrl,
      TARGET_URL: app.url,
      PROGRESS_TABLE: table,
      // The same retry pacing as the other rounds, so the baseline's retries are not artificially slow.
      RETRY_BASE_SECONDS: '1',
      RETRY_MAX_SECONDS: '4',
      MAX_CONCURRENT_SOURCES: String(Math.max(opts.sources, 1)),
      BREAKER_ENABLED: String(breaker),
      LOG_LEVEL: 'info',
    };
    for (let id = 1; id <= opts.workers; id++) {
      const port = await freePort();
      const child = spawnNode(opts.workerArgs, { env: { ...env, HTTP_PORT: String(port) }, logFile: join(opts.logDir, `outage-${breaker ? 'on' : 'off'}-worker-${id}.log`), cwd: projectRoot });
      workers.push({ child, port });
      const ready = await until(() => fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false), 30_000, 50);
      if (!ready) throw new Error(`outage worker ${id} did not become ready`);
    }
    const sent = plan(opts.sources, opts.perSource);
    await sendAll(sqs, queueUrl, sent);
    const successes = () => new Set((app?.records ?? []).filter((r) => r.status >= 200 && r.status < 300).map((r) => r.idempotencyKey)).size;
    // Down once the workers are delivering, so most of the backlog is still there.
    await until(() => successes() >= Math.min(50, sent.length), 30_000, 20);
    const sum = async () => (await Promise.all(workers.map((w) => receivesOf(w.port)))).reduce((a, b) => a + b, 0);
    const r0 = await sum();
    const downAt = Date.now();
    app.behaviour.down = true;
    say(`${successes()}/${sent.length} succeeded; app down for ${opts.downMs / 1000} s`);
    await sleep(opts.downMs);
    const r1 = await sum();
    app.behaviour.down = false;
    const upAt = Date.now();
    const appCalls = app.records.filter((r) => r.at >= downAt && r.at < upAt).length;
    say(`app back up; ${successes()}/${sent.length} succeeded`);
    const drainedOk = await until(async () => {
      if (successes() < sent.length) return false;
      const d = await queueDepth(sqs, queueUrl);
      return d.visible + d.inFlight === 0;
    }, opts.drainCapMs, 100);
    const drainSeconds = drainedOk ? (Date.now() - upAt) / 1000 : undefined;
    await Promise.all(workers.splice(0).map((w) => w.child.stop(30_000)));
    const minutes = (upAt - downAt) / 60_000;
    const verdict = judgeRun(sent, [...app.records], { kills: [], maxCallMs: 60_000 });
    return { name, breaker, downSeconds: (upAt - downAt) / 1000, receives: r1 - r0, appCalls, receivesPerMinute: (r1 - r0) / minutes, appCallsPerMinute: appCalls / minutes, drainSeconds, verdict };
  } finally {
    await Promise.all(workers.map((w) => w.child.kill9()));
    await app?.close();
    sqs.destroy();
    dynamo.destroy();
  }
}

/** Both variants, the breaker first; throws only for a harness failure. */
export async function runOutage(opts: OutageOptions): Promise<OutageVariant[]> {
  opts.out(`outage phase: ${opts.workers} workers, ${opts.sources * opts.perSource} messages over ${opts.sources} sources, app down ${opts.downMs / 1000} s; breaker on, then off`);
  return [await runVariant(opts, true), await runVariant(opts, false)];
}

export function renderOutage(vs: readonly OutageVariant[]): string {
  const l = vs.map(
    (v) =>
      `outage ${v.name}: during ${v.downSeconds.toFixed(1)} s down: ReceiveMessage ${v.receives} (${v.receivesPerMinute.toFixed(0)}/min), app calls ${v.appCalls} (${v.appCallsPerMinute.toFixed(0)}/min); ` +
      `drain after recovery ${v.drainSeconds === undefined ? 'NOT within the cap' : `${v.drainSeconds.toFixed(1)} s`}; ` +
      `sent ${v.verdict.sent}, succeeded ${v.verdict.delivered}, lost ${v.verdict.lost.length}, order violations ${v.verdict.orderViolations.length}, duplicates ${v.verdict.duplicates.length}; ${v.verdict.ok ? 'rules PASS' : 'rules FAIL'}`,
  );
  const on = vs.find((v) => v.breaker);
  const off = vs.find((v) => !v.breaker);
  if (on && off) {
    const ratio = (a: number, b: number) => (a > 0 ? `${(b / a).toFixed(1)}x` : b > 0 ? 'inf' : 'n/a');
    l.push(`outage ratio (baseline / breaker): ReceiveMessage per minute ${ratio(on.receivesPerMinute, off.receivesPerMinute)}, app calls per minute ${ratio(on.appCallsPerMinute, off.appCallsPerMinute)}`);
  }
  for (const v of vs) for (const rule of v.verdict.rules) if (!rule.ok) l.push(`  FAIL  outage ${v.name}: ${rule.rule} ${rule.detail}`);
  return l.join('\n');
}

export const outageOk = (vs: readonly OutageVariant[]) => vs.every((v) => v.verdict.ok && v.drainSeconds !== undefined);
