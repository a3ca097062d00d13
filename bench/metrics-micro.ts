/**
 * What the metrics cost per message and per scrape, before and after, in one run:
 *   npx tsx bench/metrics-micro.ts [--ref main] [--ops 100000] [--rounds 5]
 * "before" is src/observability/metrics.ts as it is at the git ref (copied to bench/.tmp), "after"
 * is the working tree's. Both are driven by the same stand-in worker, so only the metrics differ.
 */
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Metrics } from '../src/observability/metrics';

interface MetricsLike {
  registry: { metrics(): Promise<string> };
  observeAws: (service: 'sqs' | 'dynamodb', action: string, outcome: 'ok' | 'error' | 'aborted', cost: { durationMs: number; items?: number }) => void;
  attach(worker: unknown): void;
}
type MetricsClass = new (opts?: { defaultMetrics?: boolean }) => MetricsLike;

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const ref = arg('ref', 'main');
const ops = Number(arg('ops', '100000'));
const rounds = Number(arg('rounds', '5'));
if (!Number.isInteger(ops) || ops <= 0 || !Number.isInteger(rounds) || rounds <= 0) {
  process.stderr.write('usage: tsx bench/metrics-micro.ts [--ref <git ref>] [--ops <positive integer>] [--rounds <positive integer>]\n');
  process.exit(2);
}

const root = resolve(__dirname, '..');
const tmp = resolve(root, 'bench', '.tmp', 'metrics-micro', 'src', 'observability');

/** The old file keeps its relative imports working from a copy under bench/.tmp/…/src/observability. */
async function loadBefore(): Promise<MetricsClass> {
  const text = execFileSync('git', ['show', `${ref}:src/observability/metrics.ts`], { cwd: root, encoding: 'utf8' });
  mkdirSync(tmp, { recursive: true });
  const file = resolve(tmp, 'metrics.ts');
  writeFileSync(file, text.replaceAll("'../", `'${root}/src/`));
  return ((await import(file)) as { Metrics: MetricsClass }).Metrics;
}

function standInWorker(): EventEmitter & Record<string, unknown> {
  const w = new EventEmitter() as EventEmitter & Record<string, unknown>;
  w.stats = () => ({ inFlightSources: 3, heldMessages: 10, heldBytes: 1000, retryingSources: 1, oldestRetryingHeadAgeSeconds: 2, stopping: false, breaker: 'closed' });
  w.flowStatus = () => ({ state: 'closed', timeInStateMs: { closed: 1000, open: 0, probing: 0, ramping: 0 }, waitingAtGate: 0 });
  return w;
}

const message = { sourceId: 's-1', messageId: 'm-1', seq: { text: '1' } };

function time(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  return ns;
}

async function timeAsync(n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / n;
}

async function measure(M: MetricsClass) {
  const m = new M({ defaultMetrics: false });
  const w = standInWorker();
  m.attach(w);
  const delivered = time(ops, (i) => w.emit('delivered', { message, attempt: 1, status: 200, durationMs: i % 50, ledger: 'advanced' }));
  const failed = time(ops, (i) =>
    w.emit('deliveryFailed', { message, attempt: 2, outcome: { kind: 'http-error', status: 503, durationMs: i % 50, detail: 'HTTP 503' }, backoffSeconds: 1, released: 0, held: false }),
  );
  const aws = time(ops, (i) => m.observeAws('sqs', 'DeleteMessageBatchCommand', 'ok', { durationMs: i % 20, items: 8 }));
  const scrape = await timeAsync(500, () => m.registry.metrics());
  const lines = (await m.registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#')).length;
  const withDefaults = new M({ defaultMetrics: true });
  withDefaults.attach(standInWorker());
  const scrapeDefaults = await timeAsync(200, () => withDefaults.registry.metrics());
  return { delivered, failed, aws, scrape, scrapeDefaults, lines };
}

async function main(): Promise<void> {
  const After = Metrics as unknown as MetricsClass;
  const Before = await loadBefore();
  // Alternate the two so neither profits alone from a warmer JIT; the best of the rounds is the
  // figure least disturbed by other work on the machine.
  const before: Awaited<ReturnType<typeof measure>>[] = [];
  const after: Awaited<ReturnType<typeof measure>>[] = [];
  for (let r = 0; r < rounds; r++) {
    before.push(await measure(Before));
    after.push(await measure(After));
  }
  type Figure = Exclude<keyof (typeof before)[0], 'lines'>;
  const best = (k: Figure, side: 0 | 1) => Math.min(...(side === 0 ? before : after).map((x) => x[k]));
  const rows: [string, Figure][] = [
    ['delivered event (counter ×2, histogram)', 'delivered'],
    ['deliveryFailed event (counter, histogram)', 'failed'],
    ['AWS call observed (counter, histogram ×2)', 'aws'],
    ['scrape, worker families only', 'scrape'],
    ['scrape, with default process metrics', 'scrapeDefaults'],
  ];
  process.stdout.write(`series lines a scrape exports after these events: before ${before[0]!.lines}, after ${after[0]!.lines}\n`);
  process.stdout.write(`metrics cost, ns/op (best of ${rounds} rounds; ${ops} ops per event row; before = ${ref})\n`);
  for (const [label, k] of rows) {
    const b = best(k, 0);
    const a = best(k, 1);
    process.stdout.write(`${label.padEnd(44)} before ${b.toFixed(0).padStart(9)}  after ${a.toFixed(0).padStart(9)}  (${((a / b - 1) * 100).toFixed(0)}%)\n`);
  }
}

void main();
