import type { SourceControl, Verdict } from './source-state';
import { unknownSource } from './source-condition';

/**
 * Gap decisions for a contiguous source (its producer claims seqs 1, 2, 3, … with no hole):
 * pure, so the lane and its tests agree on what "exactly next" means.
 */

/** Where seq stands against a contiguous source's position. */
export type ContiguousStep = { kind: 'covered' } | { kind: 'next' } | { kind: 'ahead'; from: bigint; to: bigint };

/** 'ahead': seqs from … to (inclusive) must be delivered before seq. */
export function contiguousStep(seq: bigint, position: bigint | undefined): ContiguousStep {
  const p = position ?? 0n;
  if (seq <= p) return { kind: 'covered' };
  if (seq === p + 1n) return { kind: 'next' };
  return { kind: 'ahead', from: p + 1n, to: seq - 1n };
}

/**
 * Which missing seqs the journal can fill, in order, and the first one it cannot. Only the run
 * that starts exactly at position + 1 is filled: a found seq above a hole waits for the hole.
 */
export function fillPlan(step: { from: bigint; to: bigint }, found: readonly bigint[]): { fill: bigint[]; missing?: bigint } {
  const have = new Set(found);
  const fill: bigint[] = [];
  for (let s = step.from; s <= step.to; s++) {
    if (!have.has(s)) return { fill, missing: s };
    fill.push(s);
  }
  return { fill };
}

/**
 * declare-lost is as narrow as skip: a contiguous source held at a gap, exactly the missing seq
 * (position + 1), and only once the gap is older than any delivery that could still be filling it
 * (quiet period longer than app timeout + visibility).
 */
export function mayDeclareLost(sourceId: string, c: SourceControl, a: { seq: bigint; nowMs: number; quietMs: number }): Verdict {
  if (!c.exists) return { ok: false, reason: unknownSource(sourceId) };
  if (c.contiguous !== true) return { ok: false, reason: `source "${sourceId}" is not contiguous: only a contiguous source has gaps to declare lost` };
  const next = (c.position?.producerSeq ?? 0n) + 1n;
  if (c.gap === undefined) return { ok: false, reason: `source "${sourceId}" is not held at a gap (its next seq is ${next})` };
  if (a.seq !== next || a.seq !== c.gap.seq) return { ok: false, reason: `seq ${a.seq} is not the missing seq of source "${sourceId}" (the gap is at ${c.gap.seq}, the next seq ${next})` };
  const quietUntil = c.gap.since + a.quietMs;
  if (a.nowMs < quietUntil) {
    return { ok: false, reason: `the gap at seq ${a.seq} of source "${sourceId}" is ${Math.round((a.nowMs - c.gap.since) / 1000)} s old; declare-lost is allowed ${Math.ceil((quietUntil - a.nowMs) / 1000)} s from now (quiet period)` };
  }
  return { ok: true };
}
