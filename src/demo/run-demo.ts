import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { createDynamoClient, createSqsClient } from '../adapters/aws-clients';
import { SourceStatusReader } from '../adapters/source-status';
import { queueDepth } from '../adapters/sqs-queue';
import { ensureQueue, ensureTable } from '../cli/setup';
import { loadConfig } from '../config';
import { EMULATOR_REGION, startEmulators, type Emulators } from '../dev/emulators';
import { onInterrupt } from '../dev/interrupt';
import { emulatorAwsEnv, exportLines, localEnv } from '../dev/local-env';
import { createLogger } from '../observability/logger';
import { startRelay, type RunningRelay } from '../relay';
import { startDemoApp, type DemoApp } from './app-server';
import { judgeRun, type RunVerdict } from './checker';
import { PoisonScenario } from './poison';
import { summarize, verdictLine, verdictLines } from './verdict-lines';
import { CommandSourceControl } from './source-control';

export interface DemoOptions {
  messages: number;
  sources: number;
  workers: number;
  failRate: number;
  slowRate: number;
  slowMs: number;
  /** Give up after this long (the verdict then reports what was lost). */
  timeoutMs?: number;
  /** One message the app rejects until the operator parks its source, fixes the app and unparks. */
  poison?: boolean;
}

export interface DemoVerdict extends RunVerdict {
  leftInQueue: number;
}

/**
 * The default app timeout: on a loaded machine a call to the 5 ms demo app has been seen to take
 * 6-8 s of event-loop time, and a call timed out after the app accepted it is a duplicate. A call
 * the app started just before a worker stopped may land up to this long after the stop.
 */
const APP_TIMEOUT_MS = 10_000;
const VISIBILITY_TIMEOUT_SECONDS = 10;
/** Skip waits this long after the park: this demo's app timeout plus visibility, with room. */
const SKIP_QUIET_SECONDS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Interleaved across sources, seq 1..n within each, as producers would send them. */
function plan(messages: number, sources: number): Array<{ sourceId: string; seq: string }> {
  const out: Array<{ sourceId: string; seq: string }> = [];
  const next = new Array<number>(sources).fill(1);
  for (let i = 0; i < messages; i++) {
    const s = i % sources;
    out.push({ sourceId: `source-${String(s).padStart(3, '0')}`, seq: String(next[s]) });
    next[s] = (next[s] ?? 1) + 1;
  }
  return out;
}

/**
 * The whole system on one machine: emulators, a flaky demo app, several workers, a producer, a
 * graceful restart of one worker half-way through, and a verdict judged only from what the app saw.
 */
