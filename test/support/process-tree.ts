import { readdirSync, readFileSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  cmd: string;
}

function readProcs(): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name in parentheses may hold spaces: fields start after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      found.push({ pid: Number(entry), ppid: Number(ppid), state: state ?? '?', cmd });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Every live descendant of pid (children, grandchildren, …), from /proc. */
export function descendants(pid: number): Array<{ pid: number; cmd: string }> {
  const procs = readProcs();
  const out: Array<{ pid: number; cmd: string }> = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop() as number;
    for (const p of procs) {
      if (p.ppid !== parent || p.state === 'Z') continue;
      out.push({ pid: p.pid, cmd: p.cmd });
      frontier.push(p.pid);
    }
  }
  return out;
}

/** Which of these processes still run (not zombies), wherever they were reparented. */
export function stillRunning(pids: number[]): Array<{ pid: number; cmd: string }> {
  const live = new Map(readProcs().filter((p) => p.state !== 'Z').map((p) => [p.pid, p]));
  return pids.flatMap((pid) => {
    const p = live.get(pid);
    return p ? [{ pid, cmd: p.cmd }] : [];
  });
}
