import { createHash } from 'node:crypto';
import { humanDuration, type SourceSummary } from '../core/source-condition';
import { renderHealth } from './status-page-health';
import { card, escapeHtml, sourceHref } from './status-html';
import type { StatusView } from './status-view';

export { escapeHtml } from './status-html';

const STYLE = `
:root{--bg:#0f1419;--panel:#182029;--line:#26303b;--text:#e6edf3;--muted:#8b98a5;--red:#ff6b6b;--amber:#f5b942;--blue:#58a6ff;--violet:#bc8cff;--green:#3fb950}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--text)}
a{color:var(--blue);text-decoration:none}a:hover{text-decoration:underline}
header{display:flex;align-items:baseline;gap:16px;padding:14px 24px;border-bottom:1px solid var(--line)}
h1{font-size:18px;margin:0}h2{font-size:14px;margin:24px 0 8px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em}
.muted{color:var(--muted)}main{padding:0 24px 24px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;margin-top:16px}
.card{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .n{font-size:28px;font-weight:600}.card .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.05em}
.card.stuck .n{color:var(--red)}.card.retrying .n{color:var(--amber)}.card.parked .n{color:var(--blue)}.card.replaying .n{color:var(--violet)}.card.zero .n{color:var(--muted)}
table{width:100%;border-collapse:collapse;background:var(--panel);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}th{color:var(--muted);font-weight:500;font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.err{max-width:420px;overflow-wrap:anywhere;color:var(--muted)}td.src{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.b-stuck,.b-open,.b-probing{background:#4a1d1f;color:var(--red)}.b-retrying,.b-ramping{background:#4a3a12;color:var(--amber)}.b-parked{background:#12304f;color:var(--blue)}.b-replaying,.b-closing{background:#33214f;color:var(--violet)}
.b-closed,.b-ok,.b-active{background:#12331c;color:var(--green)}
.left-critical{color:#fff;background:#b42318;border-radius:4px;padding:1px 6px;font-weight:700}.left-warn{color:var(--amber);font-weight:600}
.banner{margin-top:16px;padding:10px 14px;border-radius:8px;background:#4a1d1f;color:#ffd7d5}.banner strong{color:#fff}.ok{color:var(--green)}
.app-down{border:1px solid var(--red);font-size:15px}
.srcid{font:600 18px/1.3 ui-monospace,monospace;margin:0 0 12px;overflow-wrap:anywhere}
dl.facts{display:grid;grid-template-columns:200px 1fr;gap:6px 16px;margin:0;background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;overflow-wrap:anywhere}
.cmds{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:8px 14px}
.cmd{display:flex;align-items:center;gap:10px;padding:6px 0;border-bottom:1px solid var(--line)}.cmd:last-child{border-bottom:0}
.cmd .what{width:200px;color:var(--muted);flex:none}.cmd code{flex:1;user-select:all;font-family:ui-monospace,monospace;background:#0b1016;padding:4px 8px;border-radius:4px;overflow-wrap:anywhere}
button.copy{background:#26303b;color:var(--text);border:1px solid #3a4654;border-radius:4px;padding:3px 10px;cursor:pointer;font:inherit;font-size:12px}
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
    fetch(location.pathname + location.search, { headers: { accept: 'text/html' }, cache: 'no-store' })
      .then(function(res){ if (!res.ok && res.status !== 404) throw new Error(res.status); return res.text(); })
      .then(function(html){
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var next = doc.getElementById('content'), cur = document.getElementById('content');
        if (next && cur) cur.replaceWith(document.importNode(next, true));
        document.title = doc.title;
        fetchedAt = Date.now(); failed = false; tick();
      })
      .catch(function(){ failed = true; tick(); });
  }
  document.addEventListener('click', function(e){
    var b = e.target;
    if (!b || !b.classList || !b.classList.contains('copy')) return;
    var code = b.parentNode.querySelector('code');
    if (navigator.clipboard && code) navigator.clipboard.writeText(code.textContent).then(function(){ b.textContent = 'copied'; }, function(){ b.textContent = 'select it'; });
  });
  setInterval(tick, 1000);
  setInterval(refresh, REFRESH_MS);
})();`;

