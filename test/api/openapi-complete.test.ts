/**
 * OpenAPI completeness: every route the app mounts is in /v1/openapi.json, and every documented
 * route is mounted (same method, same path). The routes are read from the express app itself.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createApp } from '../../api/app';
import { startTestLedger, type TestLedger } from '../support/ledger';
import { mountedRoutes } from '../support/routes';

describe('OpenAPI document is complete (real node)', () => {
  let t: TestLedger;
  beforeAll(async () => {
    t = await startTestLedger();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('every mounted route is documented and every documented route is mounted', async () => {
    const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const mounted = mountedRoutes(createApp(t.ledger, silent));
    const doc = (await t.api('/v1/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).filter((m) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(m)).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(mounted.length).toBeGreaterThan(20);
    expect(mounted.filter((r) => !documented.includes(r)), 'mounted but not documented').toEqual([]);
    expect(documented.filter((r) => !mounted.includes(r)), 'documented but not mounted').toEqual([]);
    expect(documented).toContain('GET /v1/keys');
  });

  it('the document is OpenAPI 3.1 that a reader we did not write accepts', async () => {
    const doc = (await t.api('/v1/openapi.json')).body;
    expect(doc.openapi).toBe('3.1.0');
    // @seriousme/openapi-schema-validator: the document against the OpenAPI 3.1 JSON schema.
    const res = await new Validator().validate(structuredClone(doc));
    expect(res.errors ?? [], String(JSON.stringify(res.errors)).slice(0, 1000)).toEqual([]);
    expect(res.valid).toBe(true);
    // Every operation has responses, and every path parameter of its path is declared.
    for (const [p, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses?: object; parameters?: { in: string; name: string }[] }>>)) {
      for (const [m, op] of Object.entries(ops)) {
        expect(op.responses, `${m} ${p}`).toBeDefined();
        const declared = (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name).sort();
        expect(declared, `${m} ${p}`).toEqual([...p.matchAll(/\{([^}]+)\}/g)].map((x) => x[1]).sort());
      }
    }
  });
});
