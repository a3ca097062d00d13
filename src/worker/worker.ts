import { setMaxListeners } from 'node:events';
import type { AppPort } from '../adapters/http-app';
import type { LedgerPort } from '../adapters/progress-ledger';
import type { QueueEntry, QueuePort } from '../adapters/sqs-queue';
import { SQS_MAX_BATCH, SQS_MAX_VISIBILITY_SECONDS } from '../config';
import { groupBySource, type LaneItem } from '../core/lanes';
import { parseMessage, type ParseResult, type RawMessage } from '../core/message';
import type { SourceControl } from '../core/source-state';
import { backoffFor, visibilityCeilingSeconds, type RetryPolicy } from '../core/retry-policy';
import { DeleteBatcher } from './delete-batcher';
import { TypedEmitter, type WorkerEvents } from './events';
import { FlowControl, type FlowDeps, type FlowOptions, type FlowStatus } from './flow-control';
import { Heartbeat } from './heartbeat';
import { HeldBytesBudget } from './held-bytes';
import { Lane, type LaneContext, type LaneEntry, type RetryingHead } from './lane';
import { ParkingPath } from './journal-path';
import { LedgerCache } from './ledger-cache';
import type { AuditPort } from '../adapters/audit-log';
import type { JournalPort } from '../adapters/journal';
import type { ControlPort } from '../adapters/source-control';

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
}

export interface WorkerDeps {
  queue: QueuePort;
  ledger: LedgerPort;
  app: AppPort;
  /** Parking (state, journal, audit): all three, or none for a worker without park/replay. */
  parking?: { control: ControlPort; journal: JournalPort; audit: AuditPort };
  /** Wall-clock milliseconds; injected so tests can steer time-dependent decisions. */
  now?: () => number;
  /** A number in [0, 1) for backoff jitter. */
  random?: () => number;
  /** Aborts every SQS and DynamoDB call still running (shutdown's hard deadline). */
  cutCalls?: () => void;
}

export interface WorkerStats {
  inFlightSources: number;
  heldMessages: number;
  heldBytes: number;
  retryingSources: number;
  oldestRetryingHeadAgeSeconds: number;
  stopping: boolean;
  /** 'closed' in normal running; anything else means the app looks down or slowed the task. */
  breaker: FlowStatus['state'];
}

/** Keeps a backoff inside SQS's 12-hour-per-receive limit with room for the request itself. */
const CEILING_MARGIN_SECONDS = 60;
const MAX_RECEIVE_ERROR_DELAY_MS = 10_000;
const PRUNE_EVERY_MS = 10_000;
/** How often a poller blocked by the breaker looks again (transitions also wake it). */
const FLOW_RECHECK_MS = 250;
const DEFAULT_HARD_STOP_MS = 5000;
const BUDGET_RECHECK_MS = 200;

const bodyBytes = (m: RawMessage): number => Buffer.byteLength(m.Body ?? '', 'utf8');

/**
 * The loop: keeps up to maxConcurrentSources sources in flight, polls whenever there is room,
 * and runs each source's messages strictly one after another in a lane of its own.
 */
export class Worker extends TypedEmitter<WorkerEvents> {
  private readonly lanes = new Map<string, Lane>();
  private readonly lanePromises = new Set<Promise<void>>();
  private readonly retrying = new Map<string, RetryingHead>();
  private readonly pollAbort = new AbortController();
  private readonly deliveryAbort = new AbortController();
  private readonly heartbeat: Heartbeat;
  private readonly deleter: DeleteBatcher;
  private readonly cache: LedgerCache;
  private readonly flow: FlowControl;
  private readonly budget: HeldBytesBudget;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly wakers = new Set<() => void>();
  private reserved = 0;
  /** Lanes delivering now; lanes beyond maxConcurrentSources wait for a slot in arrival order. */
  private active = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private stopping = false;
  private started = false;
  private pollers: Promise<void>[] = [];
  private stopped: Promise<void> | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly parking: ParkingPath | undefined;

