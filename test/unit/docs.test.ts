import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configMarkdown, envExample } from '../../scripts/config-docs';
import { verdictLine, verdictLines } from '../../src/demo/verdict-lines';
import { WORKER_USAGE } from '../../src/main-args';

const root = resolve(__dirname, '..', '..');
const read = (name: string) => readFileSync(resolve(root, name), 'utf8');

describe('documentation stays in step with the configuration schema', () => {
  it('.env.example is the one rendered from the schema (tsx scripts/config-docs.ts --env > .env.example)', () => {
    expect(read('.env.example')).toBe(envExample());
  });

  it('docs/configuration.md holds the configuration table rendered from the schema (tsx scripts/config-docs.ts --markdown)', () => {
    expect(read('docs/configuration.md')).toContain(configMarkdown());
  });
});

/** The fenced block of the README that holds the demo's verdict. */
function readmeVerdictBlock(): string[] {
  const blocks: string[][] = [];
  let open: string[] | undefined;
  for (const line of read('README.md').split('\n')) {
    if (line.startsWith('```')) {
      if (open) blocks.push(open);
      open = open ? undefined : [];
    } else open?.push(line);
  }
  const block = blocks.find((b) => b.some((l) => l.startsWith('VERDICT: ')));
  if (!block) throw new Error('the README has no block with a VERDICT line');
  return block;
}

const num = (lines: string[], pattern: RegExp): number[] => {
  for (const l of lines) {
    const m = pattern.exec(l);
    if (m) return m.slice(1).map(Number);
  }
  throw new Error(`no line of the README's verdict matches ${pattern}`);
};

describe("the README's sample output is what the demo prints", () => {
  it('the verdict block, rebuilt from its own figures by the code that prints it, is the same text', () => {
    const block = readmeVerdictBlock();
    const [delivered = 0, due = 0] = num(block, /^messages delivered:\s+(\d+)\/(\d+)/);
    const [sourcesInOrder = 0, sources = 0] = num(block, /^per-source order:\s+(\d+)\/(\d+)/);
    const [outOfTurn = 0] = num(block, /^calls out of turn:\s+(\d+)/);
    const [retries = 0] = num(block, /^retried calls:\s+(\d+)/);
    const [duplicates = 0, around = 0] = num(block, /^duplicate successes:\s+(\d+) \((\d+)/);
    const [left = 0] = num(block, /^left in the queue:\s+(\d+)/);
    const [seconds = 0] = num(block, /^VERDICT: .* ([\d.]+) s$/);
    const summary = { delivered, due, sentTotal: due, skipped: 0, sources, sourcesInOrder, outOfTurn, retries, duplicates, duplicatesAroundRedeploy: around, left, seconds, ok: true };
    expect(block).toEqual([...verdictLines(summary), verdictLine(summary)]);
  });

  it('the verdict block is a passing run of the default demo (3,000 messages over 40 sources, nothing left)', () => {
    const block = readmeVerdictBlock();
    expect(block[block.length - 1]).toMatch(/^VERDICT: PASS — 3000\/3000 delivered, order held for 40\/40 sources/);
    expect(block).toContain('left in the queue:    0');
  });

  it('the worker usage the README points to names every required setting', () => {
    for (const key of ['QUEUE_URL', 'TARGET_URL', 'PROGRESS_TABLE', 'AWS_REGION']) expect(WORKER_USAGE).toContain(key);
    expect(read('README.md')).toContain('npm run dev -- --help');
  });
});
