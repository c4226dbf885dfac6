/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
import { OpenAPIRegistry, OpenApiGeneratorV31, extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { PROBLEM_CODES } from './problem';

extendZodWithOpenApi(z);

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(PROBLEM_CODES).openapi({ description: 'stable problem code; its status is fixed by the one table (api/problem.ts)' }),
    detail: z.string(),
    errors: z.array(z.object({ path: z.array(z.union([z.string(), z.number()])), message: z.string(), code: z.string().optional() })).optional(),
  })
  .openapi('Problem');

export function problemResponses(...statuses: number[]): Record<number, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }> {
  const out: Record<number, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }> = {};
  for (const s of statuses) out[s] = { description: `problem (${s})`, content: { 'application/problem+json': { schema: Problem } } };
  return out;
}

export function createOpenApiRegistry(): OpenAPIRegistry {
  const r = new OpenAPIRegistry();
  r.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'API key from POST /v1/keys or <dataDir>/admin-api-key' });
  return r;
}

export function generateDocument(registry: OpenAPIRegistry): object {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'Tianfu Ledger API', version: '1.0.0', description: 'Anchored e-invoice and evidence ledger. Errors are RFC 9457 application/problem+json.' },
    servers: [{ url: '/' }],
  });
}

export { z };
