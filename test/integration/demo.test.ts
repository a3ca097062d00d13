import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

describe('npm run demo', () => {
  it('runs the whole system on its own emulators and exits 0 with a passing verdict', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'demo', '--messages', '400', '--sources', '12', '--workers', '2'], {
      cwd: root,
      timeout: 120_000,
    });
    expect(stdout).toMatch(/redeploy: stopping worker 1 gracefully/);
    expect(stdout).toMatch(/^VERDICT: PASS — 400\/400 delivered, order held for 12\/12 sources, \d+ retries, \d+ duplicates/m);
    expect(stdout).toMatch(/left in the queue:\s+0/);
  }, 150_000);
});
