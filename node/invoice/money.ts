/**
 * Exact money arithmetic for invoices: integer fen, basis-point rates, decimal strings. Pure.
 *
 * One rounding rule everywhere (docs/invoice.md "Background"): round half away from zero,
 * in integers, so floating point never touches money (the commonest e-invoice bug).
 */

/** round(numerator / denominator), half away from zero. denominator > 0. */
export function roundHalfAwayFromZero(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  const neg = numerator < 0n;
  const abs = neg ? -numerator : numerator;
  const q = (2n * abs + denominator) / (2n * denominator);
  return neg ? -q : q;
}

/**
 * Line tax in fen: `sign(a) × floor((|a| × bps + 5000) / 10000)` (docs/invoice.md "Background", B.1 `taxAmountFen`).
 * Example (docs/invoice.md "Background"): 1863 fen at 300 bps → 56 fen.
 */
export function taxForAmount(amountFen: number, taxRateBps: number): number {
  return Number(roundHalfAwayFromZero(BigInt(amountFen) * BigInt(taxRateBps), 10_000n));
}

export const DECIMAL_RE = /^-?\d{1,15}(\.\d{1,13})?$/;

/** A decimal string as an exact fraction digits / 10^scale. */
function parseDecimal(text: string): { digits: bigint; scale: number } {
  if (!DECIMAL_RE.test(text)) throw new RangeError(`not a decimal string: ${JSON.stringify(text)}`);
  const neg = text.startsWith('-');
  const body = neg ? text.slice(1) : text;
  const [int, frac = ''] = body.split('.') as [string, string?];
  const digits = BigInt(int + frac);
  return { digits: neg ? -digits : digits, scale: frac.length };
}

/** round(quantity × unitPrice × 100) in fen, exactly (decimal strings, never floats). */
export function lineAmountFromQuantity(quantity: string, unitPrice: string): bigint {
  const q = parseDecimal(quantity);
  const p = parseDecimal(unitPrice);
  return roundHalfAwayFromZero(q.digits * p.digits * 100n, 10n ** BigInt(q.scale + p.scale));
}

const DIGITS = '零壹贰叁肆伍陆柒捌玖';
const SMALL_UNITS = ['', '拾', '佰', '仟'];
const BIG_UNITS = ['', '万', '亿', '万亿'];

function fourDigits(v: number): string {
  let out = '';
  let pendingZero = false;
  for (let i = 3; i >= 0; i--) {
    const d = Math.floor(v / 10 ** i) % 10;
    if (d === 0) {
      if (out !== '') pendingZero = true;
      continue;
    }
    if (pendingZero) out += '零';
    out += DIGITS[d]! + SMALL_UNITS[i]!;
    pendingZero = false;
  }
  return out;
}

function integerWords(yuan: bigint): string {
  if (yuan === 0n) return '零';
  const groups: number[] = [];
  for (let n = yuan; n > 0n; n /= 10_000n) groups.push(Number(n % 10_000n));
  if (groups.length > BIG_UNITS.length) throw new RangeError('amount too large for uppercase words');
  let out = '';
  let pendingZero = false;
  for (let g = groups.length - 1; g >= 0; g--) {
    const v = groups[g]!;
    if (v === 0) {
      if (out !== '') pendingZero = true;
      continue;
    }
    // A gap inside the number is read as one 零: 壹拾万零壹佰, 壹亿零壹仟.
    if (out !== '' && (pendingZero || v < 1000)) out += '零';
    out += fourDigits(v) + BIG_UNITS[g]!;
    pendingZero = false;
  }
  return out;
}

/**
 * 价税合计（大写）: the Chinese uppercase amount, derived from fen, never taken from the client
 * (docs/invoice.md "Background"). Follows the observed platform outputs: 10.70 → 壹拾圆零柒角整, 85.86 → 捌拾伍圆捌角陆分,
 * 500.00 → 伍佰圆整; red (negative) amounts get the （负数） prefix.
 */
export function amountInWords(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`fen must be a safe integer, got ${fen}`);
  if (fen < 0) return '（负数）' + amountInWords(-fen);
  const yuan = BigInt(Math.floor(fen / 100));
  const jiao = Math.floor(fen / 10) % 10;
  const fenDigit = fen % 10;
  if (yuan === 0n && jiao === 0 && fenDigit === 0) return '零圆整';
  let out = yuan > 0n ? integerWords(yuan) + '圆' : '';
  if (jiao === 0 && fenDigit === 0) return out + '整';
  if (jiao > 0) {
    // The yuan digit is 0 (e.g. 10.70): the platform writes 零 before the 角.
    if (yuan > 0n && yuan % 10n === 0n) out += '零';
    out += DIGITS[jiao]! + '角';
  } else if (yuan > 0n) {
    out += '零';
  }
  return fenDigit > 0 ? out + DIGITS[fenDigit]! + '分' : out + '整';
}
