/**
 * One error table (after rekor's pkg/api/error.go): every error becomes an RFC 9457
 * `application/problem+json` response here and nowhere else. Routes raise HttpProblem with a code of
 * PROBLEMS, domain code raises DomainError with a stable code; this file alone decides the status.
 */
import type { ErrorRequestHandler, Response } from 'express';
import { DomainError } from '../node';
import type { JsonInputCode } from '../node/input/strict-json';
import type { XmlRefusalCode } from '../node/invoice/xml/parse';
import type { EvidenceRuleCode } from '../node/evidence/custody';

/** RFC 9457 `title`: the status's reason phrase. */
const TITLES = {
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
} as const;
export type ProblemStatus = keyof typeof TITLES;

const e = <S extends ProblemStatus>(status: S): { status: S; title: (typeof TITLES)[S] } => ({ status, title: TITLES[status] });

/**
 * Every problem code the API answers with, and its status. Routes raise `new HttpProblem(code, …)`
 * and domains `DomainError(code)`; nothing else picks a status. A code missing here is a type error
 * for HttpProblem, and for a DomainError a 500 that is logged as a bug (test/api/problem-table.test.ts
 * checks every code the domains raise is here).
 */
export const PROBLEMS = {
  // Requests, bodies, auth (api/).
  VALIDATION: e(422),
  QUERY_INVALID: e(400),
  BAD_REQUEST: e(400),
  BODY_TOO_LARGE: e(413),
  UNAUTHENTICATED: e(401),
  ROLE_FORBIDDEN: e(403),
  SCOPE_FORBIDDEN: e(403),
  NOT_FOUND: e(404),
  RATE_LIMITED: e(429),
  UNSUPPORTED_MEDIA_TYPE: e(415),
  OUT_OF_RANGE: e(400),
  INTERNAL: e(500),
  // The strict JSON reader and the text rule (api/body.ts, node/input/).
  MALFORMED_JSON: e(400),
  UNSUPPORTED_CHARSET: e(415),
  JSON_DUPLICATE_KEY: e(422),
  JSON_NUMBER_FORM: e(422),
  JSON_TOO_DEEP: e(422),
  TEXT_CONTROL: e(422),
  TEXT_BIDI: e(422),
  TEXT_INVISIBLE: e(422),
  TEXT_LINE_SEPARATOR: e(422),
  TEXT_NONCHARACTER: e(422),
  TEXT_LONE_SURROGATE: e(422),
  TEXT_NOT_NFC: e(422),
  // The log, checkpoints, export, verification.
  CHECKPOINT_NOT_FOUND: e(404),
  RECEIPT_UNAVAILABLE: e(500),
  RECORD_UNAVAILABLE: e(500),
  UNKNOWN_FORMAT: e(422),
  MALFORMED: e(422),
  CHAIN_UNAVAILABLE: e(503),
  // Status proofs (node/state): no anchored state root yet (retry after the next checkpoint); map turned off.
  STATE_ROOT_PENDING: e(409),
  STATE_MAP_DISABLED: e(404),
  // Records and invoices (node/invoice, node/sequencer).
  RECORD_INVALID: e(422),
  RECORD_NOT_NORMALISED: e(422),
  SUBJECT_MISMATCH: e(422),
  UNKNOWN_KIND: e(422),
  INVOICE_INVALID: e(422),
  INVOICE_NOT_FOUND: e(404),
  INVOICE_DUPLICATE: e(409),
  INVOICE_KEY_CONFLICT: e(409),
  INVOICE_FULLY_REVERSED: e(409),
  INVOICE_NOT_BLUE: e(409),
  RED_MISMATCH: e(422),
  RED_LINES: e(422),
  RED_TAX_MISMATCH: e(422),
  RED_REASON_FULL_ONLY: e(422),
  RED_WITHOUT_REVERSAL: e(422),
  RED_DUPLICATE: e(409),
  RED_OVER_REMAINING: e(409),
  RED_FORM_NOT_FOUND: e(404),
  RED_FORM_EXISTS: e(409),
  RED_FORM_EXPIRED: e(409),
  RED_FORM_NOT_EXPIRED: e(409),
  RED_FORM_OVERLAP: e(409),
  RED_FORM_STATE: e(409),
  RED_FORM_USED: e(409),
  REIMBURSEMENT_CLOSED: e(409),
  REIMBURSEMENT_LOCKED: e(409),
  REIMBURSEMENT_NOT_LOCKED: e(409),
  REVERSAL_KIND_MISMATCH: e(409),
  USE_ALREADY_BOOKED: e(409),
  USE_ALREADY_CONFIRMED: e(409),
  // Evidence (node/evidence, api/routes/evidence.ts).
  EVIDENCE_INVALID_RECORD: e(422),
  EVIDENCE_INVALID_METADATA: e(422),
  EVIDENCE_INVALID_CUSTODY_EVENT: e(422),
  EVIDENCE_INVALID_ID: e(404),
  EVIDENCE_NOT_FOUND: e(404),
  EVIDENCE_CONTENT_NOT_FOUND: e(410),
  EVIDENCE_ALREADY_DEPOSITED: e(409),
  EVIDENCE_ALREADY_SEALED: e(409),
  EVIDENCE_TIME_REVERSED: e(409),
  EVIDENCE_SEALED: e(403),
  EVIDENCE_FORBIDDEN: e(403),
  EVIDENCE_ACTOR_MISMATCH: e(403),
  EVIDENCE_NODE_ONLY_EVENT: e(403),
  EVIDENCE_ERASED: e(410),
  EVIDENCE_WITHDRAWN: e(410),
  EVIDENCE_DIGEST_MISMATCH: e(422),
  EVIDENCE_BAD_DIGEST: e(422),
  EVIDENCE_SIGNATURE_INVALID: e(422),
  EVIDENCE_SIGNATURE_UNVERIFIED: e(422),
  EVIDENCE_CAPTURED_AFTER_DEPOSIT: e(422),
  EVIDENCE_SIGNER_NOT_REGISTERED: e(422),
  EVIDENCE_SIGNER_NOT_FOUND: e(404),
  EVIDENCE_SIGNER_PROOF_INVALID: e(422),
  EVIDENCE_TOO_LARGE: e(413),
  EVIDENCE_METADATA_TOO_LARGE: e(413),
  EVIDENCE_BAD_LIMIT: e(500),
  EVIDENCE_UPLOAD_FAILED: e(400),
  EVIDENCE_CONTENT_RACE: e(503),
  EVIDENCE_METADATA_FIRST: e(400),
  EVIDENCE_FILE_MISSING: e(400),
  MULTIPART_INVALID: e(400),
  MULTIPART_UNEXPECTED_PART: e(400),
  RANGE_NOT_SATISFIABLE: e(416),
  // Online capture (node/capture, api/routes/captures.ts).
  CAPTURE_TARGET_FORBIDDEN: e(422),
  CAPTURE_QUEUE_FULL: e(429),
  CAPTURE_NOT_FOUND: e(404),
  // Invoice XML import (node/invoice/xml): the parse profile's refusals, then mapping and validation.
  XML_MALFORMED: e(400),
  XML_DTD_FORBIDDEN: e(400),
  XML_PI_FORBIDDEN: e(400),
  XML_LIMIT: e(422),
  XML_ENCODING: e(415),
  XML_TOO_LARGE: e(413),
  INVOICE_XML_INVALID: e(422),
  INVOICE_XML_NOT_FOUND: e(404),
  INVOICE_XML_DAMAGED: e(500),
} as const satisfies Record<string, { status: ProblemStatus; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

/** Every code a domain declares in a type is in the table: a code added there and not here is a compile error naming it. */
type Unmapped = Exclude<JsonInputCode | XmlRefusalCode | EvidenceRuleCode, ProblemCode>;
const _everyDomainCodeMapped: [Unmapped] extends [never] ? true : Unmapped = true;
void _everyDomainCodeMapped;
export const PROBLEM_CODES = Object.keys(PROBLEMS) as [ProblemCode, ...ProblemCode[]];

export function isProblemCode(code: string): code is ProblemCode {
  return Object.prototype.hasOwnProperty.call(PROBLEMS, code);
}

export type ProblemExtra = { errors?: { path: (string | number)[]; message: string; code?: string; [k: string]: unknown }[]; [k: string]: unknown };

/** A refusal by the API: a code of the table (its status is the table's), what was wrong, and extension members. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  readonly status: ProblemStatus;
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly extra: ProblemExtra = {},
  ) {
    super(message);
    this.status = PROBLEMS[code].status;
  }
}

/**
 * The one mapping from a domain refusal to a problem. Field paths get `prefix` in front (['body'] for
 * request bodies); a `problems` list (several fields wrong) becomes `errors`. A code the table lacks
 * is a bug in this table, answered as a 500 (and logged as an error by the handler), never a guess.
 */
export function domainProblem(err: DomainError, prefix?: (string | number)[]): HttpProblem {
  const { path, problems, ...rest } = err.details;
  let errors: ProblemExtra['errors'];
  if (Array.isArray(problems)) {
    // With a prefix, the problems are field problems ({path, message, code}); without, they are passed as they are.
    errors = prefix === undefined ? problems : (problems as { path: (string | number)[]; message: string; code?: string }[]).map((p) => ({ path: [...prefix, ...p.path], message: p.message, code: p.code }));
  } else if (path) errors = [{ path: [...(prefix ?? []), ...path], message: err.message, code: err.code }];
  return new HttpProblem(problemCodeOf(err), err.message, { ...rest, ...(errors ? { errors } : {}) });
}

/** The table's code for a domain refusal; UnmappedCodeError (a 500, logged) when the table lacks it. */
export function problemCodeOf(err: DomainError): ProblemCode {
  if (!isProblemCode(err.code)) throw new UnmappedCodeError(err);
  return err.code;
}

/** A DomainError whose code is not in PROBLEMS. */
export class UnmappedCodeError extends Error {
  override readonly name = 'UnmappedCodeError';
  constructor(readonly domainError: DomainError) {
    super(`domain error code ${domainError.code} is not in the problem table (api/problem.ts)`, { cause: domainError });
  }
}

function writeProblem(res: Response, status: number, code: string, detail: string, extra: Record<string, unknown>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .status(status)
    .type('application/problem+json')
    // The RFC 9457 members last, so no extension member can replace them: `status` is always the HTTP status number.
    .send(JSON.stringify({ ...extra, type: `https://tianfu-ledger.example/problems/${code.toLowerCase().replace(/_/g, '-')}`, title: TITLES[status as ProblemStatus] ?? 'Error', status, code, detail }));
}

export function sendProblem(res: Response, code: ProblemCode, detail: string, extra: Record<string, unknown> = {}): void {
  writeProblem(res, PROBLEMS[code].status, code, detail, extra);
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
      sendProblem(res, err.code, err.message, err.extra);
      return;
    }
    if (err instanceof DomainError) {
      if (!isProblemCode(err.code)) {
        logger.error({ err, code: err.code, path: req.path }, `domain error code ${err.code} is not in the problem table`);
        sendProblem(res, 'INTERNAL', 'internal error; the request may be retried');
        return;
      }
      const p = domainProblem(err);
      logger.warn({ code: p.code, status: p.status, path: req.path }, p.message);
      sendProblem(res, p.code, p.message, p.extra);
      return;
    }
    // body-parser and friends: malformed JSON, body too large, wrong charset.
    const e = err as { type?: string; status?: number; message?: string; expose?: boolean };
    if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      const code = e.type === 'entity.parse.failed' ? 'MALFORMED_JSON' : e.type === 'entity.too.large' ? 'BODY_TOO_LARGE' : 'BAD_REQUEST';
      const detail = code === 'MALFORMED_JSON' ? `request body is not valid JSON: ${e.message}` : (e.message ?? 'bad request');
      logger.warn({ code, status: e.status, path: req.path }, detail);
      // The whole body is what was wrong: give it as the field path, like every other 4xx.
      writeProblem(res, e.status, code, detail, { errors: [{ path: ['body'], message: detail, code }] });
      return;
    }
    logger.error({ err, path: req.path }, 'internal error');
    sendProblem(res, 'INTERNAL', 'internal error; the request may be retried');
  };
}
