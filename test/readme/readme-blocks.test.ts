/**
 * README.md as a test (issue 17): every shell block runs as pasted, so a walk-through that fails as
 * pasted fails CI. The convention, repeated in a comment at the top of README.md:
 *
 * - A fenced block whose info string is exactly `sh` runs. Any other block does not run (```text,
 *   ```json, a bare ```), and neither does ```sh skip (say why in the prose: a placeholder that only a
 *   real deployment can fill, or a command that would start the test suite itself).
 * - Each `## ` section is ONE bash session (`set -eE -o pipefail`) running its blocks in order, as a
 *   reader pasting them into one shell would. Shell variables do not carry over between sections,
 *   files do: all sections run in one scratch directory laid out like a fresh clone (the repository's
 *   top-level files linked in, its own `./data`), so a section may use what an earlier one wrote. A
 *   section that needs `$API` or a key sets it itself, so that a reader can start at any section.
 * - The test starts the node before the first section, as `npm start` would (embedded chain, default
 *   settings, data in the scratch `./data`). A line that starts it (`npm start`, `npm start &`) is
 *   not run. Any other line that ends in `&` starts a background process; it runs, and its process
 *   group is killed when the section ends.
 * - `127.0.0.1:8080` and `127.0.0.1:8545` (the defaults) are replaced by the ports of the node and chain
 *   the test started, and 8081, 8546, 8547 (a second node, chains of their own) by free ports, so the
 *   test runs beside other nodes on the machine. `HOME` is the scratch
 *   directory's `home/`, so nothing is written to the user's home.
 * - A command that exits non-zero fails its section. A command that is meant to fail is written so
 *   that a reader sees it: `… || echo "exit $?"`.
 * - A failure names README.md's line, the section and the block, with the tail of the output.
 * - Bounded: SECTION_TIMEOUT_MS per section (the process group is killed after it).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WITH_STATE_MAP, startTestLedger, type TestLedger } from '../support/ledger';
import { chromiumPath } from '../support/system-tools';

const ROOT = path.resolve(__dirname, '..', '..');
const SECTION_TIMEOUT_MS = 240_000;

interface Block {
  /** README.md line of the first line inside the fence (1-based). */
  line: number;
  lines: string[];
}
interface Section {
  title: string;
  line: number;
  blocks: Block[];
}

