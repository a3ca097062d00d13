import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDemoApp, type DemoApp } from '../src/demo/app-server';
import { awsEnv, freshQueueAndTable, harnessDynamo, harnessSqs, queueDepth, sendBatch, type Endpoints, type Planned } from '../bench/lib/aws';
import { projectRoot } from '../bench/lib/build';
import { freePort, sleep, spawnNode, until, type Child } from '../bench/lib/processes';
import { judgeRun, type AppRecord, type RunVerdict, type Rule } from '../src/demo/checker';
import { drainWaitOver } from './drain-wait';
import { producerSender, type ProducerSendStats } from './producer-send';

/** Everything a chaos run is made of; the full run and the short CI run differ only in these. */
export interface ChaosOptions {
  /** Messages sent during the kill round (spread over `sendSeconds`). */
  messages: number;
  sources: number;
  /** Worker processes kept running on the one queue. */
  workers: number;
  sendSeconds: number;
  /** A random worker is killed with SIGKILL every killEveryMs[0]..killEveryMs[1] ms while messages are sent. */
  killEveryMs: [number, number];
  failRate: number;
  /** Share of calls the app answers only after slowMs (longer than the visibility timeout). */
  slowRate: number;
  slowMs: number;
  latencyMs: number;
  /** The app answers 503 to everything for downMs, once, when this share of the kill round was sent. */
  downAt: number;
  downMs: number;
  /** Messages of the SIGTERM round (same sources, later seqs); all workers get SIGTERM mid-load. */
  sigtermMessages: number;
  /** SIGTERM comes when this share of the SIGTERM round has succeeded. */
  sigtermAt: number;
  visibilityTimeoutSeconds: number;
  shutdownGraceSeconds: number;
  maxConcurrentSources: number;
  /** Whole run, both rounds: past this the run stops and the verdict reports what is missing. */
  deadlineSeconds: number;
  /**
   * Past the deadline the SIGTERM round's drain wait goes on while the app still gets calls for
   * it, and ends once none came for stallSeconds (a stuck message makes none) ...
   */
  stallSeconds: number;
  /** ... but never more than this past the deadline. */
  overtimeSeconds: number;
  /** How to start a worker: node arguments (a compiled main.js, or --import tsx src/main.ts). */
  workerArgs: string[];
  endpoints: Endpoints;
  logDir: string;
  seed: number;
  /** Send through the journal-first producer (src/producer) instead of plain SendMessageBatch calls. */
  producer?: boolean;
  /** With producer: share of batches whose producer dies after its journal claims, before SQS. */
  producerDeathRate?: number;
  out(line: string): void;
}

export interface WorkerRecord {
  id: number;
  pid: number;
  logFile: string;
  startedAt: number;
  /** How it ended, and whether the harness ended it. */
  end?: { how: 'kill -9' | 'SIGTERM' | 'on its own'; code: number | null; signal: string | null; at: number; stopMs?: number };
}

export interface ChaosResult {
  options: Omit<ChaosOptions, 'out' | 'endpoints'>;
  seconds: number;
  kills: number[];
  workers: WorkerRecord[];
  round1: RunVerdict;
  round2: RunVerdict;
  overall: RunVerdict;
  /** How long the SIGTERM round's drain wait ran past the deadline (0 when it did not). */
  overtimeSeconds: number;
  harnessRules: Rule[];
  leftInQueue: number;
  ok: boolean;
  /** What was sent and what the app recorded, for a second look (not printed). */
  sent: Planned[];
  records: AppRecord[];
  /** With producer: what the journal-first sending did. */
  producer?: ProducerSendStats;
}

/** The full soak (npm run chaos) and the short one inside npm test share everything but the sizes. */
export function preset(size: 'full' | 'short'): Omit<ChaosOptions, 'workerArgs' | 'endpoints' | 'logDir' | 'seed' | 'out'> {
  const common = {
    workers: 3,
    failRate: 0.2,
    slowRate: 0.02,
    latencyMs: 2,
    downAt: 0.4,
    sigtermAt: 0.3,
    visibilityTimeoutSeconds: 5,
    maxConcurrentSources: 32,
  };
  return size === 'full'
    ? { ...common, messages: 3000, sources: 120, sendSeconds: 40, killEveryMs: [3000, 6000], slowMs: 7000, downMs: 4000, sigtermMessages: 1200, shutdownGraceSeconds: 12, deadlineSeconds: 240, stallSeconds: 30, overtimeSeconds: 120 }
    : { ...common, messages: 600, sources: 30, sendSeconds: 12, killEveryMs: [2000, 4000], slowMs: 6000, downMs: 2000, sigtermMessages: 240, shutdownGraceSeconds: 10, deadlineSeconds: 100, stallSeconds: 20, overtimeSeconds: 60 };
}

