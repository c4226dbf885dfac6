/** The routes an express app mounts, read from its router stack (for the OpenAPI and authorisation tests). */
import type { Express } from 'express';

interface Layer {
  rawPath?: string;
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** "GET /v1/invoices/{invoiceKey}" for every route of the app (express :params → OpenAPI {params}). */
export function mountedRoutes(app: Express): string[] {
  const out: string[] = [];
  const walk = (stack: Layer[], prefix: string) => {
    for (const l of stack) {
      if (l.route) {
        for (const p of Array.isArray(l.route.path) ? l.route.path : [l.route.path]) {
          const path = (prefix + p).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
          for (const [m, on] of Object.entries(l.route.methods)) if (on && m !== '_all') out.push(`${m.toUpperCase()} ${path}`);
        }
      } else if (l.handle?.stack) {
        walk(l.handle.stack, prefix + (l.rawPath === '/' || l.rawPath === undefined ? '' : l.rawPath));
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...new Set(out)].sort();
}

