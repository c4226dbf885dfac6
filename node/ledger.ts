/**
 * The ledger node, wired: database, log store, sequencer (with the invoice and evidence rules),
 * chain (embedded default or a production JSON-RPC endpoint), registry and anchorer.
 * `Ledger.start(config)` is what `npm start` and the tests run.
 */
import { createIntakePool, type IntakePool } from './invoice/intake-pool';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { JsonRpcProvider, Wallet, getAddress } from 'ethers';
import { logIdFor, type Hex } from './protocol';
import { openDatabase, type Database } from './store/db';
import { LogStore } from './store/log-store';
import { Sequencer } from './sequencer';
import { StateMapStore } from './state/state-map-store';
import { buildStatusProof } from './state/status-proofs';
import type { StatusProof } from './protocol/status-proof';
import { Anchorer, type AnchorerLogger } from './anchorer';
import { ApiKeys } from './auth/api-keys';
import { RegistryClient, deployRegistry } from './chain/registry-client';
import { loadSigner } from './chain/signer';
import { ADDRESS_BOOK_FORMAT, readAddressBook, writeAddressBook, type AddressBook } from './chain/address-book';
import { startEmbeddedChain, type EmbeddedChain } from './chain/embedded/embedded-chain';
import { createInvoiceRules, InvoiceService, type InvoiceRules } from './invoice';
import { evidenceRules, captureRules, BlobStore, EvidenceService } from './evidence';
import type { DomainRules } from './domain/types';
import type { NodeConfig } from './config';
import { buildBundle } from './bundles';
import { Timestamper } from './tsa/timestamper';
import { signOperatorProfile, technicalProfile } from './operator-profile';
import { CaptureService } from './capture/service';
import { PdfPrinter } from './print/pdf';
import type { CaptureBlockRef } from './protocol/capture-package';
import type { Bundle, BundleOperatorProfile } from './protocol';

export interface LedgerLogger extends AnchorerLogger {
  debug?(obj: object, msg?: string): void;
}

export class LedgerStartError extends Error {
  override readonly name = 'LedgerStartError';
}

export interface ChainInfo {
  rpcUrl: string;
  chainId: bigint;
  registry: Hex;
  embedded: boolean;
}

