/**
 * One error table (after rekor's pkg/api/error.go): every error becomes an RFC 9457
 * `application/problem+json` response here and nowhere else. Domain code raises DomainError with a
 * stable code; this file alone decides its HTTP status.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { DomainError } from '../node';

export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { errors?: { path: (string | number)[]; message: string; code?: string }[]; [k: string]: unknown } = {},
  ) {
    super(message);
  }
}

/** Status for each domain error code; codes not listed are state conflicts (409). */
const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION: 422,
  INVOICE_INVALID: 422,
  RECORD_INVALID: 422,
  RECORD_NOT_NORMALISED: 422,
  RED_MISMATCH: 422,
  RED_LINES: 422,
  RED_TAX_MISMATCH: 422,
  RED_REASON_FULL_ONLY: 422,
  RED_WITHOUT_REVERSAL: 422,
  SUBJECT_MISMATCH: 422,
  EVIDENCE_INVALID_RECORD: 422,
  EVIDENCE_INVALID_METADATA: 422,
  EVIDENCE_INVALID_CUSTODY_EVENT: 422,
  EVIDENCE_SEALED: 403,
  EVIDENCE_ERASED: 410,
  EVIDENCE_WITHDRAWN: 410,
  EVIDENCE_INVALID_ID: 404,
  EVIDENCE_DIGEST_MISMATCH: 422,
  EVIDENCE_BAD_DIGEST: 422,
  EVIDENCE_SIGNATURE_INVALID: 422,
  EVIDENCE_SIGNATURE_UNVERIFIED: 422,
  EVIDENCE_CAPTURED_AFTER_DEPOSIT: 422,
  EVIDENCE_TOO_LARGE: 413,
  EVIDENCE_BAD_LIMIT: 500,
  EVIDENCE_UPLOAD_FAILED: 400,
  UNKNOWN_KIND: 422,
  NOT_FOUND: 404,
  CHECKPOINT_NOT_FOUND: 404,
  INVOICE_NOT_FOUND: 404,
  EVIDENCE_NOT_FOUND: 404,
  EVIDENCE_CONTENT_NOT_FOUND: 410,
  RED_FORM_NOT_FOUND: 404,
  ROLE_FORBIDDEN: 403,
  SCOPE_FORBIDDEN: 403,
  EVIDENCE_FORBIDDEN: 403,
  EVIDENCE_ACTOR_MISMATCH: 403,
  EVIDENCE_NODE_ONLY_EVENT: 403,
  EVIDENCE_SIGNER_NOT_REGISTERED: 422,
  EVIDENCE_SIGNER_PROOF_INVALID: 422,
  EVIDENCE_CONTENT_RACE: 503,
  // The strict JSON reader and the text rule (api/body.ts, node/input/).
  MALFORMED_JSON: 400,
  UNSUPPORTED_CHARSET: 415,
  JSON_DUPLICATE_KEY: 422,
  JSON_NUMBER_FORM: 422,
  JSON_TOO_DEEP: 422,
  TEXT_CONTROL: 422,
  TEXT_BIDI: 422,
  TEXT_INVISIBLE: 422,
  TEXT_LINE_SEPARATOR: 422,
  TEXT_NONCHARACTER: 422,
  TEXT_LONE_SURROGATE: 422,
  TEXT_NOT_NFC: 422,
  // Invoice XML import (node/invoice/xml): the parse profile's refusals, then mapping and validation.
  XML_MALFORMED: 400,
  XML_DTD_FORBIDDEN: 400,
  XML_PI_FORBIDDEN: 400,
  XML_LIMIT: 422,
  XML_ENCODING: 415,
  XML_TOO_LARGE: 413,
  INVOICE_XML_INVALID: 422,
  INVOICE_XML_NOT_FOUND: 404,
  INVOICE_XML_DAMAGED: 500,
};

export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 409;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function sendProblem(res: Response, status: number, code: string, detail: string, extra: Record<string, unknown> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .status(status)
    .type('application/problem+json')
    // The RFC 9457 members last, so no extension member can replace them: `status` is always the HTTP status number.
    .send(JSON.stringify({ ...extra, type: `https://tianfu-ledger.example/problems/${code.toLowerCase().replace(/_/g, '-')}`, title: TITLES[status] ?? 'Error', status, code, detail }));
}

export interface ProblemLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** The one error handler: 4xx logged as warnings, 5xx as errors (with the stack), never leaking internals. */
export function problemHandler(logger: ProblemLogger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof HttpProblem) {
      logger.warn({ code: err.code, status: err.status, path: req.path }, err.message);
      sendProblem(res, err.status, err.code, err.message, err.extra);
      return;
    }
    if (err instanceof DomainError) {
      const status = statusForCode(err.code);
      const { path, ...rest } = err.details;
      const extra: Record<string, unknown> = { ...rest };
      if (path) extra.errors = [{ path, message: err.message, code: err.code }];
      if (Array.isArray(rest.problems)) {
        extra.errors = rest.problems;
        delete extra.problems;
      }
      logger.warn({ code: err.code, status, path: req.path }, err.message);
      sendProblem(res, status, err.code, err.message, extra);
      return;
    }
    // body-parser and friends: malformed JSON, body too large, wrong charset.
    const e = err as { type?: string; status?: number; message?: string; expose?: boolean };
    if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      const code = e.type === 'entity.parse.failed' ? 'MALFORMED_JSON' : e.type === 'entity.too.large' ? 'BODY_TOO_LARGE' : 'BAD_REQUEST';
      const detail = code === 'MALFORMED_JSON' ? `request body is not valid JSON: ${e.message}` : (e.message ?? 'bad request');
      logger.warn({ code, status: e.status, path: req.path }, detail);
      // The whole body is what was wrong: give it as the field path, like every other 4xx.
      sendProblem(res, e.status, code, detail, { errors: [{ path: ['body'], message: detail, code }] });
      return;
    }
    logger.error({ err, path: req.path }, 'internal error');
    sendProblem(res, 500, 'INTERNAL', 'internal error; the request may be retried');
  };
}
