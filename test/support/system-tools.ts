/**
 * The system tools the tests need, found or installed once.
 *
 * Some tests run real programs: Chromium (the browser verification page), pdftotext/pdftoppm from
 * poppler (reading generated PDFs back), the OpenSSL CLI (an independent SM3/SHA-256), and a font
 * with Chinese glyphs (so rendered pages and PDFs have real CJK text, not boxes). A fresh clone on a
 * machine with only Node.js must still pass `npm ci && npm test`, so the test set-up
 * (test/global-setup.ts) calls {@link ensureSystemTools}:
 *
 *  - every tool is looked up (Chromium: TIANFU_CHROMIUM_PATH, then `chromium`, `chromium-browser`,
 *    `google-chrome` on PATH; the others by name on PATH; the font through `fc-list :lang=zh`);
 *  - if something is missing and the machine can install (Linux, Debian or Ubuntu, root, apt-get),
 *    ONE `apt-get update` and ONE `apt-get install` of every missing package run, under a file lock
 *    so that two test runs started at once do not race each other (the second waits, then finds the
 *    tools the first installed);
 *  - otherwise the set-up stops at once with one line saying exactly what to install.
 *
 * Tests then ask for a tool with {@link chromiumPath}, {@link requireTool} or {@link cjkFont}: those
 * only look (cheap, no installing), and throw the same one-line message if the tool is missing.
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A program the tests run, by the name it has on PATH. */
export type ProgramName = 'pdftotext' | 'pdftoppm' | 'openssl' | 'sha256sum';
/** Everything {@link ensureSystemTools} checks. */
export type ToolName = 'chromium' | ProgramName | 'cjk-font';

/** Where to look: the environment (PATH, TIANFU_CHROMIUM_PATH); injectable for tests. */
export interface LookupOptions {
  env?: NodeJS.ProcessEnv;
}

interface ToolSpec {
  /** What the one-line message calls it. */
  what: string;
  /** The Debian/Ubuntu package that provides it. */
  apt: { debian: string; ubuntu: string };
}

const TOOLS: Record<ToolName, ToolSpec> = {
  chromium: { what: 'Chromium', apt: { debian: 'chromium', ubuntu: 'chromium-browser' } },
  pdftotext: { what: 'pdftotext', apt: { debian: 'poppler-utils', ubuntu: 'poppler-utils' } },
  pdftoppm: { what: 'pdftoppm', apt: { debian: 'poppler-utils', ubuntu: 'poppler-utils' } },
  openssl: { what: 'openssl', apt: { debian: 'openssl', ubuntu: 'openssl' } },
  sha256sum: { what: 'sha256sum', apt: { debian: 'coreutils', ubuntu: 'coreutils' } },
  // fc-list (fontconfig) is how the font is found, so it comes with the font.
  'cjk-font': { what: 'a CJK font', apt: { debian: 'fontconfig fonts-wqy-microhei', ubuntu: 'fontconfig fonts-wqy-microhei' } },
};

export const ALL_TOOLS = Object.keys(TOOLS) as ToolName[];

/** Names tried on PATH for Chromium, in this order, after TIANFU_CHROMIUM_PATH. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome'] as const;

/** The launch arguments every test uses (headless, no sandbox: tests run as root in containers). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

function isExecutableFile(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` on the PATH of `env`, or null. */
export function which(name: string, { env = process.env }: LookupOptions = {}): string | null {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    if (isExecutableFile(p)) return p;
  }
  return null;
}

/** Thrown when a tool is missing; its message is the one line to show, and nothing else. */
export class MissingToolError extends Error {
  constructor(line: string) {
    super(line);
    this.name = 'MissingToolError';
    // The stack is the message alone: a runner that prints the stack prints one line.
    this.stack = line;
  }
}

/** Chromium's path, or null: TIANFU_CHROMIUM_PATH (which must then be executable), then PATH. */
export function findChromium(opts: LookupOptions = {}): string | null {
  const env = opts.env ?? process.env;
  const pinned = env.TIANFU_CHROMIUM_PATH;
  if (pinned) return isExecutableFile(pinned) ? pinned : null;
  for (const name of CHROMIUM_NAMES) {
    const p = which(name, { env });
    if (p) return p;
  }
  return null;
}

