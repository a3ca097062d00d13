export type ConsumerKind = 'bare-loop' | 'bare-loop-batched' | 'sqs-consumer-batch' | 'sqs-consumer-parallel' | 'fifo-relay';

export const CONSUMERS: Record<ConsumerKind, { label: string; short: string; doc: string }> = {
  'bare-loop': { label: '(a) bare loop', short: '(a)', doc: 'receive 10 → one conditional UpdateItem per message → DeleteMessageBatch; no ordering, no app call' },
  'bare-loop-batched': { label: '(a2) bare loop, batched', short: '(a2)', doc: '(a) with the ledger writes group-committed as fifo-relay does them (BatchExecuteStatement, up to 25 per call)' },
  'sqs-consumer-batch': { label: '(b) sqs-consumer batch', short: '(b)', doc: 'sqs-consumer handleMessageBatch, a batch delivered in order (its README advice for FIFO)' },
  'sqs-consumer-parallel': { label: '(c) sqs-consumer parallel', short: '(c)', doc: 'sqs-consumer handleMessage, batchSize 10: a batch delivered in parallel' },
  'fifo-relay': { label: 'fifo-relay', short: 'relay', doc: 'the worker (compiled src/main.js, default settings) in a process of its own' },
};

export interface Scenario {
  id: 'S1' | 'S2' | 'S3' | 'S4' | 'S5';
  /** What the scenario is for. */
  purpose: string;
  sources: number;
  perSource: number;
  latencyMs: number;
  consumers: ConsumerKind[];
  /** Round trip added to every API call of the consumer (a delay proxy in front of each emulator). */
  network?: { sqsMs: number; ddbMs: number };
}

/** fifo-relay runs right after (a), the figure most targets compare it with, so drift between them is least. */
const ALL: ConsumerKind[] = ['bare-loop', 'fifo-relay', 'bare-loop-batched', 'sqs-consumer-batch', 'sqs-consumer-parallel'];

export const SCENARIOS: Scenario[] = [
  { id: 'S1', purpose: 'throughput with a realistic app', sources: 100, perSource: 50, latencyMs: 20, consumers: ALL },
  { id: 'S2', purpose: 'relay overhead against the infrastructure limit', sources: 200, perSource: 50, latencyMs: 0, consumers: ALL },
  { id: 'S3', purpose: 'memory with many sources', sources: 10_000, perSource: 1, latencyMs: 0, consumers: ALL },
  { id: 'S4', purpose: 'per-source serial limit', sources: 5, perSource: 400, latencyMs: 0, consumers: ALL },
  {
    id: 'S5',
    purpose: 'S1 with round trips as on AWS (SQS 10 ms, DynamoDB 5 ms per call)',
    sources: 100,
    perSource: 50,
    latencyMs: 20,
    consumers: ['bare-loop', 'fifo-relay', 'bare-loop-batched'],
    network: { sqsMs: 10, ddbMs: 5 },
  },
];

/** --quick: the same shapes with a fifth of the messages (S3 keeps its sources, fewer of them). */
export function quick(s: Scenario): Scenario {
  if (s.id === 'S3') return { ...s, sources: 2000 };
  return { ...s, perSource: Math.max(5, Math.round(s.perSource / 5)) };
}

/** "100 sources × 50, app 20 ms" */
export const shapeOf = (s: Scenario) =>
  `${s.sources.toLocaleString('en-US')} sources × ${s.perSource.toLocaleString('en-US')} = ${messagesOf(s).toLocaleString('en-US')} messages, app ${s.latencyMs} ms` +
  (s.network ? `, +${s.network.sqsMs} ms per SQS call, +${s.network.ddbMs} ms per DynamoDB call` : '');

/**
 * Network time one message of a source costs fifo-relay between two app calls: its ledger write,
 * its delete and the receive that brings the source's next message.
 */
export const roundTripsPerMessageMs = (s: Scenario) => (s.network ? s.network.ddbMs + 2 * s.network.sqsMs : 0);

export const messagesOf = (s: Scenario) => s.sources * s.perSource;