const silent: LedgerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export class Ledger {
  /**
   * The operator's disclosures, signed by the operator key at start (declared part null without
   * TIANFU_OPERATOR_PROFILE; the technical part is generated from this configuration).
   */
  operatorProfile!: BundleOperatorProfile;

  private constructor(
    readonly config: NodeConfig,
    readonly db: Database,
    readonly log: LogStore,
    readonly sequencer: Sequencer,
    readonly anchorer: Anchorer,
    readonly keys: ApiKeys,
    readonly blobs: BlobStore,
    readonly provider: JsonRpcProvider,
    readonly registry: RegistryClient,
    readonly operator: Wallet,
    readonly logId: Hex,
    readonly chain: ChainInfo,
    private readonly embedded: EmbeddedChain | null,
    private readonly logger: LedgerLogger,
    /** RFC 3161 client (TIANFU_TSA_URLS); null when no TSA is configured. */
    readonly timestamper: Timestamper | null = null,
    /** The invoice rules the sequencer applies, built once in start(); the service validates with the same. */
    invoiceRules?: InvoiceRules,
  ) {
    this.invoices = new InvoiceService(this, invoiceRules ? { ruleSet: invoiceRules } : {});
    this.evidence = new EvidenceService(this);
    this.captures = new CaptureService(this, logger);
  }

  /** Online capture jobs (docs/capture.md). */
  readonly captures: CaptureService;

  /** PDF reports (POST /v1/verify): one shared Chromium, launched at the first PDF (node/print/pdf.ts). */
  readonly printer = new PdfPrinter();

  /** The chain's latest block (a capture's start and end are bounded by it). */
  async latestBlock(): Promise<CaptureBlockRef> {
    const b = await this.provider.getBlock('latest');
    if (!b || !b.hash) throw new Error('the chain returned no latest block');
    return { chainId: this.chain.chainId.toString(), number: b.number.toString(), hash: b.hash.toLowerCase() as Hex, timestamp: b.timestamp.toString() };
  }

  /** The invoice domain over this ledger (the routes, the CLI's import and tests share this one). */
  readonly invoices: InvoiceService;
  /** The evidence domain over this ledger. */
  readonly evidence: EvidenceService;
  /** Intake workers for JSON invoice requests (TIANFU_INTAKE_WORKERS); null: on the request thread. */
  intake: IntakePool | null = null;

  static async start(config: NodeConfig, logger: LedgerLogger = silent): Promise<Ledger> {
    fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const logId = logIdFor(config.logName);

    // 1. The operator key: keystore or env in production; generated once and kept in the data dir for the embedded chain.
    let operatorKey: Hex;
    if (config.keystore || config.operatorKey) {
      const w = await loadSigner({ keystorePath: config.keystore, password: config.keystorePassword, privateKey: config.operatorKey, role: 'operator' }, null);
      operatorKey = w.privateKey as Hex;
    } else if (config.rpcUrl) {
      throw new LedgerStartError('TIANFU_RPC_URL is set but no operator key: set TIANFU_KEYSTORE + TIANFU_KEYSTORE_PASSWORD or TIANFU_OPERATOR_KEY');
    } else {
      operatorKey = embeddedOperatorKey(config.dataDir, logger);
    }

    // 2. The chain.
    let embedded: EmbeddedChain | null = null;
    let rpcUrl = config.rpcUrl;
    if (!rpcUrl) {
      embedded = await startEmbeddedChain({ dataDir: config.dataDir, port: config.chainPort, chainId: config.chainId, fundedKeys: [operatorKey], logger });
      rpcUrl = embedded.rpcUrl;
    }
    try {
      const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
      let chainId: bigint;
      try {
        chainId = (await provider.getNetwork()).chainId;
      } catch (err) {
        throw new LedgerStartError(`cannot reach the chain at ${rpcUrl}: ${(err as Error).message}`);
      }
      const operator = new Wallet(operatorKey, provider);

      // 3. The registry: TIANFU_REGISTRY, else the address book, else (embedded only) deploy one now.
      const { address: registryAddress, deployBlock } = await resolveRegistry(config, operator, logId, chainId, embedded !== null, logger);
      const registry = RegistryClient.connect(registryAddress, operator);
      if ((await provider.getCode(registryAddress)) === '0x') throw new LedgerStartError(`no contract at registry address ${registryAddress} on chain ${chainId}`);
      let onChainOperator: string;
      try {
        onChainOperator = await registry.operatorOf(logId);
      } catch (err) {
        throw new LedgerStartError(`log ${config.logName} (${logId}) is not created in registry ${registryAddress}: ${(err as Error).message}`);
      }
      if (getAddress(onChainOperator) !== operator.address) {
        throw new LedgerStartError(`the registry's operator for log ${config.logName} is ${getAddress(onChainOperator)}, but this node's key is ${operator.address}`);
      }

      // 4. Store, sequencer, anchorer.
      const db = await openDatabase(path.join(config.dataDir, 'ledger'), { writeBufferSize: config.dbWriteBufferBytes });
      const log = await LogStore.open(db);
      // Built once: the sequencer applies them, the invoice service validates with the very same.
      const invoiceRules = createInvoiceRules(config.usccLegacyExceptions ? { legacyUsccExceptions: config.usccLegacyExceptions } : {});
      const rules: DomainRules<unknown>[] = [
        invoiceRules as unknown as DomainRules<unknown>,
        evidenceRules as unknown as DomainRules<unknown>,
        captureRules as unknown as DomainRules<unknown>,
      ];
      const stateMap = config.stateMap ? await StateMapStore.open(db) : undefined;
      const caughtUp = stateMap ? await stateMap.catchUp(log) : 0;
      if (caughtUp > 0) logger.info({ entries: caughtUp, root: stateMap!.root }, 'state map brought up to the log (entries logged before it, or while it was off)');
      const sequencer = await Sequencer.open({ db, log, logId, operatorKey, rules, durable: config.durable, signingWorkers: config.signingWorkers, stateMap });
      const anchorer = await Anchorer.open({
        db,
        log,
        registry,
        provider,
        wallet: operator,
        logId,
        intervalMs: config.checkpointIntervalMs,
        confirmations: config.confirmations,
        mmdMs: config.mmdMs,
        logger,
        eventsFromBlock: deployBlock,
        beforeAnchor: stateMap ? () => sequencer.appendStateRoot() : undefined,
      });
      const blobs = await BlobStore.open(path.join(config.dataDir, 'blobs'));
      const chain: ChainInfo = { rpcUrl, chainId, registry: registryAddress, embedded: embedded !== null };
      let timestamper: Timestamper | null = null;
      if (config.tsaUrls.length > 0) {
        timestamper = await Timestamper.open({ db, urls: config.tsaUrls, logId, retryMs: config.tsaRetryMs, timeoutMs: config.tsaTimeoutMs, logger }, anchorer.status().anchored);
        const ts = timestamper;
        const prev = anchorer.onAnchored;
        // Only the wish is recorded here (one write); the TSA is asked in the background, so a TSA
        // that is slow or down never holds up anchoring.
        anchorer.onAnchored = (rec, previousSize, latencyMs) => {
          prev?.(rec, previousSize, latencyMs);
          ts.want(rec).catch((err: unknown) => logger.warn({ err: (err as Error).message, treeSize: rec.treeSize }, 'could not record the RFC 3161 request'));
        };
      }
      const ledger = new Ledger(config, db, log, sequencer, anchorer, new ApiKeys(db), blobs, provider, registry, operator, logId, chain, embedded, logger, timestamper, invoiceRules);
      const version = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
      ledger.operatorProfile = await signOperatorProfile(operator, logId, config.operatorProfile, technicalProfile({
        version, chainId, registry: registryAddress, embedded: embedded !== null, confirmations: config.confirmations,
        checkpointIntervalMs: config.checkpointIntervalMs, mmdMs: config.mmdMs, tsaUrls: config.tsaUrls, stateMap: config.stateMap,
      }));
      ledger.intake = createIntakePool(ledger.invoices.rules, config.intakeWorkers);
      anchorer.start();
      await ledger.captures.start();
      logger.info({ logId, operator: operator.address, registry: registryAddress, chainId: chainId.toString(), rpcUrl, treeSize: log.size }, 'ledger started');
      return ledger;
    } catch (err) {
      await embedded?.close();
      throw err;
    }
  }

  /** A `tianfu.status-proof/v1` for a subject (invoice key, evidence id) as of the newest anchored state root. */
  statusProof(domain: 'invoice' | 'evidence', subject: string): Promise<StatusProof> {
    return buildStatusProof(this, domain, subject);
  }

  /** A `tianfu.bundle/v1` for every record about `subject` (or the given indexes). */
  bundle(kind: Bundle['kind'], subject: string, opts: { indexes?: number[]; file?: Bundle['file'] } = {}): Promise<Bundle> {
    return buildBundle(
      { sequencer: this.sequencer, log: this.log, anchorer: this.anchorer, timestamper: this.timestamper, operatorProfile: this.operatorProfile.profile.declared ? this.operatorProfile : null, logId: this.logId, operator: this.operator.address.toLowerCase() as Hex, chainId: this.chain.chainId, registry: this.chain.registry },
      kind,
      subject,
      opts,
    );
  }

  /** Drains the sequencer, stops the anchorer, closes the store and the embedded chain. */
  async stop(): Promise<void> {
    await this.captures.stop();
    await this.printer.close();
    await this.intake?.close();
    await this.sequencer.close();
    await this.anchorer.stop();
    await this.timestamper?.stop();
    await this.db.close();
    this.provider.destroy();
    await this.embedded?.close();
    this.logger.info({}, 'ledger stopped');
  }
}

