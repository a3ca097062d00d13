import './dev/require-node';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './observability/logger';
import { StartupError, startRelay, type RunningRelay } from './relay';

/** Entry point of the container: configuration from the environment, exit 0 after a clean stop. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`fifo-relay: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // Installed before start-up: a signal then would otherwise be ignored (node as PID 1) or kill
  // the process mid-check, and ECS would wait out its whole stopTimeout.
  let relay: RunningRelay | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ event: 'signal', signal }, 'second signal: exiting now; held messages reappear after their visibility timeout');
      process.exit(130);
    }
    stopping = true;
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
    throw err;
  }
}

main().catch((err: Error) => {
  process.stderr.write(`fifo-relay: fatal: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
