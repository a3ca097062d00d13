import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { freshQueueAndTable, type Fixture } from '../support/fixtures';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env: process.env, maxBuffer: 16 * 1024 * 1024 });

/** The example of docs/producer.md, as the reader copies it. */
function docExample(): string {
  const doc = readFileSync(resolve(root, 'docs/producer.md'), 'utf8');
  const m = /<!-- example: send\.mjs -->\n```js\n([\s\S]*?)```/.exec(doc);
  if (!m?.[1]) throw new Error('docs/producer.md lost its send.mjs example');
  return m[1];
}

const CJS = `const { Producer, ProducerInputError } = require('fifo-relay');
const producer = new Producer({ queueUrl: process.env.QUEUE_URL, table: process.env.PROGRESS_TABLE });
producer
  .send({ sourceId: 'meter-1', body: '{"reading":44}' })
  .then((r) => console.log('cjs meter-1 seq ' + r.seq))
  .then(() => producer.send({ sourceId: 'meter-1', body: '' }))
  .catch((e) => console.log('refused ' + (e instanceof ProducerInputError) + ': ' + e.message))
  .finally(() => producer.close());
`;

const TS = `import { Producer, type SendResult, type ProducerMessage } from 'fifo-relay';
const m: ProducerMessage = { sourceId: 's', body: 'b' };
const p = new Producer({ queueUrl: 'q', table: 't', region: 'us-east-1' });
const r: Promise<SendResult> = p.send(m);
void r;
`;

describe('the packed package in a plain Node 24 project', () => {
  let fx: Fixture;
  let dir: string;
  beforeAll(async () => {
    fx = await freshQueueAndTable('producer-package');
    dir = mkdtempSync(join(tmpdir(), 'producer-package-'));
  });
  afterAll(() => {
    fx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs from npm pack and runs the documented ESM example, a CJS script and a typed TS import', async () => {
    await npm(['run', 'build'], root);
    await npm(['pack', '--pack-destination', dir], root);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz')) as string;
    const app = join(dir, 'app');
    await run('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball)], app);
    writeFileSync(join(app, 'send.mjs'), docExample());
    writeFileSync(join(app, 'send.cjs'), CJS);
    writeFileSync(join(app, 'check.ts'), TS);

    const env = { ...process.env, QUEUE_URL: fx.queueUrl, PROGRESS_TABLE: fx.table };
    const esm = await run(process.execPath, ['send.mjs'], { cwd: app, env });
    expect(esm.stdout.trim().split('\n').map((l) => l.replace(/ message \S+$/, ''))).toEqual(['meter-1 seq 1', 'meter-1 seq 2', 'meter-2 seq 1']);
    const cjs = await run(process.execPath, ['send.cjs'], { cwd: app, env });
    expect(cjs.stdout).toContain('cjs meter-1 seq 3');
    expect(cjs.stdout).toContain('refused true: nothing sent: message 0: body is empty');

    // The declarations resolve through the package's exports under Node's own module rules.
    const tsc = resolve(root, 'node_modules/.bin/tsc');
    await run(tsc, ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--typeRoots', resolve(root, 'node_modules/@types'), 'check.ts'], { cwd: app });
  }, 300_000);
});
