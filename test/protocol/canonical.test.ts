/**
 * RFC 8785 (JCS) canonical form: the RFC's own examples, and our refusals of what JSON cannot
 * carry exactly (money is integer fen; an unsafe integer would be silently rounded).
 */
import canonicalize from 'canonicalize';
import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalJson, ProtocolError, toHex } from '../../node/protocol';

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

function refusal(value: unknown): ProtocolError {
  try {
    canonicalJson(value);
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
  throw new Error(`canonicalJson accepted ${String(value)}`);
}

/** RFC 8785 Appendix B, "Number Serialization Samples": IEEE 754 bits → JCS text. */
const APPENDIX_B: [string, string][] = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'], // minus zero
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
];
/** Appendix B's two samples that must be refused: NaN and Infinity. */
const APPENDIX_B_ERRORS = ['7fffffffffffffff', '7ff0000000000000'];

describe('RFC 8785 Appendix B number serialization', () => {
  it.each(APPENDIX_B)('%s → %s', (bits, text) => {
    const x = fromBits(bits);
    // The library we delegate to is exact on every sample…
    expect(canonicalize(x)).toBe(text);
    if (Number.isInteger(x) && !Number.isSafeInteger(x)) {
      // …but integers beyond 2^53 are refused by us: they cannot be money or a count without rounding.
      const e = refusal(x);
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.message).toContain('beyond 2^53');
    } else {
      expect(canonicalJson(x)).toBe(text);
      expect(canonicalJson([x])).toBe(`[${text}]`);
    }
  });

  it.each(APPENDIX_B_ERRORS)('%s (NaN / Infinity) is an error', (bits) => {
    const x = fromBits(bits);
    expect(Number.isFinite(x)).toBe(false);
    expect(refusal(x).code).toBe('INVALID_INPUT');
    expect(refusal({ amount: x }).message).toContain('$.amount');
  });

  it('the largest safe integer passes exactly (fen amounts up to 2^53 - 1)', () => {
    expect(canonicalJson({ amountFen: 9007199254740991 })).toBe('{"amountFen":9007199254740991}');
    expect(canonicalJson(-9007199254740991)).toBe('-9007199254740991');
  });
});

