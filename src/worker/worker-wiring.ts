import type { AppPort } from '../adapters/http-app';
import type { LedgerPort } from '../adapters/progress-ledger';
import type { ParkingPorts } from './journal-path';
import type { QueuePort } from '../adapters/sqs-queue';
import { SQS_MAX_VISIBILITY_SECONDS } from '../config';
import type { ParseResult } from '../core/message';
import { backoffFor, visibilityCeilingSeconds, type RetryPolicy } from '../core/retry-policy';
import { DeleteBatcher } from './delete-batcher';
import { FlowControl, type FlowDeps, type FlowOptions } from './flow-control';
import { Heartbeat } from './heartbeat';
import { ParkingPath } from './journal-path';
import type { LaneClock, LaneDeps } from './lane';
import { FailureLog } from './lane-failures';
import { LaneHold, type Emit } from './lane-hold';
import { ParkingRouter, PositionRouter } from './lane-route';
import { LaneWatch } from './lane-watch';
import { LedgerCache } from './ledger-cache';
import { ParkRecall } from './park-recall';
import { RetentionGuard } from './retention-guard';
import { SetAsidePath } from './set-aside-path';
import type { ReceiveRead } from './standing-reads';

export interface WorkerOptions {
  queueId: string;
  maxConcurrentSources: number;
  receiveConcurrency: number;
  visibilityTimeoutSeconds: number;
  retry: RetryPolicy;
  deleteFlushMs: number;
  /** DeleteMessageBatch calls of fewer than ten in flight at once (default 1). */
  deleteBatchesInFlight?: number;
  ledgerCacheSize: number;
  recordFailures: boolean;
  /** The app-call timeout: a message is only handed to the app while SQS can keep it hidden that long. */
  appTimeoutMs: number;
  /** The queue's MessageRetentionPeriod (seconds), for the retention watchdog and the failing head's deadline. */
  retentionSeconds?: number;
  /** Share of the retention after which a failing head is parked (default 0.75). */
  retentionParkShare?: number;
  /** Circuit breaker and rate limit; without it every call goes straight through. */
  flow?: FlowOptions;
  /** How long after the grace the stop waits for lanes and deletes before it cuts every call short. */
  hardStopMs?: number;
  /** Most body bytes held at once; receives ask for fewer messages as it fills. Infinity: no limit. */
  heldBytesBudget?: number;
  /** How often the states of backed-off heads are read, so a park hands them back early (default PARK_POLL_MS). */
  parkPollMs?: number;
}

export interface WorkerDeps {
  queue: QueuePort;
  ledger: LedgerPort;
  app: AppPort;
  /** Parking (state, journal, audit; aside for heads that have no place in the order): or none for a worker without park/replay. */
  parking?: ParkingPorts;
  /** Wall-clock milliseconds; injected so tests can steer time-dependent decisions. */
  now?: () => number;
  /** A number in [0, 1) for backoff jitter. */
  random?: () => number;
  /** Aborts every SQS and DynamoDB call still running (shutdown's hard deadline). */
  cutCalls?: () => void;
}

/** Keeps a backoff inside SQS's 12-hour-per-receive limit with room for the request itself. */
const CEILING_MARGIN_SECONDS = 60;
const DEFAULT_RETENTION_SECONDS = 345_600;
const DEFAULT_PARK_SHARE = 0.75;

/** How the flow gate files a head the retention guard hid: like one backed off in an outage, recalled by the ramp. */
const GUARD_HIDDEN = { kind: 'network-error', durationMs: 0, detail: 'hidden by the retention guard while the breaker is open' } as const;

/** What the worker's loop needs to know of itself to wire its parts. */
export interface WorkerSelf {
  now(): number;
  random(): number;
  emit: Emit;
  isStopping(): boolean;
  deliverySignal: AbortSignal;
  /** True while a lane of the source is open here. */
  holdsSource(sourceId: string): boolean;
  /** The breaker changed state: pollers waiting on it look again. */
  onFlowTransition(): void;
}

/** The worker's parts: what holds messages, the flow gate, parking, and what every lane is given. */
export interface WorkerParts {
  heartbeat: Heartbeat;
  deleter: DeleteBatcher;
  flow: FlowControl;
  failures: FailureLog;
  parking: ParkingPath | undefined;
  /** Hands back backed-off heads of sources parked meanwhile; absent without parking. */
  recall: ParkRecall | undefined;
  /** Sweeps the queue for aged heads while the breaker keeps the pollers from receiving; absent without parking. */
  guard: RetentionGuard | undefined;
  lanes: LaneDeps;
}

