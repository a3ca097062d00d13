import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string>; license: string };

describe('the package manifest', () => {
  it('points main at the library entry, not at the worker (dist/main.js starts a worker when loaded)', () => {
    expect(pkg.main).toBe('dist/index.js');
  });
  it('builds on npm pack, so a clean checkout packs dist', () => {
    expect(pkg.scripts.prepack).toBe('npm run build');
  });
  it('ships the Apache-2.0 text it names', () => {
    expect(pkg.license).toBe('Apache-2.0');
    const text = readFileSync(resolve(root, 'LICENSE'), 'utf8');
    expect(text).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(text).toContain('END OF TERMS AND CONDITIONS');
  });
});
