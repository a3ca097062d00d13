import type { DeliveryRecord } from './app-server';

/**
 * The one checker of the demo, the chaos soak and the benchmarks: a pure function over what the
 * producer sent and what the app received, in the order the app recorded it. It knows nothing of
 * the worker — only the delivery contract (headers X-Source-Id, X-Sequence, Idempotency-Key,
 * X-Attempt) and when workers were killed or stopped.
 */

export interface SentMessage {
  sourceId: string;
  seq: number | string;
}

/** The part of a delivery record the checker reads. */
export type AppRecord = Pick<DeliveryRecord, 'sourceId' | 'seq' | 'idempotencyKey' | 'attempt' | 'status' | 'at'>;

export interface CheckOptions {
  /**
   * When workers were killed with SIGKILL or stopped (ms since the epoch, the app's clock): a
   * graceful stop past its grace aborts calls in flight, which may have succeeded at the app.
   */
  kills: readonly number[];
  /**
   * Longest an app call may take (the worker's app timeout). A duplicate success is explained by
   * a kill when some worker died after the original call could have started and before the
   * duplicate: kill ∈ [original.at − maxCallMs, duplicate.at].
   */
  maxCallMs: number;
  /**
   * Messages an operator skipped on purpose (`fifo-relay skip`): not lost, and never to succeed;
   * the message after one waits only for the one before it.
   */
  skipped?: readonly SentMessage[];
}

export interface OrderViolation {
  sourceId: string;
  previous: string;
  seq: string;
  at: number;
}

export interface OutOfTurnCall {
  sourceId: string;
  seq: string;
  /** The seq sent just before it, which had not yet succeeded when this call reached the app. */
  waitingFor: string;
  attempt: number;
  at: number;
}

export interface Duplicate {
  key: string;
  firstAt: number;
  at: number;
  attempt: number;
  explainedByKill: boolean;
  sameKey: boolean;
}

export interface Rule {
  rule: string;
  ok: boolean;
  detail: string;
}

export interface RunVerdict {
  /** Sent and not skipped: what must be delivered. */
  sent: number;
  skipped: number;
  sources: number;
  calls: number;
  failedCalls: number;
  delivered: number;
  lost: string[];
  unexpected: string[];
  orderViolations: OrderViolation[];
  outOfTurn: OutOfTurnCall[];
  duplicates: Duplicate[];
  badKeys: Array<{ key: string; idempotencyKey: string }>;
  maxAttempt: number;
  rules: Rule[];
  ok: boolean;
}

const canonical = (seq: number | string): string => {
  const t = String(seq).trim();
  return /^\d+$/.test(t) ? t.replace(/^0+(?=\d)/, '') : t;
};
const keyOf = (sourceId: string, seq: number | string) => `${sourceId}:${canonical(seq)}`;
const isSuccess = (status: number) => status >= 200 && status < 300;

