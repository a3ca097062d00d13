import { median, slope } from './lib/stats';
import { CONSUMERS, messagesOf, roundTripsPerMessageMs, shapeOf, type ConsumerKind, type Scenario } from './scenarios';
import type { RunResult } from './runner';

export interface Target {
  id: string;
  text: string;
  ok: boolean | null;
  measured: string;
}

export interface GrowthTrend {
  firstThirdMb: number;
  lastThirdMb: number;
  /** Lowest V8 heap in use in the first and last third (what survives collection; a leak lifts it). */
  heapFloorMb: { first: number; last: number } | null;
  growthPct: number;
  mbPer1000Messages: number;
  samples: number;
}

/**
 * Memory trend after warm-up: RSS samples taken while the second through last fifth of the
 * messages were done, split in thirds by time; growth = median of the last third over the first.
 */
export function growthTrend(r: RunResult): GrowthTrend | null {
  const warm = r.messages * 0.2;
  const post = r.rss.filter((s) => s.done >= warm && s.done < r.messages);
  if (post.length < 6) return null;
  const third = Math.floor(post.length / 3);
  const first = median(post.slice(0, third).map((s) => s.mb));
  const last = median(post.slice(-third).map((s) => s.mb));
  const tFrom = (post[0] as { t: number }).t;
  const tTo = (post[post.length - 1] as { t: number }).t;
  const span = (tTo - tFrom) / 3;
  const heapIn = (a: number, b: number) => r.heap.filter((h) => h.t >= a && h.t <= b).map((h) => h.usedMb);
  const hFirst = heapIn(tFrom, tFrom + span);
  const hLast = heapIn(tTo - span, tTo);
  return {
    firstThirdMb: first,
    lastThirdMb: last,
    heapFloorMb: hFirst.length > 0 && hLast.length > 0 ? { first: Math.min(...hFirst), last: Math.min(...hLast) } : null,
    growthPct: ((last - first) / first) * 100,
    mbPer1000Messages: slope(post.map((s) => ({ x: s.done / 1000, y: s.mb }))),
    samples: post.length,
  };
}

const find = (results: RunResult[], s: string, c: ConsumerKind) => results.find((r) => r.scenario === s && r.consumer === c);
const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || !Number.isFinite(n) ? '–' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function targets(results: RunResult[], maxConcurrentSources: number, scenarios: Scenario[]): Target[] {
  const out: Target[] = [];
  const relay = (s: string) => find(results, s, 'fifo-relay');
  const rate = (r: RunResult | undefined) => r?.msgsPerSec;
  const share = (id: string, text: string, r: RunResult | undefined, base: number | undefined, min: number, baseText: string) => {
    if (!r || base === undefined) return;
    const v = r.msgsPerSec / base;
    out.push({ id, text, ok: v >= min, measured: `${fmt(v * 100)}% (${fmt(r.msgsPerSec)} vs ${baseText} ${fmt(base)} msgs/s)` });
  };
  const s1 = scenarios.find((s) => s.id === 'S1');
  const r1 = relay('S1');
  const a2s1 = rate(find(results, 'S1', 'bare-loop-batched'));
  if (s1 && r1 && a2s1 !== undefined) {
    const design = Math.min(s1.sources, maxConcurrentSources) / (s1.latencyMs / 1000);
    const ideal = Math.min(design, a2s1);
    share('S1 vs ideal', 'S1 ≥ 80% of min(min(sources, maxConcurrentSources) / latency, (a2))', r1, ideal, 0.8, `min(bound ${fmt(design)}, (a2))`);
  }
  const r2 = relay('S2');
  share('S2 vs (a)', 'S2 ≥ 100% of (a)', r2, rate(find(results, 'S2', 'bare-loop')), 1, '(a)');
  share('S2 vs (a2)', 'S2 ≥ 80% of (a2)', r2, rate(find(results, 'S2', 'bare-loop-batched')), 0.8, '(a2)');
  share('S4 vs (a)', 'S4 ≥ 60% of (a)', relay('S4'), rate(find(results, 'S4', 'bare-loop')), 0.6, '(a)');
  const a2 = find(results, 'S2', 'bare-loop');
  if (r2 && a2) {
    out.push({ id: 'S2 CPU', text: 'S2 CPU ms per message ≤ (a)\'s', ok: r2.cpuMsPerMessage <= a2.cpuMsPerMessage, measured: `${fmt(r2.cpuMsPerMessage, 2)} vs ${fmt(a2.cpuMsPerMessage, 2)} ms` });
  }
  if (r2) {
    out.push({ id: 'S2 SQS', text: 'S2 SQS requests per message ≤ 0.25', ok: r2.sqsPerMessage <= 0.25, measured: `${fmt(r2.sqsPerMessage, 3)} (${describeSqs(r2)})` });
    out.push({
      id: 'S2 DDB',
      text: 'S2 DynamoDB write calls per message ≤ 0.25 (write units stay 1 per message)',
      ok: (r2.ddbWritesPerMessage ?? 0) <= 0.25,
      measured: `${fmt(r2.ddbWritesPerMessage, 3)} calls, ${fmt(r2.ddbWriteItemsPerMessage, 3)} items written per message (${fmt(r2.ddbWrites)} calls, ${fmt(r2.ddbReads)} reads)`,
    });
  }
  const r3 = relay('S3');
  if (r3) {
    out.push({ id: 'S3 RSS', text: 'S3 peak RSS ≤ 150 MB', ok: r3.peakRssMb <= 150, measured: `${fmt(r3.peakRssMb, 1)} MB` });
    const g = growthTrend(r3);
    out.push({
      id: 'S3 trend',
      text: 'S3 no RSS growth trend after warm-up (last third ≤ first third + 10%)',
      ok: g ? g.growthPct <= 10 : null,
      measured: g
        ? `${fmt(g.firstThirdMb, 1)} → ${fmt(g.lastThirdMb, 1)} MB (${g.growthPct >= 0 ? '+' : ''}${fmt(g.growthPct, 1)}%), ${fmt(g.mbPer1000Messages, 2)} MB per 1,000 messages` +
          (g.heapFloorMb ? `; heap in use ${fmt(g.heapFloorMb.first, 1)} → ${fmt(g.heapFloorMb.last, 1)} MB` : '')
        : 'too few samples',
    });
  }
  const s5 = scenarios.find((s) => s.id === 'S5');
  const r5 = relay('S5');
  if (s5 && r5?.addedLatencyMs) {
    const trips = roundTripsPerMessageMs(s5);
    out.push({
      id: 'S5 latency',
      text: `S5 added latency per message of a source vs its round trips (${trips} ms)`,
      ok: null,
      measured: `p50 ${fmt(r5.addedLatencyMs.p50, 1)} ms = ${fmt(r5.addedLatencyMs.p50 / trips, 2)} × (ledger write ${s5.network?.ddbMs} + delete ${s5.network?.sqsMs} + receive ${s5.network?.sqsMs} ms); p99 ${fmt(r5.addedLatencyMs.p99, 1)} ms`,
    });
  }
  for (const r of results.filter((x) => x.consumer === 'fifo-relay')) {
    out.push({ id: `${r.scenario} order`, text: `${r.scenario} fifo-relay order violations = 0, all delivered`, ok: r.orderViolations === 0 && r.complete, measured: `${r.orderViolations} violations, ${fmt(r.delivered)}/${fmt(r.messages)} delivered` });
  }
  return out;
}

