import type { AuditPort, AuditRecord } from '../../src/adapters/audit-log';
import { compareReceiveOrder, entrySk, JournalConflictError, receiveKey, splitBody, type JournalEntry, type JournalPort, type JournalReader } from '../../src/adapters/journal';
import type { AutoAsideEntry as AsideEntry, AutoAsidePort as AsidePort } from '../../src/adapters/journal-aside';
import type { ControlPort, ControlWrite, StateChange } from '../../src/adapters/source-control';
import { isJournalEntryCovered, type LedgerPosition } from '../../src/core/ledger-position';
import type { Sequence } from '../../src/core/message';
import type { SourceControl, SourceState } from '../../src/core/source-state';
import { MemoryLedger } from './in-memory';

interface StateFields {
  state: SourceState;
  controlVersion: number;
  journalVersion: number;
  stateSince?: number;
  stateReason?: string;
  stateActor?: string;
  replayOwner?: string;
  replayLeaseUntil?: number;
}

/** Lets a test stop one operation on its way in and release it later: interleavings driven step by step. */
export class Gates {
  private readonly waiting = new Map<string, { reached: () => void; reachedP: Promise<void>; release: () => void; releaseP: Promise<void> }>();

  /** The next call of op blocks until release(op). */
  arm(op: string): void {
    let reached!: () => void;
    let release!: () => void;
    const reachedP = new Promise<void>((r) => (reached = r));
    const releaseP = new Promise<void>((r) => (release = r));
    this.waiting.set(op, { reached, reachedP, release, releaseP });
  }

  reached(op: string): Promise<void> {
    return this.waiting.get(op)?.reachedP ?? Promise.resolve();
  }

  release(op: string): void {
    const g = this.waiting.get(op);
    this.waiting.delete(op);
    g?.release();
  }

  async pass(op: string): Promise<void> {
    const g = this.waiting.get(op);
    if (!g) return;
    g.reached();
    await g.releaseP;
  }
}

/**
 * One source item collection in memory: the ledger's position (MemoryLedger), its state fields,
 * its journal and its audit trail, with the same conditions as the DynamoDB adapters.
 */
export class MemorySourceTable extends MemoryLedger implements JournalPort, AuditPort, AsidePort {
  readonly states = new Map<string, StateFields>();
  readonly journal = new Map<string, Map<string, JournalEntry>>();
  readonly replayFailures = new Map<string, { error: string; seq: string; attempts: number }>();
  readonly audits: AuditRecord[] = [];
  readonly asides: AsideEntry[] = [];
  readonly gates = new Gates();
  batchReads = 0;
  controlReads = 0;
  /** sourceId → messageId of the failing head marked journaled (headJournaledAt). */
  readonly headJournaled = new Map<string, string>();
  /** sourceId → messageId of the failing head marked put aside (headAsideAt). */
  readonly headAside = new Map<string, string>();
  /** Sources declared contiguous (the ledger item's `contiguous`, set by the producer). */
  readonly contiguous = new Set<string>();

  private fields(sourceId: string): StateFields {
    return this.states.get(sourceId) ?? { state: 'active', controlVersion: 0, journalVersion: 0 };
  }

  private exists(sourceId: string): boolean {
    return this.states.has(sourceId) || this.positions.has(sourceId) || this.failures.some((f) => f.sourceId === sourceId);
  }

  snapshot(sourceId: string): SourceControl {
    const f = this.fields(sourceId);
    const c: SourceControl = { state: f.state, controlVersion: f.controlVersion, journalVersion: f.journalVersion, position: this.positions.get(sourceId), exists: this.exists(sourceId) };
    if (f.stateSince !== undefined) c.stateSince = f.stateSince;
    if (f.stateReason !== undefined) c.stateReason = f.stateReason;
    if (f.stateActor !== undefined) c.stateActor = f.stateActor;
    if (this.contiguous.has(sourceId)) c.contiguous = true;
    return c;
  }

  /** Makes a source known, as a failure record would. */
  touch(sourceId: string): void {
    if (!this.states.has(sourceId)) this.states.set(sourceId, this.fields(sourceId));
  }

  // ControlPort (through .control)

  /** The ControlPort view (its read returns the state, where LedgerPort's returns the position). */
  get control(): ControlPort {
    return {
      read: (id) => this.readControl(id),
      readMany: (ids) => this.readMany(ids),
      bumpJournal: (id) => this.bumpJournal(id),
      park: (id, c) => this.park(id, c),
      autoPark: (id, c) => this.autoPark(id, c),
      unpark: (id, c) => this.unpark(id, c),
      skip: (id, c) => this.skip(id, c),
      acquireReplay: (id, r) => this.acquireReplay(id, r),
      toClosing: (id, r) => this.toClosing(id, r),
      toActive: (id, r) => this.toActive(id, r),
      markHeadJournaled: (id, m) => this.markHeadJournaled(id, m),
      markHeadAside: (id, m) => this.markHeadAside(id, m),
      recordReplayFailure: async (id, f) => {
        this.replayFailures.set(id, { error: f.error, seq: f.seq, attempts: (this.replayFailures.get(id)?.attempts ?? 0) + 1 });
      },
    };
  }

