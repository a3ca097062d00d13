import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AwsCallObserver } from '../adapters/aws-clients';
import type { DeliveryOutcome } from '../adapters/http-app';
import type { Worker, WorkerStats } from '../worker/worker';
import {
  AWS_OUTCOMES,
  BREAKER_STATES,
  DELIVERY_OUTCOMES,
  ERROR_OPERATIONS,
  INVALID_REASONS,
  RELEASE_REASONS,
  TallyCounter,
  WORKER_AWS_ACTIONS,
  registerBuildInfo,
  type AwsOutcome,
  type ErrorOperation,
  type Tally,
} from './metric-families';

type Service = 'sqs' | 'dynamodb';
type Outcome = DeliveryOutcome['kind'];
interface AwsSeries {
  calls: Record<AwsOutcome, Tally>;
  labels: { service: Service; action: string };
}

/** The SDK names commands `ReceiveMessageCommand`; CloudWatch, IAM and the AWS docs say `ReceiveMessage`. */
const apiName = (commandName: string) => (commandName.endsWith('Command') ? commandName.slice(0, -'Command'.length) : commandName);

/**
 * All series are per task; none is labelled by source (the stuck list is /status and `status`).
 * Every counter's label sets are exported at zero from the start, so an alert on `rate()` or
 * `increase()` sees the first failure instead of a series that appears with it. Histograms are
 * not: their `_count` repeats a counter, and their buckets would triple the scrape.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly received = new Counter({ name: 'fifo_relay_messages_received_total', help: 'Messages received from SQS.', registers: [this.registry] });
  private readonly deliveredFamily = new TallyCounter(this.registry, 'fifo_relay_messages_delivered_total', 'Messages the app accepted (2xx) and the ledger recorded, by path: queue (from SQS) or replay (from the journal).', ['path']);
  private readonly attemptsFamily = new TallyCounter(this.registry, 'fifo_relay_delivery_attempts_total', 'App calls by outcome: success, http-error, timeout, network-error, aborted.', ['outcome']);
  private readonly duplicatesFamily = new TallyCounter(
    this.registry,
    'fifo_relay_duplicates_total',
    'Duplicates: skipped (ledger already covered it, app not called) or delivered (app called, ledger already ahead).',
    ['kind'],
  );
  private readonly invalidFamily = new TallyCounter(this.registry, 'fifo_relay_invalid_messages_total', 'Receives of messages that cannot be delivered (kept and retried), by reason.', ['reason']);
  private readonly releasedFamily = new TallyCounter(
    this.registry,
    'fifo_relay_messages_released_total',
    'Messages handed back unprocessed (visibility 0), by reason: after-failure, shutdown, visibility-limit, visibility-lost.',
    ['reason'],
  );
  private readonly errorsFamily = new TallyCounter(this.registry, 'fifo_relay_errors_total', 'Failed SQS or DynamoDB operations of the worker, by operation.', ['operation']);
  readonly latency = new Histogram({
    name: 'fifo_relay_delivery_duration_seconds',
    help: 'Duration of app calls, by outcome (the outcomes of fifo_relay_delivery_attempts_total).',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly awsCallsFamily = new TallyCounter(this.registry, 'fifo_relay_aws_requests_total', 'SQS and DynamoDB API calls, by service, action (AWS API name) and outcome: success, error, aborted.', [
    'service',
    'action',
    'outcome',
  ]);
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
  readonly gapHolds = new Counter({ name: 'fifo_relay_gap_holds_total', help: 'Times a contiguous source\'s message was held in SQS because its position + 1 was in neither the queue nor the journal.', registers: [this.registry] });
  readonly journalFills = new Counter({ name: 'fifo_relay_journal_fills_total', help: 'Missing seqs of contiguous sources delivered from the journal before the message that arrived ahead of them.', registers: [this.registry] });
  readonly autoParks = new Counter({ name: 'fifo_relay_auto_parks_total', help: 'Sources the retention watchdog parked because their failing head neared the queue retention.', registers: [this.registry] });
  private readonly transitionsFamily = new TallyCounter(this.registry, 'fifo_relay_breaker_transitions_total', 'Circuit breaker transitions, by the state entered: open, probing, ramping, closed.', ['to']);
  readonly recalled = new Counter({ name: 'fifo_relay_heads_recalled_total', help: 'Heads backed off during an outage that the ramp handed back early (visibility 0).', registers: [this.registry] });
  readonly heartbeats = new Counter({ name: 'fifo_relay_visibility_extensions_total', help: 'Visibility renewals of held messages.', registers: [this.registry] });

  private readonly delivered = this.deliveredFamily.bindEach('path', ['queue', 'replay'] as const);
  private readonly attempts = this.attemptsFamily.bindEach('outcome', DELIVERY_OUTCOMES);
  private readonly duplicates = this.duplicatesFamily.bindEach('kind', ['skipped', 'delivered'] as const);
  private readonly invalid = this.invalidFamily.bindEach('reason', INVALID_REASONS);
  private readonly released = this.releasedFamily.bindEach('reason', RELEASE_REASONS);
  private readonly errorCounts = this.errorsFamily.bindEach('operation', ERROR_OPERATIONS);
  private readonly transitions = this.transitionsFamily.bindEach('to', BREAKER_STATES);
  /** Label objects made once: observe() then allocates nothing per call. */
  private readonly latencyLabels = Object.fromEntries(DELIVERY_OUTCOMES.map((o) => [o, { outcome: o }])) as Record<Outcome, { outcome: Outcome }>;
  /** By service, then by the name the caller gives (the SDK's command name or the API name). */
  private readonly aws: Record<Service, Map<string, AwsSeries>> = { sqs: new Map(), dynamodb: new Map() };

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'fifo_relay_' });
    registerBuildInfo(this.registry);
    for (const service of ['sqs', 'dynamodb'] as const) for (const action of WORKER_AWS_ACTIONS[service]) this.awsCall(service, action);
  }

  /** Counts a delivery the replayer made from the journal (the worker counts its own). */
  countReplayed(): void {
    this.delivered.replay.inc();
  }

  /** Counts a failed operation of the worker (the status read counts itself from outside). */
  countError(operation: ErrorOperation, n = 1): void {
    this.errorCounts[operation].inc(n);
  }

  private awsCall(service: Service, name: string): AwsSeries {
    let entry = this.aws[service].get(name);
    if (!entry) {
      const action = apiName(name);
      // `ReceiveMessageCommand` and `ReceiveMessage` share one series.
      entry = name === action ? undefined : this.aws[service].get(action);
      if (!entry) {
        const labels = { service, action };
        entry = { labels, calls: Object.fromEntries(AWS_OUTCOMES.map((outcome) => [outcome, this.awsCallsFamily.bind({ ...labels, outcome })])) as Record<AwsOutcome, Tally> };
        this.aws[service].set(action, entry);
      }
      this.aws[service].set(name, entry);
    }
    return entry;
  }

  readonly observeAws: AwsCallObserver = (service, commandName, outcome, cost) => {
    const call = this.awsCall(service, commandName);
    call.calls[outcome === 'ok' ? 'success' : outcome].inc();
    this.awsDuration.observe(call.labels, cost.durationMs / 1000);
    if (cost.items !== undefined) this.awsBatchItems.observe(call.labels, cost.items);
  };

  attach(worker: Worker): void {
    worker.on('received', (e) => this.received.inc(e.count));
    worker.on('delivered', (e) => {
      this.delivered.queue.inc();
      this.attempts.success.inc();
      this.latency.observe(this.latencyLabels.success, e.durationMs / 1000);
      if (e.ledger === 'stale') this.duplicates.delivered.inc();
    });
    worker.on('deliveryFailed', (e) => {
      this.attempts[e.outcome.kind].inc();
      this.latency.observe(this.latencyLabels[e.outcome.kind], e.outcome.durationMs / 1000);
    });
    worker.on('deliveryAborted', (e) => {
      this.attempts.aborted.inc();
      this.latency.observe(this.latencyLabels.aborted, e.durationMs / 1000);
    });
    worker.on('duplicateSkipped', () => this.duplicates.skipped.inc());
    worker.on('invalidMessage', (e) => this.invalid[e.invalid.reason].inc());
    worker.on('released', (e) => this.released[e.reason].inc(e.count));
    worker.on('ledgerError', (e) => this.countError(`ledger-${e.stage}`));
    worker.on('queueError', (e) => this.countError(e.operation));
    worker.on('heartbeat', (e) => this.heartbeats.inc(e.extended));
    worker.on('journaled', () => this.journaled.inc());
    worker.on('autoParked', () => this.autoParks.inc());
    worker.on('gapHeld', () => this.gapHolds.inc());
    worker.on('filledFromJournal', () => this.journalFills.inc());
    worker.on('journalError', () => this.countError('journal'));
    worker.on('flowTransition', (t) => this.transitions[t.to].inc());
    worker.on('recalled', (e) => this.recalled.inc(e.count));
    worker.on('visibilityLost', (e) => this.countError('visibility-lost', e.messageIds.length));
    worker.on('internalError', () => this.countError('internal'));
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
    new Gauge({
      name: 'fifo_relay_breaker_state',
      help: 'Circuit breaker state: 1 for the current one of closed, open, probing, ramping.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const now = worker.flowStatus().state;
        for (const s of BREAKER_STATES) this.set({ state: s }, s === now ? 1 : 0);
      },
    });
    this.registerBreakerTime(worker);
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

  /** Time only grows, so it is a counter: `rate(...{state="open"}[1h])` is the share of the hour spent open. */
  private registerBreakerTime(worker: Worker): void {
    const counted: Record<string, number> = {};
    const family = new Counter({
      name: 'fifo_relay_breaker_state_seconds_total',
      help: 'Seconds the circuit breaker has spent in each state since the task started.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const spent = worker.flowStatus().timeInStateMs;
        for (const s of BREAKER_STATES) {
          const seconds = spent[s] / 1000;
          const delta = seconds - (counted[s] ?? 0);
          if (delta > 0) {
            this.inc({ state: s }, delta);
            counted[s] = seconds;
          }
        }
      },
    });
    for (const s of BREAKER_STATES) family.inc({ state: s }, 0);
  }
}
