/**
 * Imported first by every entry point: on an older Node the first failure would otherwise be a
 * missing built-in deep inside an emulator, or a warning from the AWS SDK, neither naming the fix.
 */
import { nodeVersionProblem } from './node-version';

const problem = nodeVersionProblem();
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
