#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { runDemo } from '../demo/run-demo';
import { sendCommand, setupCommand } from './commands';
import { parseStatusOptions, runStatus } from './status';
import { USAGE, UsageError, positiveInt, rate, required } from './usage';

const out = (line: string) => process.stdout.write(`${line}\n`);

/** Returns the exit code; node:util parseArgs keeps the CLI free of another dependency. */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'setup': {
        const { values } = parseArgs({ args: rest, options: { 'queue-url': { type: 'string' }, table: { type: 'string' } }, strict: true });
        await setupCommand({ queueUrl: values['queue-url'], table: values.table }, out);
        return 0;
      }
      case 'send': {
        const { values } = parseArgs({
          args: rest,
          options: { source: { type: 'string' }, count: { type: 'string' }, 'seq-start': { type: 'string' }, body: { type: 'string' } },
          strict: true,
        });
        await sendCommand(
          { source: required('source', values.source), count: positiveInt('count', values.count, 1), seqStart: positiveInt('seq-start', values['seq-start'], 1), ...(values.body === undefined ? {} : { body: values.body }) },
          out,
        );
        return 0;
      }
      case 'status':
        return await runStatus(parseStatusOptions(rest, process.env), process.stdout);
      case 'demo': {
        const { values } = parseArgs({
          args: rest,
          options: {
            messages: { type: 'string' },
            sources: { type: 'string' },
            workers: { type: 'string' },
            'fail-rate': { type: 'string' },
            'slow-rate': { type: 'string' },
            'slow-ms': { type: 'string' },
            poison: { type: 'boolean' },
          },
          strict: true,
        });
        const verdict = await runDemo(
          {
            messages: positiveInt('messages', values.messages, 3000),
            sources: positiveInt('sources', values.sources, 40),
            workers: positiveInt('workers', values.workers, 2),
            failRate: rate('fail-rate', values['fail-rate'], 0.1),
            slowRate: rate('slow-rate', values['slow-rate'], 0.02),
            slowMs: positiveInt('slow-ms', values['slow-ms'], 1500),
            poison: values.poison ?? false,
          },
          out,
        );
        return verdict.ok ? 0 : 1;
      }
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return 0;
      default:
        throw new UsageError(command === undefined ? 'no command given' : `unknown command "${command}"`);
    }
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || (e.code ?? '').startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`fifo-relay: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`fifo-relay: ${e.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