export async function runDemo(opts: DemoOptions, out: (line: string) => void): Promise<DemoVerdict> {
  const started = Date.now();
  let emulators: Emulators | undefined;
  const relays: RunningRelay[] = [];
  let app: DemoApp | undefined;
  const logDir = mkdtempSync(join(tmpdir(), 'fifo-relay-demo-'));
  const logFile = join(logDir, 'workers.log');
  const log = createLogger('info', pino.destination({ dest: logFile, sync: false }));
  const sqsOpts = { region: EMULATOR_REGION, requestTimeoutMs: 10_000 };
  const stopAll = async () => {
    await Promise.all(relays.map((r) => r.stop(2000)));
    await app?.close();
    await emulators?.stop();
    log.flush();
  };
  // Interrupted, the logs of a half-run are of no use: everything goes, and the user is told.
  let interrupted = false;
  const parkIfInterrupted = async () => {
    // The signal handler stops everything and exits; errors of a run being torn down are noise.
    if (interrupted) await new Promise(() => undefined);
  };
  const unhook = onInterrupt(async () => {
    interrupted = true;
    const stopped = [`${relays.length} worker(s)`, 'the demo app', ...(emulators ? [emulators.sqs.describe, emulators.dynamo.describe] : [])];
    await stopAll();
    rmSync(logDir, { recursive: true, force: true });
    return [`stopped ${stopped.join(', ')}`, `removed ${logDir}`];
  }, out);
  try {
    return await demoRun();
  } catch (err) {
    await parkIfInterrupted();
    throw err;
  } finally {
    unhook();
    await stopAll();
  }

  async function demoRun(): Promise<DemoVerdict> {
    out('starting SQS (fauxqs) and DynamoDB Local emulators…');
    emulators = await startEmulators();
    const table = 'fifo-relay-demo-progress';
    Object.assign(process.env, emulatorAwsEnv({ sqsEndpoint: emulators.sqs.endpoint, dynamoEndpoint: emulators.dynamo.endpoint }));
    const sqs = createSqsClient(sqsOpts);
    const dynamo = createDynamoClient(sqsOpts);
    const { url: queueUrl } = await ensureQueue(sqs, 'fifo-relay-demo.fifo');
    await ensureTable(dynamo, table);
    const reader = new SourceStatusReader(dynamo, table);

    app = await startDemoApp({ latencyMs: 5, failRate: opts.failRate, slowRate: opts.slowRate, slowMs: opts.slowMs });
    out(`demo app on ${app.url}: ${Math.round(opts.failRate * 100)}% of calls fail, ${Math.round(opts.slowRate * 100)}% take ${opts.slowMs} ms`);
    const config = loadConfig({
      QUEUE_URL: queueUrl,
      TARGET_URL: app.url,
      PROGRESS_TABLE: table,
      AWS_REGION: EMULATOR_REGION,
      HTTP_PORT: '0',
      RECEIVE_WAIT_SECONDS: '2',
      VISIBILITY_TIMEOUT_SECONDS: String(VISIBILITY_TIMEOUT_SECONDS),
      APP_TIMEOUT_MS: String(APP_TIMEOUT_MS),
      AWS_REQUEST_TIMEOUT_MS: '3000',
      RETRY_BASE_SECONDS: '1',
      RETRY_MAX_SECONDS: '4',
      MAX_CONCURRENT_SOURCES: '32',
      STATUS_REFRESH_SECONDS: '1',
    });
    // The default thresholds (STUCK_ATTEMPTS, STUCK_AFTER_SECONDS), as `fifo-relay status` uses them.
    const STUCK = { attempts: config.stuckAttempts, afterMs: config.stuckAfterSeconds * 1000 };
    for (let i = 0; i < opts.workers; i++) relays.push(await startRelay(config, log.child({ worker: i + 1 }), { defaultMetrics: false }));
    out(`${opts.workers} workers running; logs in ${logFile}`);
    out(`workers' HTTP ports (/status, /metrics): ${relays.map((r) => `http://127.0.0.1:${r.server.port}/status`).join('  ')}`);
    out(`queue ${queueUrl}, table ${table}; SQS ${emulators.sqs.endpoint}, DynamoDB ${emulators.dynamo.endpoint}`);
    out('to look from another shell while the demo runs, paste these and run `npm run cli -- status`:');
    for (const line of exportLines(localEnv({ sqsEndpoint: emulators.sqs.endpoint, dynamoEndpoint: emulators.dynamo.endpoint, queueUrl, table }))) out(`  ${line}`);

    const sent = plan(opts.messages, opts.sources);
    const poisonSource = sent[0]?.sourceId ?? '';
    const poisonSourceCount = sent.filter((m) => m.sourceId === poisonSource).length;
    const poisonSeq = Math.min(3, poisonSourceCount);
    const poison =
      opts.poison && sent.length > 0
        ? new PoisonScenario(
            {
              sourceId: poisonSource,
              seq: String(poisonSeq),
              journalExpected: poisonSourceCount - poisonSeq + 1,
              quietSeconds: SKIP_QUIET_SECONDS,
              quietWhy:
                `skip waits --quiet-seconds after the park, so that no delivery started before it can still land: ${SKIP_QUIET_SECONDS} s covers this demo's ` +
                `APP_TIMEOUT_MS (${APP_TIMEOUT_MS / 1000} s) + VISIBILITY_TIMEOUT_SECONDS (${VISIBILITY_TIMEOUT_SECONDS} s); the default, 60 s, covers the defaults (10 s + 30 s)`,
            },
            app,
            reader,
            new CommandSourceControl(dynamo, table, 'demo-operator'),
            STUCK,
            out,
          )
        : undefined;
    if (poison) out(`poison: the app rejects ${poison.plan.sourceId} seq ${poison.plan.seq} with HTTP 422, every time; stuck = ${STUCK.attempts} attempts (the default STUCK_ATTEMPTS)`);
    out(`status page: http://127.0.0.1:${relays[0]?.server.port ?? 0}/status.html`);
    out(`sending ${sent.length} messages over ${opts.sources} sources…`);
    const producing = (async () => {
      for (let i = 0; i < sent.length; i += 10) {
        const entries: SendMessageBatchRequestEntry[] = sent.slice(i, i + 10).map((m, j) => ({
          Id: `e${j}`,
          MessageGroupId: m.sourceId,
          MessageDeduplicationId: randomUUID(),
          MessageBody: JSON.stringify({ sourceId: m.sourceId, seq: Number(m.seq), op: 'update' }),
          MessageAttributes: { seq: { DataType: 'Number', StringValue: m.seq } },
        }));
        await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      }
    })();
    // Awaited below; until then a failure (an interrupted run) must not crash the process.
    producing.catch(() => undefined);

    const deadline = started + (opts.timeoutMs ?? 10 * 60_000);
    let restarted = false;
    const stops: number[] = [];
    let lastLine = 0;
    for (;;) {
      await sleep(250);
      await parkIfInterrupted();
      await poison?.step(Date.now());
      const v = judgeRun(sent, app.records, { kills: stops, maxCallMs: APP_TIMEOUT_MS, skipped: poison?.skipped ?? [] });
      if (!restarted && opts.workers > 0 && v.delivered >= sent.length / 2) {
        restarted = true;
        out('redeploy: stopping worker 1 gracefully and starting a replacement…');
        const old = relays.shift();
        stops.push(Date.now());
        await old?.stop(5000);
        stops.push(Date.now());
        const replacement = await startRelay(config, log.child({ worker: 'replacement' }), { defaultMetrics: false });
        relays.push(replacement);
        out(`replacement worker's HTTP port: http://127.0.0.1:${replacement.server.port}/status`);
      }
      const done = v.delivered === v.sent && (!poison || poison.done);
      if (done || Date.now() - lastLine >= 2000 || Date.now() > deadline) {
        lastLine = Date.now();
        const inFlight = relays.reduce((n, r) => n + r.worker.stats().inFlightSources, 0);
        // What an operator sees with `fifo-relay status`: failing heads recorded across all workers.
        const counts = (await reader.list(STUCK, Date.now())).counts;
        out(
          `[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] delivered ${v.delivered}/${v.sent}  ` +
            `failed calls ${v.failedCalls}  duplicates ${v.duplicates.length}  sources in flight ${inFlight}  ` +
            `retrying ${counts.retrying}  stuck ${counts.stuck}  parked ${counts.parked}`,
        );
      }
      if (done || Date.now() > deadline) break;
    }
    await producing;
    // Let deletes land, then show the queue really is empty.
    await sleep(500);
    const depth = await queueDepth(sqs, queueUrl);
    const left = depth.visible + depth.inFlight;
    sqs.destroy();
    dynamo.destroy();

    const verdict = judgeRun(sent, app.records, { kills: stops, maxCallMs: APP_TIMEOUT_MS, skipped: poison?.skipped ?? [] });
    const ok = verdict.ok && left === 0 && (!poison || poison.done);
    const summary = summarize(verdict, sent.length, left, (Date.now() - started) / 1000, ok, poison ? { finished: poison.done, stuckAfterAttempts: poison.stuckAfterAttempts, journaled: poison.journaled } : undefined);
    const [deliveredLine, orderLine, ...rest] = verdictLines(summary);
    out('');
    out(`${deliveredLine}${verdict.lost.length ? `  LOST: ${verdict.lost.slice(0, 10).join(', ')}` : ''}`);
    out(`${orderLine}${verdict.orderViolations.length ? `  VIOLATIONS: ${JSON.stringify(verdict.orderViolations.slice(0, 5))}` : ''}`);
    for (const line of rest) out(line);
    for (const rule of verdict.rules.filter((r) => !r.ok)) out(`FAILED RULE: ${rule.rule} — ${rule.detail}`);
    out(verdictLine(summary));
    out(`worker logs (JSON lines, kept): ${logFile}`);
    return { ...verdict, ok, leftInQueue: left };
  }
}
