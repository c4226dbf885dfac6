/**
 * The strict JSON reader (node/input/strict-json.ts): what it refuses, with the path, and that what it
 * accepts is exactly what JSON.parse reads from the same text (JSON.parse is the reference reader).
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { JsonInputError, parseStrictJson, parseStrictJsonBytes } from '../../node/input';

function refusal(text: string, opts = {}): JsonInputError {
  try {
    parseStrictJson(text, opts);
  } catch (e) {
    if (e instanceof JsonInputError) return e;
    throw e;
  }
  throw new Error(`accepted ${text}`);
}

describe('strict JSON: refusals name what and where', () => {
  it('a duplicate key, at any depth, with its path', () => {
    const a = refusal('{"totalWithTaxFen":999,"totalWithTaxFen":106000}');
    expect([a.code, a.path, a.extra.key]).toEqual(['JSON_DUPLICATE_KEY', ['totalWithTaxFen'], 'totalWithTaxFen']);
    expect(a.message).toContain('"totalWithTaxFen" appears twice');
    const b = refusal('{"seller":{"name":"a"},"lines":[{"x":1},{"x":1,"y":2,"x":3}]}');
    expect([b.code, b.path]).toEqual(['JSON_DUPLICATE_KEY', ['lines', 1, 'x']]);
    // The same key written two ways is the same key.
    expect(refusal('{"title":"a","t\\u0069tle":"b"}').path).toEqual(['title']);
    expect(refusal('{"seller":{},"seller":{}}').code).toBe('JSON_DUPLICATE_KEY');
  });

  it('numbers not written as canonical JSON writes them: 1.06e5, 6.00e2, 106000.0000000000000001, -0, 1E3, 1e400', () => {
    for (const lit of ['1.06e5', '6.00e2', '106000.0000000000000001', '-0', '1E3', '100.0', '1e2', '9007199254740993', '0.10', '1e400', '1e+21', '-9007199254740992']) {
      const e = refusal(`{"lines":[{"amountFen":${lit}}]}`);
      expect([e.code, e.path, e.extra.literal]).toEqual(['JSON_NUMBER_FORM', ['lines', 0, 'amountFen'], lit]);
    }
    expect(refusal('{"a":1.06e5}').message).toContain('plain integer 106000');
    for (const ok of ['0', '-1', '106000', '0.5', '-2.25', '1e-7', '0.1', '1.5e-300', '9007199254740991', '-9007199254740991']) expect(parseStrictJson(`[${ok}]`)).toEqual([Number(ok)]);
  });

  it('depth is bounded while reading (no recursion, no stack overflow at 100 000 levels)', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const e = refusal(deep);
    expect(e.code).toBe('JSON_TOO_DEEP');
    expect(e.path).toHaveLength(64);
    const env = `{"environment":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    const f = refusal(env, { maxDepth: 10 });
    expect(f.code).toBe('JSON_TOO_DEEP');
    expect(f.path.slice(0, 2)).toEqual(['environment', 'a']);
    expect(parseStrictJson('[[[[1]]]]', { maxDepth: 4 })).toEqual([[[[1]]]]);
    expect(refusal('[[[[1]]]]', { maxDepth: 3 }).code).toBe('JSON_TOO_DEEP');
  });

  it('lone surrogates (\\ud800, \\udc00x) in values and keys, even with the text rule off', () => {
    const a = refusal('{"drawer":"\\ud800"}');
    expect([a.code, a.path, a.extra.codePoint]).toEqual(['TEXT_LONE_SURROGATE', ['drawer'], 'U+D800']);
    const b = refusal('{"seller":{"name":"\\udc00x"}}', { text: false });
    expect([b.code, b.path]).toEqual(['TEXT_LONE_SURROGATE', ['seller', 'name']]);
    const c = refusal('{"env":{"\\ud800":1}}');
    expect([c.code, c.path, c.extra.key]).toEqual(['TEXT_LONE_SURROGATE', ['env', '\ud800'], '\ud800']);
    // A pair written as two escapes is one character.
    expect(parseStrictJson('["\\ud83d\\ude00"]')).toEqual(['😀']);
  });

  it('the text rule on every string (multi-line form) unless turned off', () => {
    const a = refusal('{"items":[{"fileName":"x\\u202etxt.exe"}]}');
    expect([a.code, a.path, a.extra.codePoint]).toEqual(['TEXT_BIDI', ['items', 0, 'fileName'], 'U+202E']);
    expect(refusal('{"a":"\\u0000"}').code).toBe('TEXT_CONTROL');
    expect(refusal('{"a":"e\\u0301"}').code).toBe('TEXT_NOT_NFC');
    expect(parseStrictJson('{"note":"line 1\\nline 2\\r\\n\\tend"}')).toEqual({ note: 'line 1\nline 2\r\n\tend' });
    expect(parseStrictJson('{"a":"x\\u202e"}', { text: false })).toEqual({ a: 'x\u202e' });
  });

  it('bytes: invalid UTF-8 and a leading BOM are refused, never replaced', () => {
    expect(() => parseStrictJsonBytes(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]))).toThrow(/not valid UTF-8/);
    expect(() => parseStrictJsonBytes(Buffer.from('\ufeff{}'))).toThrow(/byte order mark/);
    expect(parseStrictJsonBytes(Buffer.from('{"名":"张三"}'))).toEqual({ 名: '张三' });
  });

  it('__proto__ is an own key, as with JSON.parse', () => {
    const v = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('malformed text: 400-class MALFORMED_JSON with the position', () => {
    for (const bad of ['', '{', '{"a":}', '[1,]', '{"a":1,}', '01', '1.', '.5', '"\t"', "{'a':1}", '[1] x', 'nul', '{"a" 1}', '"\\x"', '"\\u12"', 'NaN', '+1']) {
      expect(refusal(bad).code, bad).toBe('MALFORMED_JSON');
    }
  });
});

describe('strict JSON agrees with JSON.parse', () => {
  const hasUnsafeInteger = (v: unknown): boolean =>
    typeof v === 'number' ? Number.isInteger(v) && !Number.isSafeInteger(v) : v !== null && typeof v === 'object' ? Object.values(v).some(hasUnsafeInteger) : false;
  const noLoneSurrogate = (s: string) => !/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}/i.test(s);

  it('reads every JSON.stringify output as JSON.parse does (text rule off)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const text = JSON.stringify(v);
        fc.pre(noLoneSurrogate(text) && !hasUnsafeInteger(v));
        expect(parseStrictJson(text, { text: false })).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('on arbitrary text: only JsonInputError, and whatever it accepts JSON.parse reads the same', () => {
    const pieces = fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', 'a', '1', '-', '.', 'e', ' ', 'true', 'null', '"k"', '\\u0000', '\\ud800', '0', '1e5');
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(pieces, { maxLength: 30 }).map((a) => a.join(''))), (text) => {
        let mine: unknown;
        try {
          mine = parseStrictJson(text);
        } catch (e) {
          expect(e).toBeInstanceOf(JsonInputError);
          return;
        }
        expect(mine).toEqual(JSON.parse(text));
      }),
      { numRuns: 1000 },
    );
  });
});
