/**
 * The verifier the CLI uses is node/protocol's (the API's and the browser's), and none of it reaches
 * the store, the API or Node's I/O (issue 6; DESIGN §2). Checked on the source import graph, and by
 * the lint rule that holds the same boundary.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..');
const PURE_PACKAGES = ['ethers', 'canonicalize', '@noble/hashes'];

function importsOf(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of src.matchAll(/(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** Every module reachable from `entry` through relative imports, with the bare packages they use. */
function graph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const base = path.resolve(path.dirname(file), spec);
      visit(fs.existsSync(base + '.ts') ? base + '.ts' : path.join(base, 'index.ts'));
    }
  };
  visit(entry);
  return { files, packages };
}

describe('verifier boundaries', () => {
  it('node/protocol/verify.ts imports nothing outside node/protocol but pure packages', () => {
    const { files, packages } = graph(path.join(ROOT, 'node/protocol/verify.ts'));
    expect(files.size).toBeGreaterThan(5);
    for (const f of files) expect(path.relative(ROOT, f)).toMatch(/^node\/protocol\/[a-z-]+\.ts$/);
    for (const p of packages) expect(PURE_PACKAGES.some((ok) => p === ok || p.startsWith(ok + '/')), `${p} is not a pure package`).toBe(true);
  });

  it('the CLI and the chain reader reach neither the store nor the API', () => {
    for (const entry of ['scripts/cli/verify.ts', 'node/chain/chain-reader.ts']) {
      const { files, packages } = graph(path.join(ROOT, entry));
      const rel = [...files].map((f) => path.relative(ROOT, f));
      expect(rel.filter((f) => f.startsWith('api/') || f.startsWith('node/store/') || /node\/(ledger|sequencer|anchorer|bundles)\.ts$/.test(f)), entry).toEqual([]);
      expect([...packages].filter((p) => ['level', 'classic-level', 'express', 'hardhat'].includes(p)), entry).toEqual([]);
      // and the CLI verifies with node/protocol's verifier, not a copy of its own
      if (entry === 'scripts/cli/verify.ts') expect(rel).toContain('node/protocol/verify.ts');
    }
  });

  it('the lint rule refuses Node I/O and outside imports in node/protocol, and the store in the verify CLI', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const [io] = await eslint.lintText("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", { filePath: path.join(ROOT, 'node/protocol/verify.ts') });
    expect(io!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const [up] = await eslint.lintText("import { Ledger } from '../ledger';\nexport const x = Ledger;\n", { filePath: path.join(ROOT, 'node/protocol/verify.ts') });
    expect(up!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const [store] = await eslint.lintText("import { LogStore } from '../../node/store/log-store';\nexport const x = LogStore;\n", { filePath: path.join(ROOT, 'scripts/cli/verify.ts') });
    expect(store!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    // The real files pass the same rules.
    const real = await eslint.lintFiles(['node/protocol/verify.ts', 'node/protocol/bundle-schema.ts', 'scripts/cli/verify.ts', 'node/chain/chain-reader.ts']);
    expect(real.flatMap((r) => r.messages.map((m) => `${path.relative(ROOT, r.filePath)}:${m.line} ${m.ruleId} ${m.message}`))).toEqual([]);
  });
});
