/**
 * The text rule: which characters a human-readable field may hold (docs/input.md says why).
 *
 * A field that a person reads (a name, an item name, the drawer, remarks, a title, a file name, a
 * reason, a note) must show what it holds. Refused, with the code point named:
 *
 *  - C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F, which includes NUL and U+0085
 *    NEXT LINE); multi-line fields (remarks, notes, descriptions) may hold TAB, LF and CR+LF;
 *  - every format character (Unicode category Cf): the bidi embeddings, overrides and isolates
 *    U+202A–U+202E and U+2066–U+2069, the marks U+200E/U+200F/U+061C, the zero-width characters
 *    U+200B–U+200D and U+2060, U+FEFF (BOM), the soft hyphen, tag characters, …;
 *  - U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR;
 *  - the invisible Hangul fillers U+115F, U+1160, U+3164, U+FFA0;
 *  - noncharacters (U+FDD0–U+FDEF and the last two code points of every plane);
 *  - lone UTF-16 surrogates (they have no UTF-8 form);
 *  - text that is not in Unicode Normalization Form C (the node never normalises for the client:
 *    what was sent is what is hashed, so it is refused and the client sends the NFC form).
 *
 * Everything else is allowed, including private-use characters (some rare characters in Chinese
 * names are only encoded there), variation selectors (ideographic variation sequences) and
 * characters this Node's Unicode tables do not know yet.
 *
 * Pure: no I/O, usable from any layer (the HTTP edge, the XML import, the schemas).
 */

export type TextCode = 'TEXT_CONTROL' | 'TEXT_BIDI' | 'TEXT_INVISIBLE' | 'TEXT_LINE_SEPARATOR' | 'TEXT_NONCHARACTER' | 'TEXT_LONE_SURROGATE' | 'TEXT_NOT_NFC';

export interface TextProblem {
  code: TextCode;
  /** `U+202E` */
  codePoint: string;
  /** UTF-16 offset of the character in the string. */
  offset: number;
  message: string;
}

export interface TextRuleOptions {
  /** Allow TAB, LF and CR+LF (remarks, notes, descriptions). Default false. */
  multiline?: boolean;
}

// In `u` mode a surrogate pair is one code point, so [\ud800-\udfff] matches only lone halves.
const REFUSED_CLASS = '[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u115f\\u1160\\u3164\\uffa0\\ud800-\\udfff\\p{Cf}\\p{Noncharacter_Code_Point}]';
const REFUSED_ANY = new RegExp(REFUSED_CLASS, 'u');
const REFUSED = new RegExp(REFUSED_CLASS, 'gu');
const BIDI = new Set([0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c]);
/** Below U+0300 nothing decomposes or composes with what precedes it: such text is always NFC. */
const MAYBE_NOT_NFC = /[^\u0000-\u02ff]/;

export function codePointLabel(cp: number): string {
  return 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
}

function classify(cp: number): { code: TextCode; what: string } {
  if (cp >= 0xd800 && cp <= 0xdfff) return { code: 'TEXT_LONE_SURROGATE', what: 'a lone UTF-16 surrogate (not a character; it has no UTF-8 form)' };
  if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return { code: 'TEXT_CONTROL', what: cp === 0 ? 'NUL, a control character' : cp === 0x85 ? 'NEXT LINE, a control character' : 'a control character' };
  if (cp === 0x2028 || cp === 0x2029) return { code: 'TEXT_LINE_SEPARATOR', what: cp === 0x2028 ? 'LINE SEPARATOR' : 'PARAGRAPH SEPARATOR' };
  if (BIDI.has(cp)) return { code: 'TEXT_BIDI', what: 'a bidirectional control (it reorders how the text is displayed)' };
  if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return { code: 'TEXT_NONCHARACTER', what: 'a noncharacter' };
  return { code: 'TEXT_INVISIBLE', what: cp === 0xfeff ? 'a byte order mark / zero-width no-break space (invisible)' : 'an invisible format character' };
}

function problemAt(s: string, offset: number): TextProblem {
  const cp = s.codePointAt(offset)!;
  const { code, what } = classify(cp);
  const label = codePointLabel(cp);
  return { code, codePoint: label, offset, message: `contains ${label}, ${what}, at offset ${offset}; it is not allowed in text fields` };
}

/** The first character the rule refuses in `s`, or null when `s` may be stored as it is. */
export function textProblem(s: string, opts: TextRuleOptions = {}): TextProblem | null {
  // Cheap test first: most text has nothing to refuse.
  if (REFUSED_ANY.test(s)) {
    REFUSED.lastIndex = 0;
    for (let m = REFUSED.exec(s); m !== null; m = REFUSED.exec(s)) {
      const c = s.charCodeAt(m.index);
      if (opts.multiline && (c === 0x09 || c === 0x0a || (c === 0x0d && s.charCodeAt(m.index + 1) === 0x0a))) continue;
      return problemAt(s, m.index);
    }
  }
  if (MAYBE_NOT_NFC.test(s) && s.normalize('NFC') !== s) return notNfc(s);
  return null;
}

/** Names the first code point at which `s` stops being NFC (the shortest prefix that is not). */
function notNfc(s: string): TextProblem {
  // Normalisation works on runs that start at a starter; the shortest non-NFC prefix ends on the
  // character that composes or reorders (or a singleton that maps to another character).
  let lo = 1;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const p = s.slice(0, mid);
    if (p.normalize('NFC') !== p) hi = mid;
    else lo = mid + 1;
  }
  let offset = lo - 1;
  if (offset > 0 && s.charCodeAt(offset) >= 0xdc00 && s.charCodeAt(offset) <= 0xdfff) offset--; // the start of a pair
  const cp = s.codePointAt(offset)!;
  const label = codePointLabel(cp);
  const alone = String.fromCodePoint(cp).normalize('NFC');
  const hint =
    alone !== String.fromCodePoint(cp)
      ? `; its NFC form is ${[...alone].map((c) => codePointLabel(c.codePointAt(0)!)).join(' ')}`
      : '; it combines with the character before it, which NFC writes as one precomposed character';
  return { code: 'TEXT_NOT_NFC', codePoint: label, offset, message: `is not in Unicode Normalization Form C at ${label} (offset ${offset})${hint}; send the NFC form (it is never normalised for you)` };
}

/** Throws nothing; a zod `superRefine` check for the rule, reporting the code point. */
export function textRefinement(opts: TextRuleOptions = {}) {
  return (s: string, ctx: { addIssue(issue: { code: 'custom'; message: string; params?: Record<string, unknown> }): void }): void => {
    const p = textProblem(s, opts);
    if (p) ctx.addIssue({ code: 'custom', message: p.message, params: { textCode: p.code, codePoint: p.codePoint } });
  };
}
