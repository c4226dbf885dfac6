/** The capture job's wire shapes (zod, with OpenAPI names): the request body and the status view. */
import { randomBytes } from 'node:crypto';
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { textRefinement } from '../input/text';
import { CAPTURE_ID_RE } from '../evidence/history';
import { DEFAULT_CAPTURE_OPTIONS, type CaptureOptions } from './engine';

extendZodWithOpenApi(z);

const text = (max: number) => z.string().min(1).max(max).superRefine(textRefinement());

export const CaptureOptionsSchema = z
  .strictObject({
    fullPage: z.boolean().optional().openapi({ description: 'default true' }),
    viewport: z.strictObject({ width: z.number().int().min(320).max(3840), height: z.number().int().min(240).max(4320) }).optional().openapi({ description: 'default 1366×768' }),
    waitUntil: z.enum(['load', 'networkidle']).optional().openapi({ description: 'default networkidle' }),
    timeoutMs: z.number().int().min(1000).max(120_000).optional().openapi({ description: 'default 30000, at most 120000' }),
    scrollToBottom: z.boolean().optional().openapi({ description: 'default true' }),
  })
  .openapi('CaptureOptions');

export const CaptureRequestSchema = z
  .strictObject({
    url: z.string().min(1).max(4096).openapi({ description: 'http or https; checked against the address rule before anything is fetched' }),
    title: text(512).optional(),
    caseRef: text(128).optional(),
    options: CaptureOptionsSchema.optional(),
  })
  .openapi('CaptureRequest');
export type CaptureRequest = z.infer<typeof CaptureRequestSchema>;

export const CaptureIdSchema = z.string().regex(CAPTURE_ID_RE).openapi({ description: 'cap_ + 32 lowercase hex' });

export const CaptureAcceptedSchema = z.object({ captureId: CaptureIdSchema, status: z.literal('queued'), statusUrl: z.string() }).openapi('CaptureAccepted');

export const CaptureStatusSchema = z
  .object({
    captureId: CaptureIdSchema,
    status: z.enum(['queued', 'running', 'done', 'failed']),
    progress: z.object({ step: z.string(), attempt: z.number().int() }),
    url: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    attempts: z.number().int(),
    evidenceId: z.string().optional(),
    package: z.object({ sha256: z.string(), sm3: z.string(), size: z.number().int(), manifestSha256: z.string() }).optional(),
    error: z.object({ reason: z.string(), message: z.string() }).optional(),
    /** Log indexes of this job's evidence.capture-failed entries. */
    failedEntries: z.array(z.number().int()),
  })
  .openapi('CaptureStatus');
export type CaptureStatus = z.infer<typeof CaptureStatusSchema>;

export function resolveOptions(o: CaptureRequest['options']): CaptureOptions {
  return {
    fullPage: o?.fullPage ?? DEFAULT_CAPTURE_OPTIONS.fullPage,
    viewport: o?.viewport ?? { ...DEFAULT_CAPTURE_OPTIONS.viewport },
    waitUntil: o?.waitUntil ?? DEFAULT_CAPTURE_OPTIONS.waitUntil,
    timeoutMs: o?.timeoutMs ?? DEFAULT_CAPTURE_OPTIONS.timeoutMs,
    scrollToBottom: o?.scrollToBottom ?? DEFAULT_CAPTURE_OPTIONS.scrollToBottom,
  };
}

export function newCaptureId(): string {
  return 'cap_' + randomBytes(16).toString('hex');
}