/** Small seeded generator: the schedule of kills and the app's coin flips repeat for a seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Running {
  rec: WorkerRecord;
  child: Child;
  port: number;
}

/** Runs both rounds and judges them; never throws for a broken rule (the verdict says so), only for a harness failure. */
export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  const deadline = started + opts.deadlineSeconds * 1000;
  const random = mulberry32(opts.seed);
  mkdirSync(opts.logDir, { recursive: true });
  const sqs: SQSClient = harnessSqs(opts.endpoints);
  const dynamo: DynamoDBClient = harnessDynamo(opts.endpoints);
  const kills: number[] = [];
  const all: WorkerRecord[] = [];
  const running: Running[] = [];
  let app: DemoApp | undefined;
  const say = (line: string) => opts.out(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);

  try {
    const { queueUrl, table } = await freshQueueAndTable(sqs, dynamo, 'chaos');
    app = await startDemoApp({ latencyMs: opts.latencyMs, failRate: opts.failRate, slowRate: opts.slowRate, slowMs: opts.slowMs, random: mulberry32(opts.seed + 1) });
    const env = {
      ...awsEnv(opts.endpoints),
      QUEUE_URL: queueUrl,
      TARGET_URL: app.url,
      PROGRESS_TABLE: table,
      VISIBILITY_TIMEOUT_SECONDS: String(opts.visibilityTimeoutSeconds),
      // Longer than the slowest answer, so a slow call is a success, never a timeout and retry;
      // within the grace, which the worker requires.
      APP_TIMEOUT_MS: String(Math.min(opts.slowMs + opts.latencyMs + 5000, opts.shutdownGraceSeconds * 1000)),
      // A 5-second visibility needs renewals that time out fast enough to be sent twice.
      AWS_REQUEST_TIMEOUT_MS: '1500',
      RETRY_BASE_SECONDS: '1',
      RETRY_MAX_SECONDS: '4',
      RECEIVE_WAIT_SECONDS: '5',
      SHUTDOWN_GRACE_SECONDS: String(opts.shutdownGraceSeconds),
      MAX_CONCURRENT_SOURCES: String(opts.maxConcurrentSources),
      LOG_LEVEL: 'info',
    };

    const startWorker = async (): Promise<Running> => {
      const id = all.length + 1;
      const port = await freePort();
      const logFile = join(opts.logDir, `worker-${id}.log`);
      const child = spawnNode(opts.workerArgs, { env: { ...env, HTTP_PORT: String(port) }, logFile, cwd: projectRoot });
      const rec: WorkerRecord = { id, pid: child.pid, logFile, startedAt: Date.now() };
      all.push(rec);
      const w: Running = { rec, child, port };
      void child.exited.then(({ code, signal }) => {
        rec.end ??= { how: 'on its own', code, signal, at: Date.now() };
        if (rec.end.how === 'on its own') say(`worker ${id} (pid ${child.pid}) exited on its own: code ${code} signal ${signal}; see ${logFile}`);
        const i = running.indexOf(w);
        if (i >= 0) running.splice(i, 1);
      });
      const ready = await until(async () => {
        if (child.child.exitCode !== null || child.child.signalCode !== null) return true;
        return fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      }, 30_000, 50);
      if (!ready || child.child.exitCode !== null) throw new Error(`worker ${id} did not become ready; see ${logFile}`);
      running.push(w);
      return w;
    };
    const keepWorkers = async () => {
      while (running.length < opts.workers) await startWorker();
    };
    const kill9 = async () => {
      const victim = running[Math.floor(random() * running.length)];
      if (!victim) return;
      running.splice(running.indexOf(victim), 1);
      const at = Date.now();
      kills.push(at);
      victim.rec.end = { how: 'kill -9', code: null, signal: 'SIGKILL', at };
      await victim.child.kill9();
      say(`kill -9 worker ${victim.rec.id} (pid ${victim.rec.pid}); starting a replacement`);
      await keepWorkers();
    };

    // Per source, seq 1, 2, … across both rounds.
    const nextSeq = new Map<string, number>();
    const width = String(opts.sources - 1).length;
    const planRound = (count: number): Planned[] => {
      const out: Planned[] = [];
      for (let i = 0; i < count; i++) {
        const sourceId = `src-${String(i % opts.sources).padStart(width, '0')}`;
        const seq = nextSeq.get(sourceId) ?? 1;
        nextSeq.set(sourceId, seq + 1);
        out.push({ sourceId, seq });
      }
      return out;
    };
    const viaProducer = opts.producer ? producerSender(sqs, dynamo, queueUrl, table, mulberry32(opts.seed + 2), opts.producerDeathRate ?? 0) : undefined;
    /** Sends in order, one batch after another, paced to take about `seconds`; records what SQS accepted. */
    const produce = async (messages: Planned[], seconds: number, sent: Planned[], onProgress?: (share: number) => void) => {
      const batches = Math.ceil(messages.length / 10);
      const t0 = Date.now();
      for (let b = 0; b < batches; b++) {
        const due = t0 + (b / batches) * seconds * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
        const batch = messages.slice(b * 10, b * 10 + 10);
        if (viaProducer) await viaProducer.send(batch);
        else await sendBatch(sqs, queueUrl, batch);
        sent.push(...batch);
        onProgress?.(sent.length / messages.length);
      }
    };
    const successesOf = (keys: Set<string>) => {
      const seen = new Set<string>();
      for (const r of app?.records ?? []) if (r.status >= 200 && r.status < 300 && keys.has(r.idempotencyKey)) seen.add(r.idempotencyKey);
      return seen.size;
    };
    const callsFor = (keys: Set<string>) => (app?.records ?? []).filter((r) => keys.has(r.idempotencyKey)).length;
    const keysOf = (msgs: Planned[]) => new Set(msgs.map((m) => `${m.sourceId}:${m.seq}`));
    const drained = async (keys: Set<string>, total: number) => {
      if (successesOf(keys) < total) return false;
      const d = await queueDepth(sqs, queueUrl);
      return d.visible + d.inFlight === 0;
    };
    const maxCallMs = opts.slowMs + opts.latencyMs + 1000;

    // ---- Round 1: kill -9 while sending, the app flaky, down once, some calls slower than the visibility timeout.
    await keepWorkers();
    say(`${opts.workers} workers up; round 1: ${opts.messages} messages over ${opts.sources} sources in ~${opts.sendSeconds} s, kill -9 every ${opts.killEveryMs[0] / 1000}–${opts.killEveryMs[1] / 1000} s`);
    const plan1 = planRound(opts.messages);
    const sent1: Planned[] = [];
    let wentDown = false;
    const producing = produce(plan1, opts.sendSeconds, sent1, (share) => {
      if (!wentDown && share >= opts.downAt && app) {
        wentDown = true;
        app.behaviour.down = true;
        say(`app down (503 to everything) for ${opts.downMs / 1000} s`);
        setTimeout(() => {
          if (app) app.behaviour.down = false;
          say('app back up');
        }, opts.downMs).unref();
      }
    });
    let sending = true;
    void producing.finally(() => (sending = false));
    let nextKill = Date.now() + opts.killEveryMs[0] + random() * (opts.killEveryMs[1] - opts.killEveryMs[0]);
    while (sending && Date.now() < deadline) {
      await sleep(100);
      await keepWorkers();
      if (Date.now() >= nextKill) {
        await kill9();
        nextKill = Date.now() + opts.killEveryMs[0] + random() * (opts.killEveryMs[1] - opts.killEveryMs[0]);
      }
    }
    await producing;
    say(`round 1 sent ${sent1.length}; ${kills.length} kills so far; waiting for every message to succeed`);
    const keys1 = keysOf(sent1);
    let lastReport = Date.now();
    await until(async () => {
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        say(`round 1: ${successesOf(keys1)}/${sent1.length} succeeded`);
      }
      return drained(keys1, sent1.length);
    }, Math.max(0, deadline - Date.now()), 250);
    say(`round 1 done: ${successesOf(keys1)}/${sent1.length} succeeded`);
    // Calls a killed worker left running finish at the app by themselves; let them land in this round.
    await sleep(Math.min(maxCallMs, Math.max(0, deadline - Date.now())));

    // ---- Round 2: graceful stop of every worker mid-load, then a restart.
    const plan2 = planRound(opts.sigtermMessages);
    const sent2: Planned[] = [];
    const keys2 = keysOf(plan2);
    say(`round 2: ${plan2.length} more messages; SIGTERM to all workers once ${Math.round(opts.sigtermAt * 100)}% succeeded`);
    const producing2 = produce(plan2, Math.max(1, opts.sendSeconds / 4), sent2);
    await until(() => successesOf(keys2) >= plan2.length * opts.sigtermAt, Math.max(0, deadline - Date.now()), 50);
    const stopping = running.splice(0);
    const termAt = Date.now();
    say(`SIGTERM to ${stopping.length} workers at ${successesOf(keys2)}/${plan2.length} succeeded`);
    for (const w of stopping) w.rec.end = { how: 'SIGTERM', code: null, signal: null, at: termAt };
    await Promise.all(
      stopping.map(async (w) => {
        const { code, signal } = await w.child.stop((opts.shutdownGraceSeconds + 10) * 1000);
        w.rec.end = { how: 'SIGTERM', code, signal, at: termAt, stopMs: Date.now() - termAt };
      }),
    );
    const afterStop = await queueDepth(sqs, queueUrl);
    say(`all stopped in ${((Date.now() - termAt) / 1000).toFixed(1)} s (exit codes ${stopping.map((w) => w.rec.end?.code ?? w.rec.end?.signal).join(', ')}); queue: ${afterStop.visible} visible, ${afterStop.inFlight} still invisible; restarting`);
    await keepWorkers();
    await producing2;
    // Restarting three workers on a loaded machine can take half a minute and eat the deadline:
    // the wait counts progress from when they are back, and runs over the deadline only while the app still gets calls.
    let lastProgressAt = Date.now();
    let calls = callsFor(keys2);
    const hardCapAt = deadline + opts.overtimeSeconds * 1000;
    while (!(await drained(keys2, sent2.length))) {
      const now = Date.now();
      const c = callsFor(keys2);
      if (c !== calls) {
        calls = c;
        lastProgressAt = now;
      }
      if (drainWaitOver({ now, deadlineAt: deadline, lastProgressAt, stallMs: opts.stallSeconds * 1000, hardCapAt })) break;
      await sleep(250);
    }
    const overtimeSeconds = Math.max(0, (Date.now() - deadline) / 1000);
    say(
      `round 2 done: ${successesOf(keys2)}/${sent2.length} succeeded` +
        (overtimeSeconds > 0 ? `; ${overtimeSeconds.toFixed(1)} s past the deadline, last app call of the round ${((Date.now() - lastProgressAt) / 1000).toFixed(1)} s ago` : ''),
    );
    await sleep(Math.min(1000, Math.max(0, deadline - Date.now())));

    for (const w of running.splice(0)) {
      w.rec.end = { how: 'SIGTERM', code: null, signal: null, at: Date.now() };
      const { code, signal } = await w.child.stop((opts.shutdownGraceSeconds + 10) * 1000);
      w.rec.end = { ...w.rec.end, code, signal };
    }
    const left = await queueDepth(sqs, queueUrl);
    const records = [...app.records];
    const inRound2 = (r: (typeof records)[number]) => keys2.has(`${r.sourceId}:${r.seq}`);
    const round2Records = records.filter(inRound2);
    const round1 = judgeRun(sent1, records.filter((r) => !inRound2(r)), { kills, maxCallMs });
    const round2 = judgeRun(sent2, round2Records, { kills, maxCallMs });
    const overall = judgeRun([...sent1, ...sent2], records, { kills, maxCallMs });
    const crashed = all.filter((w) => w.end?.how === 'on its own');
    const termed = all.filter((w) => w.end?.how === 'SIGTERM');
    const badStops = termed.filter((w) => w.end?.code !== 0);
    const graceMs = opts.shutdownGraceSeconds * 1000;
    const slowStops = termed.filter((w) => (w.end?.stopMs ?? 0) > graceMs + 5000);
    const successKeys = new Set(records.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.idempotencyKey));
    const harnessRules: Rule[] = [
      { rule: 'no worker died unless killed', ok: crashed.length === 0, detail: crashed.length === 0 ? `${all.length} workers started, ${kills.length} killed with SIGKILL` : `${crashed.length} exited on their own: ${crashed.map((w) => `${w.id} (${w.logFile})`).join(', ')}` },
      {
        rule: 'SIGTERM: every worker exits 0 within the grace',
        ok: badStops.length === 0 && slowStops.length === 0 && termed.length > 0,
        detail: `${termed.length - badStops.length}/${termed.length} exited 0, slowest in ${(Math.max(0, ...termed.map((w) => w.end?.stopMs ?? 0)) / 1000).toFixed(1)} s (grace ${opts.shutdownGraceSeconds} s)`,
      },
      { rule: 'SIGTERM round: nothing lost or reordered', ok: round2.lost.length === 0 && round2.orderViolations.length === 0 && round2.outOfTurn.length === 0 && round2.sent === plan2.length, detail: `${round2.delivered}/${round2.sent} succeeded, ${round2.orderViolations.length} order violations, ${round2.duplicates.length} duplicates` },
      { rule: 'queue empty at the end', ok: left.visible + left.inFlight === 0, detail: `${left.visible} visible, ${left.inFlight} in flight` },
      { rule: 'enough load', ok: sent1.length === opts.messages && round1.sources === Math.min(opts.sources, opts.messages), detail: `${sent1.length + sent2.length} messages over ${overall.sources} sources` },
    ];
    if (viaProducer) {
      const p = viaProducer.stats;
      harnessRules.push({ rule: 'producer: every seq claimed as planned', ok: p.mismatches.length === 0, detail: p.mismatches.length === 0 ? `${p.batches} batches through the journal-first producer` : `claimed off plan: ${p.mismatches.slice(0, 10).join(', ')}` });
      harnessRules.push({ rule: 'producer deaths: claims delivered from the journal', ok: p.unsent.every((k) => successKeys.has(k)), detail: `${p.deaths} producers died after claiming ${p.unsent.length} seqs; ${p.unsent.filter((k) => successKeys.has(k)).length} of them succeeded` });
    }
    const ok = overall.ok && harnessRules.every((r) => r.ok);
    const { out: _out, endpoints: _endpoints, ...options } = opts;
    return {
      options,
      seconds: (Date.now() - started) / 1000,
      kills,
      workers: all,
      round1,
      round2,
      overall,
      overtimeSeconds,
      harnessRules,
      leftInQueue: left.visible + left.inFlight,
      ok,
      sent: [...sent1, ...sent2],
      records,
      ...(viaProducer ? { producer: viaProducer.stats } : {}),
    };
  } finally {
    await Promise.all(running.map((w) => w.child.kill9()));
    await app?.close();
    sqs.destroy();
    dynamo.destroy();
  }
}

