import { parseArgs } from 'node:util';
import type { Command, OptionSpec, Options, Values } from './spec';
import { UsageError, required } from './usage';

const isHelp = (a: string) => a === '--help' || a === '-h';

/**
 * node:util's parser refuses `--count -5` as an ambiguous value and words its errors its own
 * way; a value that starts with a dash but is no option of this command is glued to its option,
 * so the command's own check (and message) sees it.
 */
function glueDashValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    const spec = arg.startsWith('--') ? options[arg.slice(2)] : undefined;
    if (spec && spec.kind !== 'flag' && next !== undefined && next.startsWith('-') && !(next.slice(2) in options) && !isHelp(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** node:util's parse errors, said the project's way. */
function ownWords(err: Error & { code?: string }): UsageError {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option "${quoted}"`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument "${quoted}"`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const name = quoted.split(' ')[0] ?? quoted;
      return new UsageError(/does not take/.test(err.message) ? `${name} takes no value` : `${name} needs a value`);
    }
    default:
      return new UsageError(err.message);
  }
}

function convert(name: string, spec: OptionSpec, raw: string | boolean | undefined): string | number | boolean | undefined {
  switch (spec.kind) {
    case 'flag':
      return raw === true;
    case 'string': {
      const value = typeof raw === 'string' ? raw : spec.env ? process.env[spec.env] : undefined;
      return spec.required ? required(name, value, spec.env) : value === '' ? undefined : value;
    }
    case 'int': {
      if (typeof raw !== 'string') return spec.default;
      const min = spec.min ?? 1;
      if (!/^\d+$/.test(raw) || Number(raw) < min) throw new UsageError(`--${name} must be a whole number of at least ${min}, got "${raw}"`);
      return Number(raw);
    }
    case 'rate': {
      if (typeof raw !== 'string') return spec.default;
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`--${name} must be a number from 0 to 1, got "${raw}"`);
      return n;
    }
  }
}

export type Parsed<O extends Options> = { help: true } | { help: false; values: Values<O>; args: string[] };

/** Reads one command's arguments; throws UsageError with one line saying what is wrong. */
export function parseCommand<O extends Options>(cmd: Command<O>, argv: string[]): Parsed<O> {
  const end = argv.indexOf('--');
  if ((end === -1 ? argv : argv.slice(0, end)).some(isHelp)) return { help: true };
  const positionals = cmd.positionals ?? [];
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: glueDashValues(argv, cmd.options),
      options: Object.fromEntries(Object.entries(cmd.options).map(([name, o]) => [name, { type: o.kind === 'flag' ? 'boolean' : 'string' }] as const)),
      strict: true,
      allowPositionals: positionals.length > 0,
    });
  } catch (err) {
    throw ownWords(err as Error & { code?: string });
  }
  const args = parsed.positionals;
  if (args.length > positionals.length) throw new UsageError(`unexpected argument "${args[positionals.length] ?? ''}"`);
  const missing = positionals.slice(args.length).find((p) => p.required);
  if (missing) throw new UsageError(`<${missing.name}> is required`);
  const values: Record<string, unknown> = {};
  // A malformed number is reported before a missing option: it is what the user just typed.
  const entries = Object.entries(cmd.options).sort(([, a], [, b]) => Number(a.kind === 'string') - Number(b.kind === 'string'));
  for (const [name, spec] of entries) values[name] = convert(name, spec, parsed.values[name] as string | boolean | undefined);
  return { help: false, values: values as Values<O>, args };
}
