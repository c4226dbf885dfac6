/**
 * `npm start`: the ledger node and its HTTP API. With no configuration: the embedded chain, the
 * registry deployed on first start, data under ./data, the API on :8080. SIGTERM/SIGINT drain
 * in-flight requests, flush the sequencer and exit cleanly.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Server } from 'node:http';
import pino from 'pino';
import { Ledger, loadConfig, ConfigError, LedgerStartError, type NodeConfig } from '../node';
import { createApp } from './app';

export interface RunningServer {
  ledger: Ledger;
  server: Server;
  url: string;
  adminKeyFile: string;
  stop(): Promise<void>;
}

/** Creates the first admin key once and keeps it in <dataDir>/admin-api-key (0600). */
async function ensureAdminKey(ledger: Ledger, dataDir: string, logger: pino.Logger): Promise<string> {
  const file = path.join(dataDir, 'admin-api-key');
  if (fs.existsSync(file)) return file;
  const created = await ledger.keys.create({ role: 'admin', name: 'initial admin' });
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, created.key + '\n');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  logger.info({ file, keyId: created.id }, `created the admin API key; it is in ${file}`);
  return file;
}

export async function startServer(config: NodeConfig, logger: pino.Logger = pino({ level: config.logLevel })): Promise<RunningServer> {
  const ledger = await Ledger.start(config, logger);
  const adminKeyFile = await ensureAdminKey(ledger, config.dataDir, logger);
  const app = createApp(ledger, logger);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 5000;
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ url, dataDir: config.dataDir, rpcUrl: ledger.chain.rpcUrl, registry: ledger.chain.registry }, `Tianfu Ledger API listening on ${url}`);
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await ledger.stop();
    })();
    return stopping;
  };
  return { ledger, server, url, adminKeyFile, stop };
}

async function main(): Promise<void> {
  let config: NodeConfig;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel });
  let running: RunningServer;
  try {
    running = await startServer(config, logger);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof LedgerStartError) {
      logger.fatal({ err: err.message }, 'cannot start');
      process.exit(2);
    }
    logger.fatal({ err }, 'cannot start');
    process.exit(1);
  }
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      logger.info({ signal: sig }, 'draining and shutting down');
      running
        .stop()
        .then(() => process.exit(0))
        .catch((err: unknown) => {
          logger.error({ err }, 'unclean shutdown');
          process.exit(1);
        });
    });
  }
}

if (require.main === module) void main();
