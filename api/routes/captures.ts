/**
 * Online capture (docs/capture.md): the node captures a page itself and deposits the package.
 *
 *   POST /v1/captures        collector: {url, title?, caseRef?, options?} → 202 {captureId, status, statusUrl}
 *   GET  /v1/captures/{id}   the collector who asked, court, auditor → {status, progress, evidenceId?, error?}
 */
import { Router, type Request } from 'express';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { problemResponses, z } from '../openapi';
import { requireActor, requireRole } from '../auth';
import { HttpProblem } from '../problem';
import { toProblem } from './invoices';
import type { Ledger } from '../../node';
import { CaptureAcceptedSchema, CaptureIdSchema, CaptureRequestSchema, CaptureStatusSchema } from '../../node/capture/model';
import { CaptureNotFound, CaptureQueueFull, CaptureTargetForbidden } from '../../node/capture/service';

function problemOf(err: unknown): unknown {
  if (err instanceof CaptureTargetForbidden) return new HttpProblem('CAPTURE_TARGET_FORBIDDEN', err.message, err.details);
  if (err instanceof CaptureQueueFull) return new HttpProblem('CAPTURE_QUEUE_FULL', err.message);
  if (err instanceof CaptureNotFound) return new HttpProblem('CAPTURE_NOT_FOUND', err.message);
  return toProblem(err, ['body']);
}

export function registerCapturesOpenApi(r: OpenAPIRegistry): void {
  const security = [{ bearer: [] }];
  r.registerPath({
    method: 'post',
    path: '/v1/captures',
    summary: 'Capture a web page in the node\'s own clean browser and deposit the package as evidence (collector)',
    description:
      'The URL is checked against the address rule first (http/https; no loopback, private, link-local, CGNAT, multicast or metadata address unless TIANFU_CAPTURE_ALLOW_HOSTS names the host): ' +
      'a forbidden target is 422 CAPTURE_TARGET_FORBIDDEN and nothing is fetched. The job is durable before the 202; a full queue is 429. ' +
      'Every failed attempt is an evidence.capture-failed log entry; a successful one deposits a WACZ (method web-page).',
    security,
    request: { body: { content: { 'application/json': { schema: CaptureRequestSchema } } } },
    responses: { 202: { description: 'queued', content: { 'application/json': { schema: CaptureAcceptedSchema } } }, ...problemResponses(400, 401, 403, 422, 429) },
  });
  r.registerPath({
    method: 'get',
    path: '/v1/captures/{id}',
    summary: 'A capture job\'s status (the collector who asked, court, auditor)',
    security,
    request: { params: z.object({ id: CaptureIdSchema }) },
    responses: { 200: { description: 'status', content: { 'application/json': { schema: CaptureStatusSchema } } }, ...problemResponses(401, 403, 404) },
  });
}

export function capturesRouter(ledger: Ledger): Router {
  const r = Router();
  const service = ledger.captures;
  r.post('/captures', requireRole('collector'), async (req, res) => {
    const job = await service.submit(requireActor(res), req.body).catch((e: unknown) => Promise.reject(problemOf(e)));
    const statusUrl = `/v1/captures/${job.captureId}`;
    res.status(202).location(statusUrl).json({ captureId: job.captureId, status: 'queued', statusUrl });
  });
  r.get('/captures/:id', requireRole('collector', 'court', 'auditor'), async (req: Request, res) => {
    const status = await service.view(requireActor(res), String(req.params.id)).catch((e: unknown) => Promise.reject(problemOf(e)));
    res.setHeader('Cache-Control', 'no-store');
    res.json(status);
  });
  return r;
}
