/**
 * The capture package (docs/capture.md, "The package"): one WACZ 1.1.1 file per capture, with the
 * ledger's own `tianfu/manifest.json` inside. This module is the part every verifier shares (the CLI,
 * POST /v1/verify and the browser page): the format's names and shapes, and `indexCapturePackage`,
 * which opens the zip (fflate, pure) and digests every file with the caller's hashers, so the steps
 * of node/verifier compare plain data. Pure and browser-safe.
 */
import { unzipSync } from 'fflate';
import type { Hex } from './bytes';

export const CAPTURE_MANIFEST_FORMAT = 'tianfu.capture/v1' as const;
export const CAPTURE_MANIFEST_PATH = 'tianfu/manifest.json' as const;
export const WACZ_VERSION = '1.1.1' as const;
/** The deposited file's media type (a WACZ is a zip; RFC 6839 +zip suffix). */
export const WACZ_MEDIA_TYPE = 'application/wacz+zip' as const;

export interface CaptureArtifact {
  /** Path inside the package, e.g. `archive/data.warc.gz`. */
  path: string;
  mediaType: string;
  size: number;
  sha256: Hex;
  sm3: Hex;
}

export interface CaptureBlockRef {
  chainId: string;
  number: string;
  hash: Hex;
  timestamp: string;
}

export interface CaptureTlsSummary {
  origin: string;
  verified: boolean;
  /** SHA-256 of the leaf certificate's DER, lowercase hex. */
  fingerprint256: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
}

/** `tianfu/manifest.json`: what was asked, what was got, where and when, and every artifact's digests. */
export interface CaptureManifest {
  format: typeof CAPTURE_MANIFEST_FORMAT;
  captureId: string;
  attempt: number;
  request: { url: string; title?: string; caseRef?: string; options: Record<string, unknown> };
  page: {
    finalUrl: string;
    title: string;
    status: number;
    statusText: string;
    headers: [string, string][];
    serverAddress: string | null;
    redirects: { url: string; status: number; location: string | null }[];
    requests: number;
  };
  startedAt: string;
  endedAt: string;
  /** The chain's latest block when the capture started: the capture cannot predate it. */
  chainStart: CaptureBlockRef;
  chainEnd: CaptureBlockRef | null;
  /** The TLS check of the final URL's origin (null for http). */
  originTls: CaptureTlsSummary | null;
  environment: Record<string, unknown>;
  artifacts: CaptureArtifact[];
}

/** The deposit record's `capture` member: the manifest it vouches for. */
export interface CaptureRef {
  captureId: string;
  attempt: number;
  manifest: { sha256: Hex; sm3: Hex; size: number };
}

export interface Hashers {
  sha256(bytes: Uint8Array): Hex;
  sm3(bytes: Uint8Array): Hex;
}

export interface IndexedEntry {
  size: number;
  sha256: Hex;
  sm3: Hex;
}

/** A package opened: every file's digests, and the texts the steps read. */
export interface CapturePackageIndex {
  entries: Record<string, IndexedEntry>;
  manifestText: string | null;
  datapackageText: string | null;
  datapackageDigestText: string | null;
  /** Why it could not be opened (not a zip, …); entries are then empty. */
  error?: string;
}

const dec = new TextDecoder('utf-8', { fatal: false });

/** Opens a WACZ (any zip) and digests each file; never throws for a bad package (error says why). */
export function indexCapturePackage(bytes: Uint8Array, hashers: Hashers): CapturePackageIndex {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (err) {
    return { entries: {}, manifestText: null, datapackageText: null, datapackageDigestText: null, error: `not a readable zip: ${(err as Error).message}` };
  }
  const entries: Record<string, IndexedEntry> = {};
  for (const [name, data] of Object.entries(files)) {
    if (name.endsWith('/')) continue;
    entries[name] = { size: data.length, sha256: hashers.sha256(data), sm3: hashers.sm3(data) };
  }
  const text = (n: string): string | null => (files[n] ? dec.decode(files[n]) : null);
  return { entries, manifestText: text(CAPTURE_MANIFEST_PATH), datapackageText: text('datapackage.json'), datapackageDigestText: text('datapackage-digest.json') };
}
