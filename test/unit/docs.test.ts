import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configMarkdown, envExample } from '../../scripts/config-docs';

const root = resolve(__dirname, '..', '..');
const read = (name: string) => readFileSync(resolve(root, name), 'utf8');

describe('documentation stays in step with the configuration schema', () => {
  it('.env.example is the one rendered from the schema (tsx scripts/config-docs.ts --env > .env.example)', () => {
    expect(read('.env.example')).toBe(envExample());
  });

  it('the README holds the configuration table rendered from the schema (tsx scripts/config-docs.ts --markdown)', () => {
    expect(read('README.md')).toContain(configMarkdown());
  });
});