describe('RFC 8785 §3.2.3 property sorting', () => {
  // The RFC's example: keys sorted by UTF-16 code units, so the emoji (U+1F600, D83D DE00)
  // sorts before U+FB33 although its code point is larger.
  const input = {
    '\u20ac': 'Euro Sign',
    '\r': 'Carriage Return',
    '\ufb33': 'Hebrew Letter Dalet With Dagesh',
    '1': 'One',
    '\ud83d\ude00': 'Emoji: Grinning Face',
    '\u0080': 'Control',
    '\u00f6': 'Latin Small Letter O With Diaeresis',
  };
  const expectedOrder = ['Carriage Return', 'One', 'Control', 'Latin Small Letter O With Diaeresis', 'Euro Sign', 'Emoji: Grinning Face', 'Hebrew Letter Dalet With Dagesh'];

  it('orders members as the RFC lists them', () => {
    const text = canonicalJson(input);
    // Compare the text itself: JSON.parse + Object.values would move the integer-like key "1" first.
    const order = [...text.matchAll(/:"([^"]+)"/g)].map((m) => m[1]);
    expect(order).toEqual(expectedOrder);
    expect(text).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('is UTF-16 order, not code point order', () => {
    const byCodePoint = Object.keys(input).sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    expect(byCodePoint.indexOf('\ufb33')).toBeLessThan(byCodePoint.indexOf('\ud83d\ude00'));
    const text = canonicalJson(input);
    expect(text.indexOf('\ud83d\ude00')).toBeLessThan(text.indexOf('\ufb33'));
  });

  it('sorts nested objects and leaves array order alone', () => {
    expect(canonicalJson({ b: [3, 1, { z: 1, a: 2 }], a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":[3,1,{"a":2,"z":1}]}');
  });
});

describe('RFC 8785 §3.2.2 / §3.2.4 example', () => {
  const rfcInput =
    '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n' +
    '  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n' +
    '  "literals": [null, true, false]\n}';
  const rfcOutput = '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';

  it('the delegated library reproduces the RFC output exactly', () => {
    expect(canonicalize(JSON.parse(rfcInput))).toBe(rfcOutput);
  });

  it('we refuse it only for 1E30 (an integer beyond 2^53), and name where it is', () => {
    const e = refusal(JSON.parse(rfcInput));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain('$.numbers[1]');
    const withoutBig = JSON.parse(rfcInput) as { numbers: number[] };
    withoutBig.numbers.splice(1, 1);
    expect(canonicalJson(withoutBig)).toBe(rfcOutput.replace('1e+30,', ''));
  });

  it('UTF-8 bytes: € is e2 82 ac, U+000F stays a 6-byte escape, nothing else is escaped', () => {
    const obj = { string: '\u20ac$\u000fA/' };
    expect(canonicalJson(obj)).toBe('{"string":"\u20ac$\\u000fA/"}');
    expect(toHex(canonicalBytes(obj))).toBe('0x' + Buffer.from('{"string":"', 'utf8').toString('hex') + 'e282ac24' + Buffer.from('\\u000fA/"}', 'utf8').toString('hex'));
  });
});

describe('string escaping (RFC 8785 §3.2.2.2, ECMAScript JSON.stringify)', () => {
  it('uses the short escapes, lowercase \\u00xx for other controls, and escapes nothing else', () => {
    expect(canonicalJson('\b\t\n\f\r')).toBe('"\\b\\t\\n\\f\\r"');
    expect(canonicalJson('\u0000\u0001\u001f')).toBe('"\\u0000\\u0001\\u001f"');
    expect(canonicalJson('"\\')).toBe('"\\"\\\\"');
    expect(canonicalJson('/\u007f\u00e9\u4e2d\ud83d\ude00')).toBe('"/\u007f\u00e9\u4e2d\ud83d\ude00"');
  });
  it('keys are escaped the same way', () => {
    expect(canonicalJson({ 'a\nb': 1 })).toBe('{"a\\nb":1}');
  });
});

describe('refusals', () => {
  const cases: [string, unknown, string][] = [
    ['2^53', 2 ** 53, 'beyond 2^53'],
    ['-2^53', -(2 ** 53), 'beyond 2^53'],
    ['an unsafe integer inside an object', { totalFen: 1e21 }, '$.totalFen'],
    ['NaN', NaN, 'non-finite'],
    ['Infinity', Infinity, 'non-finite'],
    ['-Infinity', { x: [-Infinity] }, '$.x[0]'],
    ['undefined', undefined, 'undefined is not JSON'],
    ['undefined member', { a: 1, b: undefined }, '$.b'],
    ['undefined element', [1, undefined], '$[1]'],
    ['bigint', 10n, 'bigint is not JSON'],
    ['bigint member', { amountFen: 100n }, '$.amountFen'],
    ['function', () => 1, 'function is not JSON'],
    ['symbol', Symbol('s'), 'symbol is not JSON'],
    ['Map', new Map([['a', 1]]), 'Map is not a plain JSON object'],
    ['Set', new Set([1]), 'Set is not a plain JSON object'],
    ['Date', new Date(0), 'Date is not a plain JSON object'],
    ['Uint8Array', new Uint8Array([1, 2]), 'Uint8Array is not a plain JSON object'],
    ['class instance', new (class Money { fen = 1; })(), 'Money is not a plain JSON object'],
    ['sparse array', [1, , 3], '$[1]: sparse array hole'],
    ['lone high surrogate', 'a\ud800', 'lone UTF-16 surrogate'],
    ['lone low surrogate in a key', { '\udc00': 1 }, 'lone UTF-16 surrogate'],
  ];
  it.each(cases)('%s', (_name, value, message) => {
    const e = refusal(value);
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toContain(message);
  });

  it('a cycle is refused, not a stack overflow', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(refusal(a).message).toContain('$.self: circular reference');
  });

  it('a repeated (non-cyclic) reference is fine', () => {
    const shared = { fen: 1 };
    expect(canonicalJson({ a: shared, b: [shared] })).toBe('{"a":{"fen":1},"b":[{"fen":1}]}');
  });

  it('null-prototype objects (e.g. from safe parsers) are accepted', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = null;
    expect(canonicalJson(o)).toBe('{"a":null,"b":1}');
  });
});
