/**
 * The repository is self-contained: no file cites the design notes, the style guide, the research
 * files or the folder beside the repository they sit in, none of which a clone has; the protocol is
 * in docs/protocol.md. And every docs/*.md file a source comment or doc names exists.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
// The names looked for, assembled from pieces so that this file, which is scanned too, does not spell them.
const OUTSIDE = new RegExp(['\\bDES' + 'IGN(\\.md| §)', 'STY' + 'LE\\.md', 'resea' + 'rch/', 'resea' + 'rch notes', '\\.\\./sha' + 'red'].join('|'));
const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => /\.(ts|mts|js|mjs|md|sol|json|sh)$|^\.ci\//.test(f) && !f.startsWith('api/static/') && f !== 'package-lock.json')
  .filter((f) => fs.existsSync(path.join(ROOT, f)));

describe('the repository cites only itself', () => {
  it('no reference to the design notes, the style guide, the research files or the folder beside the repository', () => {
    const hits: string[] = [];
    for (const f of files) {
      fs.readFileSync(path.join(ROOT, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (OUTSIDE.test(line)) hits.push(`${f}:${i + 1}: ${line.trim().slice(0, 120)}`);
        });
    }
    expect(hits).toEqual([]);
  });

  it('every docs/<name>.md that a file names exists', () => {
    const missing = new Set<string>();
    for (const f of files) {
      for (const m of fs.readFileSync(path.join(ROOT, f), 'utf8').matchAll(/\bdocs\/([A-Za-z0-9_-]+\.md)/g)) {
        if (!fs.existsSync(path.join(ROOT, 'docs', m[1]!))) missing.add(`${f} → docs/${m[1]}`);
      }
    }
    expect([...missing]).toEqual([]);
    expect(fs.existsSync(path.join(ROOT, 'docs', 'protocol.md'))).toBe(true);
  });
});
