/**
 * `tianfu keys create --role <role> [--tax-id <id>] [--name N] --api URL [--key ADMIN_KEY]`,
 * `tianfu keys list --api URL`, `tianfu keys revoke <id> --api URL`: API key administration over the
 * HTTP API with an admin key (flag, env TIANFU_API_KEY, or --key-file such as ./data/admin-api-key).
 * The new key is printed once; the node keeps only its hash.
 */
import type { Command } from 'commander';
import { ExitCode, UsageError, apiKeyFrom, printJson } from './common';

interface Common {
  api: string;
  key?: string;
  keyFile?: string;
  json?: boolean;
}

function adminKey(flags: { key?: string; keyFile?: string }): string {
  return apiKeyFrom(flags, 'an admin key');
}

async function call(flags: Common, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  let base: URL;
  try {
    base = new URL(flags.api);
  } catch {
    throw new UsageError(`--api ${JSON.stringify(flags.api)} is not a URL`);
  }
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      headers: { authorization: `Bearer ${adminKey(flags)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`the API at ${base.origin} is unreachable: ${(err as Error).message}`);
  }
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { detail: text.slice(0, 200) };
  }
  return { status: res.status, body: parsed };
}

function fail(r: { status: number; body: Record<string, unknown> }): never {
  const detail = typeof r.body.detail === 'string' ? r.body.detail : JSON.stringify(r.body);
  throw new UsageError(`the API refused (${r.status} ${String(r.body.code ?? '')}): ${detail}`);
}

export function register(program: Command): void {
  const keys = program.command('keys').description('create, list and revoke API keys (needs an admin key)');
  const common = (c: Command): Command =>
    c
      .requiredOption('--api <url>', 'the node API, e.g. http://127.0.0.1:8080')
      .option('--key <key>', 'admin API key (default: env TIANFU_API_KEY)')
      .option('--key-file <file>', 'read the admin key from a file, e.g. ./data/admin-api-key')
      .option('--json', 'machine-readable output');

  common(keys.command('create'))
    .description('create a key; it is printed once')
    .requiredOption('--role <role>', 'admin | issuer | buyer | collector | court | auditor')
    .option('--tax-id <id>', 'issuer: the seller tax id it issues for; buyer: its own tax id')
    .option('--name <name>', 'who holds the key')
    .action(async (flags: Common & { role: string; taxId?: string; name?: string }) => {
      const r = await call(flags, 'POST', '/v1/keys', { role: flags.role, ...(flags.taxId ? { taxId: flags.taxId } : {}), ...(flags.name ? { name: flags.name } : {}) });
      if (r.status !== 201) fail(r);
      if (flags.json) printJson(r.body);
      else process.stdout.write(`created ${String(r.body.role)} key ${String(r.body.id)}${r.body.taxId ? ` for ${String(r.body.taxId)}` : ''}\n${String(r.body.key)}\n(shown once: store it now)\n`);
      process.exitCode = ExitCode.Ok;
    });

  common(keys.command('list'))
    .description('list keys (never their secrets)')
    .action(async (flags: Common) => {
      const r = await call(flags, 'GET', '/v1/keys');
      if (r.status !== 200) fail(r);
      if (flags.json) printJson(r.body);
      else for (const k of (r.body.keys as Record<string, unknown>[]) ?? []) process.stdout.write(`${String(k.id)}\t${String(k.role)}\t${(k.taxIds as string[]).join(',')}\t${k.revokedAt ? `revoked ${String(k.revokedAt)}` : 'active'}\t${String(k.name ?? '')}\n`);
    });

  common(keys.command('revoke <id>'))
    .description('revoke a key')
    .action(async (id: string, flags: Common) => {
      const r = await call(flags, 'DELETE', `/v1/keys/${encodeURIComponent(id)}`);
      if (r.status !== 200) fail(r);
      if (flags.json) printJson(r.body);
      else process.stdout.write(`revoked ${id} at ${String(r.body.revokedAt)}\n`);
    });
}
