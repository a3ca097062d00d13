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
