import { describeConfig } from './config';

/** Edit distance with adjacent transpositions counted as one edit (CONCURENT, CONCURRNET). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i]!;
      const prev = d[i - 1]!;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * How far a name may be from one of ours and still count as a misspelling of it. Short names get
 * one edit, longer ones two: enough for a dropped or doubled letter, too little to catch the
 * unrelated variables every environment has (AWS_PROFILE, HTTP_PROXY, HOSTNAME…).
 */
const allowedEdits = (name: string) => (name.length >= 12 ? 2 : 1);

/**
 * Environment variables that look like a misspelt fifo-relay setting, one warning line each,
 * naming the setting they resemble and the default it keeps instead. convict ignores unknown
 * variables, so without this `MAX_CONCURENT_SOURCES=3` would silently run with 64.
 */
export function configTypoWarnings(env: NodeJS.ProcessEnv): string[] {
  const rows = describeConfig();
  const ours = rows.map((r) => r.env);
  const known = new Set(ours);
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (known.has(name)) continue;
    const upper = name.toUpperCase();
    let match: string | undefined;
    if (upper !== name && known.has(upper)) match = upper;
    else if (/^[A-Z][A-Z0-9_]*$/.test(name)) {
      let best = Infinity;
      for (const key of ours) {
        const dist = editDistance(name, key);
        if (dist < best && dist <= allowedEdits(key)) {
          best = dist;
          match = key;
        }
      }
    }
    // When the setting it resembles is set too, the near-miss is more likely someone else's variable.
    if (match === undefined || env[match] !== undefined) continue;
    const def = rows.find((r) => r.env === match)?.default;
    const keeps = def === '' || def === undefined ? 'stays unset' : `keeps its default, ${String(def)}`;
    warnings.push(`${name} is not a fifo-relay setting and is ignored: did you mean ${match}? (${match} ${keeps})`);
  }
  return warnings;
}
