import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { emulators } from '../../bench/lib/aws';
import { preset, renderVerdict, runChaos } from '../../chaos/harness';

/**
 * The short chaos soak (npm run chaos -- --quick): three real worker processes, a flaky app that
 * is down once and sometimes slower than the visibility timeout, kill -9 every few seconds, then
 * a SIGTERM round. Judged only from what the app received.
 */
describe('short chaos run', () => {
  // Timeout: the run's deadline (100 s), plus the most the SIGTERM round may drain past it (60 s)
  // while its messages still get app calls, plus starting and stopping workers on a loaded machine.
  it('loses nothing, keeps every source in order, and duplicates only after a kill', async () => {
    const seed = Number(process.env.CHAOS_SEED) || Math.floor(Math.random() * 1e9) + 1;
    const emu = await emulators({ reuseFromEnv: true });
    const lines: string[] = [];
    try {
      const result = await runChaos({
        ...preset('short'),
        workerArgs: ['--import', 'tsx', resolve(__dirname, '..', '..', 'src', 'main.ts')],
        endpoints: emu,
        logDir: mkdtempSync(join(tmpdir(), 'fifo-relay-chaos-')),
        seed,
        out: (line) => lines.push(line),
      });
      const verdict = `seed ${seed} (rerun with CHAOS_SEED=${seed})\n${lines.join('\n')}\n${renderVerdict(result)}`;
      if (!result.ok) throw new Error(verdict);
      expect(result.kills.length).toBeGreaterThanOrEqual(2);
      expect(result.overall.lost).toEqual([]);
      expect(result.overall.orderViolations).toEqual([]);
      expect(result.overall.duplicates.every((d) => d.explainedByKill && d.sameKey)).toBe(true);
      expect(result.round2.duplicates).toEqual([]);
    } finally {
      await emu.stop();
    }
  }, 240_000);
});
