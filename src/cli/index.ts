#!/usr/bin/env node
import '../dev/require-node';
import { parseCommand } from './parse';
import { COMMANDS } from './registry';
import { UsageError, commandHelp, mainUsage, usageLine } from './usage';

const out = (line: string) => process.stdout.write(`${line}\n`);

/** Returns the exit code; node:util parseArgs keeps the CLI free of another dependency. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    (name === undefined ? process.stderr : process.stdout).write(topic ? commandHelp(topic) : mainUsage(COMMANDS));
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`fifo-relay: unknown command "${name}"\nusage: fifo-relay <command> [options]   (${COMMANDS.map((c) => c.name).join(', ')})\nrun "fifo-relay --help" for details\n`);
    return 2;
  }
  try {
    const parsed = parseCommand(cmd, rest);
    if (parsed.help) {
      out(commandHelp(cmd));
      return 0;
    }
    return await cmd.run(parsed.values, parsed.args, out);
  } catch (err) {
    const e = err as Error;
    if (err instanceof UsageError) {
      process.stderr.write(`fifo-relay ${cmd.name}: ${e.message}\nusage: ${usageLine(cmd)}\nrun "fifo-relay ${cmd.name} --help" for details\n`);
      return 2;
    }
    process.stderr.write(`fifo-relay ${cmd.name}: ${e.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
