import { declareLost } from './commands/declare-lost';
import { demo } from './commands/demo';
import { demoApp } from './commands/demo-app';
import { emulators } from './commands/emulators';
import { park } from './commands/park';
import { send } from './commands/send';
import { setAside } from './commands/set-aside';
import { setup } from './commands/setup';
import { show } from './commands/show';
import { skip } from './commands/skip';
import { status } from './commands/status';
import { unpark } from './commands/unpark';
import type { Command } from './spec';

/** Every command of the CLI: a new one is a file in commands/ and a line here. */
export const COMMANDS: readonly Command[] = [setup, send, status, show, park, unpark, skip, declareLost, setAside, demo, demoApp, emulators];
