/**
 * scripts/deploy.ts and `tianfu deploy` against Hardhat's in-process network (the CLI through a real
 * JSON-RPC HTTP server over it), the address book format, and the signer/keystore loader.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HDNodeWallet, Wallet, encryptKeystoreJson } from 'ethers';
import { deploy } from '../../scripts/deploy';
import { RegistryClient } from '../../node/chain/registry-client';
import { ADDRESS_BOOK_FORMAT, type AddressBook, parseAddressBook, readAddressBook, writeAddressBook } from '../../node/chain/address-book';
import { loadSigner, SignerError } from '../../node/chain/signer';
import { logIdFor, toHex, type Hex } from '../../node/protocol';
import { loadHre } from './support/hre';
import { makeTree } from './support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tianfu-deploy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('deploy()', () => {
  it('deploys the registry, creates the log and returns a valid address book that matches the chain', async () => {
    const hre = loadHre();
    const [deployer, operator] = await hre.ethers.getSigners();
    const book = await deploy({ provider: hre.ethers.provider, signer: deployer!, logName: 'tianfu-test', operator: await operator!.getAddress() });
    expect(parseAddressBook(book)).toEqual(book);
    expect(book.format).toBe(ADDRESS_BOOK_FORMAT);
    expect(book.chainId).toBe('31337');
    expect(book.admin).toBe((await deployer!.getAddress()).toLowerCase());
    expect(book.logs).toEqual([
      { name: 'tianfu-test', logId: logIdFor('tianfu-test'), operator: (await operator!.getAddress()).toLowerCase(), createTx: expect.stringMatching(/^0x[0-9a-f]{64}$/) },
    ]);
    const deployTx = await hre.ethers.provider.getTransactionReceipt(book.deployTx);
    expect(deployTx?.contractAddress?.toLowerCase()).toBe(book.registry);
    expect(String(deployTx?.blockNumber)).toBe(book.deployBlock);
    expect(await hre.ethers.provider.getCode(book.registry)).not.toBe('0x');

    const registry = RegistryClient.connect(book.registry, hre.ethers.provider);
    expect(await registry.operatorOf(book.logs[0]!.logId as Hex)).toBe(book.logs[0]!.operator);
    expect(await registry.isAdmin(book.admin)).toBe(true);
    // The deployed log takes its first checkpoint from the operator.
    const tree = makeTree(3, 'deploy');
    await registry.withRunner(operator!).anchor({ logId: book.logs[0]!.logId as Hex, treeSize: 3, rootHash: toHex(tree.root()), consistencyProof: [] });
    expect((await registry.latest(book.logs[0]!.logId as Hex)).treeSize).toBe(3n);

    const file = path.join(dir, 'nested', 'book.json');
    await writeAddressBook(file, book);
    expect(await readAddressBook(file)).toEqual(book);
  });

  it('creates no log when the admin is someone else (only the admin may), and says so in the book', async () => {
    const hre = loadHre();
    const [deployer, , , admin] = await hre.ethers.getSigners();
    const book = await deploy({ provider: hre.ethers.provider, signer: deployer!, admin: await admin!.getAddress() });
    expect(book.logs).toEqual([]);
    expect(book.admin).toBe((await admin!.getAddress()).toLowerCase());
    expect(await RegistryClient.connect(book.registry, hre.ethers.provider).isAdmin(await deployer!.getAddress())).toBe(false);
  });
});

describe('address book format', () => {
  const good: AddressBook = {
    format: ADDRESS_BOOK_FORMAT,
    chainId: '31337',
    registry: `0x${'ab'.repeat(20)}`,
    deployBlock: '1',
    deployTx: `0x${'22'.repeat(32)}`,
    admin: `0x${'33'.repeat(20)}`,
    logs: [{ name: 'x', logId: `0x${'44'.repeat(32)}`, operator: `0x${'55'.repeat(20)}`, createTx: `0x${'66'.repeat(32)}` }],
  };

  it('refuses unknown versions and malformed fields, naming the field', async () => {
    expect(parseAddressBook(good)).toEqual(good);
    expect(() => parseAddressBook({ ...good, format: 'tianfu.address-book/v2' })).toThrow(/unknown format "tianfu.address-book\/v2"/);
    expect(() => parseAddressBook({ ...good, chainId: 31337 })).toThrow(/chainId/);
    expect(() => parseAddressBook({ ...good, registry: good.registry.toUpperCase().replace('0X', '0x') })).toThrow(/registry/);
    expect(() => parseAddressBook({ ...good, deployBlock: '01' })).toThrow(/deployBlock/);
    expect(() => parseAddressBook({ ...good, logs: [{ ...good.logs[0], logId: '0x12' }] })).toThrow(/logs\.0\.logId/);
    const file = path.join(dir, 'broken.json');
    await writeFile(file, '{"format":');
    await expect(readAddressBook(file)).rejects.toThrow(/is not JSON/);
    await expect(readAddressBook(path.join(dir, 'missing.json'))).rejects.toThrow(/ENOENT/);
  });
});

describe('loadSigner', () => {
  const key = `0x${'4c'.repeat(32)}`;
  const address = new Wallet(key).address;

  it('loads from an encrypted keystore, the env of the role, or an explicit key — never echoing secrets', async () => {
    const file = path.join(dir, 'key.json');
    // A cheap scrypt cost keeps the test fast; the format is the standard Web3 Secret Storage v3.
    await writeFile(file, await encryptKeystoreJson({ address, privateKey: key }, 'pa55word', { scrypt: { N: 1024 } }));
    expect((await loadSigner({ keystorePath: file, password: 'pa55word' }, null)).address).toBe(address);

    const wrong = await loadSigner({ keystorePath: file, password: 'nope' }, null).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(SignerError);
    expect(String((wrong as Error).message)).toMatch(/wrong password/);
    await expect(loadSigner({ keystorePath: file }, null)).rejects.toThrow(/needs a password/);
    await expect(loadSigner({ keystorePath: path.join(dir, 'nope.json'), password: 'x' }, null)).rejects.toThrow(/ENOENT/);

    expect((await loadSigner({ role: 'deployer', env: { TIANFU_DEPLOYER_KEY: key } }, null)).address).toBe(address);
    expect((await loadSigner({ env: { TIANFU_OPERATOR_KEY: key.slice(2) } }, null)).address).toBe(address);
    await expect(loadSigner({ role: 'deployer', env: { TIANFU_OPERATOR_KEY: key } }, null)).rejects.toThrow(/set TIANFU_DEPLOYER_KEY/);
    const bad = `0x${'zz'.repeat(32)}`;
    const err = (await loadSigner({ env: { TIANFU_OPERATOR_KEY: bad } }, null).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/TIANFU_OPERATOR_KEY is not a private key/);
    expect(err.message).not.toContain('zz');
    // Zero is not a secp256k1 key; the message must not contain it either.
    const zero = (await loadSigner({ privateKey: `0x${'00'.repeat(32)}` }, null).catch((e: unknown) => e)) as Error;
    expect(zero).toBeInstanceOf(SignerError);
    expect(zero.message).not.toContain('0000000000');
  });
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'tianfu.js'), ...args], { cwd: dir, env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe('tianfu deploy', () => {
  it('deploys over JSON-RPC, writes the address book, and exits 2 on bad input or an unreachable RPC', async () => {
    const hre = loadHre();
    // A real HTTP JSON-RPC endpoint over the in-process network, on a free port.
    const server = (await hre.run('node:create-server', { hostname: '127.0.0.1', port: 0, provider: hre.network.provider })) as {
      listen: () => Promise<{ address: string; port: number }>;
      close: () => Promise<void>;
    };
    const { port } = await server.listen();
    try {
      const mnemonic = (hre.network.config.accounts as { mnemonic: string }).mnemonic;
      const deployerKey = HDNodeWallet.fromPhrase(mnemonic, undefined, "m/44'/60'/0'/0/7").privateKey;
      const rpc = `http://127.0.0.1:${port}`;
      const out = path.join(dir, 'cli-book.json');
      const env = { TIANFU_DEPLOYER_KEY: deployerKey };

      const [ok, unreachable, badOperator, noKey] = await Promise.all([
        cli(['deploy', '--rpc', rpc, '--log-name', 'cli-log', '--out', out, '--json'], env),
        cli(['deploy', '--rpc', 'http://127.0.0.1:1', '--out', path.join(dir, 'x.json')], env),
        cli(['deploy', '--rpc', rpc, '--operator', '0x1234', '--out', path.join(dir, 'y.json')], env),
        cli(['deploy', '--rpc', rpc, '--out', path.join(dir, 'z.json')], { TIANFU_DEPLOYER_KEY: '' }),
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      const printed = JSON.parse(ok.stdout) as { registry: string; logs: Array<{ logId: string }> };
      const book = await readAddressBook(out);
      expect(printed).toMatchObject(book);
      expect(book.logs[0]!.logId).toBe(logIdFor('cli-log'));
      expect(book.admin).toBe(new Wallet(deployerKey).address.toLowerCase());
      expect(await hre.ethers.provider.getCode(book.registry)).not.toBe('0x');
      expect(ok.stdout + ok.stderr).not.toContain(deployerKey.slice(2));

      expect(unreachable.code).toBe(2);
      expect(unreachable.stderr).toMatch(/unreachable/);
      expect(badOperator.code).toBe(2);
      expect(badOperator.stderr).toMatch(/--operator 0x1234 is not an address/);
      expect(noKey.code).toBe(2);
      expect(noKey.stderr).toMatch(/TIANFU_DEPLOYER_KEY/);

      // The book of a live deployment is not overwritten by accident.
      const again = await cli(['deploy', '--rpc', rpc, '--out', out], env);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/exists/);
      expect(await readFile(out, 'utf8')).toBe(JSON.stringify(book, null, 2) + '\n');
    } finally {
      await server.close();
    }
  });
});
