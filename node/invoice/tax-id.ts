/**
 * Tax identifier checks. Unified social credit code (统一社会信用代码): GB 32100-2015 check character,
 * an ISO 7064-style MOD 31 (GB 32100-2015; docs/invoice.md "Background"). Resident ID card: GB 11643 MOD 11-2 (docs/invoice.md "Background").
 */

export const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** 3^i mod 31, i = 0..16. */
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/**
 * Codes that are legally registered but fail the GB 32100 check (early pilot regions; docs/invoice.md "Background",
 * from aarioai/id-rule). Accepted and flagged rather than refused.
 */
export const KNOWN_LEGACY_USCC_EXCEPTIONS: readonly string[] = Object.freeze([
  '91350100M0001TGQXM',
  '91350211M0000XUF46',
  '91350203M0001FUE2P',
]);

/** The GB 32100 check character for the first 17 characters; null when a character is outside the charset. */
export function usccCheckChar(first17: string): string | null {
  if (first17.length !== 17) return null;
  let s = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_CHARSET.indexOf(first17[i]!);
    if (v < 0) return null;
    s += v * USCC_WEIGHTS[i]!;
  }
  return USCC_CHARSET[(31 - (s % 31)) % 31]!;
}

export type UsccProblem = 'length' | 'charset' | 'division' | 'check_character';

/** Shape and check character of a USCC; null when valid. No silent upper-casing: one spelling per code. */
export function usccProblem(code: string): UsccProblem | null {
  if (code.length !== 18) return 'length';
  for (const c of code) if (!USCC_CHARSET.includes(c)) return 'charset';
  if (!/^\d{6}$/.test(code.slice(2, 8))) return 'division';
  return usccCheckChar(code.slice(0, 17)) === code[17] ? null : 'check_character';
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** 18-digit resident ID card number with its MOD 11-2 check (GB 11643). */
export function idCardProblem(code: string): 'format' | 'check_character' | null {
  if (!/^\d{17}[\dX]$/.test(code)) return 'format';
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(code[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK[s % 11] === code[17] ? null : 'check_character';
}
