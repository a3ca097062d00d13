import './dev/require-node';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './observability/logger';
import { StartupError, startRelay } from './relay';

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
  let relay;
  try {
    relay = await startRelay(config, log);
  } catch (err) {
    if (err instanceof StartupError) {
      for (const line of err.message.split('\n')) log.fatal({ event: 'startup_refused' }, line);
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
