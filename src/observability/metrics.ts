import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AwsCallObserver } from '../adapters/aws-clients';
import type { Worker, WorkerStats } from '../worker/worker';

/** All series are per task; none is labelled by source (the stuck list is /status and `status`). */
export class Metrics {
  readonly registry = new Registry();
  readonly received = new Counter({ name: 'fifo_relay_messages_received_total', help: 'Messages received from SQS.', registers: [this.registry] });
  readonly delivered = new Counter({
    name: 'fifo_relay_messages_delivered_total',
    help: 'Messages the app accepted (2xx) and the ledger recorded, by path: queue (from SQS) or replay (from the journal).',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'fifo_relay_delivery_attempts_total',
    help: 'App calls by outcome: success, http-error, timeout, network-error, aborted.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'fifo_relay_duplicates_total',
    help: 'Duplicates: skipped (ledger already covered it, app not called) or delivered (app called, ledger already ahead).',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly invalid = new Counter({
    name: 'fifo_relay_invalid_messages_total',
    help: 'Receives of messages that cannot be delivered (kept and retried), by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly released = new Counter({ name: 'fifo_relay_messages_released_total', help: 'Messages handed back unprocessed (visibility 0), by reason: after-failure, shutdown, visibility-limit, visibility-lost.', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly errors = new Counter({ name: 'fifo_relay_errors_total', help: 'Failed SQS or DynamoDB operations of the worker, by operation.', labelNames: ['operation'] as const, registers: [this.registry] });
  readonly latency = new Histogram({
    name: 'fifo_relay_delivery_duration_seconds',
    help: 'Duration of app calls, by outcome class.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly awsCalls = new Counter({
    name: 'fifo_relay_aws_requests_total',
    help: 'SQS and DynamoDB API calls, by service, action and outcome.',
    labelNames: ['service', 'action', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly awsDuration = new Histogram({
    name: 'fifo_relay_aws_request_duration_seconds',
    help: 'Wall time of SQS and DynamoDB API calls (with the SDK\'s own retries), by service and action; a ReceiveMessage includes its long-poll wait.',
    labelNames: ['service', 'action'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
    registers: [this.registry],
  });
  readonly awsBatchItems = new Histogram({
    name: 'fifo_relay_aws_batch_items',
    help: 'Items per successful batch call: statements per BatchExecuteStatement, entries per DeleteMessageBatch or ChangeMessageVisibilityBatch, messages per ReceiveMessage.',
    labelNames: ['service', 'action'] as const,
    buckets: [0, 1, 2, 3, 5, 8, 10, 15, 20, 25],
    registers: [this.registry],
  });
  readonly journaled = new Counter({ name: 'fifo_relay_messages_journaled_total', help: 'Messages of parked or replaying sources moved from SQS into the journal.', registers: [this.registry] });
  readonly autoParks = new Counter({ name: 'fifo_relay_auto_parks_total', help: 'Sources the retention watchdog parked because their failing head neared the queue retention.', registers: [this.registry] });
  readonly breakerTransitions = new Counter({
    name: 'fifo_relay_breaker_transitions_total',
    help: 'Circuit breaker transitions, by the state entered: open, probing, ramping, closed.',
    labelNames: ['to'] as const,
    registers: [this.registry],
  });
  readonly recalled = new Counter({ name: 'fifo_relay_heads_recalled_total', help: 'Heads backed off during an outage that the ramp handed back early (visibility 0).', registers: [this.registry] });
  readonly heartbeats = new Counter({ name: 'fifo_relay_visibility_extensions_total', help: 'Visibility renewals of held messages.', registers: [this.registry] });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'fifo_relay_' });
    // Both paths show from the start, at 0, so a rate over them never starts from "no data".
    for (const path of ['queue', 'replay']) this.delivered.inc({ path }, 0);
  }

  readonly observeAws: AwsCallObserver = (service, action, outcome, cost) => {
    this.awsCalls.inc({ service, action, outcome });
    this.awsDuration.observe({ service, action }, cost.durationMs / 1000);
    if (cost.items !== undefined) this.awsBatchItems.observe({ service, action }, cost.items);
  };

  attach(worker: Worker): void {
    worker.on('received', (e) => this.received.inc(e.count));
    worker.on('delivered', (e) => {
      this.delivered.inc({ path: 'queue' });
      this.attempts.inc({ outcome: 'success' });
      this.latency.observe({ outcome: 'success' }, e.durationMs / 1000);
      if (e.ledger === 'stale') this.duplicates.inc({ kind: 'delivered' });
    });
    worker.on('deliveryFailed', (e) => {
      this.attempts.inc({ outcome: e.outcome.kind });
      this.latency.observe({ outcome: 'failure' }, e.outcome.durationMs / 1000);
    });
    worker.on('deliveryAborted', (e) => {
      this.attempts.inc({ outcome: 'aborted' });
      this.latency.observe({ outcome: 'failure' }, e.durationMs / 1000);
    });
    worker.on('duplicateSkipped', () => this.duplicates.inc({ kind: 'skipped' }));
    worker.on('invalidMessage', (e) => this.invalid.inc({ reason: e.invalid.reason }));
    worker.on('released', (e) => this.released.inc({ reason: e.reason }, e.count));
    worker.on('ledgerError', (e) => this.errors.inc({ operation: `ledger-${e.stage}` }));
    worker.on('queueError', (e) => this.errors.inc({ operation: e.operation }));
    worker.on('heartbeat', (e) => this.heartbeats.inc(e.extended));
    worker.on('journaled', () => this.journaled.inc());
    worker.on('autoParked', () => this.autoParks.inc());
    worker.on('journalError', () => this.errors.inc({ operation: 'journal' }));
    worker.on('flowTransition', (t) => this.breakerTransitions.inc({ to: t.to }));
    worker.on('recalled', (e) => this.recalled.inc(e.count));
    worker.on('visibilityLost', (e) => this.errors.inc({ operation: 'visibility-lost' }, e.messageIds.length));
    worker.on('internalError', () => this.errors.inc({ operation: 'internal' }));
    const gauge = (name: string, help: string, read: (s: WorkerStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(worker.stats()));
        },
      });
    gauge('fifo_relay_sources_in_flight', 'Sources this task is working on now (one message in flight each).', (s) => s.inFlightSources);
    gauge('fifo_relay_sources_retrying', 'Sources whose head message this task last saw failing and is waiting to retry.', (s) => s.retryingSources);
    gauge('fifo_relay_oldest_retrying_head_age_seconds', 'Age since first receive of the oldest failing head this task knows of (0 when none).', (s) => s.oldestRetryingHeadAgeSeconds);
    const states = ['closed', 'open', 'probing', 'ramping'] as const;
    new Gauge({
      name: 'fifo_relay_breaker_state',
      help: 'Circuit breaker state: 1 for the current one of closed, open, probing, ramping.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const now = worker.flowStatus().state;
        for (const s of states) this.set({ state: s }, s === now ? 1 : 0);
      },
    });
    new Gauge({
      name: 'fifo_relay_breaker_seconds_in_state',
      help: 'Seconds the circuit breaker has spent in each state since the task started (only grows).',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const spent = worker.flowStatus().timeInStateMs;
        for (const s of states) this.set({ state: s }, spent[s] / 1000);
      },
    });
    new Gauge({
      name: 'fifo_relay_flow_waiting',
      help: 'Sources holding a message at the flow gate (breaker open, 429 pause, ramp or rate limit).',
      registers: [this.registry],
      collect() {
        this.set(worker.flowStatus().waitingAtGate);
      },
    });
    gauge('fifo_relay_held_bytes', 'Body bytes of the messages held now, against HELD_BYTES_BUDGET.', (s) => s.heldBytes);
    gauge('fifo_relay_messages_held', 'Messages received and not yet finished or released (their visibility is kept alive).', (s) => s.heldMessages);
  }
}
