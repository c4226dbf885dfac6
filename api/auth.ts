/** Bearer API keys: 401 for no or an unknown key, 403 for the wrong role. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Actor, ApiKeys, Role } from '../node';
import { HttpProblem } from './problem';

export function actorOf(res: Response): Actor | undefined {
  return res.locals.actor as Actor | undefined;
}

/** Resolves `Authorization: Bearer <key>` into res.locals.actor when present; never refuses by itself. */
export function authenticate(keys: ApiKeys): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const h = req.headers.authorization;
    if (h === undefined) return next();
    const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(h);
    if (!m) return next(new HttpProblem('UNAUTHENTICATED', 'Authorization header must be "Bearer <api key>"'));
    const actor = await keys.authenticate(m[1]!);
    if (!actor) return next(new HttpProblem('UNAUTHENTICATED', 'unknown or revoked API key'));
    res.locals.actor = actor;
    next();
  };
}

/** The route needs a key with one of `roles`. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const actor = actorOf(res);
    if (!actor) return next(new HttpProblem('UNAUTHENTICATED', 'this route needs an API key: Authorization: Bearer <key>'));
    if (!roles.includes(actor.role)) return next(new HttpProblem('ROLE_FORBIDDEN', `role ${actor.role} may not do this; needs ${roles.join(' or ')}`));
    next();
  };
}

export function requireActor(res: Response): Actor {
  const a = actorOf(res);
  if (!a) throw new HttpProblem('UNAUTHENTICATED', 'this route needs an API key');
  return a;
}
