/**
 * A strict JSON reader for request bodies (docs/input.md). JSON.parse accepts texts that different
 * parsers read differently, and drops what would tell them apart; this reader refuses them instead:
 *
 *  - a key twice in one object (RFC 8259 §4 leaves the meaning open; RFC 7493 I-JSON §2.3 and
 *    RFC 8785 forbid it): JSON_DUPLICATE_KEY, with the key's path;
 *  - a number not written as canonical JSON writes its value (RFC 8785 §3.2.2.3, the ECMAScript
 *    form): `1.06e5`, `6.00e2`, `106000.0000000000000001`, `-0`, `1E3` and anything beyond a
 *    double's range. For integers that means a plain integer literal, and at most 2^53 - 1 in
 *    magnitude (beyond, no double carries them exactly). JSON_NUMBER_FORM;
 *  - nesting deeper than `maxDepth`, found while reading, before anything walks the value
 *    recursively: JSON_TOO_DEEP;
 *  - strings (values and keys) the text rule refuses (node/input/text.ts, multi-line variant: TAB,
 *    LF and CR+LF pass here; single-line fields refuse them in their schemas), including lone
 *    surrogates written as \u escapes. Off for routes that must read old records as they are.
 *
 * It reads in one pass without recursion (bounded stack, linear time), and its values are those
 * JSON.parse gives for every text it accepts (a property test holds it to that). `__proto__` is an
 * own key, as with JSON.parse.
 */
import { textProblem, type TextCode } from './text';

export type JsonPath = (string | number)[];

export type JsonInputCode = 'MALFORMED_JSON' | 'JSON_DUPLICATE_KEY' | 'JSON_NUMBER_FORM' | 'JSON_TOO_DEEP' | TextCode;

/** A refusal: `path` is inside the parsed document (the caller prefixes 'body' or 'metadata'). */
export class JsonInputError extends Error {
  override readonly name = 'JsonInputError';
  constructor(
    readonly code: JsonInputCode,
    message: string,
    readonly path: JsonPath,
    readonly extra: { key?: string; codePoint?: string; literal?: string; position?: number } = {},
  ) {
    super(message);
  }
}

export interface StrictJsonOptions {
  /** Deepest nesting of objects and arrays accepted (the top level is 1). Default 64. */
  maxDepth?: number;
  /** Apply the text rule to every string and key. Default true. */
  text?: boolean;
  /**
   * Receives refusals about content (duplicate keys, number forms, text) instead of throwing them,
   * and reading goes on: a batch route can then refuse one item and keep the others. Text that is
   * not JSON and nesting too deep still throw.
   */
  onProblem?: (problem: JsonInputError) => void;
}

export const DEFAULT_MAX_DEPTH = 64;

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

export function pathText(path: JsonPath): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out === '' ? k : `.${k}`;
  return out === '' ? '(top level)' : out;
}

interface ObjFrame {
  obj: Record<string, unknown>;
  keys: Set<string>;
  key: string;
}
interface ArrFrame {
  arr: unknown[];
}
type Frame = ObjFrame | ArrFrame;

