import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');

describe('make demo ARGS=--poison', () => {
  it('runs the whole system on its own emulators, parks, skips and unparks a poison message, and exits 0 with a passing verdict', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'demo', '--messages', '400', '--sources', '12', '--workers', '2', '--poison'], {
      cwd: root,
      timeout: 420_000,
    });
    expect(stdout).toMatch(/redeploy: stopping worker 1 gracefully/);
    // source-000 has 34 messages; seq 3 is skipped, so 399 must be delivered.
    expect(stdout).toMatch(/^VERDICT: PASS — 399\/399 delivered, order held for 12\/12 sources, \d+ retries, \d+ duplicates/m);
    expect(stdout).toMatch(/^messages delivered:\s+399\/399 \(of 400 sent; 1 skipped by the operator, never accepted by the app\)$/m);
    expect(stdout).toMatch(/left in the queue:\s+0/);
    // Stuck at the default threshold, in the list, then parked.
    expect(stdout).toMatch(/stuck = 5 attempts \(the default STUCK_ATTEMPTS\)/);
    expect(stdout).toMatch(/^\$ fifo-relay status\n {2}SOURCE .*\n(?: {2}.*\n)*? {2}source-000\s+STUCK\s+\S+\s+\d+\s+3\s+422\s+14\.0d\s+HTTP 422: rejected/m);
    expect(stdout).toMatch(/^ {2}state\s+parked since \S+ \(\d+s\) by demo-operator: app rejects source-000 seq 3/m);
    // While parked the journal took the rest of the source's backlog out of SQS.
    expect(stdout).toMatch(/^ {2}journal\s+32 entries, seq 3 \.\. 34$/m);
    expect(stdout).toMatch(/^\$ fifo-relay unpark source-000 --dry-run\n {2}dry run: unpark source-000 would deliver 32 journaled message\(s\) in this order/m);
    // The skip, in the transcript and in the audit trail; the quiet period is explained.
    expect(stdout).toMatch(/30 s covers this demo's APP_TIMEOUT_MS \(10 s\) \+ VISIBILITY_TIMEOUT_SECONDS \(10 s\)/);
    expect(stdout).toMatch(/^\$ fifo-relay skip source-000 --seq 3 --quiet-seconds 30 --reason "[^"]+"\n {2}skipped seq 3 of source-000/m);
    expect(stdout).toMatch(/^\$ fifo-relay unpark source-000 --reason "poison message skipped"\n {2}unparked source-000: replaying its journal in order/m);
    // The final view: active again, with the whole audit trail.
    expect(stdout).toMatch(/^ {2}state\s+active\n {2}position\s+producer seq 34,/m);
    expect(stdout).toMatch(/^ {4}\S+Z\s+skip\s+demo-operator\s+payload the app will never accept/m);
    expect(stdout).toMatch(/^ {4}\S+Z\s+replay-done\s+\S+\s+journal delivered; source active again$/m);
    expect(stdout).toMatch(/^poison message:\s+stuck after \d+ attempts, parked \(32 journaled\), skipped, unparked, source active again$/m);
    expect(stdout).toMatch(/^calls out of turn:\s+0 /m);
    expect(stdout).toMatch(/^worker logs \(JSON lines, kept\): \/\S+\/workers\.log$/m);
  }, 450_000);
});
