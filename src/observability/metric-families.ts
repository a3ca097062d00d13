import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DeliveryOutcome } from '../adapters/http-app';
import type { BreakerState } from '../core/circuit-breaker';
import type { InvalidReason } from '../core/message';
import type { ReleaseReason, WorkerEvents } from '../worker/events';

/**
 * Every value of a string union, checked by the compiler: a value added to the union and not
 * listed here is a type error (the call then wants a second argument of the missing value's
 * type), so a new outcome or reason is exported from the first scrape.
 */
export function allOf<T extends string>() {
  return <const A extends readonly T[]>(values: A, ..._complete: [Exclude<T, A[number]>] extends [never] ? [] : [missing: Exclude<T, A[number]>]): readonly T[] => values;
}

export const DELIVERY_OUTCOMES = allOf<DeliveryOutcome['kind']>()(['success', 'http-error', 'timeout', 'network-error', 'aborted']);
export const BREAKER_STATES = allOf<BreakerState>()(['closed', 'open', 'probing', 'ramping']);
export const INVALID_REASONS = allOf<InvalidReason>()([
  'missing-message-id',
  'missing-receipt-handle',
  'missing-group-id',
  'missing-sequence-number',
  'bad-seq-attribute',
  'bad-content-type',
  'missing-body',
  'seq-regression',
]);
export const RELEASE_REASONS = allOf<ReleaseReason>()(['after-failure', 'shutdown', 'visibility-limit', 'visibility-lost']);

type LedgerStage = WorkerEvents['ledgerError'][0]['stage'];
type QueueOperation = WorkerEvents['queueError'][0]['operation'];
export type ErrorOperation = `ledger-${LedgerStage}` | QueueOperation | 'journal' | 'visibility-lost' | 'internal' | 'status-read' | 'task-health-write';
export const ERROR_OPERATIONS = allOf<ErrorOperation>()([
  'ledger-read',
  'ledger-advance',
  'ledger-record-failure',
  'receive',
  'delete',
  'change-visibility',
  'journal',
  'visibility-lost',
  'internal',
  'status-read',
  'task-health-write',
]);

/** The same words as the delivery families: an AWS call succeeded, failed, or was cut short by shutdown. */
export type AwsOutcome = 'success' | 'error' | 'aborted';
export const AWS_OUTCOMES = allOf<AwsOutcome>()(['success', 'error', 'aborted']);

/**
 * The calls a running worker makes (AWS API names, as CloudWatch and the AWS docs spell them),
 * exported at zero from the start so `rate(...{outcome="error"}[5m])` has a series to work on.
 * Calls outside this list (operator commands, the startup probe) appear when first made.
 */
export const WORKER_AWS_ACTIONS: Record<'sqs' | 'dynamodb', readonly string[]> = {
  sqs: ['ReceiveMessage', 'DeleteMessageBatch', 'ChangeMessageVisibilityBatch', 'GetQueueAttributes'],
  dynamodb: ['BatchExecuteStatement', 'UpdateItem', 'GetItem', 'BatchGetItem', 'Query', 'PutItem', 'DeleteItem'],
};

/**
 * A label set bound once. The hot path adds to a plain number; the family takes what was added
 * at each scrape. prom-client hashes and validates the label object on every inc(), and its
 * labels() child only binds that same call, so it saves nothing.
 */
export class Tally {
  pending = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(n = 1): void {
    this.pending += n;
  }
}

/** A counter whose label sets are made (at zero) up front and counted through Tally objects. */
export class TallyCounter<L extends string> {
  readonly counter: Counter<L>;
  private readonly tallies: Tally[] = [];

  constructor(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
    const tallies = this.tallies;
    this.counter = new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        for (const t of tallies) {
          if (t.pending === 0) continue;
          this.inc(t.labels as Partial<Record<L, string>>, t.pending);
          t.pending = 0;
        }
      },
    });
  }

  /** Binds a label set, exporting it at zero from now on. */
  bind(labels: Record<L, string>): Tally {
    const t = new Tally(labels);
    this.tallies.push(t);
    this.counter.inc(labels as Partial<Record<L, string>>, 0);
    return t;
  }

  /** One bound Tally per value of one label. */
  bindEach<V extends string>(label: L, values: readonly V[]): Record<V, Tally> {
    return Object.fromEntries(values.map((v) => [v, this.bind({ [label]: v } as unknown as Record<L, string>)])) as Record<V, Tally>;
  }
}

/** The package's version, read once; the image ships package.json beside dist/. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Always 1: its labels say which build runs where (join on `version` in queries and dashboards). */
export function registerBuildInfo(registry: Registry): void {
  new Gauge({
    name: 'fifo_relay_build_info',
    help: 'Always 1; labels: version (package version) and node (Node.js version) of this task.',
    labelNames: ['version', 'node'] as const,
    registers: [registry],
  }).set({ version: packageVersion(), node: process.versions.node }, 1);
}
