import type { DeliveryRecord } from './app-server';

export interface SentMessage {
  sourceId: string;
  seq: string;
}

export interface OrderViolation {
  sourceId: string;
  previous: string;
  seq: string;
}

export interface Verdict {
  sent: number;
  delivered: number;
  lost: string[];
  orderViolations: OrderViolation[];
  /** Successful calls for a key that had already succeeded (same idempotency key, so the app can drop them). */
  duplicateSuccesses: number;
  /** Calls the app answered with a failure, and so retried. */
  failedCalls: number;
  ok: boolean;
}

/**
 * Judges a run only from what the app received: every sent message must have succeeded once, and
 * per source the first successes must come in increasing seq order.
 */
export function judge(sent: readonly SentMessage[], records: readonly DeliveryRecord[]): Verdict {
  const succeeded = new Set<string>();
  const lastSeq = new Map<string, bigint>();
  const orderViolations: OrderViolation[] = [];
  let duplicateSuccesses = 0;
  let failedCalls = 0;
  for (const r of records) {
    if (r.status < 200 || r.status >= 300) {
      failedCalls++;
      continue;
    }
    if (succeeded.has(r.idempotencyKey)) {
      duplicateSuccesses++;
      continue;
    }
    succeeded.add(r.idempotencyKey);
    const seq = BigInt(r.seq);
    const previous = lastSeq.get(r.sourceId);
    if (previous !== undefined && seq <= previous) orderViolations.push({ sourceId: r.sourceId, previous: previous.toString(), seq: r.seq });
    lastSeq.set(r.sourceId, seq);
  }
  const lost = sent.map((m) => `${m.sourceId}:${m.seq}`).filter((key) => !succeeded.has(key));
  return {
    sent: sent.length,
    delivered: sent.length - lost.length,
    lost,
    orderViolations,
    duplicateSuccesses,
    failedCalls,
    ok: lost.length === 0 && orderViolations.length === 0,
  };
}
