import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDemoApp, type DemoApp, type DeliveryRecord } from '../src/demo/app-server';
import { judgeRun } from '../src/demo/checker';
import type { BaselineMessage, BaselineReport } from './baselines/common';
import { startDelayProxy, type DelayProxy } from '../src/dev/delay-proxy';
import { awsEnv, freshQueueAndTable, plan, queueDepth, sendAll, type Endpoints } from './lib/aws';
import { projectRoot, type Built } from './lib/build';
import { cpuSeconds, freePort, RssSampler, spawnNode, until, sleep, type Child } from './lib/processes';
import { percentile, promSums } from './lib/stats';
import { messagesOf, type ConsumerKind, type Scenario } from './scenarios';

export interface RunContext {
  ep: Endpoints;
  /** Emulator processes, when known, for CPU accounting. */
  emulatorPids: { sqs?: number; ddb?: number };
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  built: Built;
  logDir: string;
  /** Baselines stop after this long even if unfinished; their rate is then taken over what they did. */
  baselineSeconds: number;
  /** fifo-relay must finish within this long or the run is reported incomplete. */
  relaySeconds: number;
  bareReceivers: number;
  /** Extra environment for the worker (experiments: --relay-env KEY=VALUE). */
  relayEnv: Record<string, string>;
  /** When set, every consumer process runs with --cpu-prof and writes <scenario>-<consumer>.cpuprofile here. */
  cpuProfileDir?: string;
  log(line: string): void;
}

export interface RunResult {
  scenario: Scenario['id'];
  consumer: ConsumerKind;
  messages: number;
  delivered: number;
  complete: boolean;
  /** From the consumer's start to its last message done. */
  seconds: number;
  msgsPerSec: number;
  /** Per-source gap: app receives message k − (app answered message k−1 of that source); app time excluded. */
  addedLatencyMs: { p50: number; p99: number; samples: number } | null;
  /** fifo-relay only: the added latency split with the worker's log lines (ms). */
  gapParts: {
    answerToDeliveredLog: { p50: number; p99: number };
    deliveredLogToNextArrival: { p50: number; p99: number };
    appCallAsSeenByWorker: { p50: number; p99: number };
  } | null;
  /** When a run was repeated: every run's msgs/s; the figures above are those of the median run. */
  repeats?: number[];
  /** The worker's environment beyond queue, table and endpoints (image flags, --relay-env). */
  workerEnv?: Record<string, string>;
  sqsRequests: number;
  sqsByAction: Record<string, number>;
  sqsPerMessage: number;
  ddbWrites: number;
  ddbReads: number;
  ddbWritesPerMessage: number | null;
  /** Items written (UpdateItem calls + statements in batched calls) per message: the write units, 1 each for a ledger item. */
  ddbWriteItemsPerMessage: number | null;
  peakRssMb: number;
  /** CPU used while the consumer ran, as a share of one core (100 = one core busy), per process. */
  cpuPct: { consumer: number; sqs: number; ddb: number; harness: number };
  /** CPU time of the consumer process per message done, in ms. */
  cpuMsPerMessage: number;
  rss: Array<{ t: number; mb: number; done: number }>;
  /** fifo-relay's V8 heap over the run, once a second (used, total, external), in MB. */
  heap: Array<{ t: number; usedMb: number; totalMb: number; externalMb: number }>;
  orderViolations: number | null;
  duplicates: number | null;
  exit: string;
  preloadSeconds: number;
  notes: string[];
}

