/**
 * npm run bench — fifo-relay against three baselines on the embedded emulators, all in one run so
 * the ratios hold on a noisy machine. Prints a table and writes bench/results/bench-<time>.json.
 */
import '../src/dev/require-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { emulators, harnessDynamo, harnessSqs } from './lib/aws';
import { buildAll, projectRoot, scratchDir } from './lib/build';
import { parseFlags, positiveInt } from './lib/cli';
import { hookSignals } from './lib/processes';
import { renderTable, targets, growthTrend } from './report';
import { imageEnv, runOne, type RunContext, type RunResult } from './runner';
import { CONSUMERS, quick, SCENARIOS, shapeOf, type ConsumerKind, type Scenario } from './scenarios';

const USAGE = `usage: npm run bench -- [flags]

  --quick                 the same scenarios with about a fifth of the messages (a smoke run)
  --scenario S1,S3        only these scenarios (S1 S2 S3 S4 S5; default all)
  --consumer LIST         only these consumers: ${Object.keys(CONSUMERS).join(', ')}
  --messages N            messages per scenario (spread over its sources) instead of the default
  --baseline-seconds N    stop a baseline after N s and take its rate over what it did (default 30)
  --relay-seconds N       give fifo-relay at most N s per scenario (default 120)
  --bare-receivers N      concurrent receive loops of baseline (a) (default 4)
  --relay-env KEY=VALUE   extra environment for the worker (repeatable), e.g. DELETE_FLUSH_MS=5
  --repeat N              runs of (a), (a2) and fifo-relay in S1 and S2, median kept (default 3; 1 with --quick)
  --no-warmup             skip the unreported warm-up of the emulators' JIT (20,000 messages)
  --cpu-prof              run every consumer with --cpu-prof (profiles in bench/.tmp/profiles;
                          summarise one with: npx tsx bench/lib/profile.ts <file>)
  --out FILE              JSON report path (default bench/results/bench-<time>.json)
  -h, --help              this text`;

const flags = parseFlags(
  process.argv.slice(2),
  {
    quick: { type: 'boolean' },
    scenario: { type: 'string' },
    consumer: { type: 'string' },
    messages: { type: 'string' },
    'baseline-seconds': { type: 'string' },
    'relay-seconds': { type: 'string' },
    'bare-receivers': { type: 'string' },
    'relay-env': { type: 'string', multiple: true },
    'cpu-prof': { type: 'boolean' },
    'no-warmup': { type: 'boolean' },
    repeat: { type: 'string' },
    out: { type: 'string' },
  },
  USAGE,
);

function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

const ids = flags.scenario?.split(',').map((s) => s.trim().toUpperCase());
for (const id of ids ?? []) if (!SCENARIOS.some((s) => s.id === id)) usageError(`unknown scenario ${id}`);
const consumers = flags.consumer?.split(',').map((c) => c.trim()) as ConsumerKind[] | undefined;
for (const c of consumers ?? []) if (!(c in CONSUMERS)) usageError(`unknown consumer ${c}`);
const messages = positiveInt(flags.messages, 'messages', USAGE);
const relayEnv: Record<string, string> = {};
for (const kv of flags['relay-env'] ?? []) {
  const i = kv.indexOf('=');
  if (i <= 0) usageError(`--relay-env wants KEY=VALUE, got ${JSON.stringify(kv)}`);
  relayEnv[kv.slice(0, i)] = kv.slice(i + 1);
}

let scenarios: Scenario[] = SCENARIOS.filter((s) => !ids || ids.includes(s.id));
if (flags.quick) scenarios = scenarios.map(quick);
if (messages) scenarios = scenarios.map((s) => ({ ...s, perSource: Math.max(1, Math.ceil(messages / s.sources)) }));
if (consumers) scenarios = scenarios.map((s) => ({ ...s, consumers: s.consumers.filter((c) => consumers.includes(c)) }));