  constructor(
    private readonly opts: WorkerOptions,
    private readonly deps: WorkerDeps,
  ) {
    super();
    // Every delivery in flight listens for the shutdown abort: that many listeners is expected.
    setMaxListeners(0, this.deliveryAbort.signal);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    this.cache = new LedgerCache(opts.ledgerCacheSize);
    this.parking = deps.parking
      ? new ParkingPath(deps.parking, { retentionSeconds: opts.retentionSeconds ?? 345_600, retentionParkShare: opts.retentionParkShare ?? 0.75 }, this.now)
      : undefined;
    this.heartbeat = new Heartbeat({
      changeVisibility: (entries) => deps.queue.changeVisibility(entries),
      now: this.now,
      visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds,
      onExtended: (extended, capped) => this.emit('heartbeat', { extended, capped }),
      onFailures: (failures) => this.emit('batchFailures', { operation: 'change-visibility', failures }),
      onError: (error) => this.emit('queueError', { operation: 'change-visibility', error }),
      onLost: (lost) => this.emit('visibilityLost', { messageIds: lost.map((e) => e.messageId) }),
    });
    const flowDeps: FlowDeps = {
      now: this.now,
      changeVisibility: (entries) => deps.queue.changeVisibility(entries),
      holdsSource: (sourceId) => this.lanes.has(sourceId),
      onTransition: (t) => {
        this.emit('flowTransition', t);
        this.wakeAll();
      },
      onRecalled: (count, failures) => this.emit('recalled', { count, failures }),
      onError: (error) => this.emit('queueError', { operation: 'change-visibility', error }),
    };
    this.flow = opts.flow ? new FlowControl(opts.flow, flowDeps) : FlowControl.passThrough(opts.maxConcurrentSources, flowDeps);
    this.budget = new HeldBytesBudget(opts.heldBytesBudget ?? Infinity, () => this.heartbeat.heldBytes);
    this.deleter = new DeleteBatcher({
      deleteBatch: (entries) => deps.queue.delete(entries),
      flushMs: opts.deleteFlushMs,
      ...(opts.deleteBatchesInFlight === undefined ? {} : { maxInFlight: opts.deleteBatchesInFlight }),
      onFailures: (failures) => this.emit('batchFailures', { operation: 'delete', failures }),
      onError: (error) => this.emit('queueError', { operation: 'delete', error }),
    });
  }

  get isRunning(): boolean {
    return this.started && !this.stopping;
  }

  start(): void {
    if (this.started) throw new Error('worker already started');
    this.started = true;
    this.heartbeat.start();
    this.pruneTimer = setInterval(() => this.pruneRetrying(), PRUNE_EVERY_MS);
    this.pruneTimer.unref();
    for (let i = 0; i < this.opts.receiveConcurrency; i++) this.pollers.push(this.pollLoop());
  }

  /**
   * Stops receiving, lets deliveries in flight finish for up to graceMs, then aborts them; every
   * message received but not finished goes back to the queue with visibility 0.
   */
  stop(graceMs: number): Promise<void> {
    this.stopped ??= this.shutdown(graceMs);
    return this.stopped;
  }

  stats(): WorkerStats {
    const now = this.now();
    let oldest = 0;
    for (const r of this.retrying.values()) oldest = Math.max(oldest, (now - r.since) / 1000);
    return {
      inFlightSources: this.active,
      heldMessages: this.heartbeat.heldCount,
      heldBytes: this.heartbeat.heldBytes,
      retryingSources: this.retrying.size,
      oldestRetryingHeadAgeSeconds: oldest,
      stopping: this.stopping,
      breaker: this.flow.status().state,
    };
  }

  /** The circuit breaker, 429 pause and rate limit as they stand: for /status and /readyz. */
  flowStatus(): FlowStatus {
    return this.flow.status();
  }

