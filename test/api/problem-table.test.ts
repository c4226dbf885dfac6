/**
 * The one error table (api/problem.ts) walked together with the OpenAPI document and the sources:
 * every code the domains and routes raise is in the table, the document's Problem.code is exactly the
 * table's codes, every problem status an operation declares is a status of the table, and the handler
 * answers a code with the table's status and title — and a code the table lacks with a logged 500,
 * never a guessed 409.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { DomainError } from '../../node';
import { PROBLEMS, PROBLEM_CODES, HttpProblem, domainProblem, isProblemCode, problemHandler } from '../../api/problem';
import { startTestLedger, type TestLedger } from '../support/ledger';

const ROOT = path.resolve(__dirname, '..', '..');

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => path.join(d.parentPath, d.name));
}

/** A minimal express response: what the handler writes. */
function fakeResponse(): { res: never; sent: () => { status: number; type: string; body: Record<string, unknown> } } {
  let status = 0;
  let type = '';
  let body = '';
  const res = {
    headersSent: false,
    status(s: number) { status = s; return res; },
    type(t: string) { type = t; return res; },
    send(b: string) { body = b; return res; },
  };
  return { res: res as never, sent: () => ({ status, type, body: JSON.parse(body) as Record<string, unknown> }) };
}

describe('the problem table', () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await startTestLedger();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('holds every code the domains and routes raise', () => {
    const raised = new Map<string, string>();
    const patterns = [
      /new DomainError\(\s*'([A-Z][A-Z0-9_]+)'/g,
      /\brefuse\(\s*'([A-Z][A-Z0-9_]+)'/g,
      /\binvalid\(\s*'([A-Z][A-Z0-9_]+)'/g,
      /new XmlRefusal\(\s*'([A-Z][A-Z0-9_]+)'/g,
      /new JsonInputError\(\s*'([A-Z][A-Z0-9_]+)'/g,
      /new HttpProblem\(\s*'([A-Z][A-Z0-9_]+)'/g,
    ];
    for (const f of [...sources('node'), ...sources('api')]) {
      if (f.includes(`${path.sep}audit${path.sep}`)) continue; // audit findings are report codes, not problems
      const src = fs.readFileSync(f, 'utf8');
      for (const re of patterns) for (const m of src.matchAll(re)) raised.set(m[1]!, path.relative(ROOT, f));
    }
    expect(raised.size).toBeGreaterThan(60);
    expect([...raised].filter(([code]) => !isProblemCode(code)).map(([c, f]) => `${c} (${f})`)).toEqual([]);
  });

  it('gives every code a 4xx/5xx status and that status\'s title', () => {
    const titleOf = new Map<number, string>();
    for (const code of PROBLEM_CODES) {
      const { status, title } = PROBLEMS[code];
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(status >= 400 && status <= 599, code).toBe(true);
      expect(title.length, code).toBeGreaterThan(0);
      if (titleOf.has(status)) expect(title, code).toBe(titleOf.get(status));
      titleOf.set(status, title);
      expect(new HttpProblem(code, 'x').status).toBe(status);
    }
  });

  it('is the OpenAPI document\'s: Problem.code is exactly its codes, and every declared problem status is one of its statuses', async () => {
    const doc = (await t.api('/v1/openapi.json')).body as {
      paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, unknown> }> }>>;
      components: { schemas: Record<string, { properties: Record<string, { enum?: string[] }> }> };
    };
    expect([...doc.components.schemas.Problem!.properties.code!.enum!].sort()).toEqual([...PROBLEM_CODES].sort());
    const tableStatuses = new Set(PROBLEM_CODES.map((c) => PROBLEMS[c].status as number));
    const declared = new Set<number>();
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(ops)) {
        for (const [s, r] of Object.entries(op.responses ?? {})) {
          if (!r.content?.['application/problem+json']) continue;
          expect(tableStatuses.has(Number(s)), `${m.toUpperCase()} ${p} declares problem ${s}, which no code of the table has`).toBe(true);
          declared.add(Number(s));
        }
      }
    }
    // and every status a route can answer with is declared by some operation (500 and 429 are any route's)
    for (const s of tableStatuses) if (s !== 500 && s !== 429) expect(declared.has(s), `no operation declares ${s}`).toBe(true);
  });

  it('the handler answers a domain code with the table\'s status, and an unknown one with a logged 500', async () => {
    const errors: string[] = [];
    const handler = problemHandler({ warn: () => undefined, error: (_o, msg) => void errors.push(String(msg)) });
    const req = { path: '/v1/x' } as never;
    const run = (err: unknown) => {
      const { res, sent } = fakeResponse();
      handler(err, req, res, () => undefined);
      return sent();
    };
    const conflict = run(new DomainError('INVOICE_DUPLICATE', 'issued twice', { path: ['invoiceNumber'] }));
    expect(conflict).toMatchObject({ status: 409, type: 'application/problem+json', body: { status: 409, title: 'Conflict', code: 'INVOICE_DUPLICATE', errors: [{ path: ['invoiceNumber'], code: 'INVOICE_DUPLICATE' }] } });
    expect(errors).toEqual([]);
    const unknown = run(new DomainError('NO_SUCH_CODE', 'a code nobody put in the table'));
    expect(unknown).toMatchObject({ status: 500, body: { status: 500, code: 'INTERNAL' } });
    expect(errors.join()).toMatch(/NO_SUCH_CODE is not in the problem table/);
    expect(() => domainProblem(new DomainError('NO_SUCH_CODE', 'x'))).toThrow(/not in the problem table/);
    // and over HTTP, a route's code keeps its table status
    const miss = await t.api('/v1/no-such-route');
    expect(miss.status).toBe(PROBLEMS.NOT_FOUND.status);
    expect(miss.body).toMatchObject({ code: 'NOT_FOUND', title: PROBLEMS.NOT_FOUND.title, type: 'https://tianfu-ledger.example/problems/not-found' });
  });
});