const DDB_WRITES = new Set(['BatchExecuteStatement', 'UpdateItem', 'PutItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
const DDB_READS = new Set(['GetItem', 'Query', 'BatchGetItem', 'Scan']);

/** Counts first successes as the app records them, incrementally. */
class SuccessTracker {
  private scanned = 0;
  private readonly seen = new Set<string>();
  lastAt = 0;
  constructor(private readonly records: DeliveryRecord[]) {}
  update(): number {
    for (; this.scanned < this.records.length; this.scanned++) {
      const r = this.records[this.scanned] as DeliveryRecord;
      if (r.status < 200 || r.status >= 300 || this.seen.has(r.idempotencyKey)) continue;
      this.seen.add(r.idempotencyKey);
      this.lastAt = r.at;
    }
    return this.seen.size;
  }
}

/** Time the app spent idle on a source that had a message waiting, per delivery after the first. */
function perSourceGaps(records: readonly DeliveryRecord[], latencyMs: number): number[] {
  const lastAt = new Map<string, number>();
  const gaps: number[] = [];
  for (const r of records) {
    const prev = lastAt.get(r.sourceId);
    if (prev !== undefined) gaps.push(Math.max(0, r.at - latencyMs - prev));
    lastAt.set(r.sourceId, r.at);
  }
  return gaps;
}

/**
 * NODE_ENV and NODE_OPTIONS the image's runtime stage sets (Dockerfile ENV), so the worker runs
 * here with the flags it runs with in production.
 */
export function imageEnv(dockerfile = join(projectRoot, 'Dockerfile')): Record<string, string> {
  try {
    const text = readFileSync(dockerfile, 'utf8').replace(/\\\r?\n/g, ' ');
    const runtime = text.slice(text.lastIndexOf('\nFROM ') + 1);
    const env: Record<string, string> = {};
    for (const m of runtime.matchAll(/\b(NODE_ENV|NODE_OPTIONS)=("([^"]*)"|(\S+))/g)) env[m[1] as string] = m[3] ?? m[4] ?? '';
    return env;
  } catch {
    return {};
  }
}

/**
 * Splits the per-source gap of fifo-relay with its own log lines: from the app's answer to the
 * worker's "delivered" line (the ledger write), and from there to the app receiving the source's
 * next message (delete, SQS handing out the group again, the lane starting).
 */
function gapParts(logFile: string, records: readonly DeliveryRecord[], latencyMs: number): RunResult['gapParts'] {
  const firstAt = new Map<string, number>();
  const bySource = new Map<string, Array<{ seq: number; at: number }>>();
  for (const r of records) {
    const key = `${r.sourceId}:${r.seq}`;
    if (r.status < 200 || r.status >= 300 || firstAt.has(key)) continue;
    firstAt.set(key, r.at);
    const list = bySource.get(r.sourceId) ?? [];
    list.push({ seq: Number(r.seq), at: r.at });
    bySource.set(r.sourceId, list);
  }
  const nextArrival = new Map<string, number>();
  for (const [source, list] of bySource) {
    for (let i = 0; i + 1 < list.length; i++) nextArrival.set(`${source}:${(list[i] as { seq: number }).seq}`, (list[i + 1] as { at: number }).at - latencyMs);
  }
  const ledger: number[] = [];
  const after: number[] = [];
  const appCall: number[] = [];
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    if (!line.includes('"event":"delivered"')) continue;
    const e = JSON.parse(line) as { time: string; sourceId: string; seq: string; durationMs: number };
    const key = `${e.sourceId}:${e.seq}`;
    const t = Date.parse(e.time);
    const answered = firstAt.get(key);
    if (answered !== undefined) ledger.push(Math.max(0, t - answered));
    const next = nextArrival.get(key);
    if (next !== undefined) after.push(Math.max(0, next - t));
    appCall.push(e.durationMs);
  }
  if (ledger.length === 0) return null;
  const p = (v: number[]) => ({ p50: percentile(v, 50), p99: percentile(v, 99) });
  return { answerToDeliveredLog: p(ledger), deliveredLogToNextArrival: p(after), appCallAsSeenByWorker: p(appCall) };
}

function startedAtFromLog(file: string): number | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.includes('"event":"started"')) continue;
      const t = Date.parse((JSON.parse(line) as { time: string }).time);
      if (Number.isFinite(t)) return t;
    }
  } catch {
    // no log yet
  }
  return undefined;
}

function profFlags(ctx: RunContext, logFile: string): string[] {
  if (!ctx.cpuProfileDir) return [];
  const name = logFile.split('/').pop()?.replace(/\.log$/, '') ?? 'consumer';
  return ['--cpu-prof', `--cpu-prof-dir=${ctx.cpuProfileDir}`, `--cpu-prof-name=${name}.cpuprofile`];
}

