/** Browser stand-in for the one node:crypto function the shared domain code uses (evidence ids). */
export function randomBytes(n: number): Uint8Array & { toString(enc: string): string } {
  const b = crypto.getRandomValues(new Uint8Array(n));
  return Object.assign(b, {
    toString(enc: string): string {
      if (enc !== 'hex') throw new Error('only hex');
      return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    },
  });
}
export function createHash(): never {
  throw new Error('createHash is not available in the browser page');
}
