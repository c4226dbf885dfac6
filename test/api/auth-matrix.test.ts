/**
 * The authorisation matrix, table-driven, against a real node: every mounted route × {no key,
 * malformed Authorization, unknown key, revoked key of each allowed role, each wrong role, each
 * wrong scope}. A key whose scope does not cover someone else's resource gets exactly the answer an
 * unknown id gets. No refusal appends to the log. The table must name every route the app mounts.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createApp } from '../../api/app';
import type { TestLedger } from '../support/ledger';
import { blue, formId, logSize, startInvoiceLedger, type Parties } from './invoices-support';
import { bytesOf, deposit, metadata } from './evidence-support';
import { mountedRoutes } from '../support/routes';

const ROLES = ['admin', 'issuer', 'buyer', 'collector', 'court', 'auditor'] as const;
type Role = (typeof ROLES)[number];

interface Answer {
  status: number;
  body: unknown;
}

interface Cell {
  /** "METHOD /path" as in the OpenAPI document. */
  route: string;
  /** Roles that may call it; empty: public (no key needed). */
  roles: Role[];
  path: () => string;
  body?: () => unknown;
  multipart?: boolean;
  /** Operational routes outside /v1 (health, metrics): no credentials are read there at all. */
  outsideApi?: boolean;
  /** Keys of an allowed role whose scope does not cover the resource, and the same call on an unknown id. */
  scope?: { keys: () => string[]; unknownPath?: () => string; unknownBody?: () => unknown; expect?: { status: number; code: string } };
}