/** A font with Chinese glyphs as fontconfig reports it, or null (also when fc-list is missing). */
export function findCjkFont(opts: LookupOptions = {}): { file: string; family: string } | null {
  const env = opts.env ?? process.env;
  const fcList = which('fc-list', { env });
  if (!fcList) return null;
  let out: string;
  try {
    out = execFileSync(fcList, [':lang=zh', 'file', 'family'], { env, encoding: 'utf8', timeout: 60_000 });
  } catch {
    return null;
  }
  // "file: family,alias,…" per line; prefer a family we know covers the whole pilot's text.
  const fonts = out
    .split('\n')
    .map((line) => /^(.+?): (.+)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: m[1]!, family: m[2]!.split(',')[0]! }))
    .filter((f) => fs.existsSync(f.file));
  return fonts.find((f) => /WenQuanYi|Noto Sans CJK/i.test(f.family)) ?? fonts[0] ?? null;
}

/** Whether a tool is present now, by the same rules the getters below use. */
export function findTool(name: ToolName, opts: LookupOptions = {}): string | null {
  if (name === 'chromium') return findChromium(opts);
  if (name === 'cjk-font') return findCjkFont(opts)?.file ?? null;
  return which(name, opts);
}

/** Which Linux family the machine is, for package names; null if neither Debian nor Ubuntu. */
export function aptFamily(osRelease = readOsRelease()): 'debian' | 'ubuntu' | null {
  const ids = `${osRelease.ID ?? ''} ${osRelease.ID_LIKE ?? ''}`.toLowerCase().split(/\s+/);
  if (ids.includes('ubuntu')) return 'ubuntu';
  if (ids.includes('debian')) return 'debian';
  return null;
}

function readOsRelease(): Record<string, string> {
  try {
    const text = fs.readFileSync('/etc/os-release', 'utf8');
    return Object.fromEntries(
      text
        .split('\n')
        .map((l) => /^([A-Z_]+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!.replace(/^"(.*)"$/, '$1')]),
    );
  } catch {
    return {};
  }
}

/** The packages that provide `missing`, deduplicated, in a stable order. */
export function packagesFor(missing: readonly ToolName[], family: 'debian' | 'ubuntu' = aptFamily() ?? 'debian'): string[] {
  const pkgs = new Set<string>();
  for (const t of missing) for (const p of TOOLS[t].apt[family].split(' ')) pkgs.add(p);
  return [...pkgs];
}

/** The one line shown when tools are missing and this machine will not install them. */
export function missingLine(missing: readonly ToolName[], family: 'debian' | 'ubuntu' | null = aptFamily()): string {
  const what = missing.map((t) => TOOLS[t].what).join(', ');
  const chromiumHint = missing.includes('chromium') ? ' (or set TIANFU_CHROMIUM_PATH to a Chromium/Chrome executable)' : '';
  const install = family
    ? `install as root: apt-get install ${packagesFor(missing, family).join(' ')}`
    : `install with your system's package manager: ${packagesFor(missing, 'debian').join(' ')} (Debian package names)`;
  return `tests need ${what}: not found; ${install}${chromiumHint}`;
}

/** TIANFU_CHROMIUM_PATH set to something that is not an executable: said as such, never installed around. */
function badPin({ env = process.env }: LookupOptions): MissingToolError | null {
  const pinned = env.TIANFU_CHROMIUM_PATH;
  if (!pinned || isExecutableFile(pinned)) return null;
  return new MissingToolError(`TIANFU_CHROMIUM_PATH is ${pinned}, which is not an executable file; point it at Chromium or unset it`);
}

function missingTool(name: ToolName): MissingToolError {
  return new MissingToolError(missingLine([name]));
}

/** Chromium's executable for `chromium.launch({ executablePath })`; throws the one line if missing. */
export function chromiumPath(opts: LookupOptions = {}): string {
  const p = findChromium(opts);
  if (p) return p;
  throw badPin(opts) ?? missingTool('chromium');
}

/** A program's absolute path (e.g. `requireTool('pdftotext')`); throws the one line if missing. */
export function requireTool(name: ProgramName, opts: LookupOptions = {}): string {
  const p = which(name, opts);
  if (!p) throw missingTool(name);
  return p;
}

