/** Research-notes vectors (§(b) B.4, §(c), §3.3, §2.3) reproduced with our code. */
import { describe, expect, it } from 'vitest';
import { canonicalJson, recordDigest, sha256, toHex, utf8 } from '../../node/protocol';
import {
  amountInWords, idCardProblem, invoiceKey, KNOWN_LEGACY_USCC_EXCEPTIONS, lineAmountFromQuantity,
  roundHalfAwayFromZero, taxForAmount, usccCheckChar, usccProblem, validateInvoice,
} from '../../node/invoice';
import { B4_CANONICAL_JSON, B4_INVOICE_KEY, B4_SHA256, sampleInvoice } from './fixtures';

describe('the worked example (docs/invoice.md "Background"): canonical JSON hash and registry key', () => {
  it('sampleInvoice() canonicalises to the worked example text and hash', () => {
    const r = validateInvoice(sampleInvoice());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(canonicalJson(r.invoice)).toBe(B4_CANONICAL_JSON);
    expect(toHex(sha256(utf8(B4_CANONICAL_JSON)))).toBe(B4_SHA256);
    expect(recordDigest(r.invoice)).toBe(B4_SHA256);
  });

  it('invoiceKey reproduces the registry key vector', () => {
    expect(invoiceKey('91110000600037341L', 'VAT_GENERAL', '25512000000000000001')).toBe(B4_INVOICE_KEY);
    const r = validateInvoice(sampleInvoice());
    expect(r.ok && r.invoiceKey).toBe(B4_INVOICE_KEY);
  });

  it('the key depends on every part and refuses separators inside parts', () => {
    expect(invoiceKey('91110000600037341L', 'VAT_SPECIAL', '25512000000000000001')).not.toBe(B4_INVOICE_KEY);
    expect(invoiceKey('91110000600037341L', 'VAT_GENERAL', '25512000000000000002')).not.toBe(B4_INVOICE_KEY);
    expect(() => invoiceKey('9111|0000', 'VAT_GENERAL', '1')).toThrow(/no '\|'/);
  });

  it('India IRN vectors published by the Indian GST e-invoice system, with the same SHA-256', () => {
    expect(toHex(sha256(utf8('29AAFCC9980M1ZR2019-20INV2019-20/KA/1')))).toBe('0x23f498ee41441ecad30f72ba5b9907506c3df70a17b0e0dff46b76a786400662');
    expect(toHex(sha256(utf8('01AAAAA9999A19N2019-20INVABC01234')))).toBe('0x353c2677715ae97aa876a37262a38381a75c1d1184f6a803f703bb395971925f');
  });
});

describe('GB 32100-2015 check character (docs/invoice.md "Background")', () => {
  const valid = [
    '91110000600037341L', '91110000710926094P', '121200004013590816', '9144030071526726XG', '91440300568520498A',
    '91310115MA1K3BTP2B', '91340600MA2PBM9HXD', '92340602MA2PBMEM24', '91620105L015101280', '9162010569564942X9',
    '915101820724315989', '91440300708461136T', '9153000077859986X2', '915300007194052520',
  ];
  it.each(valid)('%s is valid', (code) => expect(usccProblem(code)).toBeNull());

  it('worked example: 91110000600037341L → L', () => expect(usccCheckChar('91110000600037341')).toBe('L'));

  it.each([
    ['91110000600037341N', 'check_character'],
    // Letters are legal in position 1 (authority codes beyond 1/5/9/Y), so this
    // "format" example of python-stdnum is refused here by its check character instead.
    ['A1110000600037341L', 'check_character'],
    ['91110000600037341l', 'charset'],
    ['9111A000600037341L', 'division'],
    ['9111000060003IOZSV', 'charset'],
    ['12345', 'length'],
    ['91500105MAC35KKR6G', 'check_character'],
  ])('%s is refused (%s)', (code, why) => expect(usccProblem(code)).toBe(why));

  it('91500105MAC35KKR6G should end in 0', () => expect(usccCheckChar('91500105MAC35KKR6')).toBe('0'));

  it.each(KNOWN_LEGACY_USCC_EXCEPTIONS)('legacy exception %s fails the check', (code) => expect(usccProblem(code)).toBe('check_character'));

  it('GB 11643 resident id check', () => {
    expect(idCardProblem('11010519491231002X')).toBeNull();
    expect(idCardProblem('110105194912310021')).toBe('check_character');
    expect(idCardProblem('1101051949123100')).toBe('format');
  });
});

describe('money: one rounding rule, exact', () => {
  it('round half away from zero', () => {
    expect(roundHalfAwayFromZero(5n, 10n)).toBe(1n);
    expect(roundHalfAwayFromZero(-5n, 10n)).toBe(-1n);
    expect(roundHalfAwayFromZero(4n, 10n)).toBe(0n);
    expect(roundHalfAwayFromZero(-15n, 10n)).toBe(-2n);
  });
  it('tax examples of docs/invoice.md "Background"', () => {
    expect(taxForAmount(1863, 300)).toBe(56); // 18.63 × 3% = 0.5589 → 0.56
    expect(taxForAmount(49505, 100)).toBe(495); // 495.05 × 1% → 4.95
    expect(taxForAmount(100000, 600)).toBe(6000);
    expect(taxForAmount(-1863, 300)).toBe(-56);
    expect(taxForAmount(50, 1300)).toBe(7); // 6.5 → 7
    expect(taxForAmount(-50, 1300)).toBe(-7); // half away from zero, not toward +∞
  });
  it('quantity × unit price in exact decimals', () => {
    expect(lineAmountFromQuantity('3', '33.333333')).toBe(10000n);
    expect(lineAmountFromQuantity('0.1', '0.15')).toBe(2n); // 0.015 yuan = 1.5 fen → 2
    expect(lineAmountFromQuantity('-2', '10.005')).toBe(-2001n);
  });
});

describe('amountInWords (大写, docs/invoice.md "Background")', () => {
  it.each([
    [1070, '壹拾圆零柒角整'],
    [8586, '捌拾伍圆捌角陆分'],
    [50000, '伍佰圆整'],
    [106000, '壹仟零陆拾圆整'],
    [-50000, '（负数）伍佰圆整'],
    [1919, '壹拾玖圆壹角玖分'],
    [0, '零圆整'],
    [5, '伍分'],
    [50, '伍角整'],
    [10005, '壹佰圆零伍分'],
    [10_010_000, '壹拾万零壹佰圆整'],
    [10_000_000_000, '壹亿圆整'],
    [10_001_000_000, '壹亿零壹万圆整'],
    [10_000_100_000, '壹亿零壹仟圆整'],
    [100_000_000, '壹佰万圆整'],
    [1_000_100, '壹万零壹圆整'],
  ])('%i fen → %s', (fen, words) => expect(amountInWords(fen)).toBe(words));
  it('refuses non-integers', () => expect(() => amountInWords(1.5)).toThrow(/safe integer/));
});
