/**
 * Typed verification errors (after transparency-dev/merkle and viem's BaseError): a stable `code`,
 * a short message, and where a comparison failed, the expected and the calculated value.
 */
export type ProtocolErrorCode =
  | 'INVALID_INPUT'
  | 'PROOF_SIZE'
  | 'INDEX_OUT_OF_RANGE'
  | 'ROOT_MISMATCH'
  | 'FIRST_ROOT_MISMATCH'
  | 'SECOND_ROOT_MISMATCH'
  | 'NOT_EXTENSION'
  | 'UNKNOWN_FORMAT'
  | 'MALFORMED'
  | 'SIGNER_MISMATCH'
  /** Not 0x-prefixed lowercase hex (of the length asked): node/protocol/bytes.ts. */
  | 'INVALID_HEX'
  /** A chain read failed (network, RPC error): ChainReadError, node/protocol/chain.ts. */
  | 'CHAIN_READ';

export class ProtocolError extends Error {
  override readonly name: string = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly expected?: string;
  readonly calculated?: string;

  constructor(code: ProtocolErrorCode, message: string, opts: { expected?: string; calculated?: string; cause?: unknown } = {}) {
    const detail =
      opts.expected !== undefined || opts.calculated !== undefined
        ? ` (expected ${opts.expected ?? '?'}, calculated ${opts.calculated ?? '?'})`
        : '';
    super(message + detail, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    if (opts.expected !== undefined) this.expected = opts.expected;
    if (opts.calculated !== undefined) this.calculated = opts.calculated;
  }
}
