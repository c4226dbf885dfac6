/** RFC 8785 (JCS) canonical bytes via the maintained `canonicalize` package. */
import canonicalize from 'canonicalize';
import { utf8 } from './bytes';
import { ProtocolError } from './errors';

/**
 * Canonical JSON text of a value. Refuses what JSON cannot carry exactly: non-finite numbers,
 * unsafe integers (money is integer fen and must never be rounded by a float), undefined, functions, bigint,
 * symbols, sparse arrays, cycles, lone surrogates, and anything but plain objects and arrays.
 */
export function canonicalJson(value: unknown): string {
  assertJsonSafe(value);
  const text = canonicalize(value);
  if (typeof text !== 'string') throw new ProtocolError('INVALID_INPUT', 'value has no canonical JSON form');
  return text;
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}

// A lone UTF-16 surrogate has no UTF-8 form: TextEncoder would silently turn it into U+FFFD, so two
// different strings would share one digest. RFC 8785 §3.2.2.2 requires well-formed Unicode (I-JSON).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Where a walk is, kept as a stack of keys: the path text is built only when something is refused. */
type Trail = (string | number)[];

function pathOf(trail: Trail): string {
  let out = '$';
  for (const k of trail) out += typeof k === 'number' ? `[${k}]` : `.${k}`;
  return out;
}

function refuse(trail: Trail, what: string): never {
  throw new ProtocolError('INVALID_INPUT', `${pathOf(trail)}${what}`);
}

function assertJsonSafe(value: unknown, trail: Trail = [], seen: Set<object> = new Set()): void {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) refuse(trail, ': string contains a lone UTF-16 surrogate (not valid Unicode)');
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(trail, ': non-finite number');
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        refuse(trail, `: integer ${value} is beyond 2^53 and cannot be carried exactly; use a decimal string`);
      }
      return;
    case 'object': {
      if (value === null) return;
      // A cycle has no JSON form; say so instead of overflowing the stack.
      if (seen.has(value)) refuse(trail, ': circular reference');
      seen.add(value);
      if (Array.isArray(value)) {
        // A hole would be dropped by the serializer ([1,,3] → [1,3]): refuse rather than change the data.
        for (let i = 0; i < value.length; i++) {
          trail.push(i);
          if (!(i in value)) refuse(trail, ': sparse array hole');
          assertJsonSafe(value[i], trail, seen);
          trail.pop();
        }
        seen.delete(value);
        return;
      }
      // Only plain objects: a Map or Set would serialize as {}, a typed array as {"0":…}, a Date or
      // anything with toJSON as something the digest no longer shows. A record must mean the same
      // after a JSON round trip as before it, or its digest cannot be re-checked from a bundle.
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object';
        refuse(trail, `: ${name} is not a plain JSON object`);
      }
      for (const k in value) {
        if (!Object.prototype.hasOwnProperty.call(value, k)) continue;
        if (LONE_SURROGATE.test(k)) refuse(trail, ` key ${JSON.stringify(k)}: string contains a lone UTF-16 surrogate (not valid Unicode)`);
        trail.push(k);
        assertJsonSafe((value as Record<string, unknown>)[k], trail, seen);
        trail.pop();
      }
      seen.delete(value);
      return;
    }
    default:
      refuse(trail, `: ${typeof value} is not JSON`);
  }
}

// ---- for writers of fixed-shape values (log entries, state leaves) that skip the general serializer ----

// Printable ASCII but `"` and `\`: such a string's JCS form is the string in quotes, nothing escaped.
const PLAIN_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** The JCS text of `v` when it is a string that needs no escaping (then it is `"v"`), else null. */
export function plainJcsString(v: unknown): string | null {
  return typeof v === 'string' && PLAIN_STRING.test(v) ? '"' + v + '"' : null;
}

/** Whether `o` is a plain JSON object (as canonicalJson admits) with exactly `n` own enumerable fields. */
export function isPlainObjectOfSize(o: unknown, n: number): o is Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  const proto: unknown = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) return false;
  let k = 0;
  for (const key in o) if (Object.prototype.hasOwnProperty.call(o, key)) k++;
  return k === n;
}
