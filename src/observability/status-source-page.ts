import { humanDuration, unknownSource, type SourceSummary } from '../core/source-condition';
import { escapeHtml, shellWord } from './status-html';
import { pageShell, retentionCell } from './status-page';
import type { SourceView } from './status-view';

const iso = (ms: number) => new Date(ms).toISOString();
const when = (ms: number, now: number) => `${iso(ms)} (${ms <= now ? `${humanDuration(now - ms)} ago` : `in ${humanDuration(ms - now)}`})`;

function fact(label: string, value: string, id?: string): string {
  return `<dt>${escapeHtml(label)}</dt><dd${id ? ` id="${id}"` : ''}>${value}</dd>`;
}

/** The seq skip would take: the journaled head, else the lowest journal entry. */
function skipSeq(v: SourceView): string | undefined {
  const s = v.story?.source;
  if (s?.head && s.headJournaled) return s.head.seq;
  return v.story?.journal.firstSeq;
}

/** The exact commands for this source's state, ready to copy; the page itself changes nothing. */
export function commandsFor(v: SourceView): Array<{ what: string; cmd: string }> {
  const s = v.story?.source;
  const id = shellWord(v.sourceId);
  const out: Array<{ what: string; cmd: string }> = [{ what: 'its whole story', cmd: `fifo-relay status ${id}` }];
  if (!s) return out;
  if (s.head) out.push({ what: 'the failing head (metadata)', cmd: `fifo-relay show ${id}` });
  if (s.state === 'active') {
    if (s.head) out.push({ what: 'park it (journal, deliver nothing)', cmd: `fifo-relay park ${id} --reason 'REASON'` });
    return out;
  }
  if (s.state === 'parked') {
    const seq = skipSeq(v);
    if (seq !== undefined) out.push({ what: `the journaled head's body`, cmd: `fifo-relay show ${id} --seq ${seq} --body --out head-${seq}.body` });
    out.push({ what: 'what unpark would deliver', cmd: `fifo-relay unpark ${id} --dry-run` });
    out.push({ what: 'unpark (replay, then resume)', cmd: `fifo-relay unpark ${id} --reason 'REASON'` });
    if (seq !== undefined) out.push({ what: `skip the head, seq ${seq}`, cmd: `fifo-relay skip ${id} --seq ${seq} --reason 'REASON'` });
    return out;
  }
  out.push({ what: 'park it again (a newer park wins)', cmd: `fifo-relay park ${id} --reason 'REASON'` });
  return out;
}

function headFacts(s: SourceSummary, v: SourceView): string {
  const h = s.head;
  const now = v.generatedAt;
  if (!h) return fact('failing head', '<span class="ok">none recorded</span>');
  const holder = h.heldBy ?? (v.retryingHere ? 'this task' : undefined);
  return (
    fact('head message id', `<code>${escapeHtml(h.messageId)}</code>`, 'head-message') +
    fact('head seq', escapeHtml(h.seq || '(none: invalid message)'), 'head-seq') +
    fact('attempts', escapeHtml(h.attempt), 'head-attempts') +
    fact('first failure', escapeHtml(when(h.since, now)), 'head-first-failure') +
    fact('last failure', escapeHtml(when(h.failedAt, now))) +
    fact('next attempt', escapeHtml(h.nextAttemptAt > now ? when(h.nextAttemptAt, now) : `due (${iso(h.nextAttemptAt)})`), 'head-next') +
    fact('last error', escapeHtml(h.lastError), 'head-error') +
    fact('last HTTP status', h.lastStatus === undefined ? '<span class="muted">none (timeout, network error or invalid message)</span>' : escapeHtml(h.lastStatus), 'head-status') +
    fact('held by', holder ? `${escapeHtml(holder)} <span class="muted">(the task that recorded the last failure)</span>` : '<span class="muted">unknown</span>', 'head-holder') +
    (h.sentAt ? fact('sent', escapeHtml(when(h.sentAt, now))) : '') +
    fact(
      'time left before SQS retention',
      `${retentionCell(s, v.retentionSeconds)}${s.retentionLeftMs !== undefined && h.retentionDeadlineAt ? ` <span class="muted">SQS deletes the head at ${escapeHtml(iso(h.retentionDeadlineAt))}${s.state !== 'active' ? '; not journaled yet' : ''}</span>` : ''}`,
      'head-retention',
    )
  );
}

