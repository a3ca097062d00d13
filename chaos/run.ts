/**
 * npm run chaos — a correctness soak on the embedded emulators: 3 worker processes, a flaky app
 * that is down once and sometimes slower than the visibility timeout, kill -9 every few seconds,
 * then a graceful SIGTERM round. Judged only from what the app received; exits 1 if a rule broke.
 */
import '../src/dev/require-node';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emulators } from '../bench/lib/aws';
import { buildAll, projectRoot } from '../bench/lib/build';
import { parseFlags, positiveInt } from '../bench/lib/cli';
import { hookSignals } from '../bench/lib/processes';
import { preset, renderVerdict, runChaos } from './harness';
import { outageOk, outagePreset, renderOutage, runOutage } from './outage';

const USAGE = `usage: npm run chaos -- [flags]

  --quick          the short run that npm test also does (600 + 240 messages, 30 sources)
  --messages N     messages of the kill round (default 3000; the SIGTERM round sends 40% of it more)
  --sources N      sources (default 120)
  --workers N      worker processes (default 3)
  --seed N         seed of the kill schedule and the app's failures (default: random, printed)
  --outage         with --quick: add the outage phase (about 1.5 min more; the full run always has it)
  --no-outage      leave the outage phase out of the full run
  --producer       send through the journal-first producer; 3% of its batches die after claiming
                   (their seqs must still be delivered, from the journal)
  -h, --help       this text`;

const flags = parseFlags(
  process.argv.slice(2),
  { quick: { type: 'boolean' }, messages: { type: 'string' }, sources: { type: 'string' }, workers: { type: 'string' }, seed: { type: 'string' }, outage: { type: 'boolean' }, 'no-outage': { type: 'boolean' }, producer: { type: 'boolean' } },
  USAGE,
);
const base = preset(flags.quick ? 'short' : 'full');
const messages = positiveInt(flags.messages, 'messages', USAGE) ?? base.messages;
const sizes = {
  ...base,
  messages,
  sigtermMessages: flags.messages ? Math.max(10, Math.round(messages * 0.4)) : base.sigtermMessages,
  sources: positiveInt(flags.sources, 'sources', USAGE) ?? base.sources,
  workers: positiveInt(flags.workers, 'workers', USAGE) ?? base.workers,
};
const seed = positiveInt(flags.seed, 'seed', USAGE) ?? Math.floor(Math.random() * 1e9) + 1;
// The outage phase is two app outages of 20 s or more plus their drains: too slow for the quick run that npm test does.
const withOutage = flags['no-outage'] ? false : flags.outage || !flags.quick;
const out = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  hookSignals();
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(projectRoot, 'chaos', '.tmp', stamp);
  mkdirSync(dir, { recursive: true });
  const built = buildAll(out);
  out('starting fauxqs and DynamoDB Local…');
  const emu = await emulators();
  try {
    out(
      `chaos (seed ${seed}): ${sizes.workers} workers, ${sizes.messages} + ${sizes.sigtermMessages} messages over ${sizes.sources} sources; ` +
        `app fails ${sizes.failRate * 100}% of calls, is down ${sizes.downMs / 1000} s once, answers ${sizes.slowRate * 100}% after ${sizes.slowMs / 1000} s ` +
        `(visibility timeout ${sizes.visibilityTimeoutSeconds} s)`,
    );
    if (flags.producer) out('sending through the journal-first producer; 3% of its batches die after their journal claims, before SQS');
    const result = await runChaos({ ...sizes, ...(flags.producer ? { producer: true, producerDeathRate: 0.03 } : {}), workerArgs: [built.worker], endpoints: emu, logDir: join(dir, 'logs'), seed, out });
    out('');
    out(renderVerdict(result));
    const file = join(dir, 'chaos-result.json');
    const { sent, records, ...summary } = result;
    writeFileSync(file, `${JSON.stringify({ seed, ...summary }, null, 2)}\n`);
    writeFileSync(join(dir, 'sent.json'), `${JSON.stringify(sent)}\n`);
    writeFileSync(join(dir, 'records.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    let ok = result.ok;
    if (withOutage) {
      out('');
      const variants = await runOutage({ ...outagePreset(flags.quick ? 'short' : 'full'), workers: sizes.workers, workerArgs: [built.worker], endpoints: emu, logDir: join(dir, 'logs'), out });
      out(renderOutage(variants));
      writeFileSync(join(dir, 'outage-result.json'), `${JSON.stringify(variants.map(({ verdict, ...v }) => ({ ...v, ok: verdict.ok, rules: verdict.rules })), null, 2)}\n`);
      ok = ok && outageOk(variants);
      out(`OUTAGE PHASE: ${outageOk(variants) ? 'PASS' : 'FAIL'}`);
    }
    out(`\nresult: ${file}\nworker logs: ${join(dir, 'logs')}`);
    return ok ? 0 : 1;
  } finally {
    await emu.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`chaos failed: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
