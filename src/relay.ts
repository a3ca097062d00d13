import type { Config } from './config';
import { createDynamoClient, createSqsClient, receiveTimeoutMs } from './adapters/aws-clients';
import { CallCutoff, withCutoff } from './adapters/call-cutoff';
import { HttpApp } from './adapters/http-app';
import { GroupCommitLedger } from './adapters/ledger-group-commit';
import { DynamoJournalRange } from './adapters/journal-range';
import { DynamoAsideStore } from './adapters/aside-store';
import { DynamoAuditLog } from './adapters/audit-log';
import { DynamoJournal } from './adapters/journal';
import { DynamoLedger } from './adapters/progress-ledger';
import { SourceStatusReader } from './adapters/source-status';
import { DynamoSourceControl } from './adapters/source-control';
import { Replayer } from './worker/replayer';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { SqsQueue, type QueueFacts } from './adapters/sqs-queue';
import { startEmf } from './observability/emf';
import { startObservabilityServer, type ObservabilityServer } from './observability/http-server';
import { logWorkerEvents } from './observability/log-events';
import type { Logger } from './observability/logger';
import { Metrics } from './observability/metrics';
import { StatusService } from './observability/status-view';
import { registerTableGauges } from './observability/table-metrics';
import { TableStatusCache } from './observability/table-status';
import { TaskHeartbeat } from './observability/task-heartbeat';
import { DynamoTaskHealth } from './adapters/task-health';
import { readQueueDepth } from './adapters/queue-health';
import type { FlowOptions } from './worker/flow-control';
import { ProgressWatchdog, stuckAfterMs } from './observability/progress-watchdog';
import { Worker } from './worker/worker';
import { defaultHeldBytesBudget } from './worker/held-bytes';
import { totalmem } from 'node:os';

/** How long the stop waits for this task's line in the table to be removed. */
const HEARTBEAT_STOP_MS = 1000;
/** Past the grace: the worker's hard-stop margin (5 s) plus its last release pass (2 s). */
const REPLAYER_STOP_MARGIN_MS = 7000;

export class StartupError extends Error {
  override name = 'StartupError';
}

/** Refuses queues that would break order or retry-until-success. */
export function checkQueue(facts: QueueFacts, config: Pick<Config, 'queueUrl' | 'allowRedrivePolicy'>): string[] {
  const problems: string[] = [];
  if (!facts.fifo) problems.push(`queue ${config.queueUrl} is not a FIFO queue: per-source order needs FIFO with MessageGroupId = sourceId`);
  if (facts.redrivePolicy && !config.allowRedrivePolicy) {
    problems.push(
      `queue ${config.queueUrl} has a redrive policy (${facts.redrivePolicy}): SQS would move a message that keeps failing to a dead-letter queue, ` +
        'skipping it and breaking order; remove the policy, or set ALLOW_REDRIVE_POLICY=true to accept that',
    );
  }
  return problems;
}

/** The flow gate's settings from the configuration. */
export function flowOptions(config: Config): FlowOptions {
  return {
    breaker: {
      enabled: config.breakerEnabled,
      failureRate: config.breakerFailurePercent / 100,
      windowMs: config.breakerWindowSeconds * 1000,
      minCalls: config.breakerMinCalls,
      minSources: config.breakerMinSources,
      probeBaseMs: config.breakerProbeBaseMs,
      probeMaxMs: config.breakerProbeMaxSeconds * 1000,
      rampStart: 1,
      rampStepMs: config.breakerRampStepMs,
      fullConcurrency: config.maxConcurrentSources,
      maxPauseMs: config.throttleMaxPauseSeconds * 1000,
    },
    ratePerSecond: config.rateLimitPerSecond,
    burst: config.rateLimitBurst || config.rateLimitPerSecond,
  };
}

export interface RunningRelay {
  worker: Worker;
  metrics: Metrics;
  server: ObservabilityServer;
  facts: QueueFacts;
  /** Graceful stop: see Worker.stop. Closes the HTTP server last. */
  stop(graceMs?: number): Promise<void>;
}

