/**
 * Deploys the AnchorRegistry to any EVM JSON-RPC endpoint, creates one log, and returns the address
 * book (`tianfu.address-book/v1`) the node and auditors read. `tianfu deploy` (scripts/cli/deploy.ts)
 * is the command-line front; the embedded chain and tests call `deploy()` directly.
 */
import { getAddress, type Provider, type Signer } from 'ethers';
import { logIdFor, type Hex } from '../node/protocol';
import { deployRegistry } from '../node/chain/registry-client';
import { ADDRESS_BOOK_FORMAT, type AddressBook } from '../node/chain/address-book';

export const DEFAULT_LOG_NAME = 'tianfu-main';

export interface DeployOptions {
  provider: Provider;
  /** Pays for and sends the deployment; the default admin and operator. */
  signer: Signer;
  /** The log's name; its id is logIdFor(name) unless `logId` is given. Default `tianfu-main`. */
  logName?: string;
  /** An explicit log id (32-byte hex); its name defaults to the id itself. */
  logId?: Hex;
  /** The log's operator (default: the signer). */
  operator?: string;
  /** The registry admin (default: the signer). */
  admin?: string;
  /** Confirmations to wait for on each transaction (default 1). */
  confirmations?: number;
}

const lower = (s: string): Hex => s.toLowerCase() as Hex;

export async function deploy(opts: DeployOptions): Promise<AddressBook> {
  const confirmations = opts.confirmations ?? 1;
  if (!Number.isInteger(confirmations) || confirmations < 1) throw new RangeError(`confirmations must be a positive integer, got ${confirmations}`);
  if (opts.logId !== undefined && !/^0x[0-9a-f]{64}$/.test(opts.logId)) throw new TypeError(`logId must be lowercase 0x + 64 hex digits, got ${opts.logId}`);
  const name = opts.logName ?? opts.logId ?? DEFAULT_LOG_NAME;
  const logId = opts.logId ?? logIdFor(name);
  const signerAddress = await opts.signer.getAddress();
  const admin = getAddress(opts.admin ?? signerAddress);
  const operator = getAddress(opts.operator ?? signerAddress);

  const { chainId } = await opts.provider.getNetwork();
  const { client, deployTx, deployBlock } = await deployRegistry(opts.signer, admin, confirmations);

  // createLog must come from the admin; when the admin is someone else, the caller creates logs later.
  const logs: AddressBook['logs'] = [];
  if (admin === getAddress(signerAddress)) {
    const created = await client.createLog(logId, operator, confirmations);
    logs.push({ name, logId, operator: lower(operator), createTx: created.txHash });
  }

  return {
    format: ADDRESS_BOOK_FORMAT,
    chainId: chainId.toString(),
    registry: client.address,
    deployBlock: deployBlock.toString(),
    deployTx,
    admin: lower(admin),
    logs,
  };
}
