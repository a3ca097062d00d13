import type { SourceSummary } from './source-condition';

/**
 * "The app is down" as one signal: many failing sources that fail the same app-wide way, or a
 * task whose circuit breaker is not closed, is one condition of the app — not N stuck sources an
 * operator should park one by one. Pure, so the page, `fifo-relay status` and the tests agree.
 */

/** How a failing head failed, as far as it says anything about the app as a whole. */
export type FailureKind = 'network' | 'timeout' | 'server' | 'throttled' | 'rejected' | 'other';

/** What a task last wrote about itself (adapters/task-health.ts). */
export interface TaskHealth {
  taskId: string;
  seenAt: number;
  startedAt: number;
  breaker: string;
  breakerSince?: number;
  inFlightSources: number;
  heldMessages: number;
  retryingSources: number;
  deliveredSinceStart: number;
  stopping: boolean;
}

export interface AppCondition {
  /** down: the app fails everywhere; ok otherwise (a few failing sources are their own problem). */
  state: 'down' | 'ok';
  failingSources: number;
  /** The kind most failing heads share, and how many share it. */
  dominant?: { kind: FailureKind; sources: number; example: string };
  /** Live tasks by breaker: holding = open or probing (the app looks down to it), ramping = recovering. */
  breakers: { closed: number; holding: number; ramping: number; tasks: number };
  /** One line for an operator; present when down. */
  summary?: string;
}

/** Below this many failing sources a shared error is not yet an app-wide signal. */
export const APP_DOWN_MIN_SOURCES = 3;
/** Share of the failing sources that must fail the same app-wide way. */
export const APP_DOWN_SHARE = 0.8;

// 429 is the app asking to slow down, which the flow gate already does: not "down".
const APP_WIDE: ReadonlySet<FailureKind> = new Set(['network', 'timeout', 'server']);

export function failureKind(lastError: string, lastStatus: number | undefined): FailureKind {
  if (lastStatus !== undefined) {
    if (lastStatus === 429 || lastStatus === 503) return lastStatus === 429 ? 'throttled' : 'server';
    if (lastStatus >= 500) return 'server';
    if (lastStatus >= 400) return 'rejected';
  }
  const e = lastError.toLowerCase();
  if (/econnrefused|econnreset|enotfound|eai_again|ehostunreach|enetunreach|socket hang up|network error|fetch failed/.test(e)) return 'network';
  if (/no answer within|timed? ?out|etimedout/.test(e)) return 'timeout';
  return 'other';
}

const KIND_TEXT: Record<FailureKind, string> = {
  network: 'cannot reach the app',
  timeout: 'the app does not answer in time',
  server: 'the app answers 5xx',
  throttled: 'the app answers 429',
  rejected: 'the app rejects the messages (4xx)',
  other: 'other errors',
};

/** Tasks not heard from within staleMs are left out: a stopped task's last word is not its breaker now. */
export function judgeApp(sources: readonly SourceSummary[], tasks: readonly TaskHealth[], now: number, staleMs: number): AppCondition {
  const failing = sources.filter((s) => (s.condition === 'stuck' || s.condition === 'retrying') && s.head);
  const byKind = new Map<FailureKind, { sources: number; example: string }>();
  for (const s of failing) {
    const kind = failureKind(s.head?.lastError ?? '', s.head?.lastStatus);
    const k = byKind.get(kind) ?? { sources: 0, example: s.head?.lastError ?? '' };
    k.sources++;
    byKind.set(kind, k);
  }
  let dominant: AppCondition['dominant'];
  for (const [kind, k] of byKind) if (!dominant || k.sources > dominant.sources) dominant = { kind, ...k };
  const live = tasks.filter((t) => now - t.seenAt <= staleMs && !t.stopping);
  const holding = live.filter((t) => t.breaker === 'open' || t.breaker === 'probing').length;
  const ramping = live.filter((t) => t.breaker === 'ramping').length;
  const breakers = { closed: live.length - holding - ramping, holding, ramping, tasks: live.length };
  const shared = dominant !== undefined && APP_WIDE.has(dominant.kind) && failing.length >= APP_DOWN_MIN_SOURCES && dominant.sources >= APP_DOWN_SHARE * failing.length;
  const out: AppCondition = { state: shared || holding > 0 ? 'down' : 'ok', failingSources: failing.length, breakers, ...(dominant ? { dominant } : {}) };
  if (out.state === 'down') {
    const what = shared && dominant ? `${KIND_TEXT[dominant.kind]}: ${dominant.sources} of ${failing.length} failing sources fail this way` : `${failing.length} failing source(s)`;
    const brk = live.length > 0 ? `; circuit breaker open on ${holding} of ${live.length} task(s)` : '';
    out.summary = `the app looks down — ${what}${brk}. Fix the app: these sources resume by themselves once it answers; parking them does not help`;
  }
  return out;
}