/** The runnable blocks of README.md, by `## ` section, in order. */
function readmeSections(markdown: string): Section[] {
  const out: Section[] = [];
  let section: Section | null = null;
  let block: (Block & { runs: boolean }) | null = null;
  markdown.split('\n').forEach((text, i) => {
    const line = i + 1;
    if (block) {
      if (/^```\s*$/.test(text)) {
        if (block.runs && section) section.blocks.push({ line: block.line, lines: block.lines });
        block = null;
      } else block.lines.push(text);
      return;
    }
    const fence = /^```(.*)$/.exec(text);
    if (fence) {
      block = { line: line + 1, lines: [], runs: fence[1]!.trim() === 'sh' };
      return;
    }
    const heading = /^## (.+)$/.exec(text);
    if (heading) {
      section = { title: heading[1]!.trim(), line, blocks: [] };
      out.push(section);
    }
  });
  if (block) throw new Error(`README.md: the block opened at line ${(block as Block).line - 1} is never closed`);
  return out.filter((s) => s.blocks.length > 0);
}

interface Script {
  text: string;
  /** Script line (1-based) → README line, for the lines that came from the README. */
  readmeLine: Map<number, number>;
  /** Script line → the block it is in. */
  blockOf: Map<number, Block>;
}

/** Ports the README uses beside the node's and chain's (a second node, chains of their own): each becomes a free one. */
const EXTRA_PORTS = [8081, 8546, 8547] as const;

function sectionScript(s: Section, ports: { api: number; chain: number; extra?: Map<number, number> }): Script {
  const head = ['set -eE -o pipefail', `trap 'echo "@@README-FAIL $LINENO" >&2' ERR`];
  const lines = [...head];
  const readmeLine = new Map<number, number>();
  const blockOf = new Map<number, Block>();
  for (const b of s.blocks) {
    b.lines.forEach((raw, j) => {
      let text = raw.replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.api}`).replaceAll('127.0.0.1:8545', `127.0.0.1:${ports.chain}`);
      for (const [from, to] of ports.extra ?? []) text = text.replace(new RegExp(`\\b${from}\\b`, 'g'), String(to));
      // The test has started the node (see the header); the line that would start a second one is kept as a no-op.
      if (/^\s*npm start\b/.test(text)) text = `: ${JSON.stringify(text)}`;
      lines.push(text);
      readmeLine.set(lines.length, b.line + j);
      blockOf.set(lines.length, b);
    });
  }
  return { text: lines.join('\n') + '\n', readmeLine, blockOf };
}

/** A scratch directory laid out like a clone: the repository's top-level entries linked in, its own data and home. */
function scratchClone(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-readme-'));
  for (const name of fs.readdirSync(ROOT)) {
    if (name === '.git' || name === 'data' || name === 'walkthrough') continue;
    fs.symlinkSync(path.join(ROOT, name), path.join(dir, name));
  }
  fs.mkdirSync(path.join(dir, 'home'));
  return dir;
}

interface Run {
  code: number | null;
  timedOut: boolean;
  output: string;
}

function runSession(script: string, cwd: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: path.join(cwd, 'home'), LANG: 'C.UTF-8', TERM: 'dumb', npm_config_update_notifier: 'false' };
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, SECTION_TIMEOUT_MS);
    // When bash exits, its background processes (which may hold the output pipes open) are killed, then the output is read to its end.
    let exitCode: number | null = null;
    child.on('exit', (code) => {
      exitCode = code;
      killGroup();
    });
    child.on('close', () => {
      clearTimeout(timer);
      killGroup();
      resolve({ code: exitCode, timedOut, output });
    });
  });
}

function describeFailure(s: Section, script: Script, run: Run, readme: string[]): string {
  const fails = [...run.output.matchAll(/@@README-FAIL (\d+)/g)].map((m) => Number(m[1]));
  // The last report is the outermost command (a failure inside $(…) is reported again by the line using it).
  const at = fails.at(-1);
  const line = at === undefined ? undefined : script.readmeLine.get(at);
  const block = at === undefined ? undefined : script.blockOf.get(at);
  const where =
    line !== undefined
      ? `README.md:${line} (section "${s.title}", block at line ${block!.line - 1}): ${readme[line - 1]!.trim()}`
      : `section "${s.title}" (README.md:${s.line})${run.timedOut ? `: timed out after ${SECTION_TIMEOUT_MS / 1000} s` : ''}`;
  const tail = run.output.replace(/@@README-FAIL \d+\n?/g, '').split('\n').slice(-40).join('\n');
  return `${where}\nexit ${run.code}${run.timedOut ? ' (timed out)' : ''}; output (last 40 lines):\n${tail}`;
}

/** A port nobody listens on now (the OS picks it; closed again at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const markdown = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const sections = readmeSections(markdown);

describe('README.md shell blocks run as pasted', () => {
  let t: TestLedger;
  let dir: string;
  let ports: { api: number; chain: number; extra: Map<number, number> };

  beforeAll(async () => {
    dir = scratchClone();
    // As `npm start` runs it: defaults (1 s anchoring interval, the state map on) except the ports.
    // The web capture walk-through captures a page it serves on 127.0.0.1, and says to start the node
    // with TIANFU_CAPTURE_ALLOW_HOSTS=127.0.0.1 for it; Chromium is the machine's.
    t = await startTestLedger({ TIANFU_CHECKPOINT_INTERVAL_MS: '1000', TIANFU_RATE_LIMIT_PER_MIN: '6000', TIANFU_MAX_BODY_BYTES: '8388608', TIANFU_CAPTURE_ALLOW_HOSTS: '127.0.0.1', TIANFU_CHROMIUM_PATH: chromiumPath(), ...WITH_STATE_MAP }, { dataDir: path.join(dir, 'data') });
    const extra = new Map<number, number>();
    for (const p of EXTRA_PORTS) extra.set(p, await freePort());
    ports = { api: Number(new URL(t.url).port), chain: Number(new URL(t.ledger.chain.rpcUrl).port), extra };
  });

  afterAll(async () => {
    await t?.close({ keepData: true });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('README.md has the sections a newcomer follows, with blocks that run', () => {
    const titles = sections.map((s) => s.title);
    for (const want of ['Five minutes', 'Walk-through: invoices', 'Walk-through: evidence', 'Verify a bundle', 'Prove a status: not reversed as of a time', 'Audit the whole ledger']) expect(titles).toContain(want);
  });

  it('the convention itself: only ```sh blocks run, by section; a failing command is named by its README line and block', async () => {
    const md = ['# T', '## One', '```sh', 'A=1', '```', '```sh skip', 'exit 9', '```', '```text', 'exit 9', '```', '## Two', 'prose', '```sh', 'echo "A=${A:-unset}"', 'false | cat', 'echo never', '```'].join('\n');
    const parsed = readmeSections(md);
    expect(parsed.map((x) => [x.title, x.blocks.map((b) => b.line)])).toEqual([['One', [4]], ['Two', [15]]]);
    const two = parsed[1]!;
    const script = sectionScript(two, { api: 1, chain: 2 });
    const run = await runSession(script.text, dir);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('A=unset'); // variables do not carry over between sections
    expect(run.output).not.toContain('never');
    expect(describeFailure(two, script, run, md.split('\n'))).toMatch(/^README\.md:16 \(section "Two", block at line 14\): false \| cat/);
  });

  for (const s of sections) {
    it(`section "${s.title}" (README.md:${s.line}, ${s.blocks.length} block${s.blocks.length === 1 ? '' : 's'})`, async () => {
      const script = sectionScript(s, ports);
      const run = await runSession(script.text, dir);
      if (run.code !== 0) expect.fail(describeFailure(s, script, run, markdown.split('\n')));
    }, SECTION_TIMEOUT_MS + 10_000);
  }
});
