/**
 * The node the soak benchmark (scripts/bench/soak.ts) measures: `npm start`'s server (api/server.ts
 * startServer, configured from the environment like `npm start`), run under `node --expose-gc` as a
 * child with an IPC channel. The only addition is the measuring hook, on the IPC channel alone (never
 * over HTTP): `{op: 'gc'}` runs two full collections and answers the process's memory.
 */
import v8 from 'node:v8';
import pino from 'pino';
import { loadConfig } from '../../node';
import { startServer } from '../../api/server';

export interface SoakMemory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Used bytes per V8 heap space (old_space, code_space, …): where heap growth sits. */
  spaces: Record<string, number>;
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc || !process.send) throw new Error('run with --expose-gc and an IPC channel (scripts/bench/soak.ts starts it)');
  const config = loadConfig();
  const running = await startServer(config, pino({ level: 'silent' }));
  process.on('message', (m: { op?: string }) => {
    if (m.op === 'gc') {
      // Two collections a turn apart: the first can leave work (weak callbacks, finalizers) for the second.
      gc();
      setImmediate(() => {
        gc();
        const u = process.memoryUsage();
        process.send!({ op: 'memory', memory: { rss: u.rss, heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers, spaces: Object.fromEntries(v8.getHeapSpaceStatistics().map((x) => [x.space_name, x.space_used_size])) } satisfies SoakMemory });
      });
    } else if (m.op === 'stop') {
      void running.stop().then(() => process.exit(0));
    }
  });
  process.send({ op: 'ready', url: running.url, adminKeyFile: running.adminKeyFile });
}

main().catch((err: unknown) => {
  process.stderr.write(`soak server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
