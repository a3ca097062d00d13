/**
 * What one app call costs the caller's CPU: fetch (what src/adapters/http-app.ts uses) against
 * node:http with a keep-alive agent, 64 calls in flight, to the demo app in a process of its own.
 *   npx tsx bench/probes/app-call.ts [calls]
 */
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { projectRoot } from '../lib/build';
import { freePort, hookSignals, spawnNode, until } from '../lib/processes';

const calls = Number(process.argv[2] ?? 10_000);
const headers = { 'content-type': 'application/json', 'idempotency-key': 's:1', 'x-source-id': 's', 'x-message-id': 'm', 'x-sequence': '1', 'x-attempt': '1' };
const body = JSON.stringify({ sourceId: 's', seq: 1, op: 'update', payload: 'x'.repeat(64) });

async function main(): Promise<void> {
  hookSignals();
  const port = await freePort();
  const app = spawnNode(['--import', 'tsx', join(projectRoot, 'src', 'demo', 'app-server.ts')], { env: { ...process.env, DEMO_APP_PORT: String(port), DEMO_APP_HOST: '127.0.0.1' }, cwd: projectRoot });
  const url = `http://127.0.0.1:${port}/`;
  if (!(await until(() => fetch(`${url}healthz`).then((r) => r.ok, () => false), 20_000, 100))) throw new Error('demo app did not start');

  const shutdown = new AbortController();
  const viaFetch = async () => {
    // As the worker calls it: a per-call timeout combined with the worker's shutdown signal.
    const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.any([shutdown.signal, AbortSignal.timeout(10_000)]), redirect: 'manual' });
    await res.arrayBuffer();
  };
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const viaHttp = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  const measure = async (name: string, fn: () => Promise<void>) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let started = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (started++ < calls) await fn();
    }));
    const cpu = process.cpuUsage(cpu0);
    const ms = performance.now() - t0;
    process.stdout.write(`${name.padEnd(14)} ${(((cpu.user + cpu.system) / calls)).toFixed(0).padStart(5)} µs CPU per call   ${Math.round((calls / ms) * 1000).toLocaleString('en-US').padStart(7)} calls/s\n`);
  };
  process.stdout.write(`${calls.toLocaleString('en-US')} POSTs per round, 64 in flight, to the demo app (own process)\n`);
  for (let round = 1; round <= 3; round++) {
    await measure('fetch', viaFetch);
    await measure('node:http', viaHttp);
  }
  await app.stop();
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
