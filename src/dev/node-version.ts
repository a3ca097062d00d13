/** node:sqlite (fauxqs), the SDK's supported range and our own code all assume this major. */
export const REQUIRED_NODE_MAJOR = 24;

/** One line naming the required version and the command that provides it, or undefined when this Node will do. */
export function nodeVersionProblem(version: string = process.versions.node): string | undefined {
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  if (Number.isInteger(major) && major >= REQUIRED_NODE_MAJOR) return undefined;
  return `fifo-relay needs Node ${REQUIRED_NODE_MAJOR} or newer, this is Node ${version.replace(/^v/, '')}: run "source scripts/node24.sh" (puts Node ${REQUIRED_NODE_MAJOR} on PATH) and try again`;
}
