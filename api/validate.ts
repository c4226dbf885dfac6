/** Request validation with zod: failures become 422 problems listing every field path. */
import type { z } from 'zod';
import { HttpProblem } from './problem';

export function parseOr422<T extends z.ZodType>(schema: T, value: unknown, where: 'body' | 'query' | 'params' = 'body'): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = r.error.issues.map((i) => ({ path: [where, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message, code: textCodeOf(i) ?? i.code }));
  const first = errors[0]!;
  throw new HttpProblem(where === 'body' ? 'VALIDATION' : 'QUERY_INVALID', `${first.path.join('.')}: ${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, { errors });
}

/** The text rule's own code (TEXT_BIDI, …) for its issues. */
function textCodeOf(issue: z.core.$ZodIssue): string | undefined {
  return issue.code === 'custom' ? (issue.params as { textCode?: string } | undefined)?.textCode : undefined;
}