interface Running {
  child: Child;
  t0: number;
  /** Calls by "service:action". */
  counts(): Promise<Record<string, number>>;
  /** The worker's own heap figures (fifo-relay only), from /metrics. */
  heap?: () => Promise<{ usedMb: number; totalMb: number; externalMb: number } | undefined>;
  /** For consumers without an app: messages done so far and when the last one was. */
  progress?: () => { processed: number; lastDoneAt: number };
}

async function startRelayProcess(ctx: RunContext, ep: Endpoints, queueUrl: string, table: string, app: DemoApp, logFile: string): Promise<Running> {
  const port = await freePort();
  const env = {
    ...imageEnv(),
    ...awsEnv(ep),
    QUEUE_URL: queueUrl,
    TARGET_URL: app.url,
    PROGRESS_TABLE: table,
    HTTP_PORT: String(port),
    LOG_LEVEL: 'info',
    ...ctx.relayEnv,
  };
  const child = spawnNode([...profFlags(ctx, logFile), ctx.built.worker], { env, logFile });
  const base = `http://127.0.0.1:${port}`;
  let readyAt = 0;
  const ready = await until(
    async () => {
      if (child.child.exitCode !== null) throw new Error(`worker exited with code ${child.child.exitCode} before it was ready; see ${logFile}`);
      const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
      if (ok) readyAt = Date.now();
      return ok;
    },
    30_000,
    10,
  );
  if (!ready) throw new Error(`worker not ready within 30 s; see ${logFile}`);
  await sleep(50);
  const t0 = startedAtFromLog(logFile) ?? readyAt;
  return {
    child,
    t0,
    heap: async () => {
      try {
        const text = await (await fetch(`${base}/metrics`)).text();
        const one = (name: string) => [...promSums(text, name, []).values()][0] ?? NaN;
        const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
        return {
          usedMb: mb(one('fifo_relay_nodejs_heap_size_used_bytes')),
          totalMb: mb(one('fifo_relay_nodejs_heap_size_total_bytes')),
          externalMb: mb(one('fifo_relay_nodejs_external_memory_bytes')),
        };
      } catch {
        return undefined;
      }
    },
    counts: async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const sums = promSums(text, 'fifo_relay_aws_requests_total', ['service', 'action']);
      const items = promSums(text, 'fifo_relay_aws_batch_items_sum', ['service', 'action']);
      return { ...Object.fromEntries(sums), ...Object.fromEntries([...items].map(([k, v]) => [`${k}:items`, v])) };
    },
  };
}

async function startBaselineProcess(ctx: RunContext, ep: Endpoints, kind: Exclude<ConsumerKind, 'fifo-relay'>, queueUrl: string, table: string, app: DemoApp, logFile: string): Promise<Running> {
  const env = { ...awsEnv(ep), QUEUE_URL: queueUrl, TARGET_URL: app.url, PROGRESS_TABLE: table, BARE_RECEIVERS: String(ctx.bareReceivers) };
  const child = spawnNode([...profFlags(ctx, logFile), ctx.built.baseline(kind)], { env, logFile, ipc: true });
  let progress = { processed: 0, lastDoneAt: 0 };
  let pendingReport: ((r: BaselineReport) => void) | undefined;
  const readyAt = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} not ready within 30 s; see ${logFile}`)), 30_000);
    child.child.on('message', (m: BaselineMessage) => {
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve(m.at);
      } else if (m.type === 'progress') progress = { processed: m.processed, lastDoneAt: m.lastDoneAt };
      else if (m.type === 'report') pendingReport?.(m);
    });
    child.child.once('exit', (code) => reject(new Error(`${kind} exited with code ${code}; see ${logFile}`)));
  });
  const t0 = await readyAt;
  return {
    child,
    t0,
    progress: () => progress,
    counts: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${kind} did not report its counts`)), 5000);
        pendingReport = (r) => {
          clearTimeout(timer);
          progress = { processed: r.processed, lastDoneAt: r.lastDoneAt };
          const calls: Record<string, number> = {};
          for (const [k, v] of Object.entries(r.calls)) calls[k] = v;
          resolve(calls);
        };
        child.child.send({ type: 'report' });
      }),
  };
}