  async readControl(sourceId: string): Promise<SourceControl> {
    this.controlReads++;
    await this.gates.pass('read');
    return this.snapshot(sourceId);
  }

  async readMany(sourceIds: string[]): Promise<Map<string, SourceControl>> {
    this.batchReads++;
    await this.gates.pass('readMany');
    return new Map(sourceIds.map((id) => [id, this.snapshot(id)]));
  }

  async bumpJournal(sourceId: string): Promise<ControlWrite> {
    await this.gates.pass('bumpJournal');
    const f = this.fields(sourceId);
    if (f.state !== 'parked' && f.state !== 'replaying') return this.refused(sourceId);
    this.states.set(sourceId, { ...f, journalVersion: f.journalVersion + 1 });
    return { ok: true };
  }

  async park(sourceId: string, c: StateChange): Promise<ControlWrite> {
    await this.gates.pass('park');
    const f = this.fields(sourceId);
    if (!this.exists(sourceId) || (f.state !== 'active' && f.state !== 'replaying') || f.controlVersion !== c.expectVersion) return this.refused(sourceId);
    this.enter(sourceId, 'parked', c, 0);
    return { ok: true };
  }

  async autoPark(sourceId: string, c: StateChange & { position: LedgerPosition | undefined }): Promise<ControlWrite> {
    await this.gates.pass('autoPark');
    const f = this.fields(sourceId);
    if ((f.state !== 'active' && f.state !== 'closing') || f.controlVersion !== c.expectVersion || !samePosition(this.positions.get(sourceId), c.position)) return this.refused(sourceId);
    this.enter(sourceId, 'parked', c, 1);
    return { ok: true };
  }

  async unpark(sourceId: string, c: StateChange): Promise<ControlWrite> {
    await this.gates.pass('unpark');
    const f = this.fields(sourceId);
    if (f.state !== 'parked' || f.controlVersion !== c.expectVersion) return this.refused(sourceId);
    this.enter(sourceId, 'replaying', c, 0);
    return { ok: true };
  }

  async skip(sourceId: string, c: StateChange & { seq: Sequence; messageId: string; position: LedgerPosition | undefined }): Promise<ControlWrite> {
    const f = this.fields(sourceId);
    if (f.state !== 'parked' || f.controlVersion !== c.expectVersion || !samePosition(this.positions.get(sourceId), c.position)) return this.refused(sourceId);
    const pos: LedgerPosition = { ...this.positions.get(sourceId), sqsSeq: c.seq.sqs, sqsQueueId: c.seq.queueId, sqsSeqKind: c.seq.kind };
    if (c.seq.kind === 'producer') pos.producerSeq = c.seq.value;
    this.positions.set(sourceId, pos);
    this.states.set(sourceId, { ...f, controlVersion: f.controlVersion + 1 });
    return { ok: true };
  }

  async acquireReplay(sourceId: string, r: { owner: string; nowMs: number; leaseMs: number; expectVersion: number }): Promise<ControlWrite> {
    await this.gates.pass('acquireReplay');
    const f = this.fields(sourceId);
    const free = f.replayLeaseUntil === undefined || f.replayLeaseUntil < r.nowMs || f.replayOwner === r.owner;
    if ((f.state !== 'replaying' && f.state !== 'closing') || f.controlVersion !== r.expectVersion || !free) return this.refused(sourceId);
    this.states.set(sourceId, { ...f, replayOwner: r.owner, replayLeaseUntil: r.nowMs + r.leaseMs });
    return { ok: true };
  }

  async toClosing(sourceId: string, r: { owner: string; nowMs: number; expectVersion: number; expectJournalVersion: number }): Promise<ControlWrite> {
    await this.gates.pass('toClosing');
    const f = this.fields(sourceId);
    if (f.state !== 'replaying' || f.controlVersion !== r.expectVersion || f.replayOwner !== r.owner || f.journalVersion !== r.expectJournalVersion) return this.refused(sourceId);
    this.states.set(sourceId, { ...f, state: 'closing', stateSince: r.nowMs });
    return { ok: true };
  }

  async toActive(sourceId: string, r: { owner: string; expectVersion: number }): Promise<ControlWrite> {
    await this.gates.pass('toActive');
    const f = this.fields(sourceId);
    if (f.state !== 'closing' || f.controlVersion !== r.expectVersion || f.replayOwner !== r.owner) return this.refused(sourceId);
    this.states.set(sourceId, { state: 'active', controlVersion: f.controlVersion, journalVersion: f.journalVersion });
    return { ok: true };
  }