const repeat = positiveInt(flags.repeat, 'repeat', USAGE) ?? (flags.quick ? 1 : 3);
const maxConcurrentSources = Number(relayEnv.MAX_CONCURRENT_SOURCES ?? 64);
const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  hookSignals();
  const startedAt = new Date();
  const logDir = join(scratchDir, 'logs', startedAt.toISOString().replace(/[:.]/g, '-'));
  mkdirSync(logDir, { recursive: true });
  const profileDir = join(scratchDir, 'profiles');
  if (flags['cpu-prof']) mkdirSync(profileDir, { recursive: true });
  const built = buildAll(out);
  out('starting fauxqs and DynamoDB Local…');
  const emu = await emulators();
  const sqs = harnessSqs(emu);
  const dynamo = harnessDynamo(emu);
  const results: RunResult[] = [];
  const allRuns: RunResult[] = [];
  try {
    const ctx: RunContext = {
      ep: emu,
      emulatorPids: emu.pids,
      sqs,
      dynamo,
      built,
      logDir,
      baselineSeconds: positiveInt(flags['baseline-seconds'], 'baseline-seconds', USAGE) ?? 30,
      relaySeconds: positiveInt(flags['relay-seconds'], 'relay-seconds', USAGE) ?? 120,
      bareReceivers: positiveInt(flags['bare-receivers'], 'bare-receivers', USAGE) ?? 4,
      relayEnv,
      ...(flags['cpu-prof'] ? { cpuProfileDir: profileDir } : {}),
      log: out,
    };
    if (!flags['no-warmup']) {
      // DynamoDB Local is a JVM and fauxqs a Node process: both run far slower until their JIT
      // has seen the load, so the first consumer measured would pay for it. Warm them first.
      const warm: Scenario = { id: 'S2', purpose: 'warm-up', sources: 200, perSource: 25, latencyMs: 0, consumers: [] };
      const started = Date.now();
      for (let round = 0; round < 2; round++) for (const c of ['bare-loop', 'fifo-relay'] as const) await runOne(ctx, warm, c);
      out(`warm-up (2 × 5,000 messages through (a) and fifo-relay, not reported): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    for (const s of scenarios) {
      out(`${s.id}: ${shapeOf(s)}`);
      // The throughput scenarios run (a) and fifo-relay several times, alternating, and keep the
      // median run of each: one slow moment of a shared machine then cannot decide a target.
      const reps = s.id === 'S1' || s.id === 'S2' ? repeat : 1;
      const runs = new Map<ConsumerKind, RunResult[]>();
      for (let rep = 1; rep <= reps; rep++) {
        for (const c of s.consumers) {
          if (rep > 1 && c !== 'bare-loop' && c !== 'bare-loop-batched' && c !== 'fifo-relay') continue;
          const r = await runOne(ctx, s, c);
          runs.set(c, [...(runs.get(c) ?? []), r]);
          allRuns.push(r);
          out(
            `  ${CONSUMERS[c].label.padEnd(27)} ${Math.round(r.msgsPerSec).toString().padStart(6)} msgs/s  ${r.delivered}/${r.messages} in ${r.seconds.toFixed(1)} s` +
              `  (preload ${r.preloadSeconds.toFixed(1)} s${r.complete ? '' : ', stopped early'}${reps > 1 ? `, run ${rep}/${reps}` : ''})`,
          );
        }
      }
      for (const c of s.consumers) {
        const list = runs.get(c) ?? [];
        const sorted = [...list].sort((x, y) => x.msgsPerSec - y.msgsPerSec);
        const med = sorted[Math.floor((sorted.length - 1) / 2)];
        if (med) results.push(list.length > 1 ? { ...med, repeats: list.map((x) => Math.round(x.msgsPerSec)) } : med);
      }
    }
  } finally {
    sqs.destroy();
    dynamo.destroy();
    await emu.stop();
  }

  const tgts = targets(results, maxConcurrentSources, scenarios);
  out(renderTable(results, scenarios, tgts));
  const file = flags.out ?? join(projectRoot, 'bench', 'results', `bench-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const s3 = results.find((r) => r.scenario === 'S3' && r.consumer === 'fifo-relay');
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        seconds: (Date.now() - startedAt.getTime()) / 1000,
        machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
        settings: { quick: flags.quick ?? false, repeat, maxConcurrentSources, workerEnv: { ...imageEnv(), ...relayEnv }, bareReceivers: flags['bare-receivers'] ?? 4, baselineSeconds: flags['baseline-seconds'] ?? 30 },
        definitions: {
          msgsPerSec: 'messages done / (last message done − consumer ready); done = first 2xx seen by the app, or deleted for (a)',
          addedLatencyMs: 'per source, app receipt of message k − app answer to message k−1 (app time excluded); first message of each source not counted',
          sqsPerMessage: 'SQS API calls of the consumer (all actions) / messages done',
          ddbWritesPerMessage: 'DynamoDB write calls (UpdateItem, BatchExecuteStatement, …) / messages done',
          ddbWriteItemsPerMessage: 'items written (UpdateItem calls + statements of batched calls) / messages done: the write units, 1 per message',
          peakRssMb: 'VmHWM of the consumer process',
        },
        scenarios,
        results,
        allRuns: allRuns.map(({ rss: _rss, heap: _heap, ...r }) => r),
        s3Trend: s3 ? growthTrend(s3) : null,
        targets: tgts,
      },
      null,
      2,
    )}\n`,
  );
  out(`\nreport: ${file}\nworker logs: ${logDir}`);
  const broken = results.filter((r) => r.consumer === 'fifo-relay' && (r.orderViolations !== 0 || !r.complete));
  return broken.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
