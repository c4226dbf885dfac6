/** Node configuration: every setting is a TIANFU_* environment variable, validated at start (zod). */
import { z } from 'zod';
import path from 'node:path';
import { OperatorProfileError, readOperatorDeclaration } from './operator-profile';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const EnvSchema = z.object({
  TIANFU_PORT: int(0, 65535).default(8080),
  TIANFU_HOST: z.string().default('0.0.0.0'),
  TIANFU_DATA_DIR: z.string().default('./data'),
  TIANFU_LOG_NAME: z.string().min(1).max(128).default('tianfu-main'),
  TIANFU_RPC_URL: z.string().url().optional(),
  TIANFU_REGISTRY: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 20-byte 0x address').optional(),
  TIANFU_ADDRESS_BOOK: z.string().optional(),
  TIANFU_KEYSTORE: z.string().optional(),
  TIANFU_KEYSTORE_PASSWORD: z.string().optional(),
  TIANFU_OPERATOR_KEY: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 32-byte 0x private key').optional(),
  TIANFU_CHAIN_PORT: int(0, 65535).default(8545),
  TIANFU_CHAIN_ID: int(1, 2 ** 32).default(31337),
  TIANFU_CHECKPOINT_INTERVAL_MS: int(10, 3_600_000).default(1000),
  TIANFU_CONFIRMATIONS: int(1, 1000).default(1),
  TIANFU_MMD_MS: int(1000, 7 * 24 * 3_600_000).default(60_000),
  TIANFU_DURABLE: bool.default(true),
  TIANFU_SIGNING_WORKERS: int(0, 64).default(1),
  // Worker threads that read, validate and hash JSON invoice requests (node/invoice/intake-pool.ts); 0: on the request thread.
  TIANFU_INTAKE_WORKERS: int(0, 64).default(1),
  // The state map (status proofs): updated with every group commit, its root logged as a state.root entry with every checkpoint.
  TIANFU_STATE_MAP: bool.default(true),
  // LevelDB's write buffer (memtable) in MiB: how much is written before it is flushed to a sorted file (docs/BENCH.md "LevelDB write buffer").
  TIANFU_DB_WRITE_BUFFER_MB: int(1, 1024).default(64),
  // Read by node/crypto/secp256k1.ts when it loads (before any config): validated here so a typo stops the start.
  TIANFU_SECP256K1: z.enum(['auto', 'native', 'wasm']).default('auto'),
  TIANFU_MAX_EVIDENCE_BYTES: z.coerce.number().int().min(1).default(2 * 1024 ** 3),
  TIANFU_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TIANFU_RATE_LIMIT_PER_MIN: int(0, 10_000_000).default(6000),
  TIANFU_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(8 * 1024 * 1024),
  TIANFU_USCC_LEGACY_EXCEPTIONS: z.string().optional(),
  // One invoice XML document (POST /v1/invoices as application/xml, each document of a batch).
  TIANFU_MAX_INVOICE_XML_BYTES: int(1024, 64 * 1024 * 1024).default(4 * 1024 * 1024),
  // RFC 3161 TSAs (comma-separated http(s) URLs) asked for a token over every anchored checkpoint.
  TIANFU_TSA_URLS: z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().url().regex(/^https?:\/\//, 'must be an http(s) URL')).max(8, 'at most 8 TSAs')).optional(),
  TIANFU_TSA_RETRY_MS: int(10, 3_600_000).default(30_000),
  // Online capture (docs/capture.md): hosts the SSRF rule lets through (names or IP literals, compared as written in the URL).
  TIANFU_CAPTURE_ALLOW_HOSTS: z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)).optional(),
  TIANFU_CAPTURE_CONCURRENCY: int(1, 16).default(1),
  TIANFU_CAPTURE_QUEUE_MAX: int(1, 10_000).default(32),
  TIANFU_CAPTURE_MAX_BYTES: z.coerce.number().int().min(1024).default(256 * 1024 ** 2),
  TIANFU_CAPTURE_MAX_REQUESTS: int(1, 100_000).default(1000),
  TIANFU_CAPTURE_MAX_HEIGHT: int(100, 100_000).default(16_384),
  // Extra trusted CA certificates (PEM file) for the capture's TLS checks, beside the system's roots.
  TIANFU_CAPTURE_CA_FILE: z.string().optional(),
  TIANFU_CHROMIUM_PATH: z.string().default('/usr/bin/chromium'),
  TIANFU_TSA_TIMEOUT_MS: int(100, 600_000).default(10_000),
  // The operator's disclosures (a JSON file, node/operator-profile.ts): read and checked here, at start.
  TIANFU_OPERATOR_PROFILE: z.string().optional(),
});