export function sourceTitle(v: SourceView): string {
  const s = v.story?.source;
  return `${v.sourceId} · ${s ? s.condition : v.error ? 'error' : 'unknown'} — fifo-relay`;
}

/** One source: everything `fifo-relay status <id>` shows and more; bodies never. */
export function renderSourcePage(v: SourceView): string {
  const s = v.story?.source;
  let body: string;
  if (v.error) body = `<div class="banner" role="alert">Cannot read source ${escapeHtml(v.sourceId)}: ${escapeHtml(v.error)}</div>`;
  else if (!s || !v.story) body = `<div class="banner" role="alert" id="unknown">${escapeHtml(unknownSource(v.sourceId))}</div>`;
  else {
    const now = v.generatedAt;
    const j = v.story.journal;
    const pos = [s.producerSeq !== undefined ? `producer seq ${s.producerSeq}` : '', s.sqsSeq !== undefined ? `SQS seq ${s.sqsSeq}` : ''].filter(Boolean).join(', ') || 'nothing delivered yet';
    const state = s.state !== 'active' && s.stateSince ? ` since ${when(s.stateSince, now)}${s.stateActor ? ` by ${s.stateActor}` : ''}${s.stateReason ? `: ${s.stateReason}` : ''}` : '';
    const facts =
      fact('condition', `<span class="badge b-${escapeHtml(s.condition)}">${escapeHtml(s.condition)}</span> <span class="muted">state ${escapeHtml(s.state)}${escapeHtml(state)}</span>`, 'condition') +
      fact('position', `${escapeHtml(pos)}${s.lastMessageId ? ` · last message <code>${escapeHtml(s.lastMessageId)}</code>` : ''}${s.updatedAt ? ` · ${escapeHtml(when(s.updatedAt, now))}` : ''}`) +
      headFacts(s, v) +
      fact(
        'journal',
        `${escapeHtml(j.entries)} ${j.entries === 1 ? 'entry' : 'entries'}${j.entries > 0 ? `, seq ${escapeHtml(j.firstSeq)} .. ${escapeHtml(j.lastSeq)}` : ''}${j.oldestJournaledAt ? ` · oldest journaled ${escapeHtml(when(j.oldestJournaledAt, now))}` : ''}`,
        'journal',
      );
    const audit = v.story.audit.length
      ? `<table id="audit"><thead><tr><th>At</th><th>Action</th><th>Actor</th><th>Reason</th><th>Details</th></tr></thead><tbody>${v.story.audit
          .map((a) => `<tr><td>${escapeHtml(iso(a.at))}</td><td>${escapeHtml(a.action)}</td><td>${escapeHtml(a.actor)}</td><td class="err">${escapeHtml(a.reason)}</td><td class="err">${escapeHtml(a.details ?? '')}</td></tr>`)
          .join('')}</tbody></table>`
      : '<p class="muted" id="audit-none">No audit record: no operator or watchdog action on this source.</p>';
    body = `<dl class="facts">${facts}</dl><h2>Audit trail, oldest first</h2>${audit}`;
  }
  const cmds = commandsFor(v)
    .map((c) => `<div class="cmd"><span class="what">${escapeHtml(c.what)}</span><code>${escapeHtml(c.cmd)}</code><button class="copy" type="button">copy</button></div>`)
    .join('');
  const content =
    `<main id="content"><h2><a href="?">← all sources</a></h2><p class="srcid" id="source-id">${escapeHtml(v.sourceId)}</p>${body}` +
    `<h2>Commands</h2><div class="cmds" id="commands">${cmds}</div>` +
    `<p class="muted">Read from the table at ${escapeHtml(iso(v.generatedAt))} (at most one read per refresh interval). Replace REASON: it goes into the audit trail. Message bodies are never shown here: <code>fifo-relay show --body</code> prints them.</p></main>`;
  return pageShell(sourceTitle(v), content);
}
