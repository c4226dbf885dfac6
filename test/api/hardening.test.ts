/**
 * The adversarial pass's defects, through HTTP against a real node: the bad-input table on every
 * write route (strict JSON: duplicate keys, number forms, depth, lone surrogates; the text rule on
 * every human-readable field; the multipart metadata part too), each answered 4xx with the field
 * path, never 5xx, and the log unchanged; a batch with one bad item; the red-letter scope leak; and
 * `status` in problem bodies.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { ApiResult, TestLedger } from '../support/ledger';
import { blue, formId, logSize, startInvoiceLedger, type Parties } from './invoices-support';
import { bytesOf, deposit, metadata } from './evidence-support';

type Path = (string | number)[];

interface Route {
  name: string;
  method: string;
  path: () => string;
  key: () => string;
  /** A body the route would accept (or at least parse), as raw JSON text. */
  valid: () => unknown;
  /** Human-readable fields of `valid`, to put bad characters in. */
  textFields: Path[];
  /** Integer (money/count) fields of `valid`. */
  intFields: Path[];
}

/** The characters of defect 6 (and the multi-line-only ones for single-line fields). */
const BAD_CHARS: [string, string][] = [
  ['NUL', '\u0000'],
  ['BEL (C0)', '\u0007'],
  ['C1 CSI', '\u009b'],
  ['NEXT LINE', '\u0085'],
  ['RLO', '\u202e'],
  ['LRE', '\u202a'],
  ['PDF', '\u202c'],
  ['LRI', '\u2066'],
  ['PDI', '\u2069'],
  ['ZWSP', '\u200b'],
  ['ZWJ', '\u200d'],
  ['BOM', '\ufeff'],
  ['LINE SEPARATOR', '\u2028'],
  ['PARAGRAPH SEPARATOR', '\u2029'],
  ['lone high surrogate', '\ud800'],
  ['lone low surrogate', '\udc00x'],
];

function setAt(obj: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(obj) as Record<string | number, unknown>;
  let cur = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path[path.length - 1]!] = value;
  return copy;
}
/** JSON text of `obj` with `path`'s value written as the literal `lit` (a number form JSON.stringify cannot make). */
function withLiteral(obj: unknown, path: Path, lit: string): string {
  const marker = '__LITERAL_MARKER__';
  return JSON.stringify(setAt(obj, path, marker)).replace(`"${marker}"`, lit);
}
/** JSON text of `obj` with its first top-level key written twice (first with `first`). */
function withDuplicate(obj: Record<string, unknown>, key: string, first: unknown): string {
  return `{${JSON.stringify(key)}:${JSON.stringify(first)},` + JSON.stringify(obj).slice(1);
}