export type NodeConfig = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates TIANFU_* settings; a bad value stops the node at start with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const picked: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (k.startsWith('TIANFU_') && v !== undefined && v !== '') picked[k] = v;
  const parsed = EnvSchema.safeParse(picked);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.TIANFU_KEYSTORE && e.TIANFU_OPERATOR_KEY) throw new ConfigError('set either TIANFU_KEYSTORE or TIANFU_OPERATOR_KEY, not both');
  if (e.TIANFU_KEYSTORE && e.TIANFU_KEYSTORE_PASSWORD === undefined) throw new ConfigError('TIANFU_KEYSTORE needs TIANFU_KEYSTORE_PASSWORD');
  const dataDir = path.resolve(e.TIANFU_DATA_DIR);
  let operatorProfile = null;
  if (e.TIANFU_OPERATOR_PROFILE) {
    try {
      operatorProfile = readOperatorDeclaration(path.resolve(e.TIANFU_OPERATOR_PROFILE));
    } catch (err) {
      if (err instanceof OperatorProfileError) throw new ConfigError(`invalid configuration:\n  ${err.message}`);
      throw err;
    }
  }
  return {
    port: e.TIANFU_PORT,
    host: e.TIANFU_HOST,
    dataDir,
    logName: e.TIANFU_LOG_NAME,
    /** Production chain; undefined means the embedded default chain. */
    rpcUrl: e.TIANFU_RPC_URL,
    registry: e.TIANFU_REGISTRY?.toLowerCase(),
    addressBook: e.TIANFU_ADDRESS_BOOK ? path.resolve(e.TIANFU_ADDRESS_BOOK) : path.join(dataDir, 'address-book.json'),
    keystore: e.TIANFU_KEYSTORE,
    keystorePassword: e.TIANFU_KEYSTORE_PASSWORD,
    operatorKey: e.TIANFU_OPERATOR_KEY,
    chainPort: e.TIANFU_CHAIN_PORT,
    chainId: e.TIANFU_CHAIN_ID,
    checkpointIntervalMs: e.TIANFU_CHECKPOINT_INTERVAL_MS,
    confirmations: e.TIANFU_CONFIRMATIONS,
    mmdMs: e.TIANFU_MMD_MS,
    durable: e.TIANFU_DURABLE,
    signingWorkers: e.TIANFU_SIGNING_WORKERS,
    intakeWorkers: e.TIANFU_INTAKE_WORKERS,
    stateMap: e.TIANFU_STATE_MAP,
    dbWriteBufferBytes: e.TIANFU_DB_WRITE_BUFFER_MB * 1024 * 1024,
    secp256k1: e.TIANFU_SECP256K1,
    maxEvidenceBytes: e.TIANFU_MAX_EVIDENCE_BYTES,
    logLevel: e.TIANFU_LOG_LEVEL,
    rateLimitPerMin: e.TIANFU_RATE_LIMIT_PER_MIN,
    maxBodyBytes: e.TIANFU_MAX_BODY_BYTES,
    maxInvoiceXmlBytes: e.TIANFU_MAX_INVOICE_XML_BYTES,
    tsaUrls: e.TIANFU_TSA_URLS ?? [],
    tsaRetryMs: e.TIANFU_TSA_RETRY_MS,
    tsaTimeoutMs: e.TIANFU_TSA_TIMEOUT_MS,
    capture: {
      allowHosts: e.TIANFU_CAPTURE_ALLOW_HOSTS ?? [],
      concurrency: e.TIANFU_CAPTURE_CONCURRENCY,
      queueMax: e.TIANFU_CAPTURE_QUEUE_MAX,
      maxBytes: e.TIANFU_CAPTURE_MAX_BYTES,
      maxRequests: e.TIANFU_CAPTURE_MAX_REQUESTS,
      maxHeight: e.TIANFU_CAPTURE_MAX_HEIGHT,
      caFile: e.TIANFU_CAPTURE_CA_FILE ? path.resolve(e.TIANFU_CAPTURE_CA_FILE) : undefined,
      chromiumPath: e.TIANFU_CHROMIUM_PATH,
    },
    /** The operator's declaration (TIANFU_OPERATOR_PROFILE), checked; null when not configured. */
    operatorProfile,
    usccLegacyExceptions: e.TIANFU_USCC_LEGACY_EXCEPTIONS?.split(',').map((s) => s.trim()).filter(Boolean),
  };
}
