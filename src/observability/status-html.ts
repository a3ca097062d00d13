/** Source ids, errors and reasons are untrusted text: every value goes through here. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export const card = (cls: string, n: number | string, label: string) =>
  `<div class="card ${cls}${n === 0 ? ' zero' : ''}" data-count="${cls}"><div class="n">${escapeHtml(n)}</div><div class="l">${escapeHtml(label)}</div></div>`;

/** A link to one source's drill-down, relative to whichever path the page is served on. */
export const sourceHref = (sourceId: string) => `?source=${encodeURIComponent(sourceId)}`;

/** A word a POSIX shell takes as it is: bare when safe, else single-quoted (untrusted ids too). */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9._:@%+=,/-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
