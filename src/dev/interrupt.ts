/** Exit codes a shell reports for a process ended by these signals (128 + signal number). */
const CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
type StopSignal = keyof typeof CODES;

/**
 * Ctrl-C, SIGTERM or SIGHUP: say what is being stopped, run the cleanup (stop children, remove
 * scratch folders), say it is done and exit with the shell's code for that signal. A second
 * signal exits at once; emulators still stop because they watch the pipe this process holds.
 * Returns a function that removes the handlers (call it when the work finished normally).
 */
export function onInterrupt(cleanup: () => Promise<string[]>, say: (line: string) => void, timeoutMs = 20_000): () => void {
  let stopping = false;
  const handler = (signal: StopSignal) => {
    if (stopping) {
      say(`${signal} again: exiting now`);
      process.exit(CODES[signal]);
    }
    stopping = true;
    say(`${signal}: stopping every child process and removing scratch folders…`);
    const timer = setTimeout(() => {
      say(`cleanup did not finish within ${timeoutMs / 1000} s: exiting anyway`);
      process.exit(CODES[signal]);
    }, timeoutMs);
    cleanup().then(
      (done) => {
        clearTimeout(timer);
        for (const line of done) say(line);
        process.exit(CODES[signal]);
      },
      (err: Error) => {
        clearTimeout(timer);
        say(`cleanup failed: ${err.message}`);
        process.exit(CODES[signal]);
      },
    );
  };
  const signals = Object.keys(CODES) as StopSignal[];
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
