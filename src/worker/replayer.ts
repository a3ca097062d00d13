import type { AuditPort } from '../adapters/audit-log';
import type { AppPort } from '../adapters/http-app';
import { messageFromEntry, type JournalEntry, type JournalPort } from '../adapters/journal';
import type { LedgerPort } from '../adapters/progress-ledger';
import type { ControlPort } from '../adapters/source-control';
import { isCoveredByLedger } from '../core/ledger-position';
import type { SourceControl } from '../core/source-state';

export type ReplayOutcome = 'done' | 'not-replaying' | 'busy' | 'superseded' | 'failed';

export interface ReplayerDeps {
  control: ControlPort;
  journal: JournalPort;
  ledger: LedgerPort;
  audit: AuditPort;
  app: AppPort;
  /** Sources in state replaying or closing (from the state-by-since index). */
  listReplaying(): Promise<string[]>;
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
  /** How long a lease keeps other tasks off a source; renewed before every entry. Must exceed the app timeout. */
  leaseMs: number;
  /** How often the loop looks for replaying sources. */
  pollMs: number;
  /** Journal entries read per query. */
  batch: number;
  /** Longest wait before a failed replay is tried again. */
  maxBackoffMs: number;
}

const ADVANCE_TRIES = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
      this.running = this.pass().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.opts.pollMs);
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

  /** One look for replaying sources; each is replayed to the end, or until it fails or is superseded. */
  async pass(): Promise<void> {
    let ids: string[];
    try {
      ids = await this.deps.listReplaying();
    } catch (err) {
      this.deps.onEvent?.({ kind: 'error', error: err as Error });
      return;
    }
    for (const id of ids) {
      if (this.stopped) return;
      const f = this.failures.get(id);
      if (f && f.retryAt > this.now()) continue;
      const outcome = await this.replay(id).catch((err: Error) => {
        this.deps.onEvent?.({ kind: 'error', sourceId: id, error: err });
        return 'failed' as const;
      });
      if (outcome === 'failed') {
        const count = (f?.count ?? 0) + 1;
        this.failures.set(id, { count, retryAt: this.now() + Math.min(this.opts.maxBackoffMs, 500 * 2 ** count) });
      } else this.failures.delete(id);
      this.deps.onEvent?.({ kind: 'finished', sourceId: id, outcome });
    }
  }

  async replay(sourceId: string): Promise<ReplayOutcome> {
    const first = await this.deps.control.read(sourceId);
    if (first.state !== 'replaying' && first.state !== 'closing') return 'not-replaying';
    const cv = first.controlVersion;
    if (!(await this.lease(sourceId, cv))) return 'busy';

    if (first.state === 'replaying') {
      for (;;) {
        // Rule 5: state and journalVersion are read before the journal is queried.
        const c = await this.deps.control.read(sourceId);
        if (!this.still(c, cv, 'replaying')) return 'superseded';
        const entries = await this.deps.journal.above(sourceId, c.position, this.opts.batch);
        if (entries.length === 0) {
          const closing = await this.deps.control.toClosing(sourceId, { owner: this.opts.owner, nowMs: this.now(), expectVersion: cv, expectJournalVersion: c.journalVersion });
          if (closing.ok) break;
          if (!this.still(closing.control, cv, 'replaying')) return 'superseded';
          continue; // an entry was appended between the query and the flip: go round again
        }
        const r = await this.deliverAll(sourceId, entries, cv);
        if (r !== 'ok') return r;
      }
    }

    // Closing: workers now fail their journal bump and keep messages in SQS, so this drain is the last.
    for (;;) {
      const c = await this.deps.control.read(sourceId);
      if (!this.still(c, cv, 'closing')) return 'superseded';
      const entries = await this.deps.journal.above(sourceId, c.position, this.opts.batch);
      if (entries.length === 0) break;
      const r = await this.deliverAll(sourceId, entries, cv);
      if (r !== 'ok') return r;
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
    return r.ok;
  }

  private async deliverAll(sourceId: string, entries: JournalEntry[], cv: number): Promise<'ok' | 'superseded' | 'failed' | 'busy'> {
    for (const e of entries) {
      if (this.stopped) return 'failed';
      // Renew the lease, then proof before send (rule 1): a consistent read showing this replay still current.
      if (!(await this.lease(sourceId, cv))) return 'superseded';
      const c = await this.deps.control.read(sourceId);
      if (c.controlVersion !== cv || (c.state !== 'replaying' && c.state !== 'closing')) return 'superseded';
      if (isCoveredByLedger(e.seq, c.position)) continue;
      const key = `${sourceId}\u0000${e.seq.text}`;
      const attempt = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, attempt);
      const outcome = await this.deps.app.deliver(messageFromEntry(e, attempt), attempt, this.abort.signal);
      if (outcome.kind !== 'success') {
        this.deps.onEvent?.({ kind: 'failed', sourceId, seq: e.seq.text, attempt, detail: outcome.detail });
        return 'failed';
      }
      // Rule 2: retry the record, never the app call.
      for (let i = 1; ; i++) {
        try {
          await this.deps.ledger.advance(sourceId, e.seq, e.messageId, this.now());
          break;
        } catch (err) {
          if (i >= ADVANCE_TRIES) throw err;
          await sleep(100 * 2 ** i);
        }
      }
      this.attempts.delete(key);
      this.deps.onEvent?.({ kind: 'delivered', sourceId, seq: e.seq.text, attempt });
    }
    return 'ok';
  }

  /** Entries the position covers go, except skipped ones, whose bodies stay for the record. */
  private async cleanUp(sourceId: string): Promise<void> {
    try {
      const c = await this.deps.control.read(sourceId);
      for (const e of await this.deps.journal.covered(sourceId, c.position, 1000)) {
        if (e.skippedAt === undefined) await this.deps.journal.remove(e);
      }
    } catch (err) {
      this.deps.onEvent?.({ kind: 'error', sourceId, error: err as Error });
    }
  }
}
