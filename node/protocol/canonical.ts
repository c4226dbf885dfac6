/** RFC 8785 (JCS) canonical bytes via the maintained `canonicalize` package. */
import canonicalize from 'canonicalize';
import { utf8 } from './bytes';
import { ProtocolError } from './errors';

/**
 * Canonical JSON text of a value. Refuses what JSON cannot carry exactly: non-finite numbers,
 * unsafe integers (money is integer fen and must never be rounded by a float), undefined, functions, bigint.
 */
export function canonicalJson(value: unknown): string {
  assertJsonSafe(value, '$');
  const text = canonicalize(value);
  if (typeof text !== 'string') throw new ProtocolError('INVALID_INPUT', 'value has no canonical JSON form');
  return text;
}

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}

function assertJsonSafe(value: unknown, path: string): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new ProtocolError('INVALID_INPUT', `${path}: non-finite number`);
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
        throw new ProtocolError('INVALID_INPUT', `${path}: integer ${value} is beyond 2^53 and cannot be carried exactly; use a decimal string`);
      }
      return;
    case 'object':
      if (value === null) return;
      if (Array.isArray(value)) {
        value.forEach((v, i) => assertJsonSafe(v, `${path}[${i}]`));
        return;
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) assertJsonSafe(v, `${path}.${k}`);
      return;
    default:
      throw new ProtocolError('INVALID_INPUT', `${path}: ${typeof value} is not JSON`);
  }
}