const REFRESH_MS = 3000;
const script = SCRIPT.replace('REFRESH_MS', String(REFRESH_MS));
const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Only this page's own style and script may run; it loads nothing else and posts nowhere. */
export const STATUS_PAGE_CSP = `default-src 'none'; style-src ${sha(STYLE)}; script-src ${sha(script)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** The one document every view is: the script re-fetches it and swaps #content and the title. */
export function pageShell(title: string, content: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>` +
    `<header><h1><a href="?">fifo-relay</a></h1><span class="muted">read-only status · actions are CLI commands, shown ready to copy</span>` +
    `<span class="muted" id="updated">updated 0 s ago</span></header>${content}` +
    `<footer>JSON: <code>/status</code> (and <code>/status?source=ID</code>) with <code>Accept: application/json</code> · metrics: <code>/metrics</code> · ` +
    `commands need PROGRESS_TABLE and AWS_REGION as the worker has them · message bodies are never shown here: <code>fifo-relay show</code></footer>` +
    `<script>${script}</script></body></html>`
  );
}

export function retentionCell(r: SourceSummary, retentionSeconds: number): string {
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
    `<tr data-source="${escapeHtml(r.sourceId)}"><td class="src"><a href="${escapeHtml(sourceHref(r.sourceId))}">${escapeHtml(r.sourceId)}</a></td>` +
    `<td><span class="badge b-${escapeHtml(r.condition)}">${escapeHtml(r.condition)}</span></td>` +
    `<td class="num">${forMs === undefined ? '' : escapeHtml(humanDuration(forMs))}</td>` +
    `<td class="num">${r.head ? escapeHtml(r.head.attempt) : ''}</td>` +
    `<td class="num">${escapeHtml(r.head?.seq ?? '')}</td>` +
    `<td class="num">${r.head?.lastStatus === undefined ? '' : escapeHtml(r.head.lastStatus)}</td>` +
    `<td class="num retention">${retentionCell(r, v.retentionSeconds)}</td>` +
    `<td class="err">${escapeHtml(detail.slice(0, 300))}</td></tr>`
  );
}

/** The tab says what matters without switching to it: the app's state, then the counts. */
export function listTitle(v: StatusView): string {
  const c = v.table.counts;
  const parts = [c.stuck ? `${c.stuck} stuck` : '', c.retrying ? `${c.retrying} retrying` : '', c.parked ? `${c.parked} parked` : '', c.replaying + c.closing ? `${c.replaying + c.closing} replaying` : ''].filter(Boolean);
  return `${v.health.app.state === 'down' ? 'APP DOWN · ' : ''}${parts.length ? parts.join(' · ') : 'all clear'} — fifo-relay`;
}

/** The list view: the app's health across tasks on top, then every troubled source worst first. */
export function renderStatusPage(v: StatusView): string {
  const c = v.table.counts;
  const t = v.table.thresholds;
  const rows = v.table.sources.map((r) => row(r, v)).join('');
  const content =
    `<main id="content">` +
    (v.table.error ? `<div class="banner" role="alert">Cannot read the progress table: ${escapeHtml(v.table.error)} (showing the last list read)</div>` : '') +
    renderHealth(v) +
    `<div class="cards">${card('stuck', c.stuck, 'stuck')}${card('retrying', c.retrying, 'retrying')}${card('parked', c.parked, 'parked')}` +
    `${card('replaying', c.replaying + c.closing, 'replaying')}${card('rate', v.throughput.perSecond10s, 'delivered/s · 10 s')}` +
    `${card('rate60', v.throughput.perSecond60s, 'delivered/s · 1 min')}</div>` +
    `<h2>Sources needing attention, worst first — all tasks${v.table.truncated ? ' (more than shown)' : ''}</h2>` +
    (rows
      ? `<table id="sources"><thead><tr><th>Source</th><th>Condition</th><th>For</th><th>Attempt</th><th>Head seq</th><th>HTTP</th><th>Time left before SQS retention</th><th>Last error / reason</th></tr></thead><tbody>${rows}</tbody></table>`
      : `<p class="ok" id="sources-none">No stuck, retrying, parked or replaying source.</p>`) +
    `<p class="muted">Table read <span id="table-age" data-age-ms="${escapeHtml(v.table.ageMs)}">${escapeHtml(Math.round(v.table.ageMs / 1000))} s ago</span>` +
    ` · stuck = ${escapeHtml(t.attempts)}+ attempts or failing ${escapeHtml(humanDuration(t.afterMs))}+ · queue retention ${escapeHtml(humanDuration(v.retentionSeconds * 1000))}` +
    ` · click a source for its details and commands${v.task.stopping ? ' · <strong>this task is stopping</strong>' : ''}</p></main>`;
  return pageShell(listTitle(v), content);
}