/** Judges a run; every rule must hold for `ok`. */
export function judgeRun(sent: readonly SentMessage[], records: readonly AppRecord[], opts: CheckOptions): RunVerdict {
  // The predecessor of each sent message in its source's send order.
  const predecessor = new Map<string, string>();
  const lastSent = new Map<string, string>();
  const sentKeys = new Set<string>();
  const skippedKeys = new Set((opts.skipped ?? []).map((m) => keyOf(m.sourceId, m.seq)));
  for (const m of sent) {
    const key = keyOf(m.sourceId, m.seq);
    const prev = lastSent.get(m.sourceId);
    if (prev !== undefined) predecessor.set(key, prev);
    if (skippedKeys.has(key)) continue;
    sentKeys.add(key);
    lastSent.set(m.sourceId, key);
  }
  const skippedDelivered: string[] = [];

  const firstSuccess = new Map<string, { at: number; idempotencyKey: string }>();
  const lastFirstSeq = new Map<string, { seq: bigint; text: string }>();
  const orderViolations: OrderViolation[] = [];
  const outOfTurn: OutOfTurnCall[] = [];
  const duplicates: Duplicate[] = [];
  const badKeys: Array<{ key: string; idempotencyKey: string }> = [];
  const unexpected = new Set<string>();
  const kills = [...opts.kills].sort((a, b) => a - b);
  let failedCalls = 0;
  let maxAttempt = 0;

  for (const r of records) {
    const seqText = canonical(r.seq);
    const key = keyOf(r.sourceId, r.seq);
    maxAttempt = Math.max(maxAttempt, r.attempt);
    if (r.idempotencyKey !== key) badKeys.push({ key, idempotencyKey: r.idempotencyKey });
    if (!sentKeys.has(key) && !skippedKeys.has(key)) unexpected.add(key);

    // One at a time, in order: no call for a message before the one sent ahead of it succeeded.
    const pred = predecessor.get(key);
    if (pred !== undefined && !firstSuccess.has(pred)) {
      outOfTurn.push({ sourceId: r.sourceId, seq: seqText, waitingFor: pred.slice(pred.lastIndexOf(':') + 1), attempt: r.attempt, at: r.at });
    }

    if (!isSuccess(r.status)) {
      failedCalls++;
      continue;
    }
    if (skippedKeys.has(key)) {
      skippedDelivered.push(key);
      continue;
    }
    const first = firstSuccess.get(key);
    if (first) {
      const explainedByKill = kills.some((k) => k >= first.at - opts.maxCallMs && k <= r.at);
      duplicates.push({ key, firstAt: first.at, at: r.at, attempt: r.attempt, explainedByKill, sameKey: r.idempotencyKey === first.idempotencyKey });
      continue;
    }
    firstSuccess.set(key, { at: r.at, idempotencyKey: r.idempotencyKey });
    if (/^\d+$/.test(seqText)) {
      const seq = BigInt(seqText);
      const prev = lastFirstSeq.get(r.sourceId);
      if (prev !== undefined && seq <= prev.seq) orderViolations.push({ sourceId: r.sourceId, previous: prev.text, seq: seqText, at: r.at });
      if (prev === undefined || seq > prev.seq) lastFirstSeq.set(r.sourceId, { seq, text: seqText });
    }
  }

  const lost = [...sentKeys].filter((k) => !firstSuccess.has(k));
  const unexplained = duplicates.filter((d) => !d.explainedByKill);
  const keyChanged = duplicates.filter((d) => !d.sameKey);
  const explained = duplicates.length - unexplained.length;
  const rules: Rule[] = [
    { rule: 'no message lost', ok: lost.length === 0, detail: lost.length === 0 ? `${sentKeys.size}/${sentKeys.size} succeeded at least once` : `${lost.length} never succeeded: ${lost.slice(0, 10).join(', ')}` },
    {
      rule: 'per-source order of first successes',
      ok: orderViolations.length === 0,
      detail: orderViolations.length === 0 ? 'strictly increasing for every source' : `${orderViolations.length} violations: ${JSON.stringify(orderViolations.slice(0, 5))}`,
    },
    {
      rule: 'no call before its predecessor succeeded',
      ok: outOfTurn.length === 0,
      detail: outOfTurn.length === 0 ? 'every call came after the previous message of its source had succeeded' : `${outOfTurn.length} calls out of turn: ${JSON.stringify(outOfTurn.slice(0, 5))}`,
    },
    {
      rule: 'duplicates only after a kill',
      ok: unexplained.length === 0,
      detail: `${duplicates.length} duplicate successes, ${explained} after a kill${unexplained.length ? `, ${unexplained.length} WITHOUT one: ${JSON.stringify(unexplained.slice(0, 5))}` : ''}`,
    },
    {
      rule: 'duplicates carry the original idempotency key',
      ok: keyChanged.length === 0 && badKeys.length === 0,
      detail: keyChanged.length === 0 && badKeys.length === 0 ? 'every call carried Idempotency-Key = sourceId:seq' : `${keyChanged.length + badKeys.length} calls with another key: ${JSON.stringify([...keyChanged, ...badKeys].slice(0, 5))}`,
    },
    { rule: 'nothing delivered that was not sent', ok: unexpected.size === 0, detail: unexpected.size === 0 ? 'none' : `${unexpected.size}: ${[...unexpected].slice(0, 10).join(', ')}` },
  ];
  if (skippedKeys.size > 0) {
    rules.push({
      rule: 'skipped messages never delivered',
      ok: skippedDelivered.length === 0,
      detail: skippedDelivered.length === 0 ? `${skippedKeys.size} skipped, none accepted by the app` : `accepted after all: ${skippedDelivered.slice(0, 10).join(', ')}`,
    });
  }
  return {
    sent: sentKeys.size,
    skipped: skippedKeys.size,
    sources: lastSent.size,
    calls: records.length,
    failedCalls,
    delivered: firstSuccess.size - [...firstSuccess.keys()].filter((k) => !sentKeys.has(k)).length,
    lost,
    unexpected: [...unexpected],
    orderViolations,
    outOfTurn,
    duplicates,
    badKeys,
    maxAttempt,
    rules,
    ok: rules.every((r) => r.ok),
  };
}
