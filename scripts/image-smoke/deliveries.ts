/**
 * Judges the demo app's record file for scripts/image-smoke.sh: every expected source got its
 * messages 1..n accepted, in order. Waits up to a timeout for them to arrive.
 *
 * Usage: tsx scripts/image-smoke/deliveries.ts RECORD_FILE TIMEOUT_SECONDS source=count…
 * Exit 0 when complete, 1 when incomplete at the timeout or out of order, 2 on bad arguments.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { DeliveryRecord } from '../../src/demo/app-server';

export type Verdict = { done: true } | { done: false; final: boolean; problem: string };

/** `done` when each source's accepted seqs are exactly 1..count in that order; `final` when waiting cannot fix it. */
export function judge(records: Pick<DeliveryRecord, 'sourceId' | 'seq' | 'status'>[], expected: Map<string, number>): Verdict {
  const accepted = new Map<string, number[]>();
  for (const r of records) {
    if (r.status < 200 || r.status > 299) continue;
    if (!expected.has(r.sourceId)) return { done: false, final: true, problem: `unexpected source ${r.sourceId} delivered` };
    const seqs = accepted.get(r.sourceId) ?? [];
    const seq = Number(r.seq);
    const last = seqs[seqs.length - 1] ?? 0;
    // The same seq again is a duplicate the idempotency key lets the app drop; going back is disorder.
    if (seq === last) continue;
    if (seq !== last + 1) return { done: false, final: true, problem: `${r.sourceId}: seq ${seq} accepted after ${last}` };
    accepted.set(r.sourceId, [...seqs, seq]);
  }
  const missing: string[] = [];
  for (const [source, count] of expected) {
    const got = accepted.get(source)?.length ?? 0;
    if (got > count) return { done: false, final: true, problem: `${source}: ${got} accepted, only ${count} sent` };
    if (got < count) missing.push(`${source} ${got}/${count}`);
  }
  return missing.length === 0 ? { done: true } : { done: false, final: false, problem: `still missing: ${missing.join(', ')}` };
}

export function parseExpected(args: string[]): Map<string, number> | undefined {
  const expected = new Map<string, number>();
  for (const a of args) {
    const m = /^([^=]+)=([1-9][0-9]*)$/.exec(a);
    if (!m) return undefined;
    expected.set(m[1]!, Number(m[2]));
  }
  return expected.size > 0 ? expected : undefined;
}

function readRecords(file: string): DeliveryRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as DeliveryRecord);
}

async function main(argv: string[]): Promise<number> {
  const [file, timeout, ...rest] = argv;
  const expected = parseExpected(rest);
  const seconds = Number(timeout);
  if (!file || !Number.isFinite(seconds) || seconds < 0 || !expected) {
    process.stderr.write('usage: deliveries.ts RECORD_FILE TIMEOUT_SECONDS source=count…\n');
    return 2;
  }
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const verdict = judge(readRecords(file), expected);
    if (verdict.done) {
      const total = [...expected.values()].reduce((a, b) => a + b, 0);
      process.stdout.write(`deliveries: ${total} accepted in order across ${expected.size} sources\n`);
      return 0;
    }
    if (verdict.final || Date.now() >= deadline) {
      process.stderr.write(`deliveries: ${verdict.problem}\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
