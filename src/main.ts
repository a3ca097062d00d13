import './dev/require-node';
import { ConfigError, loadConfig } from './config';
import { configTypoWarnings } from './config-typos';
import { packageVersion, parseWorkerArgs, portProblem, WORKER_USAGE } from './main-args';
import { createLogger } from './observability/logger';
import { StartupError, startRelay } from './relay';

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
  let relay;
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
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ event: 'signal', signal }, 'second signal: exiting now; held messages reappear after their visibility timeout');
      process.exit(130);
    }
    stopping = true;
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
}

main().catch((err: Error) => {
  process.stderr.write(`fifo-relay: fatal: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
