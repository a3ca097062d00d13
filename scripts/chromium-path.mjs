#!/usr/bin/env node
// Prints the path of the headless browser the status page test drives, or one line saying what
// is missing (exit 1). CHROMIUM_PATH wins; else the chromium that the pinned devDependency
// @sparticuz/chromium ships (brotli-compressed inside the npm package), unpacked once into
// .tools/ so every test run and every engineer's process shares one finished copy.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function fail(line) {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

function packaged() {
  const pkgFile = join(root, 'node_modules', '@sparticuz', 'chromium', 'package.json');
  if (!existsSync(pkgFile)) return undefined;
  const version = JSON.parse(readFileSync(pkgFile, 'utf8')).version;
  const dir = join(root, '.tools', `chromium-${version}`);
  const bin = join(dir, 'chromium');
  if (existsSync(bin)) return bin;
  mkdirSync(join(root, '.tools'), { recursive: true });
  // The package unpacks into os.tmpdir() and trusts any file already there: give it a private
  // folder, then move the finished folder into place, so a half-written binary is never seen.
  const scratch = mkdtempSync(join(root, '.tools', 'chromium-unpack-'));
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', "import c from '@sparticuz/chromium'; process.stdout.write(await c.executablePath());"], {
      cwd: root,
      env: { ...process.env, TMPDIR: scratch },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      renameSync(scratch, dir);
    } catch (err) {
      // Another process finished first: its copy is as good as ours.
      if (!existsSync(bin)) throw err;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return bin;
}

let path = process.env.CHROMIUM_PATH;
if (path) {
  if (!existsSync(path)) fail(`browser missing: CHROMIUM_PATH=${path} does not exist (unset it to use the packaged chromium, or: apt-get install chromium)`);
} else {
  try {
    path = packaged();
  } catch (err) {
    fail(`browser missing: unpacking @sparticuz/chromium failed (${String(err.message).split('\n')[0]}); run npm ci, or apt-get install chromium and set CHROMIUM_PATH=/usr/bin/chromium`);
  }
  if (!path && existsSync('/usr/bin/chromium')) path = '/usr/bin/chromium';
  if (!path) fail('browser missing: no @sparticuz/chromium in node_modules (run npm ci) and no /usr/bin/chromium (apt-get install chromium)');
}
// A binary that cannot start (a missing shared library) is said here in one line, not as a test timeout.
try {
  execFileSync(path, ['--version'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
} catch (err) {
  const why = String(err.stderr ?? err.message).trim().split('\n')[0];
  fail(`browser missing: ${path} does not start (${why}); apt-get install libnss3, or apt-get install chromium and set CHROMIUM_PATH=/usr/bin/chromium`);
}
process.stdout.write(`${path}\n`);
