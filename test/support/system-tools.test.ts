/**
 * The test set-up's find-or-install of system tools, without touching this machine's packages:
 * lookups run against a PATH of temporary directories holding stand-in executables, and the
 * "can install" decision and the installer are injected.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ALL_TOOLS,
  chromiumPath,
  cjkFont,
  ensureSystemTools,
  findChromium,
  MissingToolError,
  missingTools,
  requireTool,
} from './system-tools';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-tools-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function dir(name: string): string {
  const d = path.join(root, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}
function fakeExe(d: string, name: string, body = 'exit 0'): string {
  const p = path.join(d, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}
/** Stand-ins for everything ensureSystemTools looks for, as an apt-get install would leave them. */
function installFakes(d: string): void {
  for (const n of ['chromium', 'pdftotext', 'pdftoppm', 'openssl', 'sha256sum']) fakeExe(d, n);
  const font = path.join(d, 'wqy-microhei.ttc');
  fs.writeFileSync(font, 'not really a font');
  fakeExe(d, 'fc-list', `echo "${font}: WenQuanYi Micro Hei,文泉驿微米黑"`);
}
const envWith = (...dirs: string[]): NodeJS.ProcessEnv => ({ PATH: dirs.join(path.delimiter) });

describe('Chromium resolution order', () => {
  it('TIANFU_CHROMIUM_PATH first, even when chromium is on PATH', () => {
    const onPath = dir('bin');
    fakeExe(onPath, 'chromium');
    const pinned = fakeExe(dir('opt'), 'my-chrome');
    expect(chromiumPath({ env: { ...envWith(onPath), TIANFU_CHROMIUM_PATH: pinned } })).toBe(pinned);
    expect(chromiumPath({ env: envWith(onPath) })).toBe(path.join(onPath, 'chromium'));
  });

  it('then chromium, chromium-browser, google-chrome on PATH, by name before directory', () => {
    const a = dir('a');
    const b = dir('b');
    fakeExe(a, 'google-chrome');
    expect(chromiumPath({ env: envWith(a, b) })).toBe(path.join(a, 'google-chrome'));
    fakeExe(b, 'chromium-browser');
    expect(chromiumPath({ env: envWith(a, b) })).toBe(path.join(b, 'chromium-browser'));
    fakeExe(b, 'chromium');
    expect(chromiumPath({ env: envWith(a, b) })).toBe(path.join(b, 'chromium'));
  });

  it('a file that is not executable does not count', () => {
    const a = dir('a');
    fs.writeFileSync(path.join(a, 'chromium'), 'text', { mode: 0o644 });
    expect(findChromium({ env: envWith(a) })).toBeNull();
  });

  it('a TIANFU_CHROMIUM_PATH that is not executable is said as such, and nothing is installed around it', async () => {
    const onPath = dir('bin');
    installFakes(onPath);
    const env = { ...envWith(onPath), TIANFU_CHROMIUM_PATH: path.join(root, 'nope') };
    expect(() => chromiumPath({ env })).toThrow(/^TIANFU_CHROMIUM_PATH is .*nope, which is not an executable file/);
    let calls = 0;
    await expect(ensureSystemTools({ env, canInstall: true, install: async () => void calls++, lockFile: path.join(root, 'lock') })).rejects.toThrow(
      /TIANFU_CHROMIUM_PATH/,
    );
    expect(calls).toBe(0);
  });
});

