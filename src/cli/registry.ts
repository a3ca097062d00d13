import { demo } from './commands/demo';
import { emulators } from './commands/emulators';
import { send } from './commands/send';
import { setup } from './commands/setup';
import { status } from './commands/status';
import type { Command } from './spec';

/** Every command of the CLI: a new one is a file in commands/ and a line here. */
export const COMMANDS: readonly Command[] = [setup, send, status, demo, emulators];