describe('authorisation matrix (real node)', () => {
  let t: TestLedger;
  let k: Parties;
  const keyOf: Partial<Record<Role, string>> = {};
  const revoked: Partial<Record<Role, string>> = {};
  let invoiceKey: string;
  let evidenceId: string;
  let otherCollector: string;
  const FORM = formId(1);
  const UNKNOWN_INVOICE = '0x' + 'ab'.repeat(32);
  const UNKNOWN_EVIDENCE = 'ev_' + 'cd'.repeat(16);
  const UNKNOWN_FORM = formId(999_999);

  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger());
    Object.assign(keyOf, { admin: t.adminKey, issuer: k.issuer, buyer: k.buyer, collector: k.collector, court: k.court, auditor: k.auditor });
    for (const role of ROLES) {
      const body = { role, ...(role === 'issuer' || role === 'buyer' ? { taxId: role === 'issuer' ? '91110000600037341L' : '9144030071526726XG' } : {}) };
      const c = await t.api('/v1/keys', { body, key: t.adminKey });
      expect(c.status).toBe(201);
      expect((await t.api(`/v1/keys/${c.body.id}`, { method: 'DELETE', key: t.adminKey })).status).toBe(200);
      revoked[role] = c.body.key;
    }
    invoiceKey = (await t.api('/v1/invoices', { body: blue(1), key: k.issuer })).body.invoiceKey;
    const f = await t.api('/v1/red-letter-forms', { body: { invoiceKey, formId: FORM, reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] }, key: k.issuer });
    expect(f.status).toBe(201);
    const d = await deposit(t, k.collector, metadata(), bytesOf(500, 'matrix'));
    expect(d.status).toBe(201);
    evidenceId = d.body.evidenceId;
    otherCollector = await t.createKey('collector');
  });
  afterAll(async () => {
    await t?.close();
  });

  const inv = (suffix = '') => () => `/v1/invoices/${invoiceKey}${suffix}`;
  const invScope = (keys: () => string[], suffix = '') => ({ keys, unknownPath: () => `/v1/invoices/${UNKNOWN_INVOICE}${suffix}` });
  const ev = (suffix = '') => () => `/v1/evidence/${evidenceId}${suffix}`;
  const evScope = (suffix = '') => ({ keys: () => [otherCollector], unknownPath: () => `/v1/evidence/${UNKNOWN_EVIDENCE}${suffix}` });
  const formBody = (n: number) => () => ({ invoiceKey, formId: formId(n), reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -1, taxAmountFen: 0 }] });

  const table: Cell[] = [
    { route: 'POST /v1/invoices', roles: ['issuer'], path: () => '/v1/invoices', body: () => blue(2), scope: { keys: () => [k.otherIssuer], expect: { status: 403, code: 'SCOPE_FORBIDDEN' } } },
    { route: 'POST /v1/invoices/batch', roles: ['issuer'], path: () => '/v1/invoices/batch', body: () => ({ invoices: [blue(3)] }) },
    { route: 'GET /v1/invoices/{invoiceKey}', roles: ['issuer', 'buyer', 'court', 'auditor'], path: inv(), scope: invScope(() => [k.otherIssuer, k.otherBuyer]) },
    { route: 'GET /v1/invoices/{invoiceKey}/bundle', roles: ['issuer', 'buyer', 'court', 'auditor'], path: inv('/bundle'), scope: invScope(() => [k.otherIssuer, k.otherBuyer], '/bundle') },
    { route: 'GET /v1/invoices/{invoiceKey}/xml', roles: ['issuer', 'buyer', 'court', 'auditor'], path: inv('/xml'), scope: invScope(() => [k.otherIssuer, k.otherBuyer], '/xml') },
    { route: 'POST /v1/invoices/{invoiceKey}/reimbursement', roles: ['buyer'], path: inv('/reimbursement'), body: () => ({ action: 'lock' }), scope: invScope(() => [k.otherBuyer], '/reimbursement') },
    { route: 'POST /v1/invoices/{invoiceKey}/use', roles: ['buyer'], path: inv('/use'), body: () => ({ action: 'book' }), scope: invScope(() => [k.otherBuyer], '/use') },
    {
      route: 'POST /v1/red-letter-forms',
      roles: ['issuer', 'buyer'],
      path: () => '/v1/red-letter-forms',
      body: formBody(2),
      scope: { keys: () => [k.otherIssuer, k.otherBuyer], unknownBody: () => ({ ...formBody(2)(), invoiceKey: UNKNOWN_INVOICE }) },
    },
    {
      route: 'POST /v1/red-letter-forms/{id}/{action}',
      roles: ['issuer', 'buyer'],
      path: () => `/v1/red-letter-forms/${FORM}/confirm`,
      scope: { keys: () => [k.otherIssuer, k.otherBuyer], unknownPath: () => `/v1/red-letter-forms/${UNKNOWN_FORM}/confirm` },
    },
    { route: 'GET /v1/invoices/{invoiceKey}/status-proof', roles: ['issuer', 'buyer', 'court', 'auditor'], path: inv('/status-proof'), scope: invScope(() => [k.otherIssuer, k.otherBuyer], '/status-proof') },
    { route: 'GET /v1/invoice-status/proof', roles: [], path: () => '/v1/invoice-status/proof?number=25512000000000000001&date=2025-03-01&total=106000' },
    { route: 'GET /v1/evidence/{id}/status-proof', roles: ['collector', 'court', 'auditor', 'admin'], path: ev('/status-proof'), scope: evScope('/status-proof') },
    { route: 'GET /v1/invoice-status', roles: [], path: () => '/v1/invoice-status?number=25512000000000000001&date=2025-03-01&total=106000' },
    { route: 'PUT /v1/evidence/signer', roles: ['collector'], path: () => '/v1/evidence/signer', body: () => ({ address: '0x' + '11'.repeat(20), proof: '0x' + '22'.repeat(65) }) },
    { route: 'GET /v1/evidence/signer', roles: ['collector'], path: () => '/v1/evidence/signer' },
    { route: 'POST /v1/evidence', roles: ['collector'], path: () => '/v1/evidence', multipart: true },
    { route: 'POST /v1/evidence/{id}/custody', roles: ['collector', 'court'], path: ev('/custody'), body: () => ({ event: 'annotated', reason: 'matrix' }), scope: evScope('/custody') },
    { route: 'HEAD /v1/evidence/{id}/content', roles: ['court', 'collector'], path: ev('/content'), scope: evScope('/content') },
    { route: 'GET /v1/evidence/{id}/content', roles: ['court', 'collector'], path: ev('/content'), scope: evScope('/content') },
    { route: 'GET /v1/evidence/{id}', roles: ['collector', 'court', 'auditor', 'admin'], path: ev(), scope: evScope() },
    { route: 'GET /v1/evidence/{id}/bundle', roles: ['collector', 'court', 'auditor', 'admin'], path: ev('/bundle'), scope: evScope('/bundle') },
    { route: 'DELETE /v1/evidence/{id}/content', roles: ['admin'], path: ev('/content'), body: () => ({ reason: 'matrix' }) },
    // No capture runs here (no allowed role is called): a collector's own capture and another collector's 404 are in test/capture/captures-api.test.ts.
    { route: 'POST /v1/captures', roles: ['collector'], path: () => '/v1/captures', body: () => ({ url: 'http://127.0.0.2:9/matrix' }) },
    { route: 'GET /v1/captures/{id}', roles: ['collector', 'court', 'auditor'], path: () => `/v1/captures/cap_${'0'.repeat(32)}` },
    { route: 'GET /v1/log/receipts', roles: [], path: () => '/v1/log/receipts?start=0&end=1' },
    { route: 'GET /v1/log/records', roles: ['auditor', 'court'], path: () => '/v1/log/records?start=0&end=1' },
    { route: 'POST /v1/keys', roles: ['admin'], path: () => '/v1/keys', body: () => ({ role: 'court' }) },
    { route: 'GET /v1/keys', roles: ['admin'], path: () => '/v1/keys' },
    { route: 'DELETE /v1/keys/{id}', roles: ['admin'], path: () => '/v1/keys/k_does-not-exist' },
    { route: 'GET /v1/log', roles: [], path: () => '/v1/log' },
    { route: 'GET /v1/log/entries', roles: [], path: () => '/v1/log/entries?start=0&end=1' },
    { route: 'GET /v1/log/proof/inclusion', roles: [], path: () => '/v1/log/proof/inclusion?index=0' },
    { route: 'GET /v1/log/proof/consistency', roles: [], path: () => '/v1/log/proof/consistency?from=1&to=1' },
    { route: 'GET /v1/log/checkpoints', roles: [], path: () => '/v1/log/checkpoints' },
    { route: 'GET /v1/log/checkpoints/{treeSize}/timestamps', roles: [], path: () => '/v1/log/checkpoints/1/timestamps' },
    { route: 'GET /v1/operator', roles: [], path: () => '/v1/operator' },
    { route: 'POST /v1/verify', roles: [], path: () => '/v1/verify', body: () => ({ bundle: {} }) },
    { route: 'GET /v1/openapi.json', roles: [], path: () => '/v1/openapi.json' },
    { route: 'GET /healthz', roles: [], path: () => '/healthz', outsideApi: true },
    { route: 'GET /readyz', roles: [], path: () => '/readyz', outsideApi: true },
    { route: 'GET /metrics', roles: [], path: () => '/metrics', outsideApi: true },
  ];

  async function call(c: Cell, authorization: string | undefined, path = c.path(), body = c.body?.()): Promise<Answer> {
    const method = c.route.split(' ')[0]!;
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (c.multipart) {
      const fd = new FormData();
      fd.append('metadata', JSON.stringify(metadata()));
      fd.append('file', new Blob([new Uint8Array(bytesOf(10, 'm'))]), 'f.bin');
      const res = await fetch(t.url + path, { method, body: fd, headers });
      return { status: res.status, body: await res.text().then((x) => (x ? JSON.parse(x) : null)) };
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(t.url + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (metrics, file content)
    }
    return { status: res.status, body: parsed };
  }
  const code = (a: Answer) => (a.body as { code?: string } | null)?.code;

  it('the table names every mounted route', () => {
    const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const mounted = mountedRoutes(createApp(t.ledger, silent));
    expect(table.map((c) => c.route).sort()).toEqual(mounted);
  });

  it.each(table.map((c) => [c.route, c] as const))('%s', async (_name, c) => {
    const before = await logSize(t);
    const bearer = (key: string) => `Bearer ${key}`;
    const badHeaders = ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer tfk_not-a-real-key', 'Bearer a b', `Token ${k.court}`];
    // Malformed or unknown credentials are refused on every route, public ones included.
    // HEAD answers carry no body: the status alone says it.
    const head = c.route.startsWith('HEAD ');
    const expectRefusal = (a: Answer, status: number, want: string, what: string) => expect([a.status, head ? want : code(a)], what).toEqual([status, want]);
    for (const h of badHeaders) {
      const a = await call(c, h);
      if (c.outsideApi) expect(a.status, `${c.route} ignores "${h}"`).toBe(200);
      else expectRefusal(a, 401, 'UNAUTHENTICATED', `${c.route} with "${h}"`);
    }
    if (c.roles.length === 0) {
      const open = await call(c, undefined);
      expect(open.status, `${c.route} without a key: ${JSON.stringify(open.body)}`).not.toBe(401);
      expect(open.status).not.toBe(403);
      expect(open.status).toBeLessThan(500);
      return;
    }
    const none = await call(c, undefined);
    expectRefusal(none, 401, 'UNAUTHENTICATED', `${c.route} without a key`);
    for (const role of c.roles) {
      const a = await call(c, bearer(revoked[role]!));
      expectRefusal(a, 401, 'UNAUTHENTICATED', `${c.route} with a revoked ${role} key`);
    }
    for (const role of ROLES.filter((r) => !c.roles.includes(r))) {
      const a = await call(c, bearer(keyOf[role]!));
      expectRefusal(a, 403, 'ROLE_FORBIDDEN', `${c.route} as ${role}: ${JSON.stringify(a.body)}`);
    }
    if (c.scope) {
      for (const key of c.scope.keys()) {
        const out = await call(c, bearer(key));
        if (c.scope.expect) {
          expect([out.status, code(out)], `${c.route} out of scope`).toEqual([c.scope.expect.status, c.scope.expect.code]);
          continue;
        }
        const unknown = await call(c, bearer(key), c.scope.unknownPath?.() ?? c.path(), c.scope.unknownBody?.() ?? c.body?.());
        expect(out.status, `${c.route} out of scope: ${JSON.stringify(out.body)}`).toBe(404);
        // Indistinguishable: the same answer with the ids swapped.
        const norm = (a: Answer) => JSON.stringify(a).replaceAll(invoiceKey, '<id>').replaceAll(UNKNOWN_INVOICE, '<id>').replaceAll(evidenceId, '<id>').replaceAll(UNKNOWN_EVIDENCE, '<id>').replaceAll(FORM, '<id>').replaceAll(UNKNOWN_FORM, '<id>');
        expect(norm(out), c.route).toBe(norm(unknown));
      }
    }
    expect(await logSize(t), `${c.route}: refusals appended`).toBe(before);
  });
});
