/**
 * The address book (`tianfu.address-book/v1`): where a deployment lives — chain, registry, deploy
 * block and transactions, logs and their operators. Written by `tianfu deploy`, read by the node
 * (TIANFU_ADDRESS_BOOK, default ./data/address-book.json) and by auditors. Integers are decimal
 * strings; hashes and addresses lowercase 0x-hex.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const ADDRESS_BOOK_FORMAT = 'tianfu.address-book/v1' as const;

const address = z.string().regex(/^0x[0-9a-f]{40}$/, 'must be a lowercase 0x address');
const hash = z.string().regex(/^0x[0-9a-f]{64}$/, 'must be a lowercase 0x 32-byte hash');
const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/, 'must be a decimal integer string');

export const AddressBookLogSchema = z.object({
  name: z.string().min(1).max(128),
  logId: hash,
  operator: address,
  createTx: hash,
});

export const AddressBookSchema = z.object({
  format: z.literal(ADDRESS_BOOK_FORMAT),
  chainId: decimal,
  registry: address,
  deployBlock: decimal,
  deployTx: hash,
  admin: address,
  logs: z.array(AddressBookLogSchema),
});

export type AddressBookLog = z.infer<typeof AddressBookLogSchema>;
export type AddressBook = z.infer<typeof AddressBookSchema>;

export class AddressBookError extends Error {
  override readonly name = 'AddressBookError';
}

/** Validates a parsed address book; refuses unknown formats and says which field is wrong. */
export function parseAddressBook(value: unknown, source = 'address book'): AddressBook {
  const format = (value as { format?: unknown } | null)?.format;
  if (format !== ADDRESS_BOOK_FORMAT) {
    throw new AddressBookError(`${source}: unknown format ${JSON.stringify(format)}, expected ${ADDRESS_BOOK_FORMAT}`);
  }
  const r = AddressBookSchema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AddressBookError(`${source}: ${issues}`);
  }
  return r.data;
}

export async function readAddressBook(file: string): Promise<AddressBook> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new AddressBookError(`cannot read address book ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AddressBookError(`address book ${file} is not JSON: ${(err as Error).message}`);
  }
  return parseAddressBook(json, file);
}

/** Writes the book atomically (temp file + rename), so a crash never leaves half a file. */
export async function writeAddressBook(file: string, book: AddressBook): Promise<void> {
  const checked = parseAddressBook(book);
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(checked, null, 2) + '\n', { mode: 0o644 });
  await rename(tmp, file);
}