let runCounter = 0;

/** One consumer through one scenario on a fresh queue and table, preloaded before it starts. */
export async function runOne(ctx: RunContext, scenario: Scenario, consumer: ConsumerKind): Promise<RunResult> {
  const messages = messagesOf(scenario);
  const notes: string[] = [];
  const { queueUrl, table } = await freshQueueAndTable(ctx.sqs, ctx.dynamo, `bench-${scenario.id.toLowerCase()}-${consumer}`);
  const sent = plan(scenario.sources, scenario.perSource);
  const loadStart = Date.now();
  await sendAll(ctx.sqs, queueUrl, sent);
  const preloadSeconds = (Date.now() - loadStart) / 1000;
  const loaded = await queueDepth(ctx.sqs, queueUrl);
  if (loaded.visible !== messages) throw new Error(`preload: ${loaded.visible} visible messages, expected ${messages}`);

  const app = await startDemoApp({ latencyMs: scenario.latencyMs });
  // One file per run: a repeated run must not read the previous run's lines.
  const logFile = join(ctx.logDir, `${scenario.purpose === 'warm-up' ? 'warmup' : scenario.id}-${consumer}-${++runCounter}.log`);
  const tracker = new SuccessTracker(app.records);
  let running: Running | undefined;
  const proxies: DelayProxy[] = [];
  try {
    let ep = ctx.ep;
    if (scenario.network) {
      // Only the consumer goes through the delay; the harness preloads and checks directly.
      const [sqsProxy, ddbProxy] = await Promise.all([startDelayProxy(ctx.ep.sqs, scenario.network.sqsMs), startDelayProxy(ctx.ep.ddb, scenario.network.ddbMs)]);
      proxies.push(sqsProxy, ddbProxy);
      ep = { sqs: sqsProxy.endpoint, ddb: ddbProxy.endpoint };
    }
    running = consumer === 'fifo-relay' ? await startRelayProcess(ctx, ep, queueUrl, table, app, logFile) : await startBaselineProcess(ctx, ep, consumer, queueUrl, table, app, logFile);
    const r = running;
    const usesApp = consumer !== 'bare-loop' && consumer !== 'bare-loop-batched';
    const doneCount = () => (usesApp ? tracker.update() : (r.progress?.().processed ?? 0));
    const sampler = new RssSampler(r.child.pid, 100, doneCount);
    const cpuNow = () => ({
      consumer: cpuSeconds(r.child.pid),
      sqs: ctx.emulatorPids.sqs ? cpuSeconds(ctx.emulatorPids.sqs) : NaN,
      ddb: ctx.emulatorPids.ddb ? cpuSeconds(ctx.emulatorPids.ddb) : NaN,
      harness: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
      at: Date.now(),
    });
    const cpu0 = cpuNow();
    const heap: RunResult['heap'] = [];
    const heapTimer = r.heap
      ? setInterval(() => {
          void r.heap?.().then((h) => h && heap.push({ t: Date.now() - r.t0, ...h }));
        }, 1000)
      : undefined;
    const limitSeconds = consumer === 'fifo-relay' ? ctx.relaySeconds : ctx.baselineSeconds;
    const complete = await until(() => doneCount() >= messages, limitSeconds * 1000 + Math.max(0, r.t0 - Date.now()), 10);
    const cpu1 = cpuNow();
    clearInterval(heapTimer);
    const delivered = doneCount();
    const t1 = usesApp ? tracker.lastAt : (r.progress?.().lastDoneAt ?? Date.now());
    if (complete) {
      // Let the last deletes land so their requests are counted.
      if (!(await until(async () => {
        const d = await queueDepth(ctx.sqs, queueUrl);
        return d.visible + d.inFlight === 0;
      }, 5000, 20))) notes.push('queue not empty 5 s after the last delivery');
    } else {
      notes.push(`stopped after ${limitSeconds} s with ${delivered.toLocaleString('en-US')}/${messages.toLocaleString('en-US')} done; rate over what it did`);
    }
    const counts = await r.counts();
    sampler.stop();
    const exit = await r.child.stop(15_000);
    const exitText = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    if (consumer === 'fifo-relay' && exit.code !== 0) notes.push(`worker exited with ${exitText} after SIGTERM`);

    const sqsByAction: Record<string, number> = {};
    let sqsRequests = 0;
    let ddbWrites = 0;
    let ddbReads = 0;
    let ddbWriteItems = 0;
    for (const [key, n] of Object.entries(counts)) {
      const [service, action, what] = key.split(':') as [string, string, string | undefined];
      if (what === 'items') {
        if (service === 'dynamodb' && DDB_WRITES.has(action)) ddbWriteItems += n;
      } else if (service === 'sqs') {
        sqsRequests += n;
        const short = action.replace(/Command$/, '');
        sqsByAction[short] = (sqsByAction[short] ?? 0) + n;
      } else if (DDB_WRITES.has(action)) {
        ddbWrites += n;
        // Batched calls count their statements (the :items keys); the others write one item each.
        if (action !== 'BatchExecuteStatement') ddbWriteItems += n;
      }
      else if (DDB_READS.has(action)) ddbReads += n;
    }
    const seconds = Math.max(0.001, (t1 - r.t0) / 1000);
    const gaps = usesApp ? perSourceGaps(app.records, scenario.latencyMs) : [];
    const verdict = usesApp ? judgeRun(sent, app.records, { kills: [], maxCallMs: 10_000 }) : undefined;
    if (verdict && verdict.outOfTurn.length > 0) notes.push(`${verdict.outOfTurn.length} calls before their predecessor succeeded`);
    return {
      scenario: scenario.id,
      consumer,
      messages,
      delivered,
      complete,
      seconds,
      msgsPerSec: delivered / seconds,
      gapParts: consumer === 'fifo-relay' ? gapParts(logFile, app.records, scenario.latencyMs) : null,
      ...(consumer === 'fifo-relay' ? { workerEnv: { ...imageEnv(), ...ctx.relayEnv } } : {}),
      addedLatencyMs: gaps.length > 0 ? { p50: percentile(gaps, 50), p99: percentile(gaps, 99), samples: gaps.length } : null,
      sqsRequests,
      sqsByAction,
      sqsPerMessage: sqsRequests / Math.max(1, delivered),
      ddbWrites,
      ddbReads,
      ddbWritesPerMessage: consumer.startsWith('sqs-consumer') ? null : ddbWrites / Math.max(1, delivered),
      ddbWriteItemsPerMessage: consumer.startsWith('sqs-consumer') ? null : ddbWriteItems / Math.max(1, delivered),
      peakRssMb: sampler.peak / 2 ** 20,
      cpuMsPerMessage: ((cpu1.consumer - cpu0.consumer) * 1000) / Math.max(1, delivered),
      cpuPct: (() => {
        const wall = Math.max(0.001, (cpu1.at - cpu0.at) / 1000);
        const pct = (k: 'consumer' | 'sqs' | 'ddb' | 'harness') => Math.round(((cpu1[k] - cpu0[k]) / wall) * 100);
        return { consumer: pct('consumer'), sqs: pct('sqs'), ddb: pct('ddb'), harness: pct('harness') };
      })(),
      rss: sampler.samples.map((s) => ({ t: s.t - r.t0, mb: Math.round((s.rss / 2 ** 20) * 10) / 10, done: s.progress })),
      heap,
      orderViolations: verdict ? verdict.orderViolations.length : null,
      duplicates: verdict ? verdict.duplicates.length : null,
      exit: exitText,
      preloadSeconds,
      notes,
    };
  } finally {
    if (running) await running.child.kill9();
    await app.close();
    await Promise.all(proxies.map((p) => p.close()));
  }
}
