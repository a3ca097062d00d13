import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses command-line flags; on an unknown or malformed flag prints the usage and exits 2,
 * on --help prints it and exits 0.
 */
export function parseFlags<O extends Options>(argv: string[], options: O, usage: string) {
  try {
    const { values } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
    if ((values as { help?: boolean }).help) {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    return values as ReturnType<typeof parseArgs<{ options: O; strict: true; allowPositionals: false; args: string[] }>>['values'];
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
}

/** A flag that must be a positive integer; anything else is a usage error (exit 2). */
export function positiveInt(value: string | undefined, name: string, usage: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a positive integer, got ${JSON.stringify(value)}\n\n${usage}\n`);
    process.exit(2);
  }
  return n;
}
