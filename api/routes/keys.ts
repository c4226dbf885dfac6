/** API key administration (issue 4): admin only; the secret is shown once. */
import { Router } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z, problemResponses } from '../openapi';
import { parseOr422 } from '../validate';
import { requireRole } from '../auth';
import { textRefinement } from '../../node/input';
import { ROLES, type Ledger, type Role } from '../../node';

const CreateKey = z
  .strictObject({
    role: z.enum(ROLES as [Role, ...Role[]]),
    taxId: z.string().regex(/^[0-9A-Z]{15,20}$/, 'must be a tax id (15–20 digits or capital letters)').optional(),
    taxIds: z.array(z.string().regex(/^[0-9A-Z]{15,20}$/)).max(1000).optional(),
    name: z.string().min(1).max(200).superRefine(textRefinement()).optional(),
  })
  .openapi('CreateKey');
const CreatedKey = z.object({ id: z.string(), key: z.string(), role: z.string(), taxId: z.string().nullable(), taxIds: z.array(z.string()), name: z.string().nullable() }).openapi('CreatedKey');

export function registerKeysOpenApi(r: OpenAPIRegistry): void {
  r.registerPath({
    method: 'post',
    path: '/v1/keys',
    summary: 'Create an API key (admin); the key is shown once',
    security: [{ bearer: [] }],
    request: { body: { content: { 'application/json': { schema: CreateKey } } } },
    responses: { 201: { description: 'created', content: { 'application/json': { schema: CreatedKey } } }, ...problemResponses(401, 403, 422) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/keys',
    summary: 'List API keys (admin): id, role, tax ids, name, created and revoked times; never the key or its hash',
    security: [{ bearer: [] }],
    responses: { 200: { description: 'keys', content: { 'application/json': { schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) } } }, ...problemResponses(401, 403) },
  });
  r.registerPath({
    method: 'delete',
    path: '/v1/keys/{id}',
    summary: 'Revoke an API key (admin)',
    security: [{ bearer: [] }],
    request: { params: z.object({ id: z.string() }) },
    responses: { 200: { description: 'revoked' }, ...problemResponses(401, 403, 404) },
  });
}

export function keysRouter(ledger: Ledger): Router {
  const r = Router();
  r.post('/keys', requireRole('admin'), async (req, res) => {
    const body = parseOr422(CreateKey, req.body);
    const created = await ledger.keys.create(body);
    res.status(201).json(created);
  });
  r.get('/keys', requireRole('admin'), async (_req, res) => {
    const list = await ledger.keys.list();
    res.json({ keys: list.map(({ keyHash: _h, ...k }) => k) });
  });
  r.delete('/keys/:id', requireRole('admin'), async (req, res) => {
    const rec = await ledger.keys.revoke(String(req.params.id));
    res.json({ id: rec.id, revokedAt: rec.revokedAt });
  });
  return r;
}
