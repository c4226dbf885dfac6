/** Errors of the embedded chain: a stable `code` and a message that says what was wrong. */
export type EmbeddedChainErrorCode =
  /** Options out of range (port, chain id, keys). */
  | 'CONFIG'
  /** The journal cannot be opened or read (locked by another process, unknown format). */
  | 'JOURNAL_UNREADABLE'
  /** The journal was written for another genesis (chain id, hardfork or funded keys changed). */
  | 'GENESIS_MISMATCH'
  /** Replaying the journal did not reproduce the journaled chain: a tampered or damaged journal. */
  | 'JOURNAL_MISMATCH'
  /** The in-memory chain and the journal disagree while running (an invariant broke). */
  | 'JOURNAL_DIVERGED';

export class EmbeddedChainError extends Error {
  override readonly name = 'EmbeddedChainError';
  constructor(
    readonly code: EmbeddedChainErrorCode,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
  }
}

/**
 * A JSON-RPC error as Hardhat's JSON-RPC handler serialises it (`_isProviderError` is how that
 * handler tells a provider error, whose code it keeps, from an internal one, which becomes -32603).
 */
export class RpcMethodError extends Error {
  override readonly name = 'RpcMethodError';
  readonly _isProviderError = true;
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
