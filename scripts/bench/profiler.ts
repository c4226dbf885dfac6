/**
 * The CPU profiler of this thread (node:inspector) for the profiling scripts (profile-http.ts,
 * profile-node.ts): start, stop, write the .cpuprofile under bench-out/profiles/ (opens in Chrome
 * DevTools) and print self time by function and by file, per unit of work. Also this process's CPU
 * time per thread, from /proc (profile-node.ts, state-growth.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * CPU ticks (1/100 s, user + system) of each of this process's threads, keyed `name#tid`; the main
 * thread's tid is the process id. Linux only: empty where /proc is missing.
 */
export function threadTicks(): Map<string, number> {
  const m = new Map<string, number>();
  if (!fs.existsSync('/proc/self/task')) return m;
  for (const t of fs.readdirSync('/proc/self/task')) {
    try {
      const st = fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      m.set(`${name}#${t}`, Number(f[11]) + Number(f[12]));
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return m;
}

export async function startProfiler(): Promise<{ stop(name: string, units: number, unit: string): Promise<string> }> {
  const s = new Session();
  s.connect();
  const post = <T>(m: string, p?: object): Promise<T> => new Promise<T>((res, rej) => s.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r as T))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 200 });
  await post('Profiler.start');
  return {
    async stop(name, units, unit) {
      const { profile } = await post<{ profile: CpuProfile }>('Profiler.stop');
      s.disconnect();
      fs.mkdirSync(path.join('bench-out', 'profiles'), { recursive: true });
      fs.writeFileSync(path.join('bench-out', 'profiles', `${name}.cpuprofile`), JSON.stringify(profile));
      return summarise(profile, units, unit);
    },
  };
}

/** Self time by function and by file, largest first, in µs per unit. */
export function summarise(profile: CpuProfile, units: number, unit: string): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i]!, (self.get(profile.samples[i]!) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const [id, t] of self) {
    const f = byId.get(id)!.callFrame;
    const short = f.url.replace(/^.*\/(node_modules\/[^/]+|node|api|scripts)\//, '$1/');
    const k = `${f.functionName || '(anon)'} ${short}:${f.lineNumber}`;
    fn.set(k, (fn.get(k) ?? 0) + t);
    file.set(short || f.functionName, (file.get(short || f.functionName) ?? 0) + t);
  }
  const top = (m: Map<string, number>, k: number): string =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([key, t]) => `  ${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / units).toFixed(1).padStart(7)} µs/${unit}  ${key}`)
      .join('\n');
  return `sampled ${(total / units).toFixed(1)} µs/${unit}\nby function:\n${top(fn, 45)}\nby file:\n${top(file, 30)}`;
}
