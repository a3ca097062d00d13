import type { AuditPort } from '../adapters/audit-log';
import type { JournalEntry, JournalPort } from '../adapters/journal';
import type { LostPort } from '../adapters/declare-lost';
import type { ControlPort } from '../adapters/source-control';
import { mayDeclareLost } from '../core/contiguity';
import { mayPark, maySkip, mayUnpark, type SourceControl } from '../core/source-state';

export interface ActionPorts {
  control: ControlPort;
  journal: JournalPort;
  audit: AuditPort;
}

/** ok: done, with one line to print; refused: nothing changed, one line saying why (exit 1). */
export type ActionResult = { ok: true; line: string; lines?: string[] } | { ok: false; line: string };

export interface ActionArgs {
  sourceId: string;
  actor: string;
  reason: string;
  nowMs: number;
}

const raced = (sourceId: string, c: SourceControl) =>
  `source "${sourceId}" changed while this ran (now ${c.state}, control version ${c.controlVersion}); nothing changed, look again and retry`;

async function audit(ports: ActionPorts, r: Parameters<AuditPort['record']>[0]): Promise<string | undefined> {
  try {
    await ports.audit.record(r);
    return undefined;
  } catch (err) {
    return `warning: the action is done but its audit record could not be written: ${(err as Error).message}`;
  }
}

export async function parkSource(ports: ActionPorts, a: ActionArgs): Promise<ActionResult> {
  const c = await ports.control.read(a.sourceId);
  const v = mayPark(a.sourceId, c);
  if (!v.ok) return { ok: false, line: v.reason };
  const w = await ports.control.park(a.sourceId, { actor: a.actor, reason: a.reason, nowMs: a.nowMs, expectVersion: c.controlVersion });
  if (!w.ok) return { ok: false, line: raced(a.sourceId, w.control) };
  const warn = await audit(ports, { sourceId: a.sourceId, action: 'park', actor: a.actor, reason: a.reason, at: a.nowMs, details: { from: c.state } });
  return { ok: true, line: `parked ${a.sourceId}: its messages now go to the journal, in order, and nothing is delivered until unpark`, ...(warn ? { lines: [warn] } : {}) };
}

export async function unparkSource(ports: ActionPorts, a: ActionArgs & { dryRun: boolean; limit: number }): Promise<ActionResult> {
  const c = await ports.control.read(a.sourceId);
  const v = mayUnpark(a.sourceId, c);
  if (!v.ok) return { ok: false, line: v.reason };
  if (a.dryRun) {
    const entries = await ports.journal.above(a.sourceId, c.position, a.limit);
    const lines = entries.map(describeEntry);
    return {
      ok: true,
      line: `dry run: unpark ${a.sourceId} would deliver ${entries.length}${entries.length === a.limit ? '+' : ''} journaled message(s) in this order, then resume from SQS; nothing changed`,
      lines,
    };
  }
  const w = await ports.control.unpark(a.sourceId, { actor: a.actor, reason: a.reason, nowMs: a.nowMs, expectVersion: c.controlVersion });
  if (!w.ok) return { ok: false, line: raced(a.sourceId, w.control) };
  const warn = await audit(ports, { sourceId: a.sourceId, action: 'unpark', actor: a.actor, reason: a.reason, at: a.nowMs });
  return { ok: true, line: `unparked ${a.sourceId}: replaying its journal in order, then it resumes from SQS`, ...(warn ? { lines: [warn] } : {}) };
}

