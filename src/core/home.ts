/**
 * Where a source lives and who may write for it: pure decisions of the multi-region model
 * (docs/multi-region.md). Under MREC a conditional write is checked only in the local replica and
 * the last writer replaces the whole item, so every item has exactly one writer region: the
 * source's home for its current epoch. A failover moves the home and raises the epoch; the app
 * fences by refusing an epoch lower than the highest it has seen for the source.
 */

export interface HomeRecord {
  region: string;
  epoch: number;
  /** Highest seq (decimal text: seqs go to 10^38) of each replaced epoch that the new home accepted as that epoch's (forced failover). */
  seals: Record<number, string>;
  /** A failover that has started and not finished: no second one may start. */
  moving?: { to: string; startedAt: string };
}

/** How a source without a home item gets its first home: by rule, never by a race between regions. */
export interface HomeRule {
  defaultRegion: string;
  /** Longest matching prefix wins. */
  prefixes: Array<{ prefix: string; region: string }>;
}

export interface ResolvedHome extends HomeRecord {
  /** True when no failover ever moved the source: its home comes from the rule. */
  byRule: boolean;
}

export function resolveHome(sourceId: string, record: HomeRecord | undefined, rule: HomeRule): ResolvedHome {
  if (record) return { ...record, byRule: false };
  let region = rule.defaultRegion;
  let best = -1;
  for (const p of rule.prefixes) {
    if (sourceId.startsWith(p.prefix) && p.prefix.length > best) {
      region = p.region;
      best = p.prefix.length;
    }
  }
  return { region, epoch: 0, seals: {}, byRule: true };
}

/** Parses HOME_REGION_PREFIXES text: `prefix=region,prefix=region`. */
export function parsePrefixRule(text: string, regions: readonly string[]): { prefixes: HomeRule['prefixes']; problems: string[] } {
  const prefixes: HomeRule['prefixes'] = [];
  const problems: string[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.lastIndexOf('=');
    const prefix = eq > 0 ? part.slice(0, eq) : '';
    const region = eq > 0 ? part.slice(eq + 1).trim() : '';
    if (!prefix || !region) problems.push(`"${part}" is not prefix=region`);
    else if (!regions.includes(region)) problems.push(`"${part}" names region ${region}, which is not one of ${regions.join(', ')}`);
    else if (prefixes.some((p) => p.prefix === prefix)) problems.push(`prefix "${prefix}" is given twice`);
    else prefixes.push({ prefix, region });
  }
  return { prefixes, problems };
}

export type WriteCheck = { ok: true } | { ok: false; reason: string };

/** Every writer (worker, replayer, watchdog, sweeper, CLI) asks this before it writes for a source. */
export function mayWrite(localRegion: string, sourceId: string, home: ResolvedHome): WriteCheck {
  if (home.region === localRegion) return { ok: true };
  return { ok: false, reason: `source ${sourceId} is homed in ${home.region} (epoch ${home.epoch}), not in ${localRegion}: run this in ${home.region}, or fail the source over first` };
}

/** Epoch 0 keeps the single-region key, so an app's deduplication survives the upgrade. */
export function idempotencyKey(sourceId: string, epoch: number, seq: string): string {
  return epoch === 0 ? `${sourceId}:${seq}` : `${sourceId}:${epoch}:${seq}`;
}

export type EntryVerdict = 'covered' | 'deliver' | 'quarantine' | 'hold';

/**
 * What to do with a journal entry of epoch `entryEpoch`. `positions` holds each epoch's recorded
 * position (written only by that epoch's home). Seqs continue across epochs: epoch e+1 starts
 * above e's seal, so a seq at or below e's seal is e's alone and any later position at or above
 * it covers it. An entry of a replaced epoch above its seal was acknowledged to a producer after
 * the failover looked: an operator decides (deliver after the head, or discard), never the worker.
 * An entry of an epoch above the home's means this replica has not seen the newer home yet: hold.
 */
export function judgeEntry(entryEpoch: number, seq: bigint, home: ResolvedHome, positions: ReadonlyMap<number, bigint>): EntryVerdict {
  if (entryEpoch > home.epoch) return 'hold';
  if (entryEpoch < home.epoch) {
    const seal = home.seals[entryEpoch];
    if (seal === undefined || seq > BigInt(seal)) return 'quarantine';
  }
  for (const [epoch, position] of positions) if (epoch >= entryEpoch && epoch <= home.epoch && seq <= position) return 'covered';
  return 'deliver';
}

/** The highest seq known delivered, over every epoch's position. */
export function deliveredUpTo(positions: ReadonlyMap<number, bigint>): bigint {
  let top = 0n;
  for (const p of positions.values()) if (p > top) top = p;
  return top;
}

export interface FailoverRequest {
  from: string;
  to: string;
  regions: readonly string[];
  force: boolean;
  now: number;
}

export type FailoverStep =
  | { sourceId: string; ok: true; next: HomeRecord }
  | { sourceId: string; ok: false; reason: string };

/**
 * Validates a failover of one source and computes its next home. `visibleTop` is the highest seq
 * of the current epoch the target region can see (its journal and position); planned failovers
 * pass the old home's final position once the target's replica shows it.
 */
export function planFailover(sourceId: string, home: ResolvedHome, req: FailoverRequest, visibleTop: bigint): FailoverStep {
  if (!req.regions.includes(req.to)) return { sourceId, ok: false, reason: `unknown region ${req.to} (regions: ${req.regions.join(', ')})` };
  if (!req.regions.includes(req.from)) return { sourceId, ok: false, reason: `unknown region ${req.from} (regions: ${req.regions.join(', ')})` };
  if (req.from === req.to) return { sourceId, ok: false, reason: `--from and --to are both ${req.to}` };
  if (home.region !== req.from) return { sourceId, ok: false, reason: `source ${sourceId} is homed in ${home.region} (epoch ${home.epoch}), not in ${req.from}` };
  if (home.moving) return { sourceId, ok: false, reason: `source ${sourceId} is already moving to ${home.moving.to} (since ${home.moving.startedAt})` };
  const seals = { ...home.seals, [home.epoch]: visibleTop.toString() };
  return { sourceId, ok: true, next: { region: req.to, epoch: home.epoch + 1, seals } };
}
