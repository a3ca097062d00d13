import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

describe('npm run demo', () => {
  it('runs the whole system on its own emulators, with a poison message parked and unparked, and exits 0 with a passing verdict', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'demo', '--messages', '400', '--sources', '12', '--workers', '2', '--poison'], {
      cwd: root,
      timeout: 240_000,
    });
    expect(stdout).toMatch(/redeploy: stopping worker 1 gracefully/);
    expect(stdout).toMatch(/^VERDICT: PASS — 400\/400 delivered, order held for 12\/12 sources, \d+ retries, \d+ duplicates/m);
    expect(stdout).toMatch(/left in the queue:\s+0/);
    // The operator's transcript: stuck in the list, parked with its audit record, then back to active.
    expect(stdout).toMatch(/^\$ fifo-relay status\n {2}SOURCE .*\n(?: {2}.*\n)*? {2}source-000\s+STUCK\s+\S+\s+\d+\s+3\s+422\s+14\.0d\s+HTTP 422: rejected/m);
    expect(stdout).toMatch(/^ {2}state\s+parked since \S+ \(\d+s\) by demo-operator: app rejects source-000 seq 3/m);
    expect(stdout).toMatch(/^\$ fifo-relay unpark source-000 --reason "fix deployed"\n {2}unparked source-000: replaying its journal in order/m);
    expect(stdout).toMatch(/^ {4}\S+Z\s+unpark\s+demo-operator\s+fix deployed$/m);
    expect(stdout).toMatch(/^poison message:\s+stuck after \d+ attempts, parked, app fixed, unparked, delivered$/m);
    expect(stdout).toMatch(/^calls out of turn:\s+0 /m);
  }, 260_000);
});
