import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Live (not zombie) processes whose command line contains every given fragment, from /proc. */
export function processesMatching(...fragments: string[]): Array<{ pid: number; cwd: string; cmd: string }> {
  const found: Array<{ pid: number; cwd: string; cmd: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = /^State:\s+(\w)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state === 'Z' || !fragments.every((f) => cmd.includes(f))) continue;
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // no permission or gone
      }
      found.push({ pid: Number(entry), cwd, cmd });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