  /** Sources whose head this task last saw failing, oldest first: the task's own stuck list. */
  retryingHeads(): RetryingHead[] {
    return [...this.retrying.values()].sort((a, b) => a.since - b.since);
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    this.emit('stopping', { inFlight: this.lanes.size, graceMs });
    this.pollAbort.abort();
    this.flow.stop();
    this.wakeAll();
    // Waiting lanes start only to see the stop and hand their messages back.
    for (const start of this.slotWaiters.splice(0)) start();
    await Promise.allSettled(this.pollers);
    const lanesDone = Promise.allSettled([...this.lanePromises]);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), graceMs);
    });
    const timedOut = await Promise.race([lanesDone.then(() => false), graceOver]);
    clearTimeout(timer);
    let abortedDeliveries = 0;
    const countAborted = () => abortedDeliveries++;
    this.on('deliveryAborted', countAborted);
    if (timedOut) this.deliveryAbort.abort();
    // Past the grace only a bounded wait is left: SDK calls (a ledger that stopped answering, a
    // renewal, the delete drain) would otherwise run on with their own timeouts and retries.
    const finished = (async () => {
      await Promise.allSettled([...this.lanePromises]);
      this.heartbeat.stop();
      await this.deleter.drain();
      return true;
    })();
    let hardTimer: NodeJS.Timeout | undefined;
    const hardDeadline = new Promise<false>((resolve) => {
      hardTimer = setTimeout(() => resolve(false), this.opts.hardStopMs ?? DEFAULT_HARD_STOP_MS);
    });
    const clean = await Promise.race([finished, hardDeadline]);
    clearTimeout(hardTimer);
    this.off('deliveryAborted', countAborted);
    clearInterval(this.pruneTimer);
    this.heartbeat.stop();
    let releasedAtDeadline = 0;
    if (!clean) {
      this.deps.cutCalls?.();
      releasedAtDeadline = await this.releaseEverythingHeld();
    }
    this.emit('stopped', { abortedDeliveries, hardDeadline: !clean, releasedAtDeadline });
  }

  /** The last best-effort pass at the hard deadline: whatever is still held goes back now. */
  private async releaseEverythingHeld(): Promise<number> {
    const held = this.heartbeat.takeAll();
    if (held.length === 0) return 0;
    try {
      await this.deps.queue.changeVisibility(held.map((e) => ({ ...e, seconds: 0 })));
    } catch (err) {
      // They reappear when their visibility runs out: later, never lost.
      this.emit('queueError', { operation: 'change-visibility', error: err as Error });
    }
    return held.length;
  }

  private async pollLoop(): Promise<void> {
    let errorDelay = 0;
    while (!this.stopping) {
      const free = this.opts.maxConcurrentSources - this.lanes.size - this.reserved;
      if (free <= 0) {
        await this.waitForWake();
        continue;
      }
      if (!this.flow.mayReceive()) {
        // The breaker is open: receiving would only add held messages (and receive costs).
        await this.waitForWake(FLOW_RECHECK_MS);
        continue;
      }
      // Always a full batch: asking for fewer would cost a receive per freed slot. The overshoot
      // (at most a batch per poller) waits for a slot, its visibility kept alive by the heartbeat.
      // ...but never more than the held-bytes budget has room for.
      const bytes = this.budget.reserve(SQS_MAX_BATCH);
      if (bytes.count === 0) {
        await this.waitForWake(BUDGET_RECHECK_MS);
        continue;
      }
      const max = bytes.count;
      this.reserved += Math.min(max, free);
      const receivedAt = this.now();
      let raw: RawMessage[] = [];
      try {
        raw = await this.deps.queue.receive(max, this.pollAbort.signal);
        errorDelay = 0;
      } catch (err) {
        if (this.stopping) break;
        this.emit('queueError', { operation: 'receive', error: err as Error });
        errorDelay = Math.min(Math.max(500, errorDelay * 2), MAX_RECEIVE_ERROR_DELAY_MS);
        await this.waitForWake(errorDelay);
        continue;
      } finally {
        this.reserved -= Math.min(max, free);
        bytes.release(raw.map(bodyBytes));
      }
      if (raw.length > 0) this.accept(raw, receivedAt);
    }
  }

  private accept(raw: RawMessage[], receivedAt: number): void {
    const parsed = raw.map((r) => parseMessage(r, this.opts.queueId));
    const held: Array<QueueEntry & { bytes: number }> = [];
    parsed.forEach((p, i) => {
      const receiptHandle = p.ok ? p.message.receiptHandle : p.invalid.receiptHandle;
      const messageId = p.ok ? p.message.messageId : p.invalid.messageId;
      if (receiptHandle) held.push({ messageId, receiptHandle, bytes: bodyBytes(raw[i] as RawMessage) });
    });
    this.heartbeat.hold(held, receivedAt);
    const batches = groupBySource(parsed);
    this.emit('received', { count: raw.length, lanes: batches.length });
    const standing = this.readForReceive(parsed);
    for (const batch of batches) {
      const entries: LaneEntry[] = batch.items.map((item: LaneItem) => ({ item, receivedAt, ...(standing ? { standing } : {}) }));
      // Only when a held message's visibility ran out and SQS handed out the group again: an open
      // lane takes the newcomers in order (the ledger keeps repeats from the app); a closing one
      // does not, and they start a lane of their own.
      if (this.lanes.get(batch.key)?.offer(entries)) continue;
      const key = batch.key;
      const lane: Lane = new Lane(key, entries, this.laneContext(), () => {
        if (this.lanes.get(key) === lane) this.lanes.delete(key);
        this.wakeAll();
      });
      this.lanes.set(key, lane);
      const run: Promise<void> = this.runInSlot(lane).finally(() => {
        if (this.lanes.get(key) === lane) this.lanes.delete(key);
        this.lanePromises.delete(run);
        this.wakeAll();
      });
      this.lanePromises.add(run);
    }
  }

  /** Rule 1: one consistent read for all sources of a receive, made after it; lanes await it before sending. */
  private readForReceive(parsed: ParseResult[]): Promise<Map<string, SourceControl>> | undefined {
    if (!this.parking) return undefined;
    const ids = [...new Set(parsed.flatMap((p) => (p.ok ? [p.message.sourceId] : [])))];
    if (ids.length === 0) return undefined;
    const read = this.parking.readForReceive(ids);
    // Each lane awaits it and handles a failure; this keeps a rejection from going unhandled meanwhile.
    read.catch(() => undefined);
    return read;
  }

  private async runInSlot(lane: Lane): Promise<void> {
    if (this.active >= this.opts.maxConcurrentSources && !this.stopping) {
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    this.active++;
    try {
      await lane.run();
    } finally {
      this.active--;
      this.slotWaiters.shift()?.();
    }
  }

  private laneContext(): LaneContext {
    return {
      ledger: this.deps.ledger,
      app: this.deps.app,
      queue: this.deps.queue,
      cache: this.cache,
      heartbeat: this.heartbeat,
      deleter: this.deleter,
      retrying: this.retrying,
      recordFailures: this.opts.recordFailures,
      ...(this.opts.retentionSeconds === undefined ? {} : { retentionSeconds: this.opts.retentionSeconds }),
      now: this.now,
      isStopping: () => this.stopping,
      deliverySignal: this.deliveryAbort.signal,
      backoff: (attempt, receivedAt, retryAfterSeconds) =>
        backoffFor(this.opts.retry, {
          attempt,
          random: this.random(),
          ceilingSeconds: visibilityCeilingSeconds(receivedAt, this.now(), SQS_MAX_VISIBILITY_SECONDS, CEILING_MARGIN_SECONDS),
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        }).seconds,
      canStillHold: (receivedAt) =>
        visibilityCeilingSeconds(receivedAt, this.now(), SQS_MAX_VISIBILITY_SECONDS, CEILING_MARGIN_SECONDS) >
        this.opts.appTimeoutMs / 1000 + this.opts.visibilityTimeoutSeconds,
      flow: this.flow,
      emit: (event, ...args) => this.emit(event, ...args),
      ...(this.parking ? { parking: this.parking } : {}),
    };
  }

  /**
   * Drops retry entries whose head has surely been taken over by another task or finished there.
   * Runs on its own timer only: every gauge reads stats() at each scrape, and pruning there
   * walked the whole map once per gauge.
   */
  private pruneRetrying(): void {
    const staleAfter = 2 * this.opts.visibilityTimeoutSeconds * 1000;
    const now = this.now();
    for (const [key, r] of this.retrying) {
      if (!this.lanes.has(key) && now - r.nextAttemptAt > staleAfter) this.retrying.delete(key);
    }
  }

  private waitForWake(ms?: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }
}
