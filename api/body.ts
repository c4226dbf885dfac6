/**
 * Request bodies: every application/json body of the API is read by the strict reader of
 * node/input/strict-json.ts (duplicate keys, number forms, depth, the text rule; docs/input.md), and
 * refusals become problems with the field path. The multipart metadata part goes through
 * {@link readJsonPart} with the same rules.
 */
import express, { type RequestHandler, type Response } from 'express';
import { HttpProblem } from './problem';
import { JsonInputError, parseStrictJson, parseStrictJsonBytes, type JsonPath, type StrictJsonOptions } from '../node/input';
import { errorOf, type IntakeRequest, type IntakeResult, type InvoiceIntake } from '../node/invoice/intake';

export const JSON_TYPES = ['application/json', 'application/*+json'];

/** A JsonInputError as the HTTP problem: 400 for text that is not JSON, 422 for JSON the API refuses. */
export function jsonProblem(err: JsonInputError, prefix: JsonPath): HttpProblem {
  const path = [...prefix, ...err.path];
  const extra = { ...(err.extra.codePoint ? { codePoint: err.extra.codePoint } : {}), ...(err.extra.key !== undefined ? { key: err.extra.key } : {}) };
  return new HttpProblem(err.code, err.message, { ...extra, errors: [{ path, message: err.message, code: err.code, ...extra }] });
}

/** Parses one JSON document (a body or a part) or throws the problem. */
export function readJsonPart(input: Uint8Array | string, prefix: JsonPath, opts: StrictJsonOptions = {}): unknown {
  try {
    return typeof input === 'string' ? parseStrictJson(input, opts) : parseStrictJsonBytes(input, opts);
  } catch (err) {
    if (err instanceof JsonInputError) throw jsonProblem(err, prefix);
    throw err;
  }
}

export interface JsonBodyOptions {
  limit: number;
  /**
   * Paths (relative to the mount point) whose strings are not held to the text rule: POST /verify
   * reads bundles, whose records must be verifiable as they were logged. Lone surrogates, duplicate
   * keys, number forms and depth still apply there.
   */
  textExempt?: string[];
  /**
   * Batch routes: path → the array field holding the items. A refusal about content inside item i
   * (duplicate key, number form, text) refuses that item alone (see {@link itemProblems}); the
   * route answers one result per item. Anything outside the items refuses the whole body.
   */
  perItem?: Record<string, string>;
  /**
   * POST paths whose body is an invoice request ('single') or a batch of them ('batch'): read and
   * checked by `run` (the intake workers, node/invoice/intake-pool.ts) instead of on this thread. The
   * answers are the same: the reader's refusals become the same problems here, and the route finds
   * each invoice's checks in {@link invoiceIntake}.
   */
  intake?: {
    paths: Record<string, 'single' | 'batch'>;
    /** Whether this request's body goes to `run` (its key may write invoices); else it is read here, and the route refuses it. */
    admits: (res: Response) => boolean;
    run: (mode: IntakeRequest['mode'], bytes: Uint8Array) => Promise<IntakeResult>;
  };
}

/** The intake of a JSON invoice request (set by strictJsonBody on intake paths): by item index, null where not checked. */
export function invoiceIntake(res: Response): (InvoiceIntake | null)[] | undefined {
  return res.locals.invoiceIntake as (InvoiceIntake | null)[] | undefined;
}

/** The first content refusal of each batch item, as problems (set by strictJsonBody on batch routes). */
export function itemProblems(res: Response): Map<number, HttpProblem> {
  return (res.locals.itemProblems as Map<number, HttpProblem> | undefined) ?? new Map();
}

const notAnObject = (): HttpProblem => new HttpProblem('MALFORMED_JSON', 'request body must be a JSON object or array', { errors: [{ path: ['body'], message: 'not an object or array', code: 'MALFORMED_JSON' }] });

/** The JSON body middleware: raw bytes under the limit, then the strict reader. No body: req.body undefined. */
export function strictJsonBody(opts: JsonBodyOptions): RequestHandler {
  const raw = express.raw({ limit: opts.limit, type: JSON_TYPES });
  const exempt = new Set(opts.textExempt ?? []);
  return (req, res, next) => {
    raw(req, res, (err?: unknown) => {
      if (err) return next(err);
      if (!Buffer.isBuffer(req.body)) {
        req.body = undefined;
        return next();
      }
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
      if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
        return next(new HttpProblem('UNSUPPORTED_CHARSET', `JSON bodies are UTF-8; charset ${charset} is not accepted`, { errors: [{ path: ['body'], message: 'charset must be utf-8', code: 'UNSUPPORTED_CHARSET' }] }));
      }
      const bytes: Buffer = req.body;
      // As express.json did: an empty JSON body reads as {}.
      if (bytes.length === 0) {
        req.body = {};
        return next();
      }
      const mode = req.method === 'POST' ? opts.intake?.paths[req.path] : undefined;
      if (mode && opts.intake && opts.intake.admits(res)) {
        opts.intake.run(mode, bytes).then((r) => {
          if (r.error) return next(jsonProblem(errorOf(r.error), ['body']));
          res.locals.itemProblems = new Map((r.itemErrors ?? []).map(([i, e]) => [i, jsonProblem(errorOf(e), ['body'])]));
          if (r.body === null || typeof r.body !== 'object') return next(notAnObject());
          req.body = r.body;
          if (r.invoices) res.locals.invoiceIntake = r.invoices;
          next();
        }, next);
        return;
      }
      const itemsField = opts.perItem?.[req.path];
      const perItem = new Map<number, HttpProblem>();
      const onProblem = itemsField
        ? (p: JsonInputError): void => {
            const i = p.path[1];
            if (p.path[0] !== itemsField || typeof i !== 'number') throw p;
            if (!perItem.has(i)) perItem.set(i, jsonProblem(p, ['body']));
          }
        : undefined;
      try {
        const value = readJsonPart(bytes, ['body'], { text: !exempt.has(req.path), ...(onProblem ? { onProblem } : {}) });
        res.locals.itemProblems = perItem;
        if (value === null || typeof value !== 'object') throw notAnObject();
        req.body = value;
        next();
      } catch (e) {
        next(e);
      }
    });
  };
}
