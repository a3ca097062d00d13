import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { Config } from '../../src/config';

const root = resolve(__dirname, '..', '..');

/** The environment a deployed task would get for this config (the emulators' SDK variables are inherited). */
export function envFor(config: Config): NodeJS.ProcessEnv {
  return {
    ...process.env,
    QUEUE_URL: config.queueUrl,
    TARGET_URL: config.targetUrl,
    PROGRESS_TABLE: config.progressTable,
    AWS_REGION: config.region,
    HTTP_PORT: '0',
    RECEIVE_WAIT_SECONDS: String(config.receiveWaitSeconds),
    VISIBILITY_TIMEOUT_SECONDS: String(config.visibilityTimeoutSeconds),
    APP_TIMEOUT_MS: String(config.appTimeoutMs),
    RETRY_BASE_SECONDS: String(config.retryBaseSeconds),
    RETRY_MAX_SECONDS: String(config.retryMaxSeconds),
    SHUTDOWN_GRACE_SECONDS: String(config.shutdownGraceSeconds),
    DELETE_FLUSH_MS: String(config.deleteFlushMs),
    MAX_CONCURRENT_SOURCES: String(config.maxConcurrentSources),
    AWS_REQUEST_TIMEOUT_MS: String(config.awsRequestTimeoutMs),
    LOG_LEVEL: 'info',
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the worker logged that it started. */
  started: Promise<void>;
}

/** The real entry point (src/main.ts through tsx) as its own process, as ECS would run it. */
export function startWorkerProcess(env: NodeJS.ProcessEnv): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'src/main.ts')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let onStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (onStarted = r));
  const collect = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line) continue;
      lines.push(line);
      if (line.includes('"event":"started"')) onStarted();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, lines, exited, started };
}

export function events(p: WorkerProcess, event: string): Array<Record<string, unknown>> {
  return p.lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event === event);
}
