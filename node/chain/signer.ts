/**
 * Loads the key that signs chain transactions (deployer, log operator) without ever printing it.
 * Sources, first match wins: an explicit private key; an encrypted JSON keystore (Web3 Secret Storage,
 * as written by geth, ethers or `tianfu keys`) with its password; the environment variable of the role
 * (`TIANFU_OPERATOR_KEY` or `TIANFU_DEPLOYER_KEY`).
 */
import { readFile } from 'node:fs/promises';
import { Wallet, type Provider } from 'ethers';

export type SignerRole = 'operator' | 'deployer';

export const KEY_ENV: Record<SignerRole, string> = {
  operator: 'TIANFU_OPERATOR_KEY',
  deployer: 'TIANFU_DEPLOYER_KEY',
};

export interface SignerSource {
  /** Path of an encrypted JSON keystore; needs `password`. */
  keystorePath?: string;
  password?: string;
  /** A raw secp256k1 private key, 0x + 64 hex digits. Prefer a keystore outside tests. */
  privateKey?: string;
  /** Which environment variable to fall back to (default: operator). */
  role?: SignerRole;
  /** The environment to read (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The key could not be loaded. Messages name the source, never the key or the password. */
export class SignerError extends Error {
  override readonly name = 'SignerError';
}

const KEY_RE = /^(0x)?[0-9a-fA-F]{64}$/;

function walletFromKey(key: string, source: string, provider: Provider | null): Wallet {
  const trimmed = key.trim();
  if (!KEY_RE.test(trimmed)) throw new SignerError(`${source} is not a private key (expected 0x followed by 64 hex digits)`);
  try {
    return new Wallet(trimmed.startsWith('0x') ? trimmed : `0x${trimmed}`, provider);
  } catch (err) {
    // The cause would echo the key back; keep only what kind of failure it was.
    throw new SignerError(`${source} is not a valid secp256k1 private key (${(err as { code?: string }).code ?? 'invalid'})`);
  }
}

/** Loads the signing wallet, connected to `provider` (null: unconnected, e.g. to sign off-chain only). */
export async function loadSigner(source: SignerSource, provider: Provider | null): Promise<Wallet> {
  if (source.privateKey !== undefined) return walletFromKey(source.privateKey, 'the given private key', provider);
  if (source.keystorePath !== undefined) {
    if (source.password === undefined) throw new SignerError(`keystore ${source.keystorePath} needs a password`);
    let json: string;
    try {
      json = await readFile(source.keystorePath, 'utf8');
    } catch (err) {
      throw new SignerError(`cannot read keystore ${source.keystorePath}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    let wallet: Wallet;
    try {
      const decrypted = await Wallet.fromEncryptedJson(json, source.password);
      wallet = decrypted instanceof Wallet ? decrypted : new Wallet(decrypted.privateKey);
    } catch (err) {
      const why = /password/i.test(String((err as Error).message)) ? 'wrong password' : 'not an encrypted JSON keystore';
      throw new SignerError(`cannot decrypt keystore ${source.keystorePath}: ${why}`);
    }
    return provider ? wallet.connect(provider) : wallet;
  }
  const name = KEY_ENV[source.role ?? 'operator'];
  const value = (source.env ?? process.env)[name];
  if (value === undefined || value.trim() === '') {
    throw new SignerError(`no signing key: give a keystore (and its password) or set ${name}`);
  }
  return walletFromKey(value, `environment variable ${name}`, provider);
}
