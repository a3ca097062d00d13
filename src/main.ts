import './dev/require-node';
import { ConfigError, loadConfig } from './config';
import { configTypoWarnings } from './config-typos';
import { packageVersion, parseWorkerArgs, portProblem, WORKER_USAGE } from './main-args';
import { createLogger } from './observability/logger';
import { StartupError, startRelay, type RunningRelay } from './relay';

/** Entry point of the container: configuration from the environment, exit 0 after a clean stop. */
async function main(): Promise<void> {
  const args = parseWorkerArgs(process.argv.slice(2));
  if (args.kind === 'help') return void process.stdout.write(`${WORKER_USAGE}\n`);
  if (args.kind === 'version') return void process.stdout.write(`fifo-relay ${packageVersion()}\n`);
  if (args.kind === 'bad') {
    process.stderr.write(`fifo-relay: ${args.problem}\n${WORKER_USAGE}\n`);
    process.exit(2);
  }
  const typos = configTypoWarnings(process.env);
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`fifo-relay: ${err.message}\n`);
      for (const t of typos) process.stderr.write(`fifo-relay: warning: ${t}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  for (const t of typos) log.warn({ event: 'config_warning' }, t);
  // Installed before start-up: a signal then would otherwise be ignored (node as PID 1) or kill
  // the process mid-check, and ECS would wait out its whole stopTimeout.
  let relay: RunningRelay | undefined;
  let stopping: { signal: NodeJS.Signals; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C under npm reaches the worker twice (the terminal's process group and npm's
    // forwarding): the same signal within a second is one request, not "exit now".
    if (stopping && stopping.signal === signal && Date.now() - stopping.at < 1000) return;
    if (stopping) {
      log.warn({ event: 'signal', signal }, 'second signal: exiting now; held messages reappear after their visibility timeout');
      process.exit(130);
    }
    stopping = { signal, at: Date.now() };
    if (relay === undefined) {
      // Start-up holds no message: the worker starts polling only as startRelay returns, in the
      // same microtask run that sets `relay`, so no signal can fall in between.
      log.info({ event: 'signal', signal }, 'signal during start-up: stopping before the worker started');
      process.exit(0);
    }
    log.info({ event: 'signal', signal }, 'graceful stop');
    relay
      .stop()
      .then(() => process.exit(0))
      .catch((err: Error) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    relay = await startRelay(config, log);
  } catch (err) {
    if (err instanceof StartupError) {
      for (const line of err.message.split('\n')) log.fatal({ event: 'startup_refused' }, line);
      process.exit(1);
    }
    const port = portProblem(err, config.httpPort);
    if (port !== undefined) {
      log.fatal({ event: 'startup_refused' }, port);
      process.exit(1);
    }
    throw err;
  }
}

main().catch((err: Error) => {
  process.stderr.write(`fifo-relay: fatal: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
