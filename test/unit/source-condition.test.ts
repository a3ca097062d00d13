import { countByCondition, extremes, humanDuration, summarize, worstFirst, type SourceRecord } from '../../src/core/source-condition';
import { escapeHtml, renderStatusPage } from '../../src/observability/status-page';
import { renderSourcePage } from '../../src/observability/status-source-page';
import type { StatusView } from '../../src/observability/status-view';

const now = 10_000_000_000;
const t = { attempts: 5, afterMs: 15 * 60_000 };
const failing = (sourceId: string, attempt: number, agoMs: number, leftMs?: number): SourceRecord => ({
  sourceId,
  state: 'active',
  head: { seq: '1', messageId: 'm', attempt, since: now - agoMs, failedAt: now, nextAttemptAt: now, lastError: 'e', ...(leftMs === undefined ? {} : { retentionDeadlineAt: now + leftMs }) },
});

describe('source condition', () => {
  it('stuck by attempts or by time, else retrying; a parked source is parked whatever its head', () => {
    expect(summarize(failing('a', 5, 1000), t, now).condition).toBe('stuck');
    expect(summarize(failing('a', 1, 15 * 60_000), t, now).condition).toBe('stuck');
    expect(summarize(failing('a', 4, 1000), t, now).condition).toBe('retrying');
    const parked = summarize({ ...failing('a', 9, 1000, 5), state: 'parked' }, t, now);
    expect(parked).toMatchObject({ condition: 'parked' });
    // Parked is not safe by itself: the head still counts against SQS retention until the journal holds it.
    expect(parked.retentionLeftMs).toBe(5);
    expect(summarize({ ...failing('a', 9, 1000, 5), state: 'parked', headJournaled: true }, t, now).retentionLeftMs).toBeUndefined();
    const journaled = failing('a', 9, 1000, 5);
    const safe = summarize({ ...journaled, state: 'parked', head: { ...journaled.head!, journaledAt: now - 1 } }, t, now);
    expect(safe.retentionLeftMs).toBeUndefined();
    const closing = summarize({ ...failing('c', 1, 1000, 7), state: 'closing' }, t, now);
    expect(closing).toMatchObject({ condition: 'closing', retentionLeftMs: 7 });
    expect(extremes([closing, safe])).toEqual({ leastRetentionLeftMs: 7 });
    expect(summarize({ sourceId: 'x', state: 'active' }, t, now).condition).toBe('ok');
  });

  it('orders worst first: stuck by least time left, then retrying, then parked and replaying', () => {
    const rows = [
      { sourceId: 'r', state: 'replaying' as const, stateSince: now - 1 },
      failing('retry', 1, 1000, 1000),
      { sourceId: 'p', state: 'parked' as const, stateSince: now - 5 },
      failing('stuck-late', 9, 60_000, 10 * 86_400_000),
      failing('stuck-soon', 9, 1000, 60_000),
      failing('stuck-unknown', 9, 99_000_000),
    ].map((r) => summarize(r, t, now));
    expect(rows.sort(worstFirst).map((r) => r.sourceId)).toEqual(['stuck-soon', 'stuck-late', 'stuck-unknown', 'retry', 'p', 'r']);
    expect(countByCondition(rows)).toEqual({ stuck: 3, retrying: 1, parked: 1, replaying: 1, closing: 0 });
    expect(extremes(rows)).toEqual({ oldestStuckMs: 99_000_000, leastRetentionLeftMs: 1000 });
  });

  it('writes durations short', () => {
    expect([45_000, 12 * 60_000, 3.5 * 3_600_000, 9.2 * 86_400_000, -90_000].map(humanDuration)).toEqual(['45s', '12m', '3.5h', '9.2d', '-90s']);
  });
});

describe('the status page', () => {
  it('escapes every untrusted value', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&\``)).toBe('&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#96;');
    const evil = '<script>alert(1)</script>';
    const view: StatusView = {
      generatedAt: now,
      task: { inFlightSources: 0, heldMessages: 0, heldBytes: 0, breaker: 'closed', retryingSources: 0, oldestRetryingHeadAgeSeconds: 0, stopping: false, retrying: [] },
      flow: {} as StatusView['flow'],
      throughput: { perSecond10s: 0, perSecond60s: 0, deliveredSinceStart: 0 },
      health: {
        app: { state: 'down', failingSources: 1, breakers: { closed: 0, holding: 1, ramping: 0, tasks: 1 }, summary: `the app looks down — ${evil}` },
        tasks: [{ taskId: evil, seenAt: now, startedAt: now - 1000, breaker: evil, inFlightSources: 0, heldMessages: 0, retryingSources: 0, deliveredSinceStart: 0, stopping: false, ageMs: 0, self: false }],
        queueError: evil,
      },
      table: {
        readAt: now,
        ageMs: 0,
        error: `<b>denied</b>`,
        thresholds: t,
        counts: { stuck: 1, retrying: 0, parked: 0, replaying: 0, closing: 0 },
        truncated: false,
        sources: [summarize({ ...failing(evil, 9, 1000, 1000), stateReason: evil }, t, now)].map((r) => ({ ...r, head: { ...r.head!, lastError: evil } })),
      },
      retentionSeconds: 1_209_600,
    };
    const html = renderStatusPage(view);
    expect(html).not.toContain(evil);
    expect(html).not.toContain('<b>denied</b>');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    // The page's own script is the only one.
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).toMatch(/<title>APP DOWN · 1 stuck — fifo-relay<\/title>/);
  });

  it('escapes the drill-down too, and quotes an untrusted id in the commands it offers', () => {
    const evil = `x'; rm -rf / #<script>`;
    const source = summarize({ ...failing(evil, 9, 1000, 1000), state: 'parked', stateReason: evil, headJournaled: true }, t, now);
    const html = renderSourcePage({
      generatedAt: now,
      sourceId: evil,
      retentionSeconds: 1_209_600,
      thresholds: t,
      story: { source, journal: { entries: 1, firstSeq: '1', lastSeq: '1' }, audit: [{ at: now, action: 'park', actor: evil, reason: evil }] },
    });
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain(evil);
    expect(html.match(/<script>/g)).toHaveLength(1);
    // The shell word is single-quoted with the quote escaped: copying it runs nothing but the command.
    expect(html).toContain(escapeHtml(`fifo-relay skip 'x'\\''; rm -rf / #<script>' --seq 1 --reason 'REASON'`));
  });
});
