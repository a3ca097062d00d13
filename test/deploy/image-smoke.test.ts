/**
 * The pieces of scripts/image-smoke.sh that can be checked without podman: the script parses,
 * it can stand in for the Dockerfile's base image, and its delivery judge accepts exactly the
 * in-order, complete runs. The podman run itself is documented in docs/image-smoke.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { judge, parseExpected } from '../../scripts/image-smoke/deliveries';

const root = resolve(__dirname, '..', '..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');
const rec = (sourceId: string, seq: number, status = 200) => ({ sourceId, seq: String(seq), status });
const expected = (o: Record<string, number>) => new Map(Object.entries(o));

describe('image smoke script', () => {
  it('is valid bash', () => {
    const r = spawnSync('bash', ['-n', resolve(root, 'scripts/image-smoke.sh')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("can stand in for the Dockerfile's NODE_IMAGE (node:<version>-<suite>-slim)", () => {
    const pattern = /\[\[ "\$NODE_IMAGE" =~ (\S+) \]\]/.exec(read('scripts/image-smoke.sh'))?.[1];
    expect(pattern).toBeDefined();
    const nodeImage = /^ARG NODE_IMAGE=(\S+)$/m.exec(read('Dockerfile'))?.[1];
    expect(nodeImage).toBeDefined();
    expect(new RegExp(pattern!).test(nodeImage!)).toBe(true);
  });
});

describe('image smoke delivery judge', () => {
  it('is done when every source got 1..n accepted in order, duplicates and failures aside', () => {
    const records = [rec('a', 1, 503), rec('a', 1), rec('b', 1), rec('a', 1), rec('a', 2), rec('b', 2)];
    expect(judge(records, expected({ a: 2, b: 2 }))).toEqual({ done: true });
  });

  it('keeps waiting while messages are missing', () => {
    expect(judge([rec('a', 1)], expected({ a: 2, b: 1 }))).toEqual({ done: false, final: false, problem: 'still missing: a 1/2, b 0/1' });
  });

  it('fails at once on disorder, an unknown source or more than was sent', () => {
    expect(judge([rec('a', 2), rec('a', 1)], expected({ a: 2 }))).toMatchObject({ done: false, final: true, problem: 'a: seq 2 accepted after 0' });
    expect(judge([rec('a', 1), rec('a', 3)], expected({ a: 3 }))).toMatchObject({ final: true, problem: 'a: seq 3 accepted after 1' });
    expect(judge([rec('z', 1)], expected({ a: 1 }))).toMatchObject({ final: true, problem: 'unexpected source z delivered' });
    expect(judge([rec('a', 1), rec('a', 2)], expected({ a: 1 }))).toMatchObject({ final: true, problem: 'a: 2 accepted, only 1 sent' });
  });

  it('reads source=count arguments and refuses anything else', () => {
    expect(parseExpected(['a=5', 'smoke-b=1'])).toEqual(expected({ a: 5, 'smoke-b': 1 }));
    for (const bad of [[], ['a'], ['a=0'], ['a=x'], ['=3']]) expect(parseExpected(bad)).toBeUndefined();
  });

  it('as a command: exit 0 when complete, 1 when not complete by the timeout, 2 on bad arguments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fifo-relay-smoke-judge-'));
    try {
      const file = join(dir, 'deliveries.jsonl');
      writeFileSync(file, [rec('a', 1), rec('a', 2)].map((r) => JSON.stringify(r)).join('\n') + '\n');
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/image-smoke/deliveries.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
      expect(run(file, '0', 'a=2').status).toBe(0);
      const short = run(file, '0', 'a=3');
      expect(short.status).toBe(1);
      expect(short.stderr).toContain('still missing: a 2/3');
      expect(run(file, 'soon', 'a=2').status).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
