/**
 * A SIGTERM that arrives while the worker is still starting (here: its first SQS call hangs on
 * an endpoint that accepts and never answers) must stop it cleanly, exit 0, at once — not be
 * ignored until the start-up finished, as it was when node was PID 1 with no handler yet (ECS
 * then waited out the whole stopTimeout). The worker runs as a real process.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

describe('a signal during start-up', () => {
  let server: Server;
  const sockets: Socket[] = [];
  let port = 0;
  let connected: Promise<void>;

  beforeAll(async () => {
    let onConnect: () => void = () => undefined;
    connected = new Promise((r) => (onConnect = r));
    server = createServer((socket) => {
      sockets.push(socket);
      onConnect();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s stops the start cleanly and exits 0', async (signal) => {
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_REGION: 'us-east-1',
        QUEUE_URL: `${endpoint}/000000000000/startup.fifo`,
        TARGET_URL: 'http://127.0.0.1:9/',
        PROGRESS_TABLE: 'startup',
        // The hung start-up call would run for two minutes before it failed on its own.
        AWS_REQUEST_TIMEOUT_MS: '120000',
        VISIBILITY_TIMEOUT_SECONDS: '400',
        HTTP_PORT: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, sig) => r({ code, signal: sig })));
    try {
      await connected;
      expect(child.exitCode).toBeNull();
      child.kill(signal);
      const result = await exited;
      expect({ ...result, out }).toMatchObject({ code: 0, signal: null });
      expect(out).toMatch(/"event":"signal".*during start-up/);
      expect(out).not.toContain('fifo-relay started');
    } finally {
      child.kill('SIGKILL');
      connected = new Promise((r) => server.once('connection', () => r()));
    }
  }, 60_000);
});
