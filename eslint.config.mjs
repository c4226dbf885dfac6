// Lint, and hold the folder boundaries (docs/architecture.md, "Layers"):
//   node/protocol: pure and browser-safe (no I/O, no node: modules, nothing outside protocol);
//   node/*/history.ts: node/protocol only; node/verifier: protocol and the histories only;
//   node/report (the court report): protocol and verifier only, plus the qrcode encoder;
//   the browser page and the CLI's verify/audit: protocol, verifier, histories and the chain reader
//   (the `tianfu/layers` rule below, an allow-list);
//   node: never imports api; scripts/verify and scripts/audit: no store and no api.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const ROOT = path.dirname(fileURLToPath(import.meta.url));
const BUILTIN_MODULES = new Set((await import('node:module')).builtinModules);

/**
 * `tianfu/layers`: every relative import of a file must resolve inside one of `allow` (repo-relative
 * folders or modules, without extension), every bare import must be one of `packages` (when given),
 * and Node built-ins are refused unless `builtins` is true. An allow-list, so a new arrow upward is
 * an error until the layer's table here says otherwise.
 */
const layersRule = {
  meta: { type: 'problem', schema: [{ type: 'object', additionalProperties: true }] },
  create(context) {
    const { allow = [], packages = null, builtins = false, layer = 'this layer' } = context.options[0] ?? {};
    const inside = (rel) => allow.some((a) => rel === a || rel.startsWith(a + '/'));
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.')) {
        const rel = path.relative(ROOT, path.resolve(path.dirname(context.filename), spec)).split(path.sep).join('/').replace(/\.(ts|js|mjs|cjs)$/, '').replace(/\/index$/, '');
        if (!inside(rel)) context.report({ node, message: `${layer} may import only ${allow.join(', ')}; not ${rel}` });
        return;
      }
      const bare = spec.startsWith('node:') ? spec.slice(5) : spec;
      if (spec.startsWith('node:') || BUILTIN_MODULES.has(bare.split('/')[0])) {
        if (!builtins) context.report({ node, message: `${layer} runs in the browser too: no Node built-in (${spec})` });
        return;
      }
      if (packages !== null && !packages.some((p) => spec === p || spec.startsWith(p + '/'))) context.report({ node, message: `${layer} may use only the packages ${packages.join(', ') || '(none)'}; not ${spec}` });
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === 'Literal' && check(n, n.source.value),
      CallExpression: (n) => n.callee.type === 'Identifier' && n.callee.name === 'require' && n.arguments[0]?.type === 'Literal' && check(n, n.arguments[0].value),
    };
  },
};

const PROTOCOL = 'node/protocol';
const HISTORIES = ['node/invoice/history', 'node/evidence/history'];
const VERIFIER = 'node/verifier';
const CHAIN_READER = 'node/chain/chain-reader';
const FETCH_READER = 'node/chain/fetch-reader';
const REPORT = 'node/report';
const PRINT = 'node/print';
/** Pure packages node/protocol builds on (no I/O, browser-safe). */
const PURE_PACKAGES = ['ethers', 'canonicalize', '@noble/hashes', 'asn1js', 'pkijs', 'fflate'];

/** Each layer: the files, and what they may import. Read top-down: nothing imports a layer above it. */
const LAYERS = [
  { files: ['node/protocol/**/*.ts'], layer: 'node/protocol', allow: [PROTOCOL], packages: PURE_PACKAGES },
  { files: ['node/invoice/history.ts', 'node/evidence/history.ts'], layer: 'a domain history (node/*/history.ts)', allow: [PROTOCOL], packages: [] },
  { files: ['node/verifier/**/*.ts'], layer: 'node/verifier', allow: [PROTOCOL, ...HISTORIES, VERIFIER], packages: [] },
  { files: ['node/report/**/*.ts'], layer: 'node/report', allow: [PROTOCOL, VERIFIER, REPORT], packages: ['qrcode'] },
  { files: ['node/print/**/*.ts'], layer: 'node/print', allow: [PRINT], packages: ['playwright-core'], builtins: true },
  { files: ['node/chain/chain-reader.ts'], layer: 'the chain reader', allow: [PROTOCOL, FETCH_READER], packages: ['ethers'] },
  { files: ['node/chain/fetch-reader.ts'], layer: 'the fetch chain reader', allow: [PROTOCOL], packages: [] },
  { files: ['api/page/**/*.ts'], layer: 'the browser page', allow: [PROTOCOL, ...HISTORIES, VERIFIER, REPORT, FETCH_READER, 'api/page'], packages: ['hash-wasm'] },
  { files: ['scripts/cli/verify.ts'], layer: 'tianfu verify', allow: [PROTOCOL, ...HISTORIES, VERIFIER, CHAIN_READER, FETCH_READER, 'node/crypto/eip191', 'scripts/cli/common', 'scripts/cli/report'], builtins: true },
  { files: ['scripts/cli/report.ts'], layer: 'tianfu verify --report', allow: [PROTOCOL, VERIFIER, REPORT, PRINT, 'scripts/cli/common'], builtins: true },
  { files: ['scripts/cli/audit.ts'], layer: 'tianfu audit', allow: [PROTOCOL, ...HISTORIES, VERIFIER, CHAIN_READER, FETCH_READER, 'node/audit', 'scripts/cli/common', 'scripts/cli/progress'], builtins: true },
];

const NODE_BUILTINS = ['fs', 'path', 'os', 'net', 'http', 'https', 'child_process', 'crypto', 'stream', 'worker_threads', 'process'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'artifacts/**', 'cache/**', 'data/**', 'typechain-types/**', 'coverage/**', 'api/static/verify.js', 'api/static/chunks/**', 'bench-out/**'] },
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
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/api', '**/api/**'], message: 'node must not depend on api (docs/architecture.md "Layers").' }] }],
    },
  },
  { plugins: { tianfu: { rules: { layers: layersRule } } } },
  {
    files: ['test/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/scripts/bench', '**/scripts/bench/**'], message: 'tests import nothing from the benchmarks: shared generators live in test/support/ or beside the code they describe.' }] }] },
  },
  ...LAYERS.map(({ files, ...options }) => ({ files, rules: { 'tianfu/layers': ['error', options] } })),
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