/** Builds the heartbeat, the delete batcher, the flow gate and the parking path, and wires the lanes to them. */
export function wireWorker(opts: WorkerOptions, deps: WorkerDeps, self: WorkerSelf): WorkerParts {
  const { now, emit } = self;
  const heartbeat = new Heartbeat({
    changeVisibility: (entries) => deps.queue.changeVisibility(entries),
    now,
    visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds,
    onExtended: (extended, capped) => emit('heartbeat', { extended, capped }),
    onFailures: (failures) => emit('batchFailures', { operation: 'change-visibility', failures }),
    onError: (error) => emit('queueError', { operation: 'change-visibility', error }),
    onLost: (lost) => emit('visibilityLost', { messageIds: lost.map((e) => e.messageId) }),
  });
  const deleter = new DeleteBatcher({
    deleteBatch: (entries) => deps.queue.delete(entries),
    flushMs: opts.deleteFlushMs,
    ...(opts.deleteBatchesInFlight === undefined ? {} : { maxInFlight: opts.deleteBatchesInFlight }),
    onFailures: (failures) => emit('batchFailures', { operation: 'delete', failures }),
    onError: (error) => emit('queueError', { operation: 'delete', error }),
  });
  const flow = wireFlow(opts, deps, self);
  const parking = deps.parking
    ? new ParkingPath(deps.parking, { retentionSeconds: opts.retentionSeconds ?? DEFAULT_RETENTION_SECONDS, retentionParkShare: opts.retentionParkShare ?? DEFAULT_PARK_SHARE }, now)
    : undefined;
  const failures = new FailureLog({
    ledger: deps.ledger,
    recordFailures: opts.recordFailures,
    ...(opts.retentionSeconds === undefined ? {} : { retentionSeconds: opts.retentionSeconds }),
    now,
    emit,
  });
  const recall = deps.parking
    ? new ParkRecall({ control: deps.parking.control, changeVisibility: (e) => deps.queue.changeVisibility(e), holdsSource: self.holdsSource, now, emit }, opts.parkPollMs)
    : undefined;
  const clock = laneClock(opts, self);
  const cache = new LedgerCache(opts.ledgerCacheSize);
  const lanes: LaneDeps = {
    hold: new LaneHold({
      heartbeat,
      deleter,
      queue: deps.queue,
      failures,
      backoff: clock.backoff,
      emit,
      ...(recall ? { onBackedOff: (id, e, s) => recall.backedOff(id, e, s) } : {}),
      ...(deps.parking?.setAside ? { aside: new SetAsidePath(deps.parking.setAside, deps.parking.audit, now) } : {}),
    }),
    router: parking ? new ParkingRouter(deps.ledger, cache, parking, now) : new PositionRouter(deps.ledger, cache),
    ...(parking ? { watch: new LaneWatch(parking, emit) } : {}),
    failures,
    app: deps.app,
    flow,
    clock,
    emit,
  };
  const guard = parking
    ? new RetentionGuard({
        queue: deps.queue,
        parking,
        opts: { queueId: opts.queueId, retentionSeconds: opts.retentionSeconds ?? DEFAULT_RETENTION_SECONDS, retentionParkShare: opts.retentionParkShare ?? DEFAULT_PARK_SHARE },
        now,
        emit,
        hidden: (sourceId, entry, seconds) => flow.backedOff(sourceId, entry, seconds, GUARD_HIDDEN),
        deleted: (entry) => deleter.add(entry),
        blocked: () => !flow.mayReceive(),
      })
    : undefined;
  return { heartbeat, deleter, flow, failures, parking, recall, guard, lanes };
}

function wireFlow(opts: WorkerOptions, deps: WorkerDeps, self: WorkerSelf): FlowControl {
  const flowDeps: FlowDeps = {
    now: self.now,
    changeVisibility: (entries) => deps.queue.changeVisibility(entries),
    holdsSource: self.holdsSource,
    onTransition: (t) => {
      self.emit('flowTransition', t);
      self.onFlowTransition();
    },
    onRecalled: (count, failures) => self.emit('recalled', { count, failures }),
    onError: (error) => self.emit('queueError', { operation: 'change-visibility', error }),
  };
  return opts.flow ? new FlowControl(opts.flow, flowDeps) : FlowControl.passThrough(opts.maxConcurrentSources, flowDeps);
}

function laneClock(opts: WorkerOptions, self: WorkerSelf): LaneClock {
  const ceiling = (receivedAt: number) => visibilityCeilingSeconds(receivedAt, self.now(), SQS_MAX_VISIBILITY_SECONDS, CEILING_MARGIN_SECONDS);
  return {
    now: self.now,
    isStopping: self.isStopping,
    deliverySignal: self.deliverySignal,
    backoff: (attempt, receivedAt, retryAfterSeconds) =>
      backoffFor(opts.retry, {
        attempt,
        random: self.random(),
        ceilingSeconds: ceiling(receivedAt),
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      }).seconds,
    canStillHold: (receivedAt) => ceiling(receivedAt) > opts.appTimeoutMs / 1000 + opts.visibilityTimeoutSeconds,
  };
}

/** Rule 1: one consistent read for all sources of a receive, made after it; lanes await it before sending. */
export function readForReceive(parking: ParkingPath | undefined, parsed: ParseResult[]): Promise<ReceiveRead> | undefined {
  if (!parking) return undefined;
  const ids = [...new Set(parsed.flatMap((p) => (p.ok ? [p.message.sourceId] : [])))];
  if (ids.length === 0) return undefined;
  const read = parking.readForReceive(ids);
  // Each lane awaits it and handles a failure; this keeps a rejection from going unhandled meanwhile.
  read.catch(() => undefined);
  return read;
}
