/**
 * The HTTP API, built apart from `listen` (createApp(deps)) so tests run it on an ephemeral port.
 * Express 5 forwards rejected promises from async handlers to the one problem handler.
 */
import { intakeInvoices } from '../node/invoice/intake';
import express, { type Express, type Response } from 'express';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { Router } from 'express';
import type { Ledger } from '../node';
import { actorOf, authenticate } from './auth';
import { strictJsonBody } from './body';
import { HttpProblem, problemHandler, sendProblem, type ProblemLogger } from './problem';
import { createMetrics } from './metrics';
import { createOpenApiRegistry, generateDocument } from './openapi';
import { healthRouter, registerHealthOpenApi } from './routes/health';
import { logRouter, registerLogOpenApi } from './routes/log';
import { keysRouter, registerKeysOpenApi } from './routes/keys';
// Features are imported statically: a require('./routes/…') of a TypeScript file is not resolved
// under vitest (no require hook for .ts), so a feature loaded that way would silently be missing.
import { invoicesRouter, registerInvoicesOpenApi } from './routes/invoices';
import { exportRouter, registerExportOpenApi } from './routes/export';
import { verifyRouter, registerVerifyOpenApi } from './routes/verify';
import { evidenceRouter, registerEvidenceOpenApi } from './routes/evidence';
import { capturesRouter, registerCapturesOpenApi } from './routes/captures';

export interface AppLogger extends ProblemLogger {
  info(obj: object, msg?: string): void;
}

/** Each feature contributes a /v1 router and its OpenAPI paths. */
interface Feature {
  router: (ledger: Ledger) => Router;
  openapi: (r: OpenAPIRegistry) => void;
}

export function createApp(ledger: Ledger, logger: AppLogger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  const metrics = createMetrics(ledger);
  app.use(metrics.httpMiddleware);
  // 'wasm-unsafe-eval' lets the verification page compile its WebAssembly hashers (SHA-256, SM3);
  // it does not allow eval() of JavaScript.
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], scriptSrc: ["'self'", "'wasm-unsafe-eval'"], connectSrc: ["'self'", 'http://127.0.0.1:*', 'http://localhost:*', 'https:'], styleSrc: ["'self'", "'unsafe-inline'"] } },
    }),
  );
  if (ledger.config.rateLimitPerMin > 0) {
    app.use(
      '/v1',
      rateLimit({
        windowMs: 60_000,
        limit: ledger.config.rateLimitPerMin,
        standardHeaders: 'draft-8',
        legacyHeaders: false,
        handler: (_req, res) => sendProblem(res, 'RATE_LIMITED', `more than ${ledger.config.rateLimitPerMin} requests a minute from this address; slow down`),
      }),
    );
  }
  // Every JSON body: the strict reader (api/body.ts). /verify reads bundles, whose logged text must
  // be verifiable as it is, so only the text rule is off there.
  // JSON invoice requests are read, validated and hashed by the intake workers (node/invoice/intake-pool.ts),
  // only for a key that may issue: the key is checked first (authenticate reads the header alone), so
  // a request without one costs no validation and gets the route's 401/403, not a 422 about its body.
  const intake = {
    paths: { '/invoices': 'single', '/invoices/batch': 'batch' } as const,
    admits: (res: Response) => actorOf(res)?.role === 'issuer',
    run: (mode: 'single' | 'batch', bytes: Uint8Array) => {
      const req = { mode, bytes, nowMs: ledger.invoices.clock().getTime() };
      return ledger.intake ? ledger.intake.run(req) : Promise.resolve(intakeInvoices(ledger.invoices.rules, req));
    },
  };
  app.use('/v1', authenticate(ledger.keys));
  app.use('/v1', strictJsonBody({ limit: ledger.config.maxBodyBytes, textExempt: ['/verify'], perItem: { '/invoices/batch': 'invoices' }, intake }));

  const registry = createOpenApiRegistry();
  registerLogOpenApi(registry);
  registerHealthOpenApi(registry);
  registerKeysOpenApi(registry);
  // Busiest first: express matches a request against every earlier layer, and no two routers share a
  // path, so the order only decides how many layers the invoice and evidence writes walk past.
  const features: Feature[] = [
    { router: invoicesRouter, openapi: registerInvoicesOpenApi },
    { router: evidenceRouter, openapi: registerEvidenceOpenApi },
    { router: logRouter, openapi: () => undefined },
    { router: keysRouter, openapi: () => undefined },
    { router: verifyRouter, openapi: registerVerifyOpenApi },
    { router: exportRouter, openapi: registerExportOpenApi },
    { router: capturesRouter, openapi: registerCapturesOpenApi },
  ];
  for (const f of features) {
    f.openapi(registry);
    app.use('/v1', f.router(ledger));
  }
  // Health and metrics after the API routers: every /v1 request would otherwise be matched against them first.
  app.use(healthRouter(ledger, metrics));
  const doc = generateDocument(registry);
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(doc);
  });
  const staticDir = require('node:path').join(__dirname, 'static');
  app.use(express.static(staticDir, { index: 'index.html', fallthrough: true }));

  app.use((req, _res, next) => next(new HttpProblem('NOT_FOUND', `no route ${req.method} ${req.path}`)));
  app.use(problemHandler(logger));
  return app;
}
