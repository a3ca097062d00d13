import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', 'coverage/', 'infra/cdk.out/', 'cdk.out/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The core is pure: no I/O, no clocks, no timers. Time and randomness come in as arguments.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['@aws-sdk/*', '@smithy/*', 'node:*', 'fs', 'http', 'https', 'net', 'pino', 'prom-client'] }],
      'no-restricted-globals': ['error', 'fetch', 'setTimeout', 'setInterval', 'setImmediate', 'process', 'performance'],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now' }, { object: 'Math', property: 'random' }],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date']", message: 'core is pure: pass time in' }],
    },
  },
);
