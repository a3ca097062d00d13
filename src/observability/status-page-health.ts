import { humanDuration } from '../core/source-condition';
import { card, escapeHtml, sourceHref } from './status-html';
import type { StatusView } from './status-view';

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The top of the list view: one app-level condition when the app fails everywhere (so nobody
 * parks healthy sources one by one), the queue's depth, and every task's breaker.
 */
export function renderHealth(v: StatusView): string {
  const h = v.health;
  const banner =
    h.app.state === 'down'
      ? `<div class="banner app-down" id="app-condition" role="alert"><strong>The app looks down.</strong> ${escapeHtml(capitalize(h.app.summary?.replace(/^the app looks down — /, '') ?? ''))}</div>`
      : '';
  const q = h.queue;
  const oldest = h.oldestFailingHead;
  const holding = h.app.breakers.holding;
  const cards =
    `<div class="cards" id="queue">` +
    (q ? `${card('visible', q.visible, 'messages waiting')}${card('inflight', q.inFlight, 'in flight')}${card('delayed', q.delayed, 'delayed')}` : card('queue', '?', 'queue depth unknown')) +
    card('oldest', oldest ? humanDuration(oldest.ageMs) : '–', 'age of oldest failing head') +
    card(holding > 0 ? 'stuck breakers' : 'breakers', `${holding}/${h.app.breakers.tasks}`, 'breakers open') +
    `</div>`;
  const note =
    `<p class="muted">Queue depth from GetQueueAttributes (approximate)${h.queueError ? `: <strong>cannot read it: ${escapeHtml(h.queueError)}</strong>` : ''}. ` +
    `The age of the oldest message is not among its attributes (it is the CloudWatch metric ApproximateAgeOfOldestMessage): shown is the oldest failing head the table knows` +
    `${oldest ? ` — <a href="${escapeHtml(sourceHref(oldest.sourceId))}">${escapeHtml(oldest.sourceId)}</a> seq ${escapeHtml(oldest.seq)}, sent ${escapeHtml(new Date(oldest.sentAt).toISOString())}` : ''}.</p>`;
  const rows = h.tasks
    .map(
      (t) =>
        `<tr data-task="${escapeHtml(t.taskId)}"><td class="src">${escapeHtml(t.taskId)}${t.self ? ' <span class="muted">(this task)</span>' : ''}</td>` +
        `<td><span class="badge b-${escapeHtml(t.breaker)}">${escapeHtml(t.breaker)}</span>${t.breakerSince ? ` <span class="muted">for ${escapeHtml(humanDuration(v.generatedAt - t.breakerSince))}</span>` : ''}</td>` +
        `<td class="num">${escapeHtml(t.inFlightSources)}</td><td class="num">${escapeHtml(t.heldMessages)}</td><td class="num">${escapeHtml(t.retryingSources)}</td>` +
        `<td class="num">${escapeHtml(t.deliveredSinceStart)}</td><td class="num">${escapeHtml(humanDuration(v.generatedAt - t.startedAt))}</td><td class="num">${t.self ? 'now' : `${escapeHtml(humanDuration(t.ageMs))} ago`}</td></tr>`,
    )
    .join('');
  const tasks =
    `<table id="tasks"><thead><tr><th>Task</th><th>Circuit breaker</th><th>Sources in flight</th><th>Messages held</th><th>Retrying here</th><th>Delivered since start</th><th>Up</th><th>Heard</th></tr></thead><tbody>${rows}</tbody></table>` +
    (h.tasksError ? `<p class="muted">Cannot read the other tasks' lines: ${escapeHtml(h.tasksError)}</p>` : '');
  return `${banner}<h2>App health — all tasks</h2>${cards}${note}${tasks}`;
}
