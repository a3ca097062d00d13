import { setMaxListeners } from 'node:events';
import type { QueueEntry } from '../adapters/sqs-queue';
import { SQS_MAX_BATCH } from '../config';
import { groupBySource, type LaneItem } from '../core/lanes';
import { parseMessage, type RawMessage } from '../core/message';
import type { DeleteBatcher } from './delete-batcher';
import { TypedEmitter, type WorkerEvents } from './events';
import type { FlowControl, FlowStatus } from './flow-control';
import type { Heartbeat } from './heartbeat';
import { HeldBytesBudget } from './held-bytes';
import type { ParkingPath } from './journal-path';
import type { RetentionGuard } from './retention-guard';
import { Lane, type LaneDeps, type LaneEntry, type RetryingHead } from './lane';
import type { FailureLog } from './lane-failures';
import type { ParkRecall } from './park-recall';
import { Slots } from './slots';
import { readForReceive, wireWorker, type WorkerDeps, type WorkerOptions } from './worker-wiring';

export type { WorkerDeps, WorkerOptions } from './worker-wiring';

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
  private readonly pollAbort = new AbortController();
  private readonly deliveryAbort = new AbortController();
  private readonly heartbeat: Heartbeat;
  private readonly deleter: DeleteBatcher;
  private readonly flow: FlowControl;
  private readonly failures: FailureLog;
  private readonly laneDeps: LaneDeps;
  private readonly budget: HeldBytesBudget;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly wakers = new Set<() => void>();
  private reserved = 0;
  private readonly slots: Slots;
  private stopping = false;
  private started = false;
  private pollers: Promise<void>[] = [];
  private stopped: Promise<void> | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly parking: ParkingPath | undefined;
  private readonly recall: ParkRecall | undefined;
  private readonly guard: RetentionGuard | undefined;

  constructor(
    private readonly opts: WorkerOptions,
    private readonly deps: WorkerDeps,
  ) {
    super();
    // Every delivery in flight listens for the shutdown abort: that many listeners is expected.
    setMaxListeners(0, this.deliveryAbort.signal);
    this.now = deps.now ?? Date.now;
    this.random = deps.random ?? Math.random;
    const parts = wireWorker(opts, deps, {
      now: this.now,
      random: this.random,
      emit: (event, ...args) => this.emit(event, ...args),
      isStopping: () => this.stopping,
      deliverySignal: this.deliveryAbort.signal,
      holdsSource: (sourceId) => this.lanes.has(sourceId),
      onFlowTransition: () => this.wakeAll(),
    });
    ({ heartbeat: this.heartbeat, deleter: this.deleter, flow: this.flow, failures: this.failures, parking: this.parking, recall: this.recall, guard: this.guard, lanes: this.laneDeps } = parts);
    this.slots = new Slots(opts.maxConcurrentSources);
    this.budget = new HeldBytesBudget(opts.heldBytesBudget ?? Infinity, () => this.heartbeat.heldBytes);
  }

  get isRunning(): boolean {
    return this.started && !this.stopping;
  }

  start(): void {
    if (this.started) throw new Error('worker already started');
    this.started = true;
    this.heartbeat.start();
    this.recall?.start();
    // Retry entries whose head another task surely took over or finished go; on a timer, not per scrape.
    this.pruneTimer = setInterval(() => this.failures.prune(2 * this.opts.visibilityTimeoutSeconds * 1000, (key) => this.lanes.has(key)), PRUNE_EVERY_MS);
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
    for (const r of this.failures.retrying.values()) oldest = Math.max(oldest, (now - r.since) / 1000);
    return {
      inFlightSources: this.slots.active,
      heldMessages: this.heartbeat.heldCount,
      heldBytes: this.heartbeat.heldBytes,
      retryingSources: this.failures.retrying.size,
      oldestRetryingHeadAgeSeconds: oldest,
      stopping: this.stopping,
      breaker: this.flow.status().state,
    };
  }

  /** The circuit breaker, 429 pause and rate limit as they stand: for /status and /readyz. */
  flowStatus(): FlowStatus {
    return this.flow.status();
  }

  /** Park and journal questions, for a watchdog outside the lanes (journalAndPark); undefined without parking. */
  parkingPath(): ParkingPath | undefined {
    return this.parking;
  }

  /** Sources whose head this task last saw failing, oldest first: the task's own stuck list. */
  retryingHeads(): RetryingHead[] {
    return [...this.failures.retrying.values()].sort((a, b) => a.since - b.since);
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    this.emit('stopping', { inFlight: this.lanes.size, graceMs });
    this.pollAbort.abort();
    this.flow.stop();
    this.recall?.stop();
    this.wakeAll();
    // Waiting lanes start only to see the stop and hand their messages back.
    this.slots.openAll();
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
        // The breaker is open: receiving would only add held messages (and receive costs), but
        // the retention guard still sweeps, so no head reaches SQS retention unjournaled.
        if (!(await this.sweepForRetention())) await this.waitForWake(FLOW_RECHECK_MS);
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

  /** True when a sweep ran (the loop goes straight on); false when the caller should wait. */
  private async sweepForRetention(): Promise<boolean> {
    if (!this.guard) return false;
    try {
      const swept = await this.guard.sweep(this.pollAbort.signal);
      return swept !== undefined && swept.received > 0;
    } catch (err) {
      if (!this.stopping) this.emit('queueError', { operation: 'receive', error: err as Error });
      return false;
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
    const standing = readForReceive(this.parking, parsed);
    for (const batch of batches) {
      const entries: LaneEntry[] = batch.items.map((item: LaneItem) => ({ item, receivedAt, ...(standing ? { standing } : {}) }));
      // Only when a held message's visibility ran out and SQS handed out the group again: an open
      // lane takes the newcomers in order (the ledger keeps repeats from the app); a closing one
      // does not, and they start a lane of their own.
      if (this.lanes.get(batch.key)?.offer(entries)) continue;
      const key = batch.key;
      const lane: Lane = new Lane(key, entries, this.laneDeps, () => {
        if (this.lanes.get(key) === lane) this.lanes.delete(key);
        this.wakeAll();
      });
      this.lanes.set(key, lane);
      const run: Promise<void> = this.slots.run(() => lane.run(), () => this.stopping).finally(() => {
        if (this.lanes.get(key) === lane) this.lanes.delete(key);
        this.lanePromises.delete(run);
        this.wakeAll();
      });
      this.lanePromises.add(run);
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