  async markHeadJournaled(sourceId: string, messageId: string): Promise<void> {
    const last = this.failures.filter((f) => f.sourceId === sourceId).pop();
    if (last?.failure.messageId === messageId) this.headJournaled.set(sourceId, messageId);
  }

  async markHeadAside(sourceId: string, messageId: string): Promise<void> {
    const last = this.failures.filter((f) => f.sourceId === sourceId).pop();
    if (last?.failure.messageId === messageId) this.headAside.set(sourceId, messageId);
  }

  private enter(sourceId: string, state: SourceState, c: StateChange, journalBump: number): void {
    const f = this.fields(sourceId);
    this.states.set(sourceId, {
      state,
      controlVersion: f.controlVersion + 1,
      journalVersion: f.journalVersion + journalBump,
      stateSince: c.nowMs,
      stateReason: c.reason,
      stateActor: c.actor,
    });
  }

  private refused(sourceId: string): ControlWrite {
    return { ok: false, control: this.snapshot(sourceId) };
  }

  // JournalPort

  entriesOf(sourceId: string): JournalEntry[] {
    return [...(this.journal.get(sourceId)?.values() ?? [])].sort(compareReceiveOrder);
  }

  async put(entry: JournalEntry): Promise<'written' | 'exists'> {
    await this.gates.pass('put');
    splitBody(entry.body);
    const byKey = this.journal.get(entry.sourceId) ?? new Map<string, JournalEntry>();
    this.journal.set(entry.sourceId, byKey);
    const key = entrySk(entry.seq);
    const existing = byKey.get(key);
    if (existing) {
      if (existing.bodySha256 !== entry.bodySha256) throw new JournalConflictError(`journal already holds a different message at ${entry.sourceId} seq ${entry.seq.text}`);
      return 'exists';
    }
    const rk = receiveKey(entry.seq);
    byKey.set(key, { ...entry, ...(rk === undefined ? {} : { receiveKey: rk }) });
    return 'written';
  }

  /** Reads the live journal forward from the last entry it returned, like the DynamoDB reader's pages. */
  reader(sourceId: string): JournalReader {
    let last: JournalEntry | undefined;
    let itemsRead = 0;
    return {
      next: async () => {
        await this.gates.pass('above');
        const e = this.entriesOf(sourceId).find((x) => last === undefined || compareReceiveOrder(x, last) > 0);
        if (e) {
          last = e;
          itemsRead++;
        }
        return e === undefined ? undefined : { ...e };
      },
      get itemsRead() {
        return itemsRead;
      },
    };
  }

  async load(entry: JournalEntry): Promise<JournalEntry> {
    return entry;
  }

  async above(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]> {
    await this.gates.pass('above');
    return this.entriesOf(sourceId)
      .filter((e) => e.skippedAt === undefined && !isJournalEntryCovered(e.seq, position))
      .slice(0, limit);
  }

  async covered(sourceId: string, position: LedgerPosition | undefined, limit: number): Promise<JournalEntry[]> {
    return this.entriesOf(sourceId)
      .filter((e) => isJournalEntryCovered(e.seq, position))
      .slice(0, limit);
  }

  async remove(entry: JournalEntry): Promise<void> {
    this.journal.get(entry.sourceId)?.delete(entrySk(entry.seq));
  }

  async removeMany(entries: readonly JournalEntry[]): Promise<void> {
    for (const e of entries) await this.remove(e);
  }

  async markSkipped(entry: JournalEntry, nowMs: number, _actor: string, step: 'pending' | 'done'): Promise<void> {
    await this.gates.pass(step === 'pending' ? 'markSkipPending' : 'markSkipped');
    const e = this.journal.get(entry.sourceId)?.get(entrySk(entry.seq));
    if (e && step === 'pending') e.skipPendingAt = nowMs;
    else if (e) e.skippedAt = nowMs;
  }

  async unmarkSkipped(entry: JournalEntry): Promise<void> {
    const e = this.journal.get(entry.sourceId)?.get(entrySk(entry.seq));
    if (e) delete e.skipPendingAt;
  }

  async count(sourceId: string): Promise<number> {
    return this.journal.get(sourceId)?.size ?? 0;
  }

  async putAside(e: AsideEntry): Promise<'written' | 'exists'> {
    if (this.asides.some((a) => a.sourceId === e.sourceId && a.messageId === e.messageId)) return 'exists';
    this.asides.push({ ...e });
    return 'written';
  }

  // AuditPort

  async record(r: AuditRecord): Promise<void> {
    this.audits.push(r);
  }

  async list(sourceId: string): Promise<AuditRecord[]> {
    return this.audits.filter((a) => a.sourceId === sourceId);
  }
}

function samePosition(a: LedgerPosition | undefined, b: LedgerPosition | undefined): boolean {
  return a?.producerSeq === b?.producerSeq && a?.sqsSeq === b?.sqsSeq;
}
