/**
 * Prints, for each published RFC 6962 test-tree root (sizes 0..8), a shell command that derives
 * it from the leaf inputs with nothing but printf, openssl and xxd, straight from RFC 6962 §2.1:
 * leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || left || right), split at the largest power
 * of two below n, empty root = SHA-256("").
 *   npx tsx scripts/vectors/derive-rfc6962.ts          # print the commands
 *   npx tsx scripts/vectors/derive-rfc6962.ts --check  # also run them (bash) and compare
 */
import { execFileSync } from 'node:child_process';
import { LEAF_INPUTS, ROOTS } from '../../test/protocol/rfc6962-known-answers';

const H = 'openssl dgst -sha256 -binary';

function printfBytes(hex: string): string {
  return hex.replace(/(..)/g, '\\x$1');
}

/** A shell pipeline writing the 32 raw bytes of MTH(D[start:end]) to stdout. */
function mth(start: number, end: number): string {
  const n = end - start;
  if (n === 0) return `printf '' | ${H}`;
  if (n === 1) return `printf '\\x00${printfBytes(LEAF_INPUTS[start]!)}' | ${H}`;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return `{ printf '\\x01'; ${mth(start, start + k)}; ${mth(start + k, end)}; } | ${H}`;
}

export function deriveCommand(size: number): string {
  return `${mth(0, size)} | xxd -p -c 32`;
}

function main(): void {
  const check = process.argv.includes('--check');
  let bad = 0;
  for (let size = 0; size < ROOTS.length; size++) {
    const cmd = deriveCommand(size);
    console.log(`# size ${size}: ${ROOTS[size]}\n${cmd}`);
    if (check) {
      const got = '0x' + execFileSync('bash', ['-c', cmd], { encoding: 'utf8' }).trim();
      const ok = got === ROOTS[size];
      if (!ok) bad++;
      console.log(ok ? '#   ok' : `#   MISMATCH: derived ${got}`);
    }
  }
  if (bad > 0) process.exit(1);
}

main();