/** Parses `text` under the rules above; throws JsonInputError. */
export function parseStrictJson(text: string, opts: StrictJsonOptions = {}): unknown {
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const checkText = opts.text ?? true;
  const report = (p: JsonInputError): void => {
    if (opts.onProblem) opts.onProblem(p);
    else throw p;
  };
  const n = text.length;
  let i = 0;
  const trail: JsonPath = [];
  const stack: Frame[] = [];

  const malformed = (what: string): never => {
    const at = i < n ? `at position ${i}` : 'at the end';
    throw new JsonInputError('MALFORMED_JSON', `request body is not valid JSON: ${what} ${at}`, [...trail], { position: i });
  };
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const checkString = (s: string, isKey: boolean): void => {
    if (!checkText) {
      // Even unchecked, a lone surrogate has no UTF-8 form: no record could hold it.
      if (!/[\ud800-\udfff]/u.test(s)) return;
    }
    const p = textProblem(s, { multiline: true });
    if (!p || (!checkText && p.code !== 'TEXT_LONE_SURROGATE')) return;
    const where = isKey ? [...trail.slice(0, -1)] : [...trail];
    const label = isKey ? `the key ${JSON.stringify(s)}${where.length ? ` in ${pathText(where)}` : ''}` : pathText(where);
    report(new JsonInputError(p.code, `${label} ${p.message}`, isKey ? [...where, s] : where, { codePoint: p.codePoint, ...(isKey ? { key: s } : {}) }));
  };
  const readString = (isKey: boolean): string => {
    // i is on the opening quote.
    const start = ++i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        const s = text.slice(start, i++);
        checkString(s, isKey);
        return s;
      }
      if (c === 0x5c) break;
      if (c < 0x20) malformed('a control character inside a string (it must be escaped)');
      i++;
    }
    // Slow path: escapes.
    let out = text.slice(start, i);
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        checkString(out, isKey);
        return out;
      }
      if (c < 0x20) malformed('a control character inside a string (it must be escaped)');
      if (c !== 0x5c) {
        const runStart = i;
        while (i < n) {
          const d = text.charCodeAt(i);
          if (d === 0x22 || d === 0x5c || d < 0x20) break;
          i++;
        }
        out += text.slice(runStart, i);
        continue;
      }
      const e = text.charCodeAt(i + 1);
      i += 2;
      switch (e) {
        case 0x22: out += '"'; break;
        case 0x5c: out += '\\'; break;
        case 0x2f: out += '/'; break;
        case 0x62: out += '\b'; break;
        case 0x66: out += '\f'; break;
        case 0x6e: out += '\n'; break;
        case 0x72: out += '\r'; break;
        case 0x74: out += '\t'; break;
        case 0x75: {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            i -= 2;
            malformed('a \\u escape without four hex digits');
          }
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          i -= 2;
          malformed('an invalid escape');
      }
    }
    return malformed('an unterminated string');
  };
  const readNumber = (): number => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return malformed('an invalid number');
    const literal = m[0];
    i += literal.length;
    const value = Number(literal);
    const canonical = Object.is(value, -0) ? '0' : String(value);
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      // The records' canonical form refuses these too (node/protocol/canonical.ts): no double carries them exactly.
      report(new JsonInputError('JSON_NUMBER_FORM', `${pathText(trail)}: the integer ${literal} is beyond 2^53 and cannot be carried exactly; send it as a decimal string`, [...trail], { literal }));
    } else if (canonical !== literal) {
      const msg = !Number.isFinite(value)
        ? `${pathText(trail)}: the number ${literal} is outside the range JSON numbers can carry`
        : Number.isInteger(value)
          ? `${pathText(trail)}: the number ${literal} must be written as the plain integer ${canonical} (amounts and counts are integer literals; another form could be read as another number)`
          : `${pathText(trail)}: the number ${literal} must be written ${canonical}, the form canonical JSON (RFC 8785) gives it`;
      report(new JsonInputError('JSON_NUMBER_FORM', msg, [...trail], { literal }));
    }
    return value;
  };
  const literal = (word: string, value: unknown): unknown => {
    if (text.startsWith(word, i)) {
      i += word.length;
      return value;
    }
    return malformed('an unexpected character');
  };
  const enter = (): void => {
    if (stack.length + 1 > maxDepth) {
      const where = trail.length > 6 ? `${pathText(trail.slice(0, 6))}…` : pathText(trail);
      throw new JsonInputError('JSON_TOO_DEEP', `${where}: nesting deeper than ${maxDepth} levels is not accepted`, [...trail]);
    }
  };
  const readKey = (frame: ObjFrame): void => {
    ws();
    if (text.charCodeAt(i) !== 0x22) malformed('expected a key (a string)');
    trail.push('');
    const key = readString(true);
    trail[trail.length - 1] = key;
    if (frame.keys.has(key)) {
      report(new JsonInputError('JSON_DUPLICATE_KEY', `${pathText(trail)}: the key ${JSON.stringify(key)} appears twice in one object; send it once`, [...trail], { key }));
    }
    frame.keys.add(key);
    frame.key = key;
    ws();
    if (text.charCodeAt(i) !== 0x3a) malformed('expected ":"');
    i++;
  };
  const set = (obj: Record<string, unknown>, key: string, value: unknown): void => {
    if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
    else obj[key] = value;
  };

  let result: unknown;
  outer: for (;;) {
    ws();
    let value: unknown;
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      enter();
      i++;
      ws();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        value = {};
      } else {
        const frame: ObjFrame = { obj: {}, keys: new Set(), key: '' };
        stack.push(frame);
        readKey(frame);
        continue;
      }
    } else if (c === 0x5b) {
      enter();
      i++;
      ws();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        value = [];
      } else {
        stack.push({ arr: [] });
        trail.push(0);
        continue;
      }
    } else if (c === 0x22) value = readString(false);
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) value = readNumber();
    else if (c === 0x74) value = literal('true', true);
    else if (c === 0x66) value = literal('false', false);
    else if (c === 0x6e) value = literal('null', null);
    else malformed(i >= n ? 'expected a value' : 'an unexpected character');

    // Attach the value to its container; close containers that end here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) {
        result = value;
        break outer;
      }
      ws();
      const d = text.charCodeAt(i);
      if ('arr' in top) {
        top.arr.push(value);
        if (d === 0x2c) {
          i++;
          trail[trail.length - 1] = top.arr.length;
          continue outer;
        }
        if (d !== 0x5d) malformed('expected "," or "]"');
        i++;
        stack.pop();
        trail.pop();
        value = top.arr;
      } else {
        set(top.obj, top.key, value);
        if (d === 0x2c) {
          i++;
          trail.pop();
          readKey(top);
          continue outer;
        }
        if (d !== 0x7d) malformed('expected "," or "}"');
        i++;
        stack.pop();
        trail.pop();
        value = top.obj;
      }
    }
  }
  ws();
  if (i < n) malformed('unexpected text after the JSON value');
  return result;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes → value: UTF-8 strictly (invalid bytes are refused, never replaced by U+FFFD; a leading BOM
 * is refused by the text rule like any other), then {@link parseStrictJson}.
 */
export function parseStrictJsonBytes(bytes: Uint8Array, opts: StrictJsonOptions = {}): unknown {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new JsonInputError('MALFORMED_JSON', 'request body is not valid UTF-8', []);
  }
  if (text.charCodeAt(0) === 0xfeff) throw new JsonInputError('MALFORMED_JSON', 'request body starts with a byte order mark (U+FEFF); JSON text must not (RFC 8259 §8.1)', [], { codePoint: 'U+FEFF' });
  return parseStrictJson(text, opts);
}