/** Composition: clients → adapters → worker → logs, metrics and the HTTP port. */
export async function startRelay(config: Config, log: Logger, opts: { defaultMetrics?: boolean } = {}): Promise<RunningRelay> {
  const metrics = new Metrics({ defaultMetrics: opts.defaultMetrics ?? true });
  const clientOpts = { region: config.region, requestTimeoutMs: config.awsRequestTimeoutMs, observe: metrics.observeAws, maxSockets: config.maxConcurrentSources * 2 + 20 };
  const sqs = createSqsClient(clientOpts);
  const dynamo = createDynamoClient(clientOpts);
  const cutoff = new CallCutoff();
  const queue = new SqsQueue(sqs, config.queueUrl, {
    cutoff,
    waitSeconds: config.receiveWaitSeconds,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    receiveTimeoutMs: receiveTimeoutMs(config.awsRequestTimeoutMs, config.receiveWaitSeconds),
  });
  // Advances of different sources that finish together share one DynamoDB call; the lane sees single calls.
  // One id for this task: on its failure records (which task holds a head), its health line and its replay lease.
  const taskId = `${hostname()}/${randomUUID().slice(0, 8)}`;
  const ledger = new GroupCommitLedger(new DynamoLedger(dynamo, config.progressTable, cutoff, taskId), { maxInFlight: config.ledgerBatchesInFlight });
  // Shutdown's hard deadline cuts the parking adapters' calls too.
  const cutDynamo = withCutoff(dynamo, cutoff);
  const control = new DynamoSourceControl(cutDynamo, config.progressTable);
  // One store for both ways a head is set aside (the watchdog's and an operator's).
  const aside = new DynamoAsideStore(cutDynamo, config.progressTable);
  const journal = new DynamoJournal(cutDynamo, config.progressTable);
  const parking = {
    control,
    journal,
    audit: new DynamoAuditLog(cutDynamo, config.progressTable),
    aside,
    setAside: aside,
    range: new DynamoJournalRange(cutDynamo, config.progressTable, journal),
  };

  let facts: QueueFacts;
  try {
    facts = await queue.facts();
  } catch (err) {
    throw new StartupError(`cannot read queue ${config.queueUrl}: ${(err as Error).message}`);
  }
  const problems = checkQueue(facts, config);
  if (problems.length > 0) throw new StartupError(problems.join('\n'));
  try {
    await ledger.read('\u0000fifo-relay-startup-probe');
  } catch (err) {
    throw new StartupError(`cannot read progress table ${config.progressTable}: ${(err as Error).message}`);
  }

  const app = new HttpApp({ targetUrl: config.targetUrl, timeoutMs: config.appTimeoutMs, authHeader: config.targetAuthHeader, maxSockets: config.maxConcurrentSources });
  const worker = new Worker(
    {
      queueId: facts.id,
      maxConcurrentSources: config.maxConcurrentSources,
      receiveConcurrency: config.receiveConcurrency,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      retry: { baseSeconds: config.retryBaseSeconds, maxSeconds: config.retryMaxSeconds },
      deleteFlushMs: config.deleteFlushMs,
      deleteBatchesInFlight: config.deleteBatchesInFlight,
      ledgerCacheSize: config.ledgerCacheSize,
      recordFailures: config.recordFailures,
      appTimeoutMs: config.appTimeoutMs,
      retentionSeconds: facts.retentionSeconds,
      retentionParkShare: config.retentionParkShare,
      flow: flowOptions(config),
      heldBytesBudget: config.heldBytesBudget || defaultHeldBytesBudget(process.constrainedMemory(), totalmem()),
    },
    { queue, ledger, app, parking, cutCalls: () => cutoff.cut() },
  );
  // Replayed deliveries count wherever deliveries do (metrics, EMF): NoDeliveries must not fire during a replay.
  const replayed: Array<() => void> = [() => metrics.countReplayed()];
  const replayer = new Replayer(
    {
      ...parking,
      ledger,
      app,
      listReplaying: async (o) => [...(await control.listInState('replaying')), ...(o?.closing === false ? [] : await control.listInState('closing'))],
      onEvent: (e) => {
        if (e.kind === 'error') log.error({ event: 'replay_error', sourceId: e.sourceId, err: e.error }, 'replay step failed; will retry');
        else if (e.kind === 'failed') log.warn({ event: 'replay_delivery_failed', sourceId: e.sourceId, seq: e.seq, attempt: e.attempt, error: e.detail }, 'replayed delivery failed; will retry');
        else if (e.kind === 'delivered') {
          for (const count of replayed) count();
          log.info({ event: 'replayed', sourceId: e.sourceId, seq: e.seq, attempt: e.attempt }, 'delivered from the journal');
        }
        else if (e.outcome === 'done') log.info({ event: 'replay_done', sourceId: e.sourceId }, 'replay finished; source active again');
      },
    },
    {
      owner: taskId,
      // The lease is renewed before every entry, so it only has to outlast one app call.
      leaseMs: Math.max(30_000, config.appTimeoutMs * 3),
      pollMs: config.replayPollMs,
      batch: 25,
      maxBackoffMs: config.retryMaxSeconds * 1000,
    },
  );
  metrics.attach(worker);
  logWorkerEvents(worker, log);
  const stopEmf = config.emfNamespace
    ? startEmf(worker, { namespace: config.emfNamespace, queueName: facts.arn.split(':').pop() ?? '', write: (line) => process.stdout.write(`${line}\n`), onReplayed: (count) => replayed.push(count) })
    : () => undefined;
  const reader = new SourceStatusReader(dynamo, config.progressTable);
  const taskHealth = new DynamoTaskHealth(dynamo, config.progressTable);
  const tableStatus = new TableStatusCache(reader, {
    thresholds: { attempts: config.stuckAttempts, afterMs: config.stuckAfterSeconds * 1000 },
    refreshMs: config.statusRefreshSeconds * 1000,
    onError: () => metrics.countError('status-read'),
    tasks: () => taskHealth.list(),
    queue: () => readQueueDepth(sqs, config.queueUrl),
  });
  registerTableGauges(metrics.registry, tableStatus, facts.retentionSeconds);
  // Three refresh intervals (15 s by default): one small write per task per interval (docs/operations.md).
  const heartbeatMs = config.statusRefreshSeconds * 3000;
  // status is read only once the heartbeat starts, below.
  const heartbeat: TaskHeartbeat = new TaskHeartbeat(worker, taskHealth, { taskId, intervalMs: heartbeatMs, delivered: (): number => status.delivered, onError: () => metrics.countError('task-health-write') });
  const status: StatusService = new StatusService(worker, tableStatus, { retentionSeconds: facts.retentionSeconds, heartbeat, taskStaleMs: heartbeatMs * 3, describe: (id, t, now) => reader.describe(id, t, now) });
  const watchdog = new ProgressWatchdog(worker, stuckAfterMs(config.appTimeoutMs, config.awsRequestTimeoutMs));
  const server = await startObservabilityServer({ port: config.httpPort, registry: metrics.registry, worker, isReady: () => worker.isRunning, isLive: () => watchdog.healthy(), status });
  worker.start();
  replayer.start();
  heartbeat.start();
  log.info(
    { event: 'started', queueArn: facts.arn, queueId: facts.id, table: config.progressTable, target: config.targetUrl, httpPort: server.port, maxConcurrentSources: config.maxConcurrentSources },
    'fifo-relay started',
  );
  return {
    worker,
    metrics,
    server,
    facts,
    stop: async (graceMs = config.shutdownGraceSeconds * 1000) => {
      // The replayer's calls are cut with the worker's at the hard deadline; its own stop is bounded
      // the same way, so a replay in progress cannot hold the exit past grace + the hard-stop margin.
      let bound: NodeJS.Timeout | undefined;
      await Promise.all([
        worker.stop(graceMs),
        Promise.race([replayer.stop(), new Promise<void>((resolve) => (bound = setTimeout(resolve, graceMs + REPLAYER_STOP_MARGIN_MS)))]),
      ]);
      clearTimeout(bound);
      // The task line is a courtesy to the status page (it goes stale by itself): removing it must
      // never hold the exit, as it would against a table that stopped answering.
      let heartbeatBound: NodeJS.Timeout | undefined;
      await Promise.race([heartbeat.stop(), new Promise<void>((resolve) => (heartbeatBound = setTimeout(resolve, HEARTBEAT_STOP_MS)))]);
      clearTimeout(heartbeatBound);
      stopEmf();
      await server.close();
      app.close();
      sqs.destroy();
      dynamo.destroy();
    },
  };
}
