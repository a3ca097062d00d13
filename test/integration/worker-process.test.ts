import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';
import { envFor, events, startWorkerProcess } from '../support/processes';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
const version = (JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string }).version;

type Outcome = { code: number; stdout: string; stderr: string };
const worker = (args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> =>
  run(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: root, env, timeout: 60_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('the worker process as a user starts it', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await freshQueueAndTable('worker-proc');
  });
  afterAll(() => fx.close());

  it('--help prints usage and exits 0 without starting a worker, even with a complete configuration', async () => {
    const r = await worker(['--help'], envFor(fx.config()));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: node dist\/main\.js \[--help \| --version\]/);
    expect(r.stdout).toContain('QUEUE_URL');
    expect(r.stdout).not.toContain('"event":"started"');
    expect(r.stderr).toBe('');
  }, 90_000);

  it('--version prints the package version', async () => {
    const r = await worker(['--version'], { PATH: process.env.PATH });
    expect(r).toMatchObject({ code: 0, stdout: `fifo-relay ${version}\n` });
  }, 90_000);

  it('any other argument prints usage on stderr and exits 2', async () => {
    const r = await worker(['--queue', 'x'], envFor(fx.config()));
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('fifo-relay: unexpected argument "--queue": the worker is configured through the environment');
    expect(r.stderr).toContain('usage: node dist/main.js');
  }, 90_000);

  it('a port in use is one line naming HTTP_PORT, not a stack trace', async () => {
    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, r));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await worker([], { ...envFor(fx.config()), HTTP_PORT: String(port) });
      expect(r.code).toBe(1);
      const lines = `${r.stdout}${r.stderr}`.trim().split('\n');
      const refused = lines.filter((l) => l.includes('startup_refused'));
      expect(refused).toHaveLength(1);
      expect(JSON.parse(refused[0]!)).toMatchObject({ level: 60, msg: `HTTP_PORT ${port} is already in use (another worker on this machine?): set HTTP_PORT to a free port, or 0 to pick one` });
      expect(lines.some((l) => /^\s+at /.test(l) || l.includes('EADDRINUSE'))).toBe(false);
    } finally {
      await new Promise((r) => taken.close(r));
    }
  }, 90_000);

  it('warns at start about a misspelt setting, naming the one it resembles, and not about unrelated variables', async () => {
    const env: NodeJS.ProcessEnv = { ...envFor(fx.config()), MAX_CONCURENT_SOURCES: '3', HTTP_PROXY: '', AWS_DEFAULT_REGION: 'eu-west-1', PORT: '3000', HTTPS_PORT: '8443', HOSTNAME: 'h', LOG_LEVLE: 'debug' };
    delete env.MAX_CONCURRENT_SOURCES;
    delete env.LOG_LEVEL;
    const p = startWorkerProcess(env);
    try {
      await Promise.race([p.started, p.exited.then(() => Promise.reject(new Error(`worker exited before it started:\n${p.lines.join('\n')}`)))]);
      const warnings = events(p, 'config_warning').map((e) => e.msg);
      expect(warnings).toEqual([
        'LOG_LEVLE is not a fifo-relay setting and is ignored: did you mean LOG_LEVEL? (LOG_LEVEL keeps its default, info)',
        'MAX_CONCURENT_SOURCES is not a fifo-relay setting and is ignored: did you mean MAX_CONCURRENT_SOURCES? (MAX_CONCURRENT_SOURCES keeps its default, 64)',
      ]);
      expect(events(p, 'started')[0]).toMatchObject({ maxConcurrentSources: 64 });
    } finally {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  }, 90_000);

  it('names a misspelling beside the configuration errors it causes', async () => {
    const env = { PATH: process.env.PATH, QUEUE_URLS: 'https://sqs.eu-west-1.amazonaws.com/1/q.fifo', TARGET_URL: 'http://127.0.0.1:9/', PROGRESS_TABLE: 't', AWS_REGION: 'eu-west-1' };
    const r = await worker([], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fifo-relay: warning: QUEUE_URLS is not a fifo-relay setting and is ignored: did you mean QUEUE_URL? (QUEUE_URL stays unset)');
  }, 90_000);
});
