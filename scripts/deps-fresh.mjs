#!/usr/bin/env node
// Exit 0 when node_modules holds what package-lock.json pins; else print why in one line and
// exit 1 (scripts/ensure.sh then runs npm ci). Reads npm's own record of what it installed
// (node_modules/.package-lock.json), so an install made by hand counts as long as it matches.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const hiddenFile = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(hiddenFile)) {
  process.stdout.write('node_modules is missing\n');
  process.exit(1);
}
const wanted = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages ?? {};
const have = JSON.parse(readFileSync(hiddenFile, 'utf8')).packages ?? {};
for (const [path, entry] of Object.entries(wanted)) {
  if (path === '' || entry.link) continue;
  const got = have[path];
  // Optional packages for other platforms (esbuild's, for instance) are never installed here.
  if (!got && entry.optional) continue;
  if (!got || got.version !== entry.version) {
    process.stdout.write(`node_modules is older than package-lock.json (${path.replace(/^node_modules\//, '')} ${got?.version ?? 'missing'}, pinned ${entry.version})\n`);
    process.exit(1);
  }
}
