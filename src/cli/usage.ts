import type { Command } from './spec';

/** A wrong command line: print the relevant usage line, point to --help, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function required(name: string, value: string | undefined, envName?: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name}${envName ? ` (or ${envName})` : ''} is required`);
  return value;
}

/** AWS settings the process must have, named by their variable (no option stands for them). */
export function requiredEnv(envName: string, purpose: string): string {
  const value = process.env[envName];
  if (value === undefined || value === '') throw new UsageError(`${envName} is required (${purpose})`);
  return value;
}

export function usageLine(cmd: Command): string {
  const parts = [`fifo-relay ${cmd.name}`];
  for (const p of cmd.positionals ?? []) parts.push(p.required ? `<${p.name}>` : `[${p.name}]`);
  for (const [name, o] of Object.entries(cmd.options)) {
    const text = o.kind === 'flag' ? `--${name}` : `--${name} ${o.value}`;
    parts.push(o.kind === 'string' && o.required && o.env === undefined ? text : `[${text}]`);
  }
  return parts.join(' ');
}

function optionHelp(o: Command['options'][string]): string {
  if (o.kind === 'flag') return o.help;
  if (o.kind === 'string') return `${o.help}${o.env ? ` (default: $${o.env})` : ''}${o.required && !o.env ? ' (required)' : ''}`;
  return `${o.help} (default ${o.default})`;
}

export function commandHelp(cmd: Command): string {
  const rows: Array<[string, string]> = [
    ...(cmd.positionals ?? []).map((p): [string, string] => [p.required ? `<${p.name}>` : `[${p.name}]`, p.help]),
    ...Object.entries(cmd.options).map(([name, o]): [string, string] => [o.kind === 'flag' ? `--${name}` : `--${name} ${o.value}`, optionHelp(o)]),
    ['-h, --help', 'print this text'],
  ];
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `usage: ${usageLine(cmd)}`,
    '',
    cmd.summary,
    '',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`),
    ...(cmd.details?.length ? ['', ...cmd.details] : []),
    '',
  ].join('\n');
}

export function mainUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: fifo-relay <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "fifo-relay <command> --help" for its options.',
    'AWS settings come from the environment: AWS_REGION, credentials, and for custom endpoints',
    'AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB.',
    '',
  ].join('\n');
}
