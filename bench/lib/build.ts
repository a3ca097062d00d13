import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const projectRoot = resolve(__dirname, '..', '..');
export const scratchDir = join(projectRoot, 'bench', '.tmp');
const buildDir = join(scratchDir, 'build');

export interface Built {
  /** The worker's entry, compiled: run it with `node`, as the container does. */
  worker: string;
  baseline(name: 'bare-loop' | 'bare-loop-batched' | 'sqs-consumer-batch' | 'sqs-consumer-parallel'): string;
}

/**
 * Compiles src/ and the baselines once with tsc into bench/.tmp/build (inside the project so
 * node_modules resolves), so no run pays for on-the-fly transpiling and RSS is the program's own.
 */
export function buildAll(log: (line: string) => void = () => undefined): Built {
  const started = Date.now();
  execFileSync(process.execPath, [join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(projectRoot, 'bench', 'tsconfig.build.json')], {
    cwd: projectRoot,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const worker = join(buildDir, 'src', 'main.js');
  if (!existsSync(worker)) throw new Error(`build produced no ${worker}`);
  log(`compiled src/ and bench/baselines with tsc in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { worker, baseline: (name) => join(buildDir, 'bench', 'baselines', `${name}.js`) };
}