function describeSqs(r: RunResult): string {
  return Object.entries(r.sqsByAction)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The printed table: one block per scenario, consumers side by side, then the targets. */
export function renderTable(results: RunResult[], scenarios: Scenario[], tgts: Target[]): string {
  const lines: string[] = [];
  const cols = [
    ['consumer', 27, false],
    ['msgs/s', 8, true],
    ['vs (a)', 7, true],
    ['added p50/p99 ms', 17, true],
    ['SQS/msg', 8, true],
    ['DDB wr/msg', 11, true],
    ['DDB items/msg', 14, true],
    ['peak RSS MB', 12, true],
    ['order viol.', 12, true],
    ['CPU ms/msg', 10, true],
    ['CPU% c/sqs/ddb/app', 19, true],
  ] as const;
  const header = cols.map(([t, w, r]) => pad(t, w, r)).join(' ');
  for (const s of scenarios) {
    const rows = results.filter((r) => r.scenario === s.id);
    if (rows.length === 0) continue;
    lines.push('');
    lines.push(`${s.id}  ${shapeOf(s)} — ${s.purpose}`);
    lines.push(header);
    const a = rows.find((r) => r.consumer === 'bare-loop');
    for (const r of rows) {
      const cells = [
        CONSUMERS[r.consumer].label,
        fmt(r.msgsPerSec),
        a ? `${fmt((r.msgsPerSec / a.msgsPerSec) * 100)}%` : '–',
        r.addedLatencyMs ? `${fmt(r.addedLatencyMs.p50, 1)} / ${fmt(r.addedLatencyMs.p99, 1)}` : '–',
        fmt(r.sqsPerMessage, 3),
        r.ddbWritesPerMessage === null ? '–' : fmt(r.ddbWritesPerMessage, 3),
        r.ddbWriteItemsPerMessage === null || r.ddbWriteItemsPerMessage === undefined ? '–' : fmt(r.ddbWriteItemsPerMessage, 3),
        fmt(r.peakRssMb, 1),
        r.orderViolations === null ? '–' : fmt(r.orderViolations),
        fmt(r.cpuMsPerMessage, 2),
        [r.cpuPct.consumer, r.cpuPct.sqs, r.cpuPct.ddb, r.cpuPct.harness].map((n) => fmt(n)).join('/'),
      ];
      lines.push(cells.map((c, i) => pad(c, cols[i]?.[1] ?? 0, cols[i]?.[2] ?? false)).join(' ') + (r.complete ? '' : `  (${fmt(r.delivered)}/${fmt(messagesOf(s))} in ${fmt(r.seconds, 1)} s)`));
      if (r.repeats) lines.push(`    ${r.repeats.length} runs: ${r.repeats.map((x) => fmt(x)).join(', ')} msgs/s (median shown)`);
      if (r.gapParts) {
        const g = r.gapParts;
        lines.push(
          `    added latency split (p50/p99 ms): app answer → worker's "delivered" log ${fmt(g.answerToDeliveredLog.p50)}/${fmt(g.answerToDeliveredLog.p99)}, ` +
            `→ app receives the source's next ${fmt(g.deliveredLogToNextArrival.p50)}/${fmt(g.deliveredLogToNextArrival.p99)}; app call as the worker times it ${fmt(g.appCallAsSeenByWorker.p50)}/${fmt(g.appCallAsSeenByWorker.p99)}`,
        );
      }
      for (const n of r.notes.filter((n) => !n.startsWith('stopped after'))) lines.push(`    note: ${n}`);
    }
  }
  lines.push('');
  lines.push('Targets');
  for (const t of tgts) lines.push(`  ${t.ok === null ? 'INFO ' : t.ok ? 'PASS ' : 'SHORT'}  ${pad(t.text, 72)} ${t.measured}`);
  return lines.join('\n');
}
