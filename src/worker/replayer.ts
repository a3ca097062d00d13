import type { AuditPort } from '../adapters/audit-log';
import { isRewritableClaim, type JournalRangePort } from '../adapters/journal-range';
import type { AppPort } from '../adapters/http-app';
import { headerSkOf, keptForTheRecord, messageFromEntry, type JournalEntry, type JournalPort } from '../adapters/journal';
import type { LedgerPort } from '../adapters/progress-ledger';
import type { ControlPort } from '../adapters/source-control';
import { isJournalEntryCovered } from '../core/ledger-position';
import type { SourceControl } from '../core/source-state';

/** 'yielded': the time slice ran out with entries left; the next pass goes on where this one stopped. */
export type ReplayOutcome = 'done' | 'not-replaying' | 'busy' | 'superseded' | 'failed' | 'yielded';
type RoundResult = 'empty' | 'delivered' | 'superseded' | 'failed' | 'yielded';

export interface ReplayerDeps {
  control: ControlPort;
  journal: JournalPort;
  ledger: LedgerPort;
  audit: AuditPort;
  app: AppPort;
  /** Sources in state replaying, and closing too when asked (from the state-by-since index). */
  listReplaying(opts?: { closing: boolean }): Promise<string[]>;
  /** Seals a journal-first claim before it is delivered (its producer may no longer rewrite it). */
  range?: Pick<JournalRangePort, 'seal'>;
  now?: () => number;
  onEvent?: (e: ReplayEvent) => void;
}

export type ReplayEvent =
  | { kind: 'delivered'; sourceId: string; seq: string; attempt: number }
  | { kind: 'failed'; sourceId: string; seq: string; attempt: number; detail: string }
  | { kind: 'finished'; sourceId: string; outcome: ReplayOutcome }
  | { kind: 'error'; sourceId?: string; error: Error };

export interface ReplayerOptions {
  /** Identifies this task in the replay lease. */
  owner: string;
  /** How long a lease keeps other tasks off a source; renewed during a pass once a third of it is gone. At least three app timeouts. */
  leaseMs: number;
  /** How often the loop looks for replaying sources while it finds some. */
  pollMs: number;
  /**
   * The longest wait between looks while it finds none (default 15 × pollMs): the wait doubles
   * after each empty look, so an idle task costs about one index Query per idlePollMs.
   */
  idlePollMs?: number;
  /** Journal entries read per query. */
  batch: number;
  /** Longest wait before a failed replay is tried again. */
  maxBackoffMs: number;
  /** How long one source is replayed before the others of the pass get their turn (default 60 s). */
  sliceMs?: number;
}

const ADVANCE_TRIES = 5;
const DEFAULT_SLICE_MS = 60_000;
const IDLE_POLL_FACTOR = 15;
/** Delivered entries deleted per BatchWriteItem. */
const DELETE_BATCH = 25;
/**
 * A producer may still rewrite its own claim for a few seconds after journaling it (its
 * rewriteWindowMs, 10 s by default, measured from journaledAt): such an entry is not delivered
 * from the journal before it is this old (docs/producer.md, "Claim protocol").
 */
export const PRODUCER_CLAIM_GRACE_MS = 30_000;

