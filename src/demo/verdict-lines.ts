import type { RunVerdict } from './checker';

/** What the demo's closing block says, as plain figures (the README's sample is checked against it). */
export interface VerdictSummary {
  delivered: number;
  /** Messages that had to be delivered (sent, less those skipped). */
  due: number;
  sentTotal: number;
  skipped: number;
  sources: number;
  sourcesInOrder: number;
  outOfTurn: number;
  retries: number;
  duplicates: number;
  duplicatesAroundRedeploy: number;
  left: number;
  seconds: number;
  ok: boolean;
  /** With --poison: the poison story's summary, or undefined when it did not finish. */
  poison?: { finished: boolean; stuckAfterAttempts: number; journaled: number };
}

export function summarize(v: RunVerdict, sentTotal: number, left: number, seconds: number, ok: boolean, poison?: VerdictSummary['poison']): VerdictSummary {
  const badSources = new Set(v.orderViolations.map((o) => o.sourceId)).size;
  return {
    delivered: v.delivered,
    due: v.sent,
    sentTotal,
    skipped: v.skipped,
    sources: v.sources,
    sourcesInOrder: v.sources - badSources,
    outOfTurn: v.outOfTurn.length,
    retries: v.failedCalls,
    duplicates: v.duplicates.length,
    duplicatesAroundRedeploy: v.duplicates.filter((d) => d.explainedByKill).length,
    left,
    seconds,
    ok,
    ...(poison ? { poison } : {}),
  };
}

/** The closing block of `make demo`, without the details a failing run adds (lost keys, rules). */
export function verdictLines(s: VerdictSummary): string[] {
  const lines = [
    `messages delivered:   ${s.delivered}/${s.due}${s.skipped ? ` (of ${s.sentTotal} sent; ${s.skipped} skipped by the operator, never accepted by the app)` : ''}`,
    `per-source order:     ${s.sourcesInOrder}/${s.sources} sources in order`,
    `calls out of turn:    ${s.outOfTurn} (a message sent to the app before the one ahead of it succeeded)`,
    `retried calls:        ${s.retries} (app answered 503/422 or timed out)`,
    `duplicate successes:  ${s.duplicates} (${s.duplicatesAroundRedeploy} around the redeploy; same idempotency key, the app can drop them)`,
  ];
  if (s.poison) {
    lines.push(
      `poison message:       ${s.poison.finished ? `stuck after ${s.poison.stuckAfterAttempts} attempts, parked (${s.poison.journaled} journaled), skipped, unparked, source active again` : 'STORY NOT FINISHED'}`,
    );
  }
  lines.push(`left in the queue:    ${s.left}`);
  return lines;
}

export function verdictLine(s: VerdictSummary): string {
  return (
    `VERDICT: ${s.ok ? 'PASS' : 'FAIL'} — ${s.delivered}/${s.due} delivered, order held for ${s.sourcesInOrder}/${s.sources} sources, ` +
    `${s.retries} retries, ${s.duplicates} duplicates, ${s.seconds.toFixed(1)} s`
  );
}
