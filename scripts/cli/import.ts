/**
 * `tianfu import <files or dirs…> --api URL [--key KEY | --key-file F] [--batch N] [--json]`: registers
 * issuing-platform 数电票 XML invoices (docs/invoice-xml.md) through POST /v1/invoices/batch, sending each
 * file's exact bytes (base64 in the batch body), with a progress bar on a terminal, one result line per
 * file and a summary. Directories are read recursively for *.xml files, in name order.
 *
 * Exit codes: 0 every file registered or already present; 1 some refused (each named with its XML path);
 * 2 unusable input (no such file, no XML files, no key, the API unreachable or refusing the request itself).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ExitCode, UsageError, apiKeyFrom, positiveInt, printJson } from './common';
import { progressBar } from './progress';

interface ImportFlags {
  api: string;
  key?: string;
  keyFile?: string;
  batch: number;
  json?: boolean;
}

export interface FileResult {
  file: string;
  status: number;
  outcome: 'created' | 'duplicate' | 'refused';
  invoiceKey?: string;
  code?: string;
  detail?: string;
  xmlPath?: string;
  unmapped?: number;
}

/** Stays under the node's default JSON body limit (8 MiB) with base64's 4/3 and the JSON around it. */
const BATCH_BYTES = 5 * 1024 * 1024;

function apiKey(flags: { key?: string; keyFile?: string }): string {
  return apiKeyFrom(flags, 'an issuer key');
}

/** The files to import: given files as they are, directories' *.xml recursively, sorted; duplicates once. */
export function collectFiles(inputs: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && name.toLowerCase().endsWith('.xml')) out.push(p);
    }
  };
  for (const input of inputs) {
    let st;
    try {
      st = statSync(input);
    } catch (err) {
      throw new UsageError(`${input} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if (st.isDirectory()) walk(input);
    else out.push(input);
  }
  const unique = [...new Set(out)];
  if (unique.length === 0) throw new UsageError(`no .xml files in ${inputs.join(', ')}`);
  return unique;
}

/** Files in batches of at most `max` documents and BATCH_BYTES bytes (a larger file goes alone). */
function batches(files: { file: string; bytes: Buffer }[], max: number): { file: string; bytes: Buffer }[][] {
  const out: { file: string; bytes: Buffer }[][] = [];
  let cur: { file: string; bytes: Buffer }[] = [];
  let size = 0;
  for (const f of files) {
    if (cur.length > 0 && (cur.length >= max || size + f.bytes.length > BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(f);
    size += f.bytes.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function resultOf(file: string, r: Record<string, unknown>): FileResult {
  const status = Number(r.status);
  if (status === 201 || status === 200) {
    return { file, status, outcome: status === 201 ? 'created' : 'duplicate', invoiceKey: String(r.invoiceKey), unmapped: Array.isArray(r.unmapped) ? r.unmapped.length : 0 };
  }
  const first = Array.isArray(r.errors) ? (r.errors[0] as { xmlPath?: string; message?: string } | undefined) : undefined;
  return {
    file,
    status,
    outcome: 'refused',
    code: String(r.code ?? ''),
    detail: first?.message ?? String(r.detail ?? ''),
    ...(first?.xmlPath !== undefined ? { xmlPath: first.xmlPath } : {}),
  };
}

async function postBatch(base: URL, key: string, docs: { file: string; bytes: Buffer }[]): Promise<Record<string, unknown>[]> {
  let res: Response;
  try {
    res = await fetch(new URL('/v1/invoices/batch', base), {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ documents: docs.map((d) => ({ name: d.file, xml: d.bytes.toString('base64') })) }),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (err) {
    throw new UsageError(`the API at ${base.origin} is unreachable: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UsageError(`the API answered ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
  // The request itself refused (bad key, role, body too large): nothing was imported, the input is unusable.
  if (res.status !== 200 || !Array.isArray(body.results)) throw new UsageError(`the API refused the batch (${res.status} ${String(body.code ?? '')}): ${String(body.detail ?? text.slice(0, 200))}`);
  return body.results as Record<string, unknown>[];
}

export async function runImport(inputs: string[], flags: ImportFlags): Promise<{ results: FileResult[]; exitCode: number }> {
  let base: URL;
  try {
    base = new URL(flags.api);
  } catch {
    throw new UsageError(`--api ${JSON.stringify(flags.api)} is not a URL`);
  }
  const key = apiKey(flags);
  const files = collectFiles(inputs).map((file) => {
    try {
      return { file, bytes: readFileSync(file) };
    } catch (err) {
      throw new UsageError(`${file} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  });
  const bar = progressBar('import', flags.json !== true, 'files');
  const results: FileResult[] = [];
  try {
    bar.update(0, files.length);
    for (const group of batches(files, flags.batch)) {
      const answers = await postBatch(base, key, group);
      group.forEach((d, i) => results.push(resultOf(d.file, answers[i] ?? { status: 0, code: 'NO_ANSWER', detail: 'the API answered fewer results than documents' })));
      bar.update(results.length, files.length);
    }
  } finally {
    bar.stop();
  }
  return { results, exitCode: results.some((r) => r.outcome === 'refused') ? ExitCode.Invalid : ExitCode.Ok };
}

function summary(results: FileResult[]): { files: number; created: number; duplicates: number; refused: number } {
  const n = (o: FileResult['outcome']) => results.filter((r) => r.outcome === o).length;
  return { files: results.length, created: n('created'), duplicates: n('duplicate'), refused: n('refused') };
}

export function register(program: Command): void {
  program
    .command('import')
    .description('register 数电票 XML invoices (files, or directories of *.xml) through the API; their exact bytes are kept provable')
    .argument('<paths...>', 'XML files or directories')
    .requiredOption('--api <url>', 'the node API, e.g. http://127.0.0.1:8080')
    .option('--key <key>', 'issuer API key (default: env TIANFU_API_KEY)')
    .option('--key-file <file>', 'read the issuer key from a file')
    .option('--batch <n>', 'documents per request (1-1000)', positiveInt(1000), 100)
    .option('--json', 'machine-readable output')
    .action(async (paths: string[], flags: ImportFlags) => {
      const { results, exitCode } = await runImport(paths, flags);
      const s = summary(results);
      if (flags.json) printJson({ summary: s, results });
      else {
        for (const r of results) {
          if (r.outcome === 'refused') process.stdout.write(`refused    ${r.status} ${r.file}: ${r.code}${r.xmlPath ? ` at ${r.xmlPath}` : ''}: ${r.detail}\n`);
          else process.stdout.write(`${r.outcome === 'created' ? 'registered' : 'present   '} ${r.status} ${r.file}: ${r.invoiceKey}${r.unmapped ? ` (${r.unmapped} unmapped tags kept)` : ''}\n`);
        }
        process.stdout.write(`${s.files} files: ${s.created} registered, ${s.duplicates} already present, ${s.refused} refused\n`);
      }
      process.exitCode = exitCode;
    });
}