/** A CJK font file and its family name; throws the one line if missing. */
export function cjkFont(opts: LookupOptions = {}): { file: string; family: string } {
  const f = findCjkFont(opts);
  if (!f) throw missingTool('cjk-font');
  return f;
}

/** The tools among `tools` that are missing now. */
export function missingTools(tools: readonly ToolName[] = ALL_TOOLS, opts: LookupOptions = {}): ToolName[] {
  const out: ToolName[] = [];
  for (const t of tools) if (!findTool(t, opts)) out.push(t);
  return out;
}

/** Linux, Debian or Ubuntu, root and apt-get on PATH (TIANFU_NO_INSTALL=1 says no). */
export function canInstallHere(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.TIANFU_NO_INSTALL === '1') return false;
  return process.platform === 'linux' && aptFamily() !== null && process.getuid?.() === 0 && which('apt-get', { env }) !== null;
}

/** Runs `apt-get update` once and `apt-get install` once for `packages`; rejects on failure. */
export async function aptInstall(packages: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const run = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('apt-get', args, { env: { ...env, DEBIAN_FRONTEND: 'noninteractive' }, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`apt-get ${args[0]} exited with ${code}`))));
    });
  await run(['update', '-qq']);
  await run(['install', '-y', '-qq', ...packages]);
}

export interface EnsureOptions extends LookupOptions {
  /** Which tools to make sure of (default: all). */
  tools?: readonly ToolName[];
  /** Whether this machine may install (default: {@link canInstallHere}). */
  canInstall?: boolean;
  /** How to install packages (default: {@link aptInstall}). */
  install?: (packages: string[]) => Promise<void>;
  /** The lock file serialising installs across processes (default: in the OS temp directory). */
  lockFile?: string;
  /** Where progress goes (default: stderr). */
  log?: (line: string) => void;
}

/**
 * Makes sure every tool is present: finds them, or installs what is missing once (under the lock),
 * or throws a {@link MissingToolError} with the one line to show. Returns what was installed.
 */
export async function ensureSystemTools(opts: EnsureOptions = {}): Promise<{ installed: string[] }> {
  const tools = opts.tools ?? ALL_TOOLS;
  const lookup = { env: opts.env ?? process.env };
  if (tools.includes('chromium')) {
    const pin = badPin(lookup);
    if (pin) throw pin;
  }
  if (missingTools(tools, lookup).length === 0) return { installed: [] };
  const canInstall = opts.canInstall ?? canInstallHere(lookup.env);
  if (!canInstall) throw new MissingToolError(missingLine(missingTools(tools, lookup)));
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const install = opts.install ?? ((pkgs: string[]) => aptInstall(pkgs, lookup.env));
  const release = await acquireLock(opts.lockFile ?? path.join(os.tmpdir(), 'tianfu-test-tools.lock'));
  try {
    // Another run may have installed them while this one waited for the lock.
    const missing = missingTools(tools, lookup);
    if (missing.length === 0) return { installed: [] };
    const pkgs = packagesFor(missing);
    log(`test set-up: installing ${pkgs.join(' ')} with apt-get (once; missing: ${missing.map((t) => TOOLS[t].what).join(', ')})`);
    try {
      await install(pkgs);
    } catch (e) {
      throw new MissingToolError(`${missingLine(missing)} (apt-get failed: ${(e as Error).message})`);
    }
    const still = missingTools(tools, lookup);
    if (still.length > 0) throw new MissingToolError(`${missingLine(still)} (still missing after apt-get install ${pkgs.join(' ')})`);
    return { installed: pkgs };
  } finally {
    release();
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock by creating `file` (O_EXCL) with our pid in it; a lock whose holder is dead is
 * taken over. Waits up to 15 minutes (an apt-get install of Chromium on a slow mirror).
 */
async function acquireLock(file: string): Promise<() => void> {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(fs.readFileSync(file, 'utf8'));
    } catch {
      continue; // released between our open and read: try again
    }
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && !pidAlive(holder)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new MissingToolError(`test set-up: waited 15 minutes for ${file} (held by pid ${holder}); remove it if no install is running`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