export async function skipHead(ports: ActionPorts, a: ActionArgs & { seq: string; quietMs: number }): Promise<ActionResult> {
  const c = await ports.control.read(a.sourceId);
  // The head is the first entry in the order SQS received them that the position does not cover.
  const [head] = c.exists ? await ports.journal.above(a.sourceId, c.position, 1) : [];
  const v = maySkip(a.sourceId, c, { seq: a.seq, headSeq: head?.seq.text, ...(head?.seq.kind === 'producer' ? { headValue: head.seq.value } : {}), nowMs: a.nowMs, quietMs: a.quietMs });
  if (!v.ok || !head) return { ok: false, line: v.ok ? 'no head' : v.reason };
  // The mark goes first: once the skip is written the entry counts as covered, and cleanup deletes
  // covered entries unless they are marked. A crash between the two leaves only a marked entry
  // that replay still delivers (the position does not cover it).
  try {
    await ports.journal.markSkipped(head, a.nowMs, a.actor, 'pending');
  } catch (err) {
    return { ok: false, line: `could not mark seq ${head.seq.text} as skipped in the journal (${(err as Error).message}); nothing changed, retry` };
  }
  const w = await ports.control.skip(a.sourceId, { actor: a.actor, reason: a.reason, nowMs: a.nowMs, expectVersion: c.controlVersion, seq: head.seq, messageId: head.messageId, position: c.position });
  if (!w.ok) {
    const undo = await ports.journal.unmarkSkipped(head).then(
      () => undefined,
      (err: Error) => `warning: the journal entry stays marked as skipped (${err.message}); replay still delivers it`,
    );
    return { ok: false, line: raced(a.sourceId, w.control) + (undo ? `; ${undo}` : '') };
  }
  const lines: string[] = [];
  try {
    await ports.journal.markSkipped(head, a.nowMs, a.actor, 'done');
  } catch (err) {
    lines.push(`warning: skipped, but the journal entry keeps only its pending mark (${(err as Error).message}): its body stays; a replay after a delivery of the other sequence kind could deliver it`);
  }
  const warn = await audit(ports, { sourceId: a.sourceId, action: 'skip', actor: a.actor, reason: a.reason, at: a.nowMs, details: { seq: head.seq.text, messageId: head.messageId, bodySha256: head.bodySha256 } });
  if (warn) lines.push(`${warn} (the source's item still records it as lastSkipSeq ${head.seq.text})`);
  return { ok: true, line: `skipped seq ${head.seq.text} of ${a.sourceId} (message ${head.messageId}); its body stays in the journal; the source is still parked`, lines };
}

export function describeEntry(e: JournalEntry): string {
  const size = Buffer.byteLength(e.body, 'utf8');
  return `seq ${e.seq.text}  message ${e.messageId}  ${e.contentType}  ${size} bytes  sent ${new Date(e.sentAt).toISOString()}`;
}

/**
 * Moves a contiguous source's position past exactly its missing seq (audited): the seq is
 * never delivered; what follows it is, in order. Refused unless the source is held at that gap
 * and the gap is older than the quiet period.
 */
export async function declareLost(ports: ActionPorts & { lost: LostPort }, a: ActionArgs & { seq: bigint; quietMs: number }): Promise<ActionResult> {
  const c = await ports.control.read(a.sourceId);
  const v = mayDeclareLost(a.sourceId, c, { seq: a.seq, nowMs: a.nowMs, quietMs: a.quietMs });
  if (!v.ok) return { ok: false, line: v.reason };
  const w = await ports.lost.declareLost(a.sourceId, { actor: a.actor, reason: a.reason, nowMs: a.nowMs, expectVersion: c.controlVersion, seq: a.seq });
  if (!w.ok && 'inJournal' in w) return { ok: false, line: `seq ${a.seq} of source "${a.sourceId}" is in the journal: it is not lost and will be delivered (see fifo-relay status ${a.sourceId}); nothing changed` };
  if (!w.ok) return { ok: false, line: raced(a.sourceId, w.control) };
  const warn = await audit(ports, { sourceId: a.sourceId, action: 'declare-lost', actor: a.actor, reason: a.reason, at: a.nowMs, details: { seq: a.seq.toString(), gapSince: c.gap?.since } });
  const lines = warn ? [`${warn} (the source's item still records it as lastLostSeq ${a.seq})`] : [];
  return { ok: true, line: `declared seq ${a.seq} of ${a.sourceId} lost: its position is now ${a.seq}; seq ${a.seq + 1n} and later are delivered in order`, lines };
}
