/**
 * The build cache of `npm start` (scripts/build.ts, issue 17 "first start"): after a build, a second
 * one skips both steps without loading Hardhat or esbuild and says so; a page whose recorded output no
 * longer matches is rebuilt (and the stamp brought up to date). The test set-up has just built both.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..', '..');
const STAMP = path.join(ROOT, 'cache', 'tianfu-build.json');
const build = async (): Promise<string> => (await promisify(execFile)('npx', ['tsx', 'scripts/build.ts'], { cwd: ROOT, timeout: 600_000 })).stderr;

describe('build cache (scripts/build.ts)', () => {
  it('a second build skips both steps; a changed output is rebuilt', async () => {
    const again = await build();
    expect(again).toMatch(/^build: contracts: up to date \(\d+ artifacts, cached; sources unchanged\)$/m);
    expect(again).toMatch(/^build: page: up to date \(api\/static\/verify\.js, cached; \d+ inputs unchanged\)$/m);
    expect(again).not.toMatch(/compiling|bundling/);

    const stamp = JSON.parse(fs.readFileSync(STAMP, 'utf8'));
    expect(stamp.contracts.outputs).toContain('artifacts/contracts/AnchorRegistry.sol/AnchorRegistry.json');
    expect(Object.keys(stamp.page.inputs)).toContain('api/page/verify-page.ts');
    fs.writeFileSync(STAMP, JSON.stringify({ ...stamp, page: { ...stamp.page, outputSha256: '0'.repeat(64) } }));
    const rebuilt = await build();
    expect(rebuilt).toMatch(/^build: page: bundling the browser verification page…$/m);
    expect(rebuilt).toMatch(/^build: page: bundled in [\d.]+ s \(\d+ bytes\)$/m);
    expect(rebuilt).toMatch(/^build: contracts: up to date/m);
    expect(JSON.parse(fs.readFileSync(STAMP, 'utf8')).page.outputSha256).toBe(stamp.page.outputSha256);
  });
});
