/**
 * The audit state file (default ~/.tianfu/audit-state.json): per (chainId, registry, logId), the last
 * checkpoint an audit verified and the head it replayed. The next audit proves the log it is served
 * now extends that, so a node that serves a different history for an old size — even for entries not
 * anchored yet at the last audit — is caught.
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

export function defaultStatePath(): string {
  return path.join(os.homedir(), '.tianfu', 'audit-state.json');
}

export function stateKey(chainId: string, registry: string, logId: string): string {
  return `${chainId}:${registry.toLowerCase()}:${logId}`;
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
