/** How a command declares its options: the parser, the usage line and --help all come from this. */
export type OptionSpec =
  | { kind: 'string'; value: string; help: string; env?: string; required?: boolean }
  | { kind: 'int'; value: string; help: string; default: number; min?: number }
  | { kind: 'rate'; value: string; help: string; default: number }
  | { kind: 'flag'; help: string };

export type Options = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S extends { kind: 'flag' }
  ? boolean
  : S extends { kind: 'int' | 'rate' }
    ? number
    : S extends { required: true }
      ? string
      : string | undefined;

export type Values<O extends Options> = { [K in keyof O]: ValueOf<O[K]> };

export interface Positional {
  name: string;
  help: string;
  required?: boolean;
}

export interface Command<O extends Options = Options> {
  name: string;
  summary: string;
  /** Extra paragraphs of --help: what the command needs, where its settings come from. */
  details?: string[];
  positionals?: Positional[];
  options: O;
  /** Returns the exit code. Method syntax on purpose: a registry holds commands of different option types. */
  run(values: Values<O>, args: string[], out: (line: string) => void): Promise<number>;
}

/** Infers the option types so run() sees `count: number`, `source: string`, `json: boolean`. */
export function defineCommand<const O extends Options>(command: Command<O>): Command<O> {
  return command;
}
