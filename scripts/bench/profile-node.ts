/**
 * CPU profile of the node's thread while records go through Sequencer.submit (256 submitters), with or
 * without the state map: `npx tsx scripts/bench/profile-node.ts on|off [records]`. Prints self time by function and file
 * and CPU per record by thread (Linux); writes bench-out/profiles/node-on|off.cpuprofile (open in Chrome DevTools).
 * NOPROF=1 runs without the profiler (its overhead is ~10-20 %). Not part of `npm run bench`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from 'node:inspector';
import { Ledger, loadConfig } from '../../node';
import { issueRequest } from '../../test/node/fixtures/invoices';

async function main(): Promise<void> {
  const on = process.argv[2] !== 'off';
  const total = Number(process.argv[3] ?? 20000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tianfu-prof-node-'));
  const ledger = await Ledger.start(loadConfig({ TIANFU_DATA_DIR: dir, TIANFU_CHAIN_PORT: '0', TIANFU_CHECKPOINT_INTERVAL_MS: '1000', TIANFU_DURABLE: 'true', TIANFU_MMD_MS: '600000', TIANFU_STATE_MAP: String(on) }));
  let n = 1;
  const loop = async (c: number, count: number): Promise<number> => {
    const reqs = Array.from({ length: count }, () => issueRequest(n++));
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: c }, async () => { while (next < count) await ledger.sequencer.submit(reqs[next++]!); }));
    if (ledger.sequencer.stateMap) await ledger.sequencer.appendStateRoot();
    return performance.now() - t0;
  };
  await loop(16, 2000);
  const s = new Session();
  s.connect();
  const post = <T>(m: string, p?: object) => new Promise<T>((res, rej) => s.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r as T))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  const threads = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const t of fs.readdirSync('/proc/self/task')) {
      try {
        const st = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
        const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        m.set(`${name}#${t}`, Number(f[11]) + Number(f[12]));
      } catch { /* gone */ }
    }
    return m;
  };
  const th0 = threads();
  const c0 = process.cpuUsage();
  if (!process.env.NOPROF) await post('Profiler.start');
  const ms = await loop(256, total);
  const { profile } = process.env.NOPROF ? { profile: { nodes: [], samples: [], timeDeltas: [] } } : await post<{ profile: { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[]; samples: number[]; timeDeltas: number[] } }>('Profiler.stop');
  const cpu = process.cpuUsage(c0);
  const th1 = threads();
  const byName = new Map<string, number>();
  for (const [k, v] of th1) { const tid = k.split('#')[1]!; const name = tid === String(process.pid) ? 'main' : k.split('#')[0]! + '-' + (v - (th0.get(k) ?? 0) > 50 ? tid : 'small'); byName.set(name, (byName.get(name) ?? 0) + v - (th0.get(k) ?? 0)); }
  console.log('threads (µs CPU per record): ' + [...byName].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${((v * 10000) / total).toFixed(0)}`).join(', '));
  console.log(`map ${on}: ${total} records in ${ms.toFixed(0)} ms = ${(total * 1000 / ms).toFixed(0)}/s, CPU ${((cpu.user + cpu.system) / total).toFixed(0)} µs/record`);
  fs.mkdirSync('bench-out/profiles', { recursive: true });
  fs.writeFileSync(`bench-out/profiles/node-${on ? 'on' : 'off'}.cpuprofile`, JSON.stringify(profile));
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const tot = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>(); const file = new Map<string, number>();
  for (const [id, t] of self) {
    const f = byId.get(id)!.callFrame;
    const short = f.url.replace(/^.*\/(node_modules\/[^/]+|node|api|scripts)\//, '$1/');
    const k = `${f.functionName || '(anon)'} ${short}:${f.lineNumber}`;
    fn.set(k, (fn.get(k) ?? 0) + t); file.set(short || f.functionName, (file.get(short || f.functionName) ?? 0) + t);
  }
  const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([key, t]) => `  ${(100 * t / tot).toFixed(1).padStart(5)}%  ${(t / total).toFixed(1).padStart(7)} µs/rec  ${key}`).join('\n');
  console.log(`sampled ${(tot / total).toFixed(1)} µs/record\nby function:\n${top(fn, 40)}\nby file:\n${top(file, 30)}`);
  await ledger.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}
void main();
