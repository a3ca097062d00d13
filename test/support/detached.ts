import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

export interface Detached {
  child: ChildProcess;
  /** stdout and stderr as they arrived. */
  output(): string;
  /** Resolves with the first match of re in the output; rejects if the process ends first. */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `fifo-relay <args>` through tsx in a process group of its own, as a terminal would start it. */
export function startCliGroup(args: string[], env: NodeJS.ProcessEnv = {}): Detached {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = (re: RegExp) =>
    new Promise<RegExpExecArray>((done, fail) => {
      const check = () => {
        const m = re.exec(text);
        if (m) return done(m);
        if (ended) return fail(new Error(`process ended before ${re}:\n${text}`));
        waiters.push(check);
      };
      check();
    });
  return { child, output: () => text, waitFor, exited };
}
