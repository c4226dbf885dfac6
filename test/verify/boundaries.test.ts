/**
 * The verifier the CLI uses is node/verifier's (the API's and the browser's), and none of it reaches
 * the store, the API or Node's I/O (issue 6; docs/architecture.md "Layers"). Checked on the source import graph, and by
 * the lint rules that hold the same boundaries (eslint.config.mjs: no-restricted-imports and the
 * tianfu/layers allow-list).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';

const ROOT = path.resolve(__dirname, '..', '..');
const PURE_PACKAGES = ['ethers', 'canonicalize', '@noble/hashes', 'asn1js', 'pkijs', 'fflate'];

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
  it('node/verifier imports nothing outside node/protocol and the domains\' histories but pure packages', () => {
    const { files, packages } = graph(path.join(ROOT, 'node/verifier/index.ts'));
    expect(files.size).toBeGreaterThan(5);
    for (const f of files) expect(path.relative(ROOT, f)).toMatch(/^node\/(protocol\/[a-z-]+|verifier\/([a-z-]+\/)?[a-z-]+|(invoice|evidence)\/history)\.ts$/);
    for (const p of packages) expect(PURE_PACKAGES.some((ok) => p === ok || p.startsWith(ok + '/')), `${p} is not a pure package`).toBe(true);
  });

  it('the domain histories import only node/protocol', () => {
    for (const entry of ['node/invoice/history.ts', 'node/evidence/history.ts']) {
      const { files, packages } = graph(path.join(ROOT, entry));
      for (const f of [...files].slice(1)) expect(path.relative(ROOT, f), entry).toMatch(/^node\/protocol\/[a-z-]+\.ts$/);
      for (const p of packages) expect(PURE_PACKAGES.some((ok) => p === ok || p.startsWith(ok + '/')), `${p} is not a pure package`).toBe(true);
    }
  });

  it('the browser page reaches no Node built-in, no schema library and no domain service', () => {
    const { files, packages } = graph(path.join(ROOT, 'api/page/verify-page.ts'));
    const rel = [...files].map((f) => path.relative(ROOT, f));
    // node/report: the court report's builder and renderer (the download button), pure like the verifier.
    expect(rel.filter((f) => !/^(api\/page\/|node\/protocol\/|node\/verifier\/|node\/report\/|node\/(invoice|evidence)\/history\.ts|node\/chain\/fetch-reader\.ts)/.test(f))).toEqual([]);
    expect(rel).toContain('node/report/html.ts');
    expect(rel.some((f) => f.startsWith('node/print/'))).toBe(false);
    expect([...packages].filter((p) => p.startsWith('node:') || ['zod', '@asteasolutions/zod-to-openapi', 'express'].includes(p))).toEqual([]);
  });

  it('the CLI and the chain reader reach neither the store nor the API', () => {
    for (const entry of ['scripts/cli/verify.ts', 'node/chain/chain-reader.ts']) {
      const { files, packages } = graph(path.join(ROOT, entry));
      const rel = [...files].map((f) => path.relative(ROOT, f));
      expect(rel.filter((f) => f.startsWith('api/') || f.startsWith('node/store/') || /node\/(ledger|sequencer|anchorer|bundles)\.ts$/.test(f)), entry).toEqual([]);
      expect([...packages].filter((p) => ['level', 'classic-level', 'express', 'hardhat'].includes(p)), entry).toEqual([]);
      // and the CLI verifies with node/protocol's verifier, not a copy of its own
      if (entry === 'scripts/cli/verify.ts') expect(rel).toContain('node/verifier/verify.ts');
    }
  });

  it('the lint rule refuses Node I/O and outside imports in node/protocol, and the store in the verify CLI', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const [io] = await eslint.lintText("import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", { filePath: path.join(ROOT, 'node/protocol/bundle-schema.ts') });
    expect(io!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const [up] = await eslint.lintText("import { Ledger } from '../ledger';\nexport const x = Ledger;\n", { filePath: path.join(ROOT, 'node/protocol/bundle-schema.ts') });
    expect(up!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const [store] = await eslint.lintText("import { LogStore } from '../../node/store/log-store';\nexport const x = LogStore;\n", { filePath: path.join(ROOT, 'scripts/cli/verify.ts') });
    expect(store!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    // The real files pass the same rules.
    const real = await eslint.lintFiles(['node/verifier', 'node/protocol/bundle-schema.ts', 'node/invoice/history.ts', 'node/evidence/history.ts', 'api/page', 'scripts/cli/verify.ts', 'scripts/cli/audit.ts', 'node/chain/chain-reader.ts', 'node/chain/fetch-reader.ts']);
    expect(real.flatMap((r) => r.messages.map((m) => `${path.relative(ROOT, r.filePath)}:${m.line} ${m.ruleId} ${m.message}`))).toEqual([]);
  });

  it('an upward import is refused: the verifier, a history or the page reaching a domain service, the ledger or the API', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const cases: [string, string][] = [
      ['node/verifier/steps/commitment.ts', "import { evidenceRules } from '../../evidence/custody';\nexport const x = evidenceRules;\n"],
      ['node/verifier/verify.ts', "import { Ledger } from '../ledger';\nexport const x = Ledger;\n"],
      ['node/evidence/history.ts', "import { LIMITS } from './model';\nexport const x = LIMITS;\n"],
      ['node/invoice/history.ts', "import { invoiceRules } from './lifecycle';\nexport const x = invoiceRules;\n"],
      ['api/page/verify-page.ts', "import { randomBytes } from 'node:crypto';\nexport const x = randomBytes;\n"],
      ['api/page/verify-page.ts', "import { EvidenceIdSchema } from '../../node/evidence/model';\nexport const x = EvidenceIdSchema;\n"],
      ['scripts/cli/verify.ts', "import { InvoiceService } from '../../node/invoice/service';\nexport const x = InvoiceService;\n"],
    ];
    const [bench] = await eslint.lintText("import { UniformTree } from '../../scripts/bench/gas';\nexport const x = UniformTree;\n", { filePath: path.join(ROOT, 'test/contracts/anchor-registry.test.ts') });
    expect(bench!.messages.map((m) => m.ruleId), 'a test importing a benchmark').toContain('no-restricted-imports');
    for (const [file, code] of cases) {
      const [r] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
      expect(r!.messages.map((m) => m.ruleId), `${file}: ${code}`).toContain('tianfu/layers');
    }
    // and what the layers may import passes
    const [fine] = await eslint.lintText("import { DEPOSIT_KIND } from '../../evidence/history';\nimport { sha256 } from '../../protocol/hash';\nexport const x = [DEPOSIT_KIND, sha256];\n", { filePath: path.join(ROOT, 'node/verifier/steps/commitment.ts') });
    expect(fine!.messages).toEqual([]);
  });
});
