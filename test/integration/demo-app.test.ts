import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from '../support/fixtures';

const root = resolve(__dirname, '..', '..');

describe('fifo-relay demo-app', () => {
  it('serves the stub app on its own, fails the share it is told to, logs each call and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'demo-app', '--port', '0', '--fail-rate', '1'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor('the app to listen', () => /TARGET_URL=http:\/\/127\.0\.0\.1:\d+\//.test(out), 60_000);
      const url = /TARGET_URL=(\S+)/.exec(out)![1]!;
      const res = await fetch(url, { method: 'POST', body: '{}', headers: { 'X-Source-Id': 's1', 'X-Sequence': '7', 'Idempotency-Key': 's1:7', 'X-Attempt': '1', 'Content-Type': 'application/json' } });
      expect(res.status).toBe(503);
      await waitFor('the call to be logged', () => /\s503\s+s1\s+seq 7\s+attempt 1/.test(out), 10_000);
    } finally {
      child.kill('SIGTERM');
    }
    // The CLI's convention after a signal, as for `fifo-relay emulators`: 128 + SIGTERM.
    expect(await exited).toBe(143);
    expect(out).toMatch(/stopped the demo app \(1 calls received\)/);
  }, 90_000);
});
