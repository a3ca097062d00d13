export type ConsumerKind = 'bare-loop' | 'sqs-consumer-batch' | 'sqs-consumer-parallel' | 'fifo-relay';

export const CONSUMERS: Record<ConsumerKind, { label: string; short: string; doc: string }> = {
  'bare-loop': { label: '(a) bare loop', short: '(a)', doc: 'receive 10 → one conditional UpdateItem per message → DeleteMessageBatch; no ordering, no app call' },
  'sqs-consumer-batch': { label: '(b) sqs-consumer batch', short: '(b)', doc: 'sqs-consumer handleMessageBatch, a batch delivered in order (its README advice for FIFO)' },
  'sqs-consumer-parallel': { label: '(c) sqs-consumer parallel', short: '(c)', doc: 'sqs-consumer handleMessage, batchSize 10: a batch delivered in parallel' },
  'fifo-relay': { label: 'fifo-relay', short: 'relay', doc: 'the worker (compiled src/main.js, default settings) in a process of its own' },
};

export interface Scenario {
  id: 'S1' | 'S2' | 'S3' | 'S4';
  /** What the scenario is for. */
  purpose: string;
  sources: number;
  perSource: number;
  latencyMs: number;
  consumers: ConsumerKind[];
}

/** fifo-relay runs right after (a), the figure most targets compare it with, so drift between them is least. */
const ALL: ConsumerKind[] = ['bare-loop', 'fifo-relay', 'sqs-consumer-batch', 'sqs-consumer-parallel'];

export const SCENARIOS: Scenario[] = [
  { id: 'S1', purpose: 'throughput with a realistic app', sources: 100, perSource: 50, latencyMs: 20, consumers: ALL },
  { id: 'S2', purpose: 'relay overhead against the infrastructure limit', sources: 200, perSource: 50, latencyMs: 0, consumers: ALL },
  { id: 'S3', purpose: 'memory with many sources', sources: 10_000, perSource: 1, latencyMs: 0, consumers: ALL },
  { id: 'S4', purpose: 'per-source serial limit', sources: 5, perSource: 400, latencyMs: 0, consumers: ALL },
];

/** --quick: the same shapes with a fifth of the messages (S3 keeps its sources, fewer of them). */
export function quick(s: Scenario): Scenario {
  if (s.id === 'S3') return { ...s, sources: 2000 };
  return { ...s, perSource: Math.max(5, Math.round(s.perSource / 5)) };
}

/** "100 sources × 50, app 20 ms" */
export const shapeOf = (s: Scenario) => `${s.sources.toLocaleString('en-US')} sources × ${s.perSource.toLocaleString('en-US')} = ${messagesOf(s).toLocaleString('en-US')} messages, app ${s.latencyMs} ms`;

export const messagesOf = (s: Scenario) => s.sources * s.perSource;
