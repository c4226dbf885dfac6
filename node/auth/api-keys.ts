/**
 * API keys: random bearer secrets, stored only as SHA-256 hashes. A key has one role; issuer keys
 * carry the seller tax ids they may issue for, buyer keys their own tax id.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DomainError, type Actor, type Role } from '../domain/types';
import type { BatchOp, Database } from '../store/db';

export const ROLES: readonly Role[] = ['admin', 'issuer', 'buyer', 'collector', 'court', 'auditor'];
const PREFIX = '!key!';
const BY_ID = PREFIX + 'i'; // i<id> → ApiKeyRecord
const BY_HASH = PREFIX + 'h'; // h<sha256(key)> → id

export interface ApiKeyRecord {
  id: string;
  role: Role;
  taxIds: string[];
  name: string | null;
  /** Hex SHA-256 of the secret; the secret itself is never stored. */
  keyHash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedKey {
  id: string;
  key: string;
  role: Role;
  taxId: string | null;
  taxIds: string[];
  name: string | null;
}

const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** Authenticated keys kept in memory (one process owns the database, so revocation here is exact). */
const CACHE_MAX = 10_000;

export class ApiKeys {
  private readonly cache = new Map<string, Actor>();
  /** Bumped by every revocation: a lookup that overlapped one is not cached. */
  private revocations = 0;

  constructor(private readonly db: Database) {}

  async create(input: { role: Role; taxId?: string | null; taxIds?: string[]; name?: string | null }): Promise<CreatedKey> {
    if (!ROLES.includes(input.role)) throw new DomainError('VALIDATION', `role must be one of ${ROLES.join(', ')}`, { path: ['role'] });
    const taxIds = [...new Set([...(input.taxIds ?? []), ...(input.taxId ? [input.taxId] : [])])];
    if ((input.role === 'issuer' || input.role === 'buyer') && taxIds.length === 0) {
      throw new DomainError('VALIDATION', `a ${input.role} key needs taxId (the ${input.role === 'issuer' ? 'seller tax id it issues for' : "buyer's own tax id"})`, { path: ['taxId'] });
    }
    if (input.role === 'buyer' && taxIds.length > 1) throw new DomainError('VALIDATION', 'a buyer key is scoped to exactly one tax id', { path: ['taxId'] });
    if (!(input.role === 'issuer' || input.role === 'buyer') && taxIds.length > 0) {
      throw new DomainError('VALIDATION', `a ${input.role} key takes no taxId`, { path: ['taxId'] });
    }
    const id = 'key_' + randomBytes(8).toString('hex');
    const key = 'tfk_' + randomBytes(32).toString('base64url');
    const rec: ApiKeyRecord = { id, role: input.role, taxIds, name: input.name ?? null, keyHash: hashKey(key), createdAt: new Date().toISOString(), revokedAt: null };
    await this.db.batch<unknown, unknown>(
      [
        { type: 'put', key: BY_ID + id, value: rec, valueEncoding: 'json' } as BatchOp,
        { type: 'put', key: BY_HASH + rec.keyHash, value: id, valueEncoding: 'utf8' } as BatchOp,
      ],
      { sync: true },
    );
    return { id, key, role: rec.role, taxId: taxIds[0] ?? null, taxIds, name: rec.name };
  }

  async revoke(id: string): Promise<ApiKeyRecord> {
    const rec = await this.get(id);
    if (!rec) throw new DomainError('NOT_FOUND', `no API key ${id}`);
    if (rec.revokedAt) return rec;
    const revoked = { ...rec, revokedAt: new Date().toISOString() };
    // Before and after the write: a lookup overlapping either side is answered but never cached.
    this.revocations++;
    this.cache.delete(rec.keyHash);
    await this.db.batch<unknown, unknown>(
      [
        { type: 'put', key: BY_ID + id, value: revoked, valueEncoding: 'json' } as BatchOp,
        { type: 'del', key: BY_HASH + rec.keyHash } as BatchOp,
      ],
      { sync: true },
    );
    this.revocations++;
    this.cache.delete(rec.keyHash);
    return revoked;
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return (await this.db.get(BY_ID + id, { valueEncoding: 'json' })) as ApiKeyRecord | undefined;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const out: ApiKeyRecord[] = [];
    for await (const v of this.db.values({ gte: BY_ID, lt: BY_ID + '\xff', valueEncoding: 'json' })) out.push(v as unknown as ApiKeyRecord);
    return out;
  }

  /** The actor a presented bearer secret belongs to, or undefined (unknown or revoked). */
  async authenticate(secret: string): Promise<Actor | undefined> {
    if (secret.length < 8 || secret.length > 256) return undefined;
    const h = hashKey(secret);
    const hit = this.cache.get(h);
    if (hit) return hit;
    const generation = this.revocations;
    const id: unknown = await this.db.get(BY_HASH + h, { valueEncoding: 'utf8' });
    if (typeof id !== 'string') return undefined;
    const rec = await this.get(id);
    if (!rec || rec.revokedAt) return undefined;
    const actor: Actor = { keyId: rec.id, role: rec.role, taxIds: rec.taxIds, ...(rec.name ? { name: rec.name } : {}) };
    // A revocation may have run while this lookup awaited: then answer from the store, but do not cache.
    if (generation !== this.revocations) return (await this.get(id))?.revokedAt ? undefined : actor;
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(h, actor);
    return actor;
  }
}
