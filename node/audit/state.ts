/**
 * The audit state: per (chainId, registry, logId), the last checkpoint an audit verified and the head
 * it replayed. The next audit proves the log it is served now extends that, so a node that serves a
 * different history for an old size — even for entries not anchored yet at the last audit — is caught.
 *
 * By default each log has a file of its own under ~/.tianfu/audit-state/ (named by chain id, registry
 * and log id), so audits of different ledgers on one machine never share, or race on, one file. An
 * explicit `--state FILE` holds any number of logs, keyed the same way. The one file earlier versions
 * kept for every log (~/.tianfu/audit-state.json) is still read for a log that has no file of its own
 * yet: the first audit after the change keeps its history and writes the per-log file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PriorAudit } from './engine';

export const STATE_FORMAT = 'tianfu.audit-state/v1' as const;

export interface AuditStateFile {
  format: typeof STATE_FORMAT;
  logs: Record<string, PriorAudit>;
}

export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

/** The directory of per-log state files (default of `tianfu audit`). */
export function defaultStateDir(): string {
  return path.join(os.homedir(), '.tianfu', 'audit-state');
}

/** The single file every log shared before per-log files: read for a log without a file of its own. */
export function legacyStatePath(): string {
  return path.join(os.homedir(), '.tianfu', 'audit-state.json');
}

export function stateKey(chainId: string, registry: string, logId: string): string {
  return `${chainId}:${registry.toLowerCase()}:${logId}`;
}

/** The state file of one log in `dir`: `<chainId>-<registry>-<logId>.json` (all lowercase). */
export function stateFileFor(dir: string, chainId: string, registry: string, logId: string): string {
  const safe = (x: string): string => {
    if (!/^[0-9A-Za-z]+$/.test(x)) throw new StateFileError(`cannot name a state file after ${JSON.stringify(x)}`);
    return x.toLowerCase();
  };
  return path.join(dir, `${safe(chainId)}-${safe(registry)}-${safe(logId)}.json`);
}

export function readState(file: string): AuditStateFile {
  if (!fs.existsSync(file)) return { format: STATE_FORMAT, logs: {} };
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StateFileError(`state file ${file} is unreadable: ${(err as Error).message}`);
  }
  const s = v as Partial<AuditStateFile>;
  if (s?.format !== STATE_FORMAT || typeof s.logs !== 'object' || s.logs === null) throw new StateFileError(`state file ${file} is not ${STATE_FORMAT}`);
  return s as AuditStateFile;
}

/** Written to a temp file, fsynced and renamed: a crash leaves the old state or the new one. */
export function writeState(file: string, state: AuditStateFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, JSON.stringify(state, null, 2) + '\n');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
}