describe('hardening: bad input on every write route (real node)', () => {
  let t: TestLedger;
  let k: Parties;
  let invoiceKey: string;
  let openFormId: string;
  let evidenceId: string;
  let otherCollector: string;
  let n = 500;

  beforeAll(async () => {
    ({ t, k } = await startInvoiceLedger());
    const issued = await t.api('/v1/invoices', { body: blue(1), key: k.issuer });
    expect(issued.status).toBe(201);
    invoiceKey = issued.body.invoiceKey;
    openFormId = formId(1);
    const opened = await t.api('/v1/red-letter-forms', { body: { invoiceKey, formId: openFormId, reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] }, key: k.issuer });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const dep = await deposit(t, k.collector, metadata(), bytesOf(1000, 'hardening'));
    expect(dep.status, JSON.stringify(dep.body)).toBe(201);
    evidenceId = dep.body.evidenceId;
    otherCollector = await t.createKey('collector');
  });
  afterAll(async () => {
    await t?.close();
  });

  const routes: Route[] = [
    {
      name: 'POST /v1/invoices',
      method: 'POST',
      path: () => '/v1/invoices',
      key: () => k.issuer,
      valid: () => blue(n++, { remarks: '备注' }),
      textFields: [['drawer'], ['seller', 'name'], ['buyer', 'name'], ['lines', 0, 'itemName'], ['remarks']],
      intFields: [['totalWithTaxFen'], ['lines', 0, 'amountFen'], ['lines', 0, 'taxRateBps'], ['lines', 0, 'lineNo']],
    },
    {
      name: 'POST /v1/invoices/{key}/reimbursement',
      method: 'POST',
      path: () => `/v1/invoices/${invoiceKey}/reimbursement`,
      key: () => k.buyer,
      valid: () => ({ action: 'lock' }),
      textFields: [],
      intFields: [],
    },
    {
      name: 'POST /v1/invoices/{key}/use',
      method: 'POST',
      path: () => `/v1/invoices/${invoiceKey}/use`,
      key: () => k.buyer,
      valid: () => ({ action: 'confirm-use' }),
      textFields: [],
      intFields: [],
    },
    {
      name: 'POST /v1/red-letter-forms',
      method: 'POST',
      path: () => '/v1/red-letter-forms',
      key: () => k.issuer,
      valid: () => ({ invoiceKey, formId: formId(n++), reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] }),
      textFields: [],
      intFields: [['lines', 0, 'amountFen'], ['lines', 0, 'taxAmountFen'], ['lines', 0, 'originalLineNo']],
    },
    {
      name: 'POST /v1/red-letter-forms/{id}/confirm',
      method: 'POST',
      path: () => `/v1/red-letter-forms/${openFormId}/confirm`,
      key: () => k.buyer,
      valid: () => ({}),
      textFields: [],
      intFields: [],
    },
    {
      name: 'POST /v1/evidence/{id}/custody',
      method: 'POST',
      path: () => `/v1/evidence/${evidenceId}/custody`,
      key: () => k.collector,
      valid: () => ({ event: 'annotated', reason: '庭前核对', note: '第一行\n第二行' }),
      textFields: [['reason'], ['note']],
      intFields: [],
    },
    {
      name: 'DELETE /v1/evidence/{id}/content',
      method: 'DELETE',
      path: () => `/v1/evidence/${evidenceId}/content`,
      key: () => t.adminKey,
      valid: () => ({ reason: '当事人申请删除', note: '依法' }),
      textFields: [['reason'], ['note']],
      intFields: [],
    },
    {
      name: 'PUT /v1/evidence/signer',
      method: 'PUT',
      path: () => '/v1/evidence/signer',
      key: () => k.collector,
      valid: () => ({ address: '0x' + '11'.repeat(20), proof: '0x' + '22'.repeat(65) }),
      textFields: [],
      intFields: [],
    },
    {
      name: 'POST /v1/keys',
      method: 'POST',
      path: () => '/v1/keys',
      key: () => t.adminKey,
      valid: () => ({ role: 'court', name: '某某法院' }),
      textFields: [['name']],
      intFields: [],
    },
    {
      name: 'POST /v1/verify',
      method: 'POST',
      path: () => '/v1/verify',
      key: () => k.court,
      valid: () => ({ bundle: { format: 'tianfu.bundle/v1' }, confirmations: 1 }),
      textFields: [],
      intFields: [['confirmations']],
    },
  ];

  interface Case {
    route: Route;
    name: string;
    raw: string;
    status: number;
    path: Path;
    code: string | RegExp;
  }
  const cases: Case[] = [];
  for (const route of routes) {
    const add = (name: string, raw: () => string, status: number, path: Path, code: string | RegExp) =>
      cases.push({ route, name, status, path: ['body', ...path], code, get raw() { return raw(); } } as Case);
    add('duplicate key', () => {
      const v = route.valid() as Record<string, unknown>;
      const first = Object.keys(v)[0] ?? 'x';
      return Object.keys(v).length ? withDuplicate(v, first, v[first]) : '{"x":1,"x":1}';
    }, 422, [Object.keys(route.valid() as object)[0] ?? 'x'], 'JSON_DUPLICATE_KEY');
    add('nested 5000 deep', () => `{"deep":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, 422, ['deep'], 'JSON_TOO_DEEP');
    add('lone surrogate in a key', () => JSON.stringify({ ...(route.valid() as object), '\ud800': 1 }), 422, ['\ud800'], 'TEXT_LONE_SURROGATE');
    for (const f of route.intFields) {
      for (const lit of ['106000.0000000000000001', '1.06e5', '6.00e2', '1E2', '-0', '100.0']) {
        add(`${f.join('.')} written ${lit}`, () => withLiteral(route.valid(), f, lit), 422, f, 'JSON_NUMBER_FORM');
      }
    }
    for (const f of route.textFields) {
      for (const [what, ch] of BAD_CHARS) {
        add(`${f.join('.')} with ${what}`, () => JSON.stringify(setAt(route.valid(), f, `一${ch}二`)), 422, f, /^TEXT_/);
      }
      add(`${f.join('.')} not NFC`, () => JSON.stringify(setAt(route.valid(), f, 'Cafe\u0301')), 422, f, 'TEXT_NOT_NFC');
    }
    // Single-line fields refuse line breaks and tabs in their schema (the edge allows them in notes).
    for (const f of route.textFields.filter((p) => !['remarks', 'note'].includes(String(p[p.length - 1])))) {
      for (const [what, ch] of [['LF', '\n'], ['TAB', '\t'], ['CR', '\r']]) {
        add(`${f.join('.')} with ${what}`, () => JSON.stringify(setAt(route.valid(), f, `一${ch}二`)), 422, f, 'TEXT_CONTROL');
      }
    }
  }
  // The exact cases the report names.
  const inv = routes[0]!;
  cases.push(
    { route: inv, name: 'totalWithTaxFen twice (999 then 106000)', get raw() { return withDuplicate(inv.valid() as Record<string, unknown>, 'totalWithTaxFen', 999); }, status: 422, path: ['body', 'totalWithTaxFen'], code: 'JSON_DUPLICATE_KEY' } as Case,
    { route: inv, name: 'two seller objects', get raw() { const v = inv.valid() as Record<string, unknown>; return withDuplicate(v, 'seller', v.seller); }, status: 422, path: ['body', 'seller'], code: 'JSON_DUPLICATE_KEY' } as Case,
    { route: routes[3]!, name: 'two invoiceKeys in a red-letter form', get raw() { const v = routes[3]!.valid() as Record<string, unknown>; return withDuplicate(v, 'invoiceKey', v.invoiceKey); }, status: 422, path: ['body', 'invoiceKey'], code: 'JSON_DUPLICATE_KEY' } as Case,
    { route: inv, name: 'drawer "\\ud800"', get raw() { return JSON.stringify({ ...(inv.valid() as object), drawer: '\ud800' }); }, status: 422, path: ['body', 'drawer'], code: 'TEXT_LONE_SURROGATE' } as Case,
    { route: inv, name: 'item name "\\udc00x"', get raw() { return JSON.stringify(setAt(inv.valid(), ['lines', 0, 'itemName'], '\udc00x')); }, status: 422, path: ['body', 'lines', 0, 'itemName'], code: 'TEXT_LONE_SURROGATE' } as Case,
    { route: inv, name: 'invalid UTF-8 bytes', raw: '', status: 400, path: ['body'], code: 'MALFORMED_JSON' } as Case,
  );

  async function send(c: Case): Promise<ApiResult> {
    const raw = c.name === 'invalid UTF-8 bytes' ? Buffer.concat([Buffer.from('{"drawer":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) : c.raw;
    return t.api(c.route.path(), { method: c.route.method, key: c.route.key(), rawBody: raw, headers: { 'content-type': 'application/json' } });
  }

  it.each(cases.map((c) => [`${c.route.name}: ${c.name}`, c] as const))('%s → 4xx with the field path, log unchanged', async (_label, c) => {
    const before = await logSize(t);
    const r = await send(c);
    expect(r.status, JSON.stringify(r.body).slice(0, 400)).toBe(c.status);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(r.body.status).toBe(c.status);
    // The error at the field (a refusal of nesting names the path down to where it got too deep).
    const at = (e: { path: Path }) => JSON.stringify(c.code === 'JSON_TOO_DEEP' ? e.path.slice(0, c.path.length) : e.path) === JSON.stringify(c.path);
    const hits = (r.body.errors as { path: Path; code?: string; message: string }[]).filter(at);
    const hit = hits.find((e) => (typeof c.code === 'string' ? e.code === c.code : c.code.test(String(e.code))));
    expect(hit, JSON.stringify(r.body.errors).slice(0, 600)).toBeDefined();
    if (String(hit!.code).startsWith('TEXT_')) expect(hit!.message).toMatch(/U\+[0-9A-F]{4,6}/);
    expect(await logSize(t)).toBe(before);
  });

  describe('the multipart metadata part', () => {
    const metaCases: { name: string; text: () => string; path: Path; code: string | RegExp }[] = [
      { name: 'duplicate title', text: () => { const m = metadata(); return withDuplicate(m, 'title', 'another title'); }, path: ['metadata', 'title'], code: 'JSON_DUPLICATE_KEY' },
      { name: 'environment nested 5000 deep', text: () => JSON.stringify(metadata()).replace(/"environment":\{/, `"environment":{"x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)},`), path: ['metadata', 'environment', 'x'], code: 'JSON_TOO_DEEP' },
      { name: 'environment nested 20 deep (under the reader bound, over the schema bound)', text: () => JSON.stringify(metadata({ environment: { x: JSON.parse(`${'{"a":'.repeat(20)}1${'}'.repeat(20)}`) } })), path: ['metadata', 'environment'], code: /./ },
      { name: 'title with a lone surrogate', text: () => JSON.stringify(metadata({ title: '\ud800' })), path: ['metadata', 'title'], code: 'TEXT_LONE_SURROGATE' },
      { name: 'fileName x\\u202etxt.exe', text: () => JSON.stringify(metadata({ fileName: 'x\u202etxt.exe' })), path: ['metadata', 'fileName'], code: 'TEXT_BIDI' },
      { name: 'title with ZWSP', text: () => JSON.stringify(metadata({ title: '页\u200b面' })), path: ['metadata', 'title'], code: 'TEXT_INVISIBLE' },
      { name: 'title not NFC', text: () => JSON.stringify(metadata({ title: 'Cafe\u0301' })), path: ['metadata', 'title'], code: 'TEXT_NOT_NFC' },
      { name: 'title with a line feed', text: () => JSON.stringify(metadata({ title: 'a\nb' })), path: ['metadata', 'title'], code: 'TEXT_CONTROL' },
      { name: 'caseRef with NUL', text: () => JSON.stringify(metadata({ caseRef: 'a\u0000' })), path: ['metadata', 'caseRef'], code: 'TEXT_CONTROL' },
      { name: 'environment key with RLO', text: () => JSON.stringify(metadata({ environment: { 'a\u202e': 1 } })), path: ['metadata', 'environment', 'a\u202e'], code: 'TEXT_BIDI' },
      { name: 'a number written 1.0e1 in environment', text: () => JSON.stringify(metadata({ environment: { n: '__N__' } })).replace('"__N__"', '1.0e1'), path: ['metadata', 'environment', 'n'], code: 'JSON_NUMBER_FORM' },
      { name: 'invalid UTF-8 in the field', text: () => '\u0000INVALID', path: ['metadata'], code: 'MALFORMED_JSON' },
    ];
    it.each(metaCases)('$name → 4xx at $path, nothing deposited', async (c) => {
      const before = await logSize(t);
      let r: ApiResult;
      if (c.name.startsWith('invalid UTF-8')) {
        // A hand-built multipart body: the metadata part holds the bytes C3 28 (not UTF-8).
        const boundary = 'tianfuboundary';
        const body = Buffer.concat([
          Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"title":"`),
          Buffer.from([0xc3, 0x28]),
          Buffer.from(`"}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\nabc\r\n--${boundary}--\r\n`),
        ]);
        r = await t.api('/v1/evidence', { rawBody: body, key: k.collector, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
      } else {
        r = await deposit(t, k.collector, null, bytesOf(100, c.name), { metaAsText: c.text() });
      }
      expect(r.status, JSON.stringify(r.body).slice(0, 400)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.body.status).toBe(r.status);
      const at = (e: { path: Path }) => JSON.stringify(c.code === 'JSON_TOO_DEEP' ? e.path.slice(0, c.path.length) : e.path) === JSON.stringify(c.path);
      const hit = (r.body.errors as { path: Path; code?: string }[]).filter(at).find((e) => (typeof c.code === 'string' ? e.code === c.code : c.code.test(String(e.code))));
      expect(hit, JSON.stringify(r.body).slice(0, 600)).toBeDefined();
      expect(await logSize(t)).toBe(before);
    });
  });

  it('a batch with two valid invoices and one lone surrogate: one result per item, the valid ones with receipts, log +2', async () => {
    const before = await logSize(t);
    const items = [blue(900), { ...blue(901), drawer: '\ud800' }, blue(902), { ...blue(903), seller: { ...blue(903).seller, name: 'x\u202etxt.exe' } }];
    const r = await t.api('/v1/invoices/batch', { body: { invoices: items }, key: k.issuer });
    expect(r.status, JSON.stringify(r.body).slice(0, 600)).toBe(200);
    expect(r.body.results.map((x: { status: number }) => x.status)).toEqual([201, 422, 201, 422]);
    expect(r.body.results[1]).toMatchObject({ code: 'TEXT_LONE_SURROGATE', codePoint: 'U+D800' });
    expect(r.body.results[1].errors[0].path).toEqual(['body', 'invoices', 1, 'drawer']);
    expect(r.body.results[3].errors[0].path).toEqual(['body', 'invoices', 3, 'seller', 'name']);
    for (const i of [0, 2]) expect(r.body.results[i].receipt.type).toBe('tianfu.receipt/v2');
    expect(r.body).toMatchObject({ created: 2, refused: 2 });
    expect(await logSize(t)).toBe(before + 2);
    // A duplicate key or a number form inside one item refuses that item only.
    const raw = `{"invoices":[${JSON.stringify(blue(904))},${withDuplicate(blue(905) as unknown as Record<string, unknown>, 'totalWithTaxFen', 999)},${withLiteral(blue(906), ['totalWithTaxFen'], '1.06e5')}]}`;
    const r2 = await t.api('/v1/invoices/batch', { rawBody: raw, key: k.issuer, headers: { 'content-type': 'application/json' } });
    expect(r2.body.results.map((x: { status: number; code?: string }) => [x.status, x.code])).toEqual([[201, undefined], [422, 'JSON_DUPLICATE_KEY'], [422, 'JSON_NUMBER_FORM']]);
    expect(await logSize(t)).toBe(before + 3);
    // Outside the items, the whole body is refused.
    const r3 = await t.api('/v1/invoices/batch', { rawBody: `{"invoices":[${JSON.stringify(blue(907))}],"invoices":[]}`, key: k.issuer, headers: { 'content-type': 'application/json' } });
    expect([r3.status, r3.body.code]).toEqual([422, 'JSON_DUPLICATE_KEY']);
    expect(await logSize(t)).toBe(before + 3);
  });

  it('red-letter actions: a key of neither party gets exactly the unknown-form answer, before any form state is read', async () => {
    const unknownId = formId(777777);
    const shape = (r: ApiResult, id: string) => ({ status: r.status, body: JSON.parse(JSON.stringify(r.body).replaceAll(id, '<id>')) });
    for (const [action, key] of [['confirm', k.otherBuyer], ['reject', k.otherBuyer], ['withdraw', k.otherIssuer], ['confirm', k.otherIssuer]] as const) {
      const before = await logSize(t);
      const out = await t.api(`/v1/red-letter-forms/${openFormId}/${action}`, { method: 'POST', key });
      const unknown = await t.api(`/v1/red-letter-forms/${unknownId}/${action}`, { method: 'POST', key });
      expect(out.status, JSON.stringify(out.body)).toBe(404);
      expect(shape(out, openFormId)).toEqual(shape(unknown, unknownId));
      expect(JSON.stringify(out.body)).not.toMatch(/pending|confirmed|RED_FORM_STATE/);
      expect(await logSize(t)).toBe(before);
    }
    // Opening a form on someone else's invoice is the unknown-invoice answer too.
    const other = await t.api('/v1/red-letter-forms', { body: { invoiceKey, formId: formId(778), reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -1, taxAmountFen: 0 }] }, key: k.otherBuyer });
    const none = await t.api('/v1/red-letter-forms', { body: { invoiceKey: '0x' + 'ab'.repeat(32), formId: formId(779), reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -1, taxAmountFen: 0 }] }, key: k.otherBuyer });
    expect([other.status, other.body.code]).toEqual([404, 'INVOICE_NOT_FOUND']);
    expect([none.status, none.body.code]).toEqual([404, 'INVOICE_NOT_FOUND']);
  });

  it('problem bodies: `status` is the HTTP status number; the form state is `formStatus`', async () => {
    const id = formId(2);
    const b = await t.api('/v1/invoices', { body: blue(2), key: k.issuer });
    expect((await t.api('/v1/red-letter-forms', { body: { invoiceKey: b.body.invoiceKey, formId: id, reasonCode: '01', lines: [{ originalLineNo: 1, amountFen: -100000, taxAmountFen: -6000 }] }, key: k.issuer })).status).toBe(201);
    // A seller-opened form on an invoice the buyer has not booked needs no confirmation: confirming it is a state conflict.
    const again = await t.api(`/v1/red-letter-forms/${id}/confirm`, { method: 'POST', key: k.buyer });
    expect(again.status, JSON.stringify(again.body)).toBe(409);
    expect(again.body).toMatchObject({ status: 409, code: 'RED_FORM_STATE', formStatus: 'no-confirm-needed' });
  });

  it('an invoice body from a request that may not issue is not validated: 401 or 403 first, and the intake never runs', async () => {
    const bad = { ...blue(n++), totalWithTaxFen: -1 }; // a 422 for an issuer
    const intake = t.ledger.intake!;
    const before = { ...intake.stats };
    const asIssuer = await t.api('/v1/invoices', { body: bad, key: k.issuer });
    expect(asIssuer.status, JSON.stringify(asIssuer.body)).toBe(422);
    expect(intake.stats.pooled + intake.stats.inline).toBe(before.pooled + before.inline + 1);
    const counted = { ...intake.stats };
    const none = await t.api('/v1/invoices', { body: bad });
    const unknown = await t.api('/v1/invoices', { body: bad, key: 'tfk_' + 'x'.repeat(40) });
    const buyer = await t.api('/v1/invoices/batch', { body: { invoices: [bad, bad] }, key: k.buyer });
    expect([none.status, unknown.status, buyer.status]).toEqual([401, 401, 403]);
    expect([none.body.code, unknown.body.code, buyer.body.code]).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'ROLE_FORBIDDEN']);
    expect(intake.stats).toEqual(counted);
  });

  it("another collector's evidence reads exactly as evidence never deposited", async () => {
    const unknownId = 'ev_' + '0'.repeat(32);
    const shape = (r: ApiResult, id: string) => ({ status: r.status, code: r.body?.code, detail: String(r.body?.detail).replace(id, '<id>') });
    for (const [method, suffix, body] of [['GET', '', undefined], ['GET', '/bundle', undefined], ['GET', '/content', undefined], ['POST', '/custody', { event: 'annotated', reason: 'x' }]] as const) {
      const mine = await t.api(`/v1/evidence/${evidenceId}${suffix}`, { method, key: otherCollector, ...(body ? { body } : {}) });
      const unknown = await t.api(`/v1/evidence/${unknownId}${suffix}`, { method, key: otherCollector, ...(body ? { body } : {}) });
      expect(mine.status, `${method} ${suffix}: ${JSON.stringify(mine.body)}`).toBe(404);
      expect(shape(mine, evidenceId)).toEqual(shape(unknown, unknownId));
    }
  });
});