describe('missing tools', () => {
  it('on a machine that cannot install: stops at once with one line saying what to install', async () => {
    const empty = dir('empty');
    let calls = 0;
    const err = await ensureSystemTools({ env: envWith(empty), canInstall: false, install: async () => void calls++, lockFile: path.join(root, 'lock') }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MissingToolError);
    const line = (err as Error).message;
    expect(line).not.toContain('\n');
    expect((err as Error).stack).toBe(line);
    expect(line).toMatch(/^tests need Chromium, pdftotext, pdftoppm, openssl, sha256sum, a CJK font: not found; install/);
    expect(line).toContain('poppler-utils');
    expect(line).toContain('fonts-wqy-microhei');
    expect(line).toContain('TIANFU_CHROMIUM_PATH');
    expect(calls).toBe(0);
    expect(fs.existsSync(path.join(root, 'lock'))).toBe(false);
  });

  it('each getter throws the same kind of one line for its own tool', () => {
    const env = envWith(dir('empty'));
    expect(() => requireTool('pdftotext', { env })).toThrow(/^tests need pdftotext: not found; .*poppler-utils/);
    expect(() => requireTool('openssl', { env })).toThrow(/^tests need openssl: not found; .*openssl/);
    expect(() => cjkFont({ env })).toThrow(/^tests need a CJK font: not found; .*fonts-wqy-microhei/);
    expect(() => chromiumPath({ env })).toThrow(/^tests need Chromium: not found; .*chromium/);
  });

  it('on a machine that can install: one install of every missing package, once, even for two runs at the same time', async () => {
    const bin = dir('bin');
    const env = envWith(bin);
    const lockFile = path.join(root, 'lock');
    const calls: string[][] = [];
    const install = async (pkgs: string[]) => {
      calls.push(pkgs);
      expect(fs.existsSync(lockFile)).toBe(true); // installs run under the lock
      await new Promise((r) => setTimeout(r, 300)); // long enough for the other run to wait on the lock
      installFakes(bin);
    };
    const logs: string[] = [];
    const [a, b] = await Promise.all([
      ensureSystemTools({ env, canInstall: true, install, lockFile, log: (l) => logs.push(l) }),
      ensureSystemTools({ env, canInstall: true, install, lockFile, log: (l) => logs.push(l) }),
    ]);
    expect(calls).toHaveLength(1);
    expect(new Set(calls[0])).toEqual(new Set(['chromium', 'poppler-utils', 'openssl', 'coreutils', 'fontconfig', 'fonts-wqy-microhei']));
    expect([a.installed.length > 0, b.installed.length > 0].sort()).toEqual([false, true]);
    expect(logs).toHaveLength(1);
    expect(missingTools(ALL_TOOLS, { env })).toEqual([]);
    expect(requireTool('pdftoppm', { env })).toBe(path.join(bin, 'pdftoppm'));
    expect(cjkFont({ env }).family).toBe('WenQuanYi Micro Hei');
    expect(fs.existsSync(lockFile)).toBe(false);
  });

  it('installs only what is missing', async () => {
    const bin = dir('bin');
    installFakes(bin);
    fs.rmSync(path.join(bin, 'pdftoppm'));
    const calls: string[][] = [];
    const r = await ensureSystemTools({ env: envWith(bin), canInstall: true, install: async (p) => {
        calls.push(p);
        fakeExe(bin, 'pdftoppm');
      }, lockFile: path.join(root, 'lock'), log: () => {} });
    expect(calls).toEqual([['poppler-utils']]);
    expect(r.installed).toEqual(['poppler-utils']);
  });

  it('takes over a lock left by a process that is gone', async () => {
    const bin = dir('bin');
    const lockFile = path.join(root, 'lock');
    fs.writeFileSync(lockFile, '2147483646'); // no such pid
    const r = await ensureSystemTools({ env: envWith(bin), canInstall: true, install: async () => installFakes(bin), lockFile, log: () => {} });
    expect(r.installed.length).toBeGreaterThan(0);
    expect(fs.existsSync(lockFile)).toBe(false);
  });

  it('an install that fails, or leaves a tool missing, ends in one line too', async () => {
    const bin = dir('bin');
    const lockFile = path.join(root, 'lock');
    const failed = ensureSystemTools({ env: envWith(bin), canInstall: true, install: async () => Promise.reject(new Error('apt-get update exited with 100')), lockFile, log: () => {} });
    await expect(failed).rejects.toThrow(/^tests need .*: not found; .* \(apt-get failed: apt-get update exited with 100\)$/);
    const partial = ensureSystemTools({
      env: envWith(bin),
      canInstall: true,
      install: async () => {
        installFakes(bin);
        fs.rmSync(path.join(bin, 'openssl'));
      },
      lockFile,
      log: () => {},
    });
    await expect(partial).rejects.toThrow(/^tests need openssl: not found; .*\(still missing after apt-get install/);
    expect(fs.existsSync(lockFile)).toBe(false);
  });
});

describe('this machine', () => {
  it('has every tool after the global set-up, and the getters return real files', async () => {
    expect(await ensureSystemTools({ canInstall: false })).toEqual({ installed: [] });
    expect(fs.statSync(chromiumPath()).isFile()).toBe(true);
    expect(fs.statSync(requireTool('pdftotext')).isFile()).toBe(true);
    expect(fs.statSync(cjkFont().file).size).toBeGreaterThan(1_000_000);
  });

  it('the global set-up stops with the one line (exit 1) when a tool is missing and it may not install', async () => {
    const setup = path.resolve(__dirname, '../global-setup.ts');
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '-e', `require(${JSON.stringify(setup)}).default()`],
        { env: { ...process.env, TIANFU_NO_INSTALL: '1', TIANFU_CHROMIUM_PATH: '', PATH: dir('empty') }, timeout: 60_000 },
        (_err, _out, stderr) => resolve({ code: child.exitCode, stderr }),
      );
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^tests need Chromium, pdftotext, .*: not found; install as root: apt-get install chromium poppler-utils .*\n$/);
  });
});
