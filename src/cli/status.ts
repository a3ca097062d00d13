import { createDynamoClient } from '../adapters/aws-clients';
import { SourceStatusReader, type SourceList, type SourceStory } from '../adapters/source-status';
import { DynamoTaskHealth } from '../adapters/task-health';
import { judgeApp, type AppCondition, type TaskHealth } from '../core/app-health';
import { DEFAULT_THRESHOLDS, humanDuration, unknownSource, type SourceSummary, type StuckThresholds } from '../core/source-condition';
import { UsageError } from './usage';

export interface StatusOptions {
  table: string;
  region: string;
  /** One source's story; absent lists every troubled source. */
  sourceId?: string;
  json: boolean;
  limit: number;
  thresholds: StuckThresholds;
}

export interface TextOut {
  write(chunk: string): unknown;
}

const DURATION = /^(\d+)(s|m|h|d)?$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90", "90s", "15m", "2h", "1d": whole numbers of a unit, seconds by default. */
export function parseDuration(name: string, text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new UsageError(`${name} must be a duration such as 900, 15m, 2h or 1d, got "${text}"`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
}

function wholeNumber(name: string, text: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new UsageError(`${name} must be a whole number of at least 1, got "${text}"`);
  return Number(text);
}

/** The command line's raw values (see commands/status.ts); thresholds fall back to the worker's own settings. */
export interface StatusArgs {
  table: string;
  region: string;
  limit: number;
  json: boolean;
  sourceId?: string;
  stuckAttempts?: string;
  stuckAfter?: string;
}

/**
 * Thresholds fall back to STUCK_ATTEMPTS and STUCK_AFTER_SECONDS, the settings the worker's page
 * uses; the environment takes plain seconds as the worker does, the flag also 15m, 2h, 1d.
 */
export function statusOptions(a: StatusArgs, env: NodeJS.ProcessEnv): StatusOptions {
  const attempts = a.stuckAttempts !== undefined ? wholeNumber('--stuck-attempts', a.stuckAttempts) : env.STUCK_ATTEMPTS ? wholeNumber('STUCK_ATTEMPTS', env.STUCK_ATTEMPTS) : DEFAULT_THRESHOLDS.attempts;
  let afterMs = DEFAULT_THRESHOLDS.afterMs;
  if (a.stuckAfter !== undefined) afterMs = parseDuration('--stuck-after', a.stuckAfter);
  else if (env.STUCK_AFTER_SECONDS) {
    if (!/^\d+$/.test(env.STUCK_AFTER_SECONDS.trim())) throw new UsageError(`STUCK_AFTER_SECONDS must be a whole number of seconds, got "${env.STUCK_AFTER_SECONDS}"`);
    afterMs = Number(env.STUCK_AFTER_SECONDS) * 1000;
  }
  if (a.sourceId === '') throw new UsageError('the source id must not be empty');
  return {
    table: a.table,
    region: a.region,
    json: a.json,
    limit: a.limit,
    thresholds: { attempts, afterMs },
    ...(a.sourceId === undefined ? {} : { sourceId: a.sourceId }),
  };
}

const oneLine = (text: string, max: number) => {
  // Control characters in an untrusted source id or error could rewrite the operator's terminal.
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

const forHow = (r: SourceSummary, now: number) =>
  r.condition === 'stuck' || r.condition === 'retrying' ? humanDuration(r.failingForMs ?? 0) : r.stateSince ? humanDuration(now - r.stateSince) : '-';

/** One line above the list when the app fails everywhere: it is one condition, not N stuck sources. */
export function formatApp(app: AppCondition): string[] {
  if (app.state !== 'down') return [];
  return [`APP DOWN: ${(app.summary ?? '').replace(/^the app looks down — /, '')}`, ''];
}

export function formatList(list: SourceList, thresholds: StuckThresholds, now: number, app?: AppCondition): string[] {
  const c = list.counts;
  const summary =
    `${c.stuck} stuck, ${c.retrying} retrying, ${c.parked} parked, ${c.replaying + c.closing} replaying` +
    `${list.truncated ? ' (more than listed)' : ''} — stuck = attempts ≥ ${thresholds.attempts} or failing ≥ ${humanDuration(thresholds.afterMs)}`;
  const top = app ? formatApp(app) : [];
  if (list.sources.length === 0) return [...top, 'no stuck, retrying, parked or replaying sources', summary];
  const rows = list.sources.map((r) => [
    r.sourceId,
    r.condition.toUpperCase(),
    forHow(r, now),
    r.head ? String(r.head.attempt) : '-',
    r.head?.seq || '-',
    r.head?.lastStatus !== undefined ? String(r.head.lastStatus) : '-',
    r.retentionLeftMs !== undefined ? humanDuration(r.retentionLeftMs) : r.headJournaled === true ? 'journaled' : '-',
    oneLine(r.state === 'active' ? (r.head?.lastError ?? '') : `${r.stateReason ?? ''}${r.stateActor ? ` (${r.stateActor})` : ''}`, 80),
  ]);
  const breakers = app && app.breakers.tasks > 0 ? ` · circuit breaker open on ${app.breakers.holding} of ${app.breakers.tasks} task(s)` : '';
  return [...top, ...table(['SOURCE', 'CONDITION', 'FOR', 'ATTEMPT', 'HEAD SEQ', 'HTTP', 'RETENTION LEFT', 'LAST ERROR / REASON'], rows), '', summary + breakers];
}

const iso = (ms: number) => new Date(ms).toISOString();

export function formatStory(story: SourceStory, now: number): string[] {
  const s = story.source;
  const lines: string[] = [`source     ${oneLine(s.sourceId, 200)}`];
  const state = s.state === 'active' ? (s.condition === 'ok' ? 'active' : `active, ${s.condition}`) : s.state;
  const stateDetail = s.state !== 'active' && s.stateSince ? ` since ${iso(s.stateSince)} (${humanDuration(now - s.stateSince)})${s.stateActor ? ` by ${oneLine(s.stateActor, 80)}` : ''}${s.stateReason ? `: ${oneLine(s.stateReason, 200)}` : ''}` : '';
  lines.push(`state      ${state}${stateDetail}`);
  const pos = [s.producerSeq !== undefined ? `producer seq ${s.producerSeq}` : undefined, s.sqsSeq !== undefined ? `sqs seq ${s.sqsSeq}` : undefined].filter(Boolean).join(', ');
  lines.push(`position   ${pos || 'nothing delivered yet'}${s.lastMessageId ? `, last message ${s.lastMessageId}` : ''}${s.updatedAt ? ` at ${iso(s.updatedAt)}` : ''}`);
  const h = s.head;
  if (h) {
    lines.push(
      `head       seq ${h.seq || '-'}, message ${h.messageId}, attempt ${h.attempt}, failing ${humanDuration(now - h.since)}` +
        `${h.lastStatus !== undefined ? `, last HTTP ${h.lastStatus}` : ''}, next attempt ${h.nextAttemptAt > now ? `in ${humanDuration(h.nextAttemptAt - now)}` : 'due'}`,
    );
    lines.push(`           last error: ${oneLine(h.lastError, 300)}`);
    if (h.heldBy !== undefined) lines.push(`           held by ${oneLine(h.heldBy, 120)} (the task that recorded the last failure)`);
    if (s.headJournaled === true) lines.push(`retention  head seq ${h.seq} is journaled: SQS retention no longer applies to it`);
    else if (h.asideAt !== undefined) lines.push(`retention  head ${h.messageId} was put aside at ${iso(h.asideAt)}: kept in the table, no longer in SQS`);
    else if (h.retentionDeadlineAt !== undefined) {
      const left = h.retentionDeadlineAt - now;
      const when = `${left > 0 ? `SQS deletes the head in ${humanDuration(left)}` : `past SQS retention by ${humanDuration(-left)}`} (at ${iso(h.retentionDeadlineAt)})`;
      lines.push(s.state === 'active' ? `retention  ${when}` : `retention  not journaled yet: ${when}; the task holding it journals it at its next attempt`);
    }
  } else lines.push('head       not failing');
  if (s.gap) lines.push(`gap        seq ${s.gap.seq} is in neither the queue nor the journal (since ${iso(s.gap.since)}, ${humanDuration(now - s.gap.since)}); nothing after it is delivered until it arrives`);
  const j = story.journal;
  lines.push(`journal    ${j.entries} ${j.entries === 1 ? 'entry' : 'entries'}${j.entries > 0 ? `, seq ${j.firstSeq} .. ${j.lastSeq}` : ''}`);
  const a = story.aside;
  if (a && a.count > 0) {
    const shown = a.messageIds.slice(0, 20).map((id) => oneLine(id, 120));
    lines.push(`aside      ${a.count} message(s) put aside (never delivered; see set-aside --list): ${shown.join(', ')}${a.count > shown.length ? `, and ${a.count - shown.length} more` : ''}`);
  }
  if (story.audit.length === 0) lines.push('audit      none');
  else {
    lines.push(`audit      ${story.audit.length} record(s), oldest first`);
    lines.push(...table(['  AT', 'ACTION', 'ACTOR', 'REASON'], story.audit.map((a) => [`  ${iso(a.at)}`, oneLine(a.action, 30), oneLine(a.actor, 60), oneLine(a.reason, 120)])));
  }
  return lines;
}

/** Exit code: 0 shown, 1 unknown source or the table could not be read. */
/** Tasks write their line every 3 refresh intervals (15 s by default): one not heard from for three lines is gone. */
const TASK_STALE_MS = 45_000;

export async function runStatus(
  opts: StatusOptions,
  out: TextOut,
  err: TextOut = process.stderr,
  reader?: SourceStatusReader,
  tasks?: { list(): Promise<TaskHealth[]> },
): Promise<number> {
  const dynamo = reader ? undefined : createDynamoClient({ region: opts.region, requestTimeoutMs: 10_000 });
  const read = reader ?? new SourceStatusReader(dynamo!, opts.table);
  const taskLines = tasks ?? (dynamo ? new DynamoTaskHealth(dynamo, opts.table) : undefined);
  const print = (lines: string[]) => out.write(lines.map((l) => `${l}\n`).join(''));
  const now = Date.now();
  try {
    if (opts.sourceId !== undefined) {
      const story = await read.describe(opts.sourceId, opts.thresholds, now);
      if (!story) {
        err.write(`fifo-relay status: ${unknownSource(oneLine(opts.sourceId, 200))} (table ${opts.table})\n`);
        return 1;
      }
      if (opts.json) print([JSON.stringify(story, null, 2)]);
      else print(formatStory(story, now));
      return 0;
    }
    // Each index is read in its own order (oldest first): read well past the limit so the worst are among what is read.
    const [all, lines] = await Promise.all([read.list(opts.thresholds, now, Math.max(opts.limit, 1000)), taskLines?.list().catch(() => []) ?? Promise.resolve([])]);
    // Judged on everything read, not only the rows printed.
    const app = judgeApp(all.sources, lines, now, TASK_STALE_MS);
    const list = { ...all, sources: all.sources.slice(0, opts.limit), truncated: all.truncated || all.sources.length > opts.limit };
    if (opts.json) print([JSON.stringify({ at: now, thresholds: opts.thresholds, app, ...list }, null, 2)]);
    else print(formatList(list, opts.thresholds, now, app));
    return 0;
  } catch (e) {
    err.write(`fifo-relay status: cannot read ${opts.table}: ${oneLine((e as Error).message, 300)}\n`);
    return 1;
  } finally {
    dynamo?.destroy();
  }
}
