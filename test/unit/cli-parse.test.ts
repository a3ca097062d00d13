import { parseCommand } from '../../src/cli/parse';
import { COMMANDS } from '../../src/cli/registry';
import type { Command } from '../../src/cli/spec';
import { UsageError, commandHelp, usageLine } from '../../src/cli/usage';
import { nodeVersionProblem } from '../../src/dev/node-version';

const cmd = (name: string): Command => {
  const c = COMMANDS.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
};
const errorOf = (name: string, argv: string[], env: Record<string, string> = {}): string => {
  const saved = { ...process.env };
  Object.assign(process.env, { QUEUE_URL: '', PROGRESS_TABLE: '' }, env);
  try {
    parseCommand(cmd(name), argv);
    return '';
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  } finally {
    process.env = saved;
  }
};

describe('CLI parsing', () => {
  it('accepts --queue-url and --table as the messages promise', () => {
    const send = parseCommand(cmd('send'), ['--queue-url', 'http://q/1/a.fifo', '--source', 's', '--count', '3']);
    expect(send).toEqual({ help: false, args: [], values: { 'queue-url': 'http://q/1/a.fifo', source: 's', count: 3, 'seq-start': 0, table: undefined, body: undefined } });
    const status = parseCommand(cmd('status'), ['--table', 't', '--json']);
    expect(status).toMatchObject({ help: false, values: { table: 't', json: true, limit: 50 } });
  });

  it('falls back to the environment and says both names when neither is set', () => {
    expect(errorOf('send', ['--source', 's'])).toBe('--queue-url (or QUEUE_URL) is required');
    expect(errorOf('status', [])).toBe('--table (or PROGRESS_TABLE) is required');
    expect(errorOf('status', [], { PROGRESS_TABLE: 'from-env' })).toBe('');
  });

  it.each(['--help', '-h'])('%s on any command asks for its help', (flag) => {
    for (const c of COMMANDS) expect(parseCommand(c, ['--bogus', flag])).toEqual({ help: true });
  });

  it('words errors its own way', () => {
    expect(errorOf('send', ['--source', 'a', '--count', '-5'], { QUEUE_URL: 'http://q/1/a.fifo' })).toBe('--count must be a whole number of at least 1, got "-5"');
    expect(errorOf('send', ['--count', '-5'])).toBe('--count must be a whole number of at least 1, got "-5"');
    expect(errorOf('status', ['--bogus'])).toBe('unknown option "--bogus"');
    expect(errorOf('status', ['--limit'])).toBe('--limit needs a value');
    expect(errorOf('status', ['--json=yes'])).toBe('--json takes no value');
    expect(errorOf('status', ['a-source', 'extra'], { PROGRESS_TABLE: 't' })).toBe('unexpected argument "extra"');
    expect(errorOf('demo', ['--fail-rate', '2'])).toBe('--fail-rate must be a number from 0 to 1, got "2"');
  });

  it('builds the usage line and the help from the declared options', () => {
    expect(usageLine(cmd('send'))).toBe('fifo-relay send [--queue-url URL] --source ID [--count N] [--seq-start N] [--table NAME] [--body TEXT]');
    const help = commandHelp(cmd('status'));
    expect(help).toMatch(/^usage: fifo-relay status \[sourceId\] \[--table NAME\] \[--limit N\] \[--json\] \[--stuck-attempts N\] \[--stuck-after DURATION\]$/m);
    expect(help).toMatch(/--table NAME\s+progress table \(default: \$PROGRESS_TABLE\)/);
    expect(help).toMatch(/-h, --help\s+print this text/);
  });
});

describe('Node version check', () => {
  it('names Node 24 and the one command that fixes it', () => {
    expect(nodeVersionProblem('20.20.2')).toBe('fifo-relay needs Node 24 or newer, this is Node 20.20.2: run "source scripts/node24.sh" (puts Node 24 on PATH) and try again');
    expect(nodeVersionProblem('v22.1.0')).toMatch(/Node 24 or newer, this is Node 22\.1\.0/);
  });

  it('lets Node 24 and later through', () => {
    expect(nodeVersionProblem('24.0.0')).toBeUndefined();
    expect(nodeVersionProblem('25.2.1')).toBeUndefined();
    expect(nodeVersionProblem(process.versions.node)).toBeUndefined();
  });
});
