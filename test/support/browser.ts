import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(__dirname, '..', '..');

interface Reply {
  ok: boolean;
  value?: unknown;
  error?: string;
  pageErrors?: string[];
}

let chromium: string | undefined;

/**
 * The browser to drive: CHROMIUM_PATH, else the chromium the devDependency @sparticuz/chromium
 * ships (unpacked once into .tools/ by scripts/chromium-path.mjs), else /usr/bin/chromium.
 * When none can start, the error is the script's one line saying what is missing.
 */
export function chromiumPath(): string {
  if (chromium) return chromium;
  try {
    chromium = execFileSync(process.execPath, [resolve(root, 'scripts/chromium-path.mjs')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    throw new Error(String((err as { stderr?: string }).stderr ?? (err as Error).message).trim(), { cause: err });
  }
  return chromium;
}

/** A headless chromium in a child process (see browser-driver.mts), one command at a time. */
export class Browser {
  private readonly replies: Reply[] = [];
  private readonly waiters: Array<(r: Reply) => void> = [];

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const reply = JSON.parse(line) as Reply;
      const w = this.waiters.shift();
      if (w) w(reply);
      else this.replies.push(reply);
    });
  }

  static async launch(): Promise<Browser> {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'test/support/browser-driver.mts')], {
      cwd: root,
      env: { ...process.env, CHROMIUM_PATH: chromiumPath() },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const b = new Browser(child);
    await b.next();
    return b;
  }

  private next(): Promise<unknown> {
    return new Promise<Reply>((r) => {
      const ready = this.replies.shift();
      if (ready) r(ready);
      else this.waiters.push(r);
    }).then((r) => {
      if (!r.ok) throw new Error(`browser: ${r.error ?? 'failed'}${r.pageErrors?.length ? ` (page errors: ${r.pageErrors.join('; ')})` : ''}`);
      return r.value;
    });
  }

  private send(command: Record<string, unknown>): Promise<unknown> {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    return this.next();
  }

  goto(url: string) {
    return this.send({ cmd: 'goto', url });
  }

  eval<T>(expression: string): Promise<T> {
    return this.send({ cmd: 'eval', expression }) as Promise<T>;
  }

  waitFor(expression: string, timeoutMs = 30_000) {
    return this.send({ cmd: 'waitFor', expression, timeoutMs });
  }

  screenshot(path: string) {
    return this.send({ cmd: 'screenshot', path });
  }

  /** Returns the page's script errors and console errors seen during the session. */
  async close(): Promise<string[]> {
    const exited = this.child.exitCode !== null ? Promise.resolve() : new Promise((r) => this.child.once('exit', r));
    const errors = (await this.send({ cmd: 'close' })) as string[];
    this.child.stdin!.end();
    await exited;
    return errors;
  }

  /** Ends the browser process without waiting for it (cleanup after a failed test). */
  kill(): void {
    this.child.kill();
  }
}