/** The verdict as printed by `npm run chaos` and the CI test. */
export function renderVerdict(r: ChaosResult): string {
  const l: string[] = [];
  const round = (name: string, v: RunVerdict) => {
    const afterKill = v.duplicates.filter((d) => d.explainedByKill).length;
    l.push(
      `${name}: sent ${v.sent} over ${v.sources} sources; succeeded ${v.delivered}; lost ${v.lost.length}; order violations ${v.orderViolations.length}; ` +
        `calls out of turn ${v.outOfTurn.length}; duplicate successes ${v.duplicates.length} (${afterKill} after a kill); app calls ${v.calls} (${v.failedCalls} answered 503); highest attempt ${v.maxAttempt}`,
    );
  };
  round('round 1 (kill -9)', r.round1);
  round('round 2 (SIGTERM)', r.round2);
  l.push(
    `workers started ${r.workers.length}, killed with SIGKILL ${r.kills.length}; left in queue ${r.leftInQueue}; ${r.seconds.toFixed(1)} s` +
      (r.overtimeSeconds > 0 ? ` (the SIGTERM round's drain wait ran ${r.overtimeSeconds.toFixed(1)} s past the ${r.options.deadlineSeconds} s deadline, as long as its messages still got app calls)` : ''),
  );
  l.push('rules:');
  for (const rule of [...r.overall.rules, ...r.harnessRules]) l.push(`  ${rule.ok ? 'PASS' : 'FAIL'}  ${rule.rule.padEnd(48)} ${rule.detail}`);
  l.push(`VERDICT: ${r.ok ? 'PASS' : 'FAIL'}`);
  return l.join('\n');
}
