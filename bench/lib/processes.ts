import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';

/**
 * Every child a harness starts is registered here and killed (SIGKILL) when the harness exits,
 * however it exits: normally, by an uncaught error, or by Ctrl-C / SIGTERM.
 */
const children = new Set<ChildProcess>();
let hooked = false;

/** Direct children of a process, from /proc (threads' children lists). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // not on Linux, or gone
  }
  return out;
}

function killAll(): void {
  // Includes children started by library code. DynamoDB Local's wrapper shell is spared: it stops
  // java and removes its scratch folder once our pipe closes, which our exit does; killed, it
  // would leave java running.
  for (const pid of childPids(process.pid)) {
    if (commandOf(pid).includes('DynamoDBLocal.jar')) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
}

/** For a harness's own entry point: Ctrl-C or SIGTERM also takes every child down. */
export function hookSignals(): void {
  hookExit();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`${signal}: stopping every child process; DynamoDB Local stops and its scratch folder goes as this process exits\n`);
      killAll();
      process.exit(130);
    });
  }
}

export interface Child {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after graceMs; resolves with how it ended. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill9(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr go to this file (appended), never through the harness's event loop. */
  logFile?: string;
  /** Open an IPC channel (for baselines that report their counts). */
  ipc?: boolean;
}

/** Starts `node <args>` with the harness's own Node binary. */
export function spawnNode(args: string[], opts: SpawnOptions): Child {
  hookExit();
  let fd: number | undefined;
  if (opts.logFile) fd = openSync(opts.logFile, 'a');
  const out = fd ?? 'ignore';
  const stdio: StdioOptions = opts.ipc ? ['ignore', out, out, 'ipc'] : ['ignore', out, out];
  const child = spawn(process.execPath, args, { env: opts.env, cwd: opts.cwd, stdio });
  if (fd !== undefined) closeSync(fd);
  children.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      children.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const stop = async (graceMs = 15_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    }
    return exited;
  };
  const kill9 = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  };
  return { child, pid: child.pid ?? -1, exited, stop, kill9 };
}

/** Resident set size now and at its peak (VmHWM), in bytes, from /proc; undefined once the process is gone. */
export function rssOf(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS at a fixed interval, for a peak and a growth trend. */
export class RssSampler {
  readonly samples: Array<{ t: number; rss: number; progress: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  peak = 0;

  /** `progress` is read with each sample (for example, messages done so far). */
  constructor(
    private readonly pid: number,
    everyMs = 100,
    private readonly progress: () => number = () => 0,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    this.sample();
  }

  sample(): void {
    const r = rssOf(this.pid);
    if (!r) return;
    this.samples.push({ t: Date.now(), rss: r.rss, progress: this.progress() });
    this.peak = Math.max(this.peak, r.peak, r.rss);
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export { freePort } from '../../src/dev/emulators';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls check until it is true; false if the deadline passed first. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** CPU seconds (user + system, all threads) a process has used so far; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** The command line of a process, for telling emulators apart. */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
