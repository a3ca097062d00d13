import pino, { type Logger } from 'pino';

export type { Logger };

/** JSON lines to stdout; the app's auth header never reaches a log line, whatever logs it. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'fifo-relay' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['targetAuthHeader', '*.targetAuthHeader', 'headers.authorization', '*.headers.authorization'], censor: '[redacted]' },
    },
    destination,
  );
}