/** The embedded chain's operator key: generated on first start, kept in <dataDir>/operator.key (0600). */
function embeddedOperatorKey(dataDir: string, logger: LedgerLogger): Hex {
  const file = path.join(dataDir, 'operator.key');
  if (fs.existsSync(file)) {
    const key = fs.readFileSync(file, 'utf8').trim();
    if (!/^0x[0-9a-f]{64}$/.test(key)) throw new LedgerStartError(`${file} does not hold a 0x private key`);
    return key as Hex;
  }
  const key = ('0x' + randomBytes(32).toString('hex')) as Hex;
  const tmp = file + '.tmp';
  const fd = fs.openSync(tmp, 'w', 0o600);
  fs.writeSync(fd, key + '\n');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  logger.warn({ file }, 'generated the embedded chain operator key (development default; use TIANFU_KEYSTORE in production)');
  return key;
}

async function resolveRegistry(
  config: NodeConfig,
  operator: Wallet,
  logId: Hex,
  chainId: bigint,
  embedded: boolean,
  logger: LedgerLogger,
): Promise<{ address: Hex; deployBlock: number }> {
  const book = fs.existsSync(config.addressBook) ? await readAddressBook(config.addressBook) : null;
  if (config.registry) {
    // The book, when it names the same registry, still says where its events start.
    const same = book?.registry === config.registry.toLowerCase();
    return { address: config.registry as Hex, deployBlock: same ? Number(book!.deployBlock) : 0 };
  }
  if (book) {
    if (book.chainId !== chainId.toString()) throw new LedgerStartError(`address book ${config.addressBook} is for chain ${book.chainId}, the RPC serves chain ${chainId}`);
    return { address: book.registry as Hex, deployBlock: Number(book.deployBlock) };
  }
  if (!embedded) throw new LedgerStartError(`no registry: set TIANFU_REGISTRY or provide an address book at ${config.addressBook} (tianfu deploy writes one)`);
  // First start on the embedded chain: deploy the registry and create the log, then record the address book.
  const { client, deployTx, deployBlock } = await deployRegistry(operator, operator.address, 1);
  const created = await client.createLog(logId, operator.address, 1);
  const written: AddressBook = {
    format: ADDRESS_BOOK_FORMAT,
    chainId: chainId.toString(),
    registry: client.address,
    deployBlock: deployBlock.toString(),
    deployTx,
    admin: operator.address.toLowerCase(),
    logs: [{ name: config.logName, logId, operator: operator.address.toLowerCase(), createTx: created.txHash }],
  };
  await writeAddressBook(config.addressBook, written);
  logger.info({ registry: client.address, addressBook: config.addressBook }, 'deployed AnchorRegistry on the embedded chain');
  return { address: client.address, deployBlock: Number(deployBlock) };
}
