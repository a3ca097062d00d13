import { createHash } from 'node:crypto';
import { humanDuration, type SourceSummary } from '../core/source-condition';
import type { StatusView } from './status-view';

/** Source ids, errors and reasons are untrusted text: every value goes through here. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
:root{--bg:#0f1419;--panel:#182029;--line:#26303b;--text:#e6edf3;--muted:#8b98a5;--red:#ff6b6b;--amber:#f5b942;--blue:#58a6ff;--violet:#bc8cff;--green:#3fb950}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--text)}
header{display:flex;align-items:baseline;gap:16px;padding:14px 24px;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0}h2{font-size:14px;margin:24px 0 8px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em}
.muted{color:var(--muted)}main{padding:0 24px 24px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;margin-top:16px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .n{font-size:28px;font-weight:600}.card .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.card.stuck .n{color:var(--red)}.card.retrying .n{color:var(--amber)}.card.parked .n{color:var(--blue)}.card.replaying .n{color:var(--violet)}.card.zero .n{color:var(--muted)}
table{width:100%;border-collapse:collapse;background:var(--panel);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}th{color:var(--muted);font-weight:500;font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.err{max-width:420px;overflow-wrap:anywhere;color:var(--muted)}td.src{font-family:ui-monospace,monospace}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.b-stuck{background:#4a1d1f;color:var(--red)}.b-retrying{background:#4a3a12;color:var(--amber)}.b-parked{background:#12304f;color:var(--blue)}.b-replaying,.b-closing{background:#33214f;color:var(--violet)}
.left-critical{color:#fff;background:#b42318;border-radius:4px;padding:1px 6px;font-weight:700}.left-warn{color:var(--amber);font-weight:600}
.banner{margin-top:16px;padding:10px 14px;border-radius:8px;background:#4a1d1f;color:#ffd7d5}.ok{color:var(--green)}
footer{padding:0 24px 24px;color:var(--muted);font-size:12px}`;

const SCRIPT = `
(function(){
  var fetchedAt = Date.now(), failed = false;
  function tick(){
    var since = Math.round((Date.now() - fetchedAt) / 1000);
    var u = document.getElementById('updated'); if (u) u.textContent = (failed ? 'worker unreachable, last update ' : 'updated ') + since + ' s ago';
    var r = document.getElementById('table-age');
    if (r) r.textContent = Math.round((Number(r.getAttribute('data-age-ms')) + Date.now() - fetchedAt) / 1000) + ' s ago';
  }
  function refresh(){
    fetch(location.pathname, { headers: { accept: 'text/html' }, cache: 'no-store' })
      .then(function(res){ if (!res.ok) throw new Error(res.status); return res.text(); })
      .then(function(html){
        var next = new DOMParser().parseFromString(html, 'text/html').getElementById('content');
        var cur = document.getElementById('content');
        if (next && cur) cur.replaceWith(document.importNode(next, true));
        fetchedAt = Date.now(); failed = false; tick();
      })
      .catch(function(){ failed = true; tick(); });
  }
  setInterval(tick, 1000);
  setInterval(refresh, REFRESH_MS);
})();`;

const REFRESH_MS = 3000;
const script = SCRIPT.replace('REFRESH_MS', String(REFRESH_MS));
const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only this page's own style and script may run; it loads nothing else and posts nowhere. */
export const STATUS_PAGE_CSP = `default-src 'none'; style-src ${sha(STYLE)}; script-src ${sha(script)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function retentionCell(r: SourceSummary, retentionSeconds: number): string {
  if (r.retentionLeftMs === undefined) {
    // "journaled" only when the journal was seen to hold this very head: anything else is not safe yet.
    if (r.headJournaled === true) return '<span class="muted">journaled</span>';
    return r.head || r.state === 'active' ? '<span class="muted">unknown</span>' : '<span class="muted">no failing head</span>';
  }
  const share = r.retentionLeftMs / (retentionSeconds * 1000);
  const cls = r.retentionLeftMs <= 3_600_000 || share < 0.1 ? 'left-critical' : share < 0.25 ? 'left-warn' : '';
  const text = r.retentionLeftMs <= 0 ? `past by ${humanDuration(-r.retentionLeftMs)}` : humanDuration(r.retentionLeftMs);
  return cls ? `<span class="${cls}">${escapeHtml(text)}</span>` : escapeHtml(text);
}

function row(r: SourceSummary, v: StatusView): string {
  const failing = r.condition === 'stuck' || r.condition === 'retrying';
  const forMs = failing ? (r.failingForMs ?? 0) : r.stateSince ? v.generatedAt - r.stateSince : undefined;
  const detail = failing ? (r.head?.lastError ?? '') : `${r.stateReason ?? ''}${r.stateActor ? ` — ${r.stateActor}` : ''}`;
  return (
    `<tr data-source="${escapeHtml(r.sourceId)}"><td class="src">${escapeHtml(r.sourceId)}</td>` +
    `<td><span class="badge b-${escapeHtml(r.condition)}">${escapeHtml(r.condition)}</span></td>` +
    `<td class="num">${forMs === undefined ? '' : escapeHtml(humanDuration(forMs))}</td>` +
    `<td class="num">${r.head ? escapeHtml(r.head.attempt) : ''}</td>` +
    `<td class="num">${escapeHtml(r.head?.seq ?? '')}</td>` +
    `<td class="num">${r.head?.lastStatus === undefined ? '' : escapeHtml(r.head.lastStatus)}</td>` +
    `<td class="num retention">${retentionCell(r, v.retentionSeconds)}</td>` +
    `<td class="err">${escapeHtml(detail.slice(0, 300))}</td></tr>`
  );
}

const card = (cls: string, n: number | string, label: string) => `<div class="card ${cls}${n === 0 ? ' zero' : ''}" data-count="${cls}"><div class="n">${escapeHtml(n)}</div><div class="l">${escapeHtml(label)}</div></div>`;

/** The whole page; the script re-fetches it and swaps #content, so there is one renderer only. */
export function renderStatusPage(v: StatusView): string {
  const c = v.table.counts;
  const t = v.table.thresholds;
  const rows = v.table.sources.map((r) => row(r, v)).join('');
  const content =
    `<main id="content">` +
    (v.table.error ? `<div class="banner" role="alert">Cannot read the progress table: ${escapeHtml(v.table.error)} (showing the last list read)</div>` : '') +
    `<div class="cards">${card('stuck', c.stuck, 'stuck')}${card('retrying', c.retrying, 'retrying')}${card('parked', c.parked, 'parked')}` +
    `${card('replaying', c.replaying + c.closing, 'replaying')}${card('rate', v.throughput.perSecond10s, 'delivered/s · 10 s')}` +
    `${card('rate60', v.throughput.perSecond60s, 'delivered/s · 1 min')}</div>` +
    `<h2>Sources needing attention, worst first — all tasks${v.table.truncated ? ' (more than shown)' : ''}</h2>` +
    (rows
      ? `<table id="sources"><thead><tr><th>Source</th><th>Condition</th><th>For</th><th>Attempt</th><th>Head seq</th><th>HTTP</th><th>Time left before SQS retention</th><th>Last error / reason</th></tr></thead><tbody>${rows}</tbody></table>`
      : `<p class="ok" id="sources-none">No stuck, retrying, parked or replaying source.</p>`) +
    `<h2>This task</h2><div class="cards">${card('in-flight', v.task.inFlightSources, 'sources in flight')}${card('held', v.task.heldMessages, 'messages held')}` +
    `${card('task-retrying', v.task.retryingSources, 'retrying here')}${card('delivered', v.throughput.deliveredSinceStart, 'delivered since start')}` +
    `${card(v.task.breaker === 'closed' ? 'breaker' : 'breaker stuck', v.task.breaker, 'circuit breaker')}</div>` +
    `<p class="muted">Table read <span id="table-age" data-age-ms="${escapeHtml(v.table.ageMs)}">${escapeHtml(Math.round(v.table.ageMs / 1000))} s ago</span>` +
    ` · stuck = ${escapeHtml(t.attempts)}+ attempts or failing ${escapeHtml(humanDuration(t.afterMs))}+ · queue retention ${escapeHtml(humanDuration(v.retentionSeconds * 1000))}` +
    `${v.task.stopping ? ' · <strong>this task is stopping</strong>' : ''}</p></main>`;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>fifo-relay status</title><style>${STYLE}</style></head><body>` +
    `<header><h1>fifo-relay</h1><span class="muted">read-only status · actions: <code>fifo-relay park | unpark | skip</code></span>` +
    `<span class="muted" id="updated">updated 0 s ago</span></header>${content}` +
    `<footer>JSON: <code>/status</code> with <code>Accept: application/json</code> · metrics: <code>/metrics</code></footer>` +
    `<script>${script}</script></body></html>`
  );
}
