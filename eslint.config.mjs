// Lint, and hold the folder boundaries of DESIGN §2 / STYLE.md:
//   node/protocol: pure and browser-safe (no I/O, no node: modules, nothing outside protocol);
//   node: never imports api; scripts/verify and scripts/audit: no store and no api.
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['fs', 'path', 'os', 'net', 'http', 'https', 'child_process', 'crypto', 'stream', 'worker_threads', 'process'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'artifacts/**', 'cache/**', 'data/**', 'typechain-types/**', 'coverage/**', 'api/static/verify.js', 'bench-out/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['node/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', ...NODE_BUILTINS], message: 'node/protocol is browser-safe: no Node built-ins or I/O.' },
          { group: ['../*', '../**', 'level', 'classic-level', 'express', 'hardhat', 'pino'], message: 'node/protocol imports nothing outside itself but pure libraries.' },
        ],
      }],
    },
  },
  {
    files: ['node/**/*.ts'],
    ignores: ['node/protocol/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/api', '**/api/**'], message: 'node must not depend on api (DESIGN §2).' }] }],
    },
  },
  {
    files: ['scripts/verify*.ts', 'scripts/audit*.ts', 'scripts/cli/verify*.ts', 'scripts/cli/audit*.ts', 'node/audit/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/api', '**/api/**'], message: 'verify/audit never need the API code.' },
          { group: ['**/node/store/**', '**/node/log-store*', 'level', 'classic-level'], message: 'verify/audit trust the chain, not a store.' },
        ],
      }],
    },
  },
);
