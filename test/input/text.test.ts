/** The text rule (node/input/text.ts): each refused class with its code point, and what stays allowed. */
import { describe, it, expect } from 'vitest';
import { textProblem } from '../../node/input';

describe('text rule', () => {
  const refused: [string, string, string][] = [
    ['NUL', 'a\u0000b', 'U+0000'],
    ['C0 control (ESC)', 'a\u001b[31m', 'U+001B'],
    ['DEL', 'a\u007f', 'U+007F'],
    ['C1 control', 'a\u009b', 'U+009B'],
    ['NEXT LINE', 'a\u0085b', 'U+0085'],
    ['RIGHT-TO-LEFT OVERRIDE', 'x\u202etxt.exe', 'U+202E'],
    ['LEFT-TO-RIGHT EMBEDDING', '\u202aa', 'U+202A'],
    ['FIRST STRONG ISOLATE', 'a\u2068b', 'U+2068'],
    ['POP DIRECTIONAL ISOLATE', 'a\u2069', 'U+2069'],
    ['RIGHT-TO-LEFT MARK', 'a\u200f', 'U+200F'],
    ['ZERO WIDTH SPACE', '张\u200b三', 'U+200B'],
    ['ZERO WIDTH JOINER', 'a\u200db', 'U+200D'],
    ['WORD JOINER', 'a\u2060b', 'U+2060'],
    ['BOM', '\ufeff发票', 'U+FEFF'],
    ['SOFT HYPHEN', 'a\u00adb', 'U+00AD'],
    ['tag character', 'a\u{e0041}', 'U+E0041'],
    ['LINE SEPARATOR', 'a\u2028b', 'U+2028'],
    ['PARAGRAPH SEPARATOR', 'a\u2029b', 'U+2029'],
    ['Hangul filler', 'a\u3164b', 'U+3164'],
    ['noncharacter', 'a\ufdd0', 'U+FDD0'],
    ['noncharacter (plane end)', 'a\u{10ffff}', 'U+10FFFF'],
    ['lone high surrogate', 'a\ud800', 'U+D800'],
    ['lone low surrogate', '\udc00x', 'U+DC00'],
    ['combining mark not composed (not NFC)', 'Cafe\u0301', 'U+0301'],
    ['CJK compatibility ideograph (not NFC)', '\uf900', 'U+F900'],
    ['ANGSTROM SIGN (not NFC)', '\u212b', 'U+212B'],
  ];
  it.each(refused)('refuses %s, naming the code point', (_name, s, cp) => {
    const p = textProblem(s, { multiline: true });
    expect(p?.codePoint).toBe(cp);
    expect(p?.message).toContain(cp);
  });

  it('single-line fields also refuse TAB, LF and CR; multi-line fields allow TAB, LF and CR+LF only', () => {
    for (const s of ['a\tb', 'a\nb', 'a\r\nb']) {
      expect(textProblem(s)?.code).toBe('TEXT_CONTROL');
      expect(textProblem(s, { multiline: true })).toBeNull();
    }
    expect(textProblem('a\rb', { multiline: true })?.codePoint).toBe('U+000D');
  });

  it('allows ordinary text of the pilot: Chinese, full-width forms, ideographic space, emoji, private use, variation selectors', () => {
    for (const s of ['四川天府新区某某科技有限公司', '*餐饮服务*餐饮费', 'ＡＢＣ１２３', '张\u3000三', '😀', '\ue000', '葛\u{e0100}', 'Café', '(2025)浙0192民初123号', 'a b']) {
      expect(textProblem(s), s).toBeNull();
    }
  });

  it('never changes the text it checks', () => {
    const s = 'Cafe\u0301';
    textProblem(s);
    expect(s).toBe('Cafe\u0301');
  });
});
