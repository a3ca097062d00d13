import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configMarkdown, envExample } from '../../scripts/config-docs';
import { Metrics } from '../../src/observability/metrics';
import { registerTableGauges } from '../../src/observability/table-metrics';
import { TableStatusCache } from '../../src/observability/table-status';
import { Worker } from '../../src/worker/worker';
import { MemoryFifoQueue, MemoryLedger, QUEUE_ID, ScriptedApp } from '../support/in-memory';

const root = resolve(__dirname, '..', '..');
const read = (name: string) => readFileSync(resolve(root, name), 'utf8');

describe('documentation stays in step with the configuration schema', () => {
  it('.env.example is the one rendered from the schema (tsx scripts/config-docs.ts --env > .env.example)', () => {
    expect(read('.env.example')).toBe(envExample());
  });

  it('the README holds the configuration table rendered from the schema (tsx scripts/config-docs.ts --markdown)', () => {
    expect(read('README.md')).toContain(configMarkdown());
  });

  it('the README names every metric the worker registers', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const opts = { queueId: QUEUE_ID, maxConcurrentSources: 1, receiveConcurrency: 1, visibilityTimeoutSeconds: 30, retry: { baseSeconds: 1, maxSeconds: 2 }, deleteFlushMs: 1, ledgerCacheSize: 1, recordFailures: false, appTimeoutMs: 1000 };
    m.attach(new Worker(opts, { queue: new MemoryFifoQueue(), ledger: new MemoryLedger(), app: new ScriptedApp() }));
    const empty = { sources: [], counts: { stuck: 0, retrying: 0, parked: 0, replaying: 0, closing: 0 }, truncated: false };
    registerTableGauges(m.registry, new TableStatusCache({ list: async () => empty }, { thresholds: { attempts: 1, afterMs: 1 }, refreshMs: 1000 }), 60);
    const readme = read('README.md');
    for (const metric of await m.registry.getMetricsAsJSON()) expect(readme).toContain(metric.name);
  });
});
