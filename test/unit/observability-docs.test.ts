import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Metrics } from '../../src/observability/metrics';
import { registerTableGauges } from '../../src/observability/table-metrics';
import { TableStatusCache } from '../../src/observability/table-status';
import { Worker } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp } from '../support/in-memory';

interface Row {
  name: string;
  type: string;
  labels: string[];
}

/** The metric table rows of docs/observability.md: | `name` | type | `a`, `b` or — | meaning |. */
function documented(): Row[] {
  const text = readFileSync(resolve(__dirname, '..', '..', 'docs', 'observability.md'), 'utf8');
  return text
    .split('\n')
    .filter((l) => /^\| `fifo_relay_[a-z0-9_*]+` \|/.test(l))
    .map((l) => {
      const [name, type, labels] = l.split('|').slice(1, 4).map((c) => c.trim());
      return { name: name!.replaceAll('`', ''), type: type!, labels: [...labels!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!) };
    });
}

/** Every family a running relay registers: the worker's, prom-client's defaults and the table gauges. */
function registered(): Array<{ name: string; type: string; labelNames: string[] }> {
  const m = new Metrics({ defaultMetrics: true });
  const opts = { queueId: QUEUE_ID, maxConcurrentSources: 1, receiveConcurrency: 1, visibilityTimeoutSeconds: 30, retry: { baseSeconds: 1, maxSeconds: 2 }, deleteFlushMs: 1, ledgerCacheSize: 1, recordFailures: false, appTimeoutMs: 1000 };
  m.attach(new Worker(opts, { queue: new MemoryFifoQueue(), ledger: new MemoryLedger(), app: new ScriptedApp() }));
  const empty = { sources: [], counts: { stuck: 0, retrying: 0, parked: 0, replaying: 0, closing: 0 }, truncated: false };
  registerTableGauges(m.registry, new TableStatusCache({ list: async () => empty }, { thresholds: { attempts: 1, afterMs: 1 }, refreshMs: 1000 }), 60);
  return (m.registry.getMetricsAsArray() as unknown as Array<{ name: string; type: string; labelNames: readonly string[] }>).map((x) => ({ name: x.name, type: x.type, labelNames: [...x.labelNames] }));
}

const glob = (pattern: string) => new RegExp(`^${pattern.replaceAll('*', '[a-z0-9_]+')}$`);

describe('docs/observability.md names exactly the metric families the relay registers', () => {
  const rows = documented();
  const families = registered();
  const exact = new Map(rows.filter((r) => !r.name.includes('*')).map((r) => [r.name, r]));
  const patterns = rows.filter((r) => r.name.includes('*'));

  it('reads the table (so an empty or renamed table cannot pass)', () => {
    expect(exact.size).toBeGreaterThan(20);
    expect(patterns.map((p) => p.name)).toEqual(['fifo_relay_process_*', 'fifo_relay_nodejs_*']);
  });

  it('documents every registered family, with its type and labels', () => {
    const problems: string[] = [];
    for (const f of families) {
      const row = exact.get(f.name);
      if (row) {
        if (row.type !== f.type) problems.push(`${f.name}: documented as ${row.type}, registered as ${f.type}`);
        if (row.labels.join(',') !== f.labelNames.join(',')) problems.push(`${f.name}: documented labels [${row.labels.join(', ')}], registered [${f.labelNames.join(', ')}]`);
      } else if (!patterns.some((p) => glob(p.name).test(f.name))) {
        problems.push(`${f.name}: registered but not in docs/observability.md`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('names no family that does not exist', () => {
    const names = new Set(families.map((f) => f.name));
    expect([...exact.keys()].filter((n) => !names.has(n))).toEqual([]);
    // Our own families are documented one by one; the patterns cover only prom-client's defaults.
    const ours = families.filter((f) => !exact.has(f.name)).map((f) => f.name);
    for (const p of patterns) expect([p.name, ours.some((n) => glob(p.name).test(n))]).toEqual([p.name, true]);
  });
});
