/**
 * Summarises a V8 .cpuprofile (from node --cpu-prof): self time by package or source file and by
 * function, so a missed target can be traced to what costs what.
 *   npx tsx bench/lib/profile.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function bucketOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] as string;
  if (url.startsWith('node:')) return url;
  const src = /\/(src\/.*)$/.exec(url);
  return src ? (src[1] as string) : url;
}

/** Which part of the program a package or file belongs to. */
export function partOf(bucket: string): string | undefined {
  if (/^@smithy\/|^@aws-sdk\/|^fast-xml-parser|^tslib|^uuid|^bowser/.test(bucket)) return 'AWS SDK (signing, (de)serialising, middleware)';
  if (bucket === 'undici') return 'app call (fetch)';
  if (bucket === 'pino' || bucket === 'sonic-boom' || bucket === 'thread-stream' || bucket === 'fast-redact' || bucket === 'quick-format-unescaped') return 'logging (pino)';
  if (bucket === 'prom-client') return 'metrics (prom-client)';
  if (bucket === 'sqs-consumer') return 'sqs-consumer';
  if (bucket.startsWith('src/') || bucket.startsWith('bench/')) return `own code (${bucket.split('/').slice(0, 2).join('/')})`;
  if (bucket === '(garbage collector)') return 'garbage collector';
  if (bucket === '(idle)') return 'idle';
  return undefined;
}

/**
 * Self time attributed to the nearest caller that is a part of the program: a socket write or a
 * hash inside Node belongs to whichever library asked for it (fetch's internals count as the app call).
 */
export function byPart(p: Profile): Array<[string, number]> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const owner = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const cached = owner.get(id);
    if (cached) return cached;
    let cur: number | undefined = id;
    let found = 'Node internals (event loop, timers, other)';
    while (cur !== undefined) {
      const n = byId.get(cur);
      if (!n) break;
      const url = n.callFrame.url;
      const part = url.includes('deps/undici') || url.includes('internal/webstreams') ? 'app call (fetch)' : partOf(bucketOf(url, n.callFrame.functionName));
      if (part) {
        found = part;
        break;
      }
      cur = parent.get(cur);
    }
    owner.set(id, found);
    return found;
  };
  const totals = new Map<string, number>();
  p.samples.forEach((id, i) => {
    const part = ownerOf(id);
    totals.set(part, (totals.get(part) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  return [...totals].sort((a, b) => b[1] - a[1]);
}

export function summarize(p: Profile): { totalMs: number; byBucket: Array<[string, number]>; byFunction: Array<[string, number]> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const byBucket = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const b = bucketOf(n.callFrame.url, n.callFrame.functionName);
    byBucket.set(b, (byBucket.get(b) ?? 0) + us);
    const f = `${n.callFrame.functionName || '(anonymous)'} ${b}:${n.callFrame.lineNumber + 1}`;
    byFunction.set(f, (byFunction.get(f) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].map(([k, v]): [string, number] => [k, v / 1000]).sort((a, b) => b[1] - a[1]);
  return { totalMs: (p.endTime - p.startTime) / 1000, byBucket: sorted(byBucket), byFunction: sorted(byFunction) };
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/lib/profile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const s = summarize(profile);
  const busy = s.byBucket.filter(([k]) => k !== '(idle)').reduce((a, [, v]) => a + v, 0);
  process.stdout.write(`profile ${(s.totalMs / 1000).toFixed(1)} s, busy ${(busy / 1000).toFixed(1)} s\n\nby part of the program (self time given to the nearest library or own file up the stack):\n`);
  for (const [k, v] of byPart(profile).filter(([k]) => k !== 'idle')) process.stdout.write(`  ${(v / 1000).toFixed(2).padStart(7)} s  ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
  process.stdout.write('\nby package / file (self time):\n');
  for (const [k, v] of s.byBucket.slice(0, top)) process.stdout.write(`  ${(v / 1000).toFixed(2).padStart(7)} s  ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
  process.stdout.write('\nby function (self time):\n');
  for (const [k, v] of s.byFunction.slice(0, top)) process.stdout.write(`  ${(v / 1000).toFixed(2).padStart(7)} s  ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}\n`);
}