/** Written by a producer before SQS numbered it (its queueId is empty) and younger than the grace. */
export function isFreshProducerClaim(e: JournalEntry, nowMs: number): boolean {
  return e.seq.kind === 'producer' && e.seq.queueId === '' && nowMs - e.journaledAt < PRODUCER_CLAIM_GRACE_MS;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MIXED_ORDER =
  'replay refused: the journal holds journal-first producer entries (no SQS receive order) and seq-less SQS entries, whose receive order against each other is unknowable; skip or deliver them by hand (docs/parking.md)';
const entryKey = (e: JournalEntry): string => `${e.sourceId}\u0000${headerSkOf(e)}`;

/**
 * Delivers a replaying source's journal in order under the normal delivery contract, then closes
 * (rule 5): replaying → (journal empty at an unchanged journalVersion) → closing → drain → active.
 * Every automatic step carries the controlVersion read at the start, so an operator's newer park
 * always wins; a lease on the ledger item keeps two tasks from replaying one source at once.
 */
export class Replayer {
  private readonly now: () => number;
  private readonly failures = new Map<string, { count: number; retryAt: number }>();
  private readonly abort = new AbortController();
  private readonly attempts = new Map<string, number>();
  private readonly lastFailure = new Map<string, { seq: string; detail: string }>();
  /**
   * Entries delivered whose removal has not been confirmed: met again, they are removed, never
   * delivered again, so a removal that fails (or misses) cannot make replay deliver one for ever.
   */
  private readonly unremoved = new Set<string>();
  /** Sources whose journal was found to hold items of an earlier layout (said once each). */
  private readonly passedByReported = new Set<string>();
  private renewedAt = 0;
  private rotation = 0;
  /** Empty looks in a row. */
  private idleLooks = 0;
  /** Journal header items read by all passes (figures for benchmarks). */
  itemsRead = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: ReplayerDeps,
    private readonly opts: ReplayerOptions,
  ) {
    this.now = deps.now ?? Date.now;
  }

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.running = this.pass().then((found) => {
        if (!this.stopped) this.timer = setTimeout(tick, this.nextLookIn(found));
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
    await this.running;
  }

  /** The wait before the next look: pollMs while there is work, doubling up to idlePollMs while there is none. */
  nextLookIn(found: number): number {
    if (found > 0) {
      this.idleLooks = 0;
      return this.opts.pollMs;
    }
    this.idleLooks = Math.min(this.idleLooks + 1, 30);
    return Math.min(this.opts.pollMs * 2 ** this.idleLooks, this.opts.idlePollMs ?? this.opts.pollMs * IDLE_POLL_FACTOR);
  }

  /**
   * One look for replaying sources; each is replayed to the end, or for its slice, or until it
   * fails or is superseded. Returns how many were listed. While idle, closing sources are listed
   * every third look only: a source reaches closing only from replaying, under a replayer that
   * keeps it listed, so only one whose replayer died (and whose lease ran out) waits for that look.
   */
  async pass(): Promise<number> {
    let ids: string[];
    try {
      ids = await this.deps.listReplaying({ closing: this.idleLooks % 3 === 0 });
    } catch (err) {
      this.deps.onEvent?.({ kind: 'error', error: err as Error });
      return 1; // look again soon: the failure says nothing about whether there is work
    }
    // A different source goes first each pass, so no source waits behind the same long replays for ever.
    const from = ids.length > 0 ? this.rotation++ % ids.length : 0;
    for (const id of [...ids.slice(from), ...ids.slice(0, from)]) {
      if (this.stopped) return ids.length;
      const f = this.failures.get(id);
      if (f && f.retryAt > this.now()) continue;
      const outcome = await this.replay(id).catch((err: Error) => {
        this.lastFailure.set(id, { seq: '', detail: err.message });
        this.deps.onEvent?.({ kind: 'error', sourceId: id, error: err });
        return 'failed' as const;
      });
      if (outcome === 'failed') {
        const count = (f?.count ?? 0) + 1;
        const retryAt = this.now() + Math.min(this.opts.maxBackoffMs, 500 * 2 ** count);
        this.failures.set(id, { count, retryAt });
        await this.recordFailure(id, retryAt);
      } else this.failures.delete(id);
      this.deps.onEvent?.({ kind: 'finished', sourceId: id, outcome });
    }
    return ids.length;
  }

  /** A replay that keeps failing says so on the source's item, for status (docs/table-layout.md). */
  private async recordFailure(sourceId: string, nextAttemptAtMs: number): Promise<void> {
    const last = this.lastFailure.get(sourceId) ?? { seq: '', detail: 'replay failed' };
    if (this.stopped) return;
    await this.deps.control
      .recordReplayFailure(sourceId, { error: last.detail, seq: last.seq, atMs: this.now(), nextAttemptAtMs })
      .catch((err: Error) => this.deps.onEvent?.({ kind: 'error', sourceId, error: err }));
  }

  async replay(sourceId: string): Promise<ReplayOutcome> {
    const first = await this.deps.control.read(sourceId);
    if (first.state !== 'replaying' && first.state !== 'closing') return 'not-replaying';
    const cv = first.controlVersion;
    if (!(await this.lease(sourceId, cv))) return 'busy';
    const sliceEnd = this.now() + (this.opts.sliceMs ?? DEFAULT_SLICE_MS);

    if (first.state === 'replaying') {
      for (;;) {
        // Rule 5: state and journalVersion are read before the journal is queried.
        const c = await this.deps.control.read(sourceId);
        if (!this.still(c, cv, 'replaying')) return 'superseded';
        const r = await this.round(sourceId, cv, c, sliceEnd);
        if (r !== 'empty' && r !== 'delivered') return r;
        if (r === 'delivered') continue; // a fresh pass picks up whatever was appended behind the reader
        const closing = await this.deps.control.toClosing(sourceId, { owner: this.opts.owner, nowMs: this.now(), expectVersion: cv, expectJournalVersion: c.journalVersion });
        if (closing.ok) break;
        if (!this.still(closing.control, cv, 'replaying')) return 'superseded';
        // an entry was appended between the read and the flip: go round again
      }
    }

    // Closing: workers now fail their journal bump and keep messages in SQS, so this drain is the last.
    for (;;) {
      const c = await this.deps.control.read(sourceId);
      if (!this.still(c, cv, 'closing')) return 'superseded';
      const r = await this.round(sourceId, cv, c, sliceEnd);
      if (r === 'empty') break;
      if (r !== 'delivered') return r;
    }
    const active = await this.deps.control.toActive(sourceId, { owner: this.opts.owner, expectVersion: cv });
    if (!active.ok) return 'superseded';
    // Recorded as soon as the source is active again: cleanup of delivered entries may take a while.
    await this.deps.audit.record({ sourceId, action: 'replay-done', actor: this.opts.owner, reason: 'journal delivered; source active again', at: this.now() }).catch((err: Error) => {
      this.deps.onEvent?.({ kind: 'error', sourceId, error: err });
    });
    await this.cleanUp(sourceId);
    return 'done';
  }

  private still(c: SourceControl, cv: number, state: 'replaying' | 'closing'): boolean {
    return c.controlVersion === cv && c.state === state;
  }

  private async lease(sourceId: string, cv: number): Promise<boolean> {
    const r = await this.deps.control.acquireReplay(sourceId, { owner: this.opts.owner, nowMs: this.now(), leaseMs: this.opts.leaseMs, expectVersion: cv });
    if (r.ok) this.renewedAt = this.now();
    return r.ok;
  }

  /**
   * One pass over the journal in receive order: each entry not yet covered is delivered (rules 1
   * and 2), and every delivered or covered entry is deleted as the pass goes (skipped ones stay),
   * so the next pass reads only what was appended meanwhile. 'empty': nothing was left to deliver.
   */
  private async round(sourceId: string, cv: number, read: SourceControl, sliceEnd: number): Promise<RoundResult> {
    const reader = this.deps.journal.reader(sourceId, this.opts.batch);
    const done: JournalEntry[] = [];
    let position = read.position;
    let delivered = 0;
    let orderChecked = false;
    try {
      for (let e = await reader.next(); e; e = await reader.next()) {
        if (this.stopped) return 'failed';
        if (this.unremoved.has(entryKey(e))) {
          done.push(e);
          continue;
        }
        // Skipped by an operator: never delivered, and its body stays for the record.
        if (e.skippedAt !== undefined) continue;
        // Covered by a position already read: the position only moves forward, so this is final.
        if (isJournalEntryCovered(e.seq, position)) {
          if (!keptForTheRecord(e)) done.push(e);
          continue;
        }
        // A producer's claim is final only once its proof and rewrites are done: stop before it, the next pass takes it.
        if (isFreshProducerClaim(e, this.now())) return 'yielded';
        if (this.now() >= sliceEnd) return 'yielded';
        // The lease is renewed while the pass runs, well before it can run out under a long pass.
        if (this.now() - this.renewedAt >= this.opts.leaseMs / 3 && !(await this.lease(sourceId, cv))) return 'superseded';
        // Proof before send (rule 1): a consistent read showing this replay still current.
        const c = await this.deps.control.read(sourceId);
        if (c.controlVersion !== cv || (c.state !== 'replaying' && c.state !== 'closing')) return 'superseded';
        position = c.position;
        if (isJournalEntryCovered(e.seq, position)) {
          if (!keptForTheRecord(e)) done.push(e);
          continue;
        }
        // An entry that never came from SQS has no receive order against seq-less ones (kept only by
        // SQS): with both kinds waiting, no order is sound, so the operator decides (docs/parking.md).
        if (e.receiveKey === undefined && !orderChecked) {
          orderChecked = true;
          if (await this.deps.journal.hasUncoveredSeqless?.(sourceId, position)) {
            this.lastFailure.set(sourceId, { seq: e.seq.text, detail: MIXED_ORDER });
            this.deps.onEvent?.({ kind: 'failed', sourceId, seq: e.seq.text, attempt: 0, detail: MIXED_ORDER });
            return 'failed';
          }
        }
        const contiguous = c.contiguous === true && e.seq.kind === 'producer';
        if (contiguous && e.seq.value !== (position?.producerSeq ?? 0n) + 1n) {
          // Never past a gap: the missing seq may still be journaled (a slow producer or a late replica); try again later.
          const missing = (position?.producerSeq ?? 0n) + 1n;
          this.lastFailure.set(sourceId, { seq: e.seq.text, detail: `gap: seq ${missing} is not in the journal; ${e.seq.text} waits for it` });
          // Recorded like a lane's gap hold, so status shows it and declare-lost can act on it.
          await this.deps.ledger.recordGap?.(sourceId, { seq: missing, nowMs: this.now() }).catch((err: Error) => this.deps.onEvent?.({ kind: 'error', sourceId, error: err }));
          return 'failed';
        }
        const sealed = this.deps.range && isRewritableClaim(e) ? await this.deps.range.seal(e, this.now()) : await this.deps.journal.load(e);
        // Gone since it was listed: released by its producer (stale) or removed; the next pass reads again.
        if (sealed === undefined) return delivered > 0 ? 'delivered' : 'empty';
        const r = await this.deliver(sourceId, sealed, contiguous);
        if (r !== 'ok') return r;
        delivered++;
        this.unremoved.add(entryKey(e));
        done.push(e);
        if (done.length >= DELETE_BATCH) await this.removeDone(done.splice(0));
      }
      return delivered > 0 ? 'delivered' : 'empty';
    } finally {
      this.itemsRead += reader.itemsRead;
      this.reportPassedBy(sourceId, reader.passedBy);
      // Delivered entries are recorded in the ledger: deleting them can wait, but not be forgotten.
      if (done.length > 0) await this.removeDone(done).catch((err: Error) => this.deps.onEvent?.({ kind: 'error', sourceId, error: err }));
    }
  }

  private async removeDone(entries: JournalEntry[]): Promise<void> {
    await this.deps.journal.removeMany(entries);
    for (const e of entries) this.unremoved.delete(entryKey(e));
  }

  private reportPassedBy(sourceId: string, passedBy: { count: number; firstSk: string } | undefined): void {
    if (passedBy === undefined || this.passedByReported.has(sourceId)) return;
    this.passedByReported.add(sourceId);
    const error = new Error(`journal of ${sourceId} holds ${passedBy.count} item(s) not of the current layout (first: ${passedBy.firstSk}); passed by, never delivered`);
    this.deps.onEvent?.({ kind: 'error', sourceId, error });
  }

  private async deliver(sourceId: string, e: JournalEntry, exactNext = false): Promise<'ok' | 'failed'> {
    const key = `${sourceId}\u0000${e.seq.text}`;
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const outcome = await this.deps.app.deliver(messageFromEntry(e, attempt), attempt, this.abort.signal);
    if (outcome.kind !== 'success') {
      this.lastFailure.set(sourceId, { seq: e.seq.text, detail: outcome.detail });
      this.deps.onEvent?.({ kind: 'failed', sourceId, seq: e.seq.text, attempt, detail: outcome.detail });
      return 'failed';
    }
    // Rule 2: retry the record, never the app call. A stale advance (the ledger is already past
    // this entry by its own rule) makes the entry as good as covered: it is removed like a delivered one.
    for (let i = 1; ; i++) {
      try {
        await this.deps.ledger.advance(sourceId, e.seq, e.messageId, this.now(), exactNext ? { exactNext } : undefined);
        break;
      } catch (err) {
        if (i >= ADVANCE_TRIES) throw err;
        await sleep(100 * 2 ** i);
      }
    }
    this.attempts.delete(key);
    this.deps.onEvent?.({ kind: 'delivered', sourceId, seq: e.seq.text, attempt });
    return 'ok';
  }

  /** Entries the position covers go, except skipped ones, whose bodies stay for the record. */
  private async cleanUp(sourceId: string): Promise<void> {
    try {
      const c = await this.deps.control.read(sourceId);
      for (const e of await this.deps.journal.covered(sourceId, c.position, 1000)) {
        if (!keptForTheRecord(e)) await this.deps.journal.remove(e);
      }
    } catch (err) {
      this.deps.onEvent?.({ kind: 'error', sourceId, error: err as Error });
    }
  }
}
