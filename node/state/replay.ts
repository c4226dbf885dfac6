/**
 * The state map recomputed from the log alone (`tianfu audit`, tests): feed entries in log order; at a
 * `state.root` entry ask `root()` and compare it with the entry's commitment. Pure (no store): the map is
 * in memory, updated incrementally in batches between two roots.
 */
import { isMappedKind, leafValueHash, mapKey, nextStateLeaf, type Hex, type LogEntry, type StateLeaf } from '../protocol';
import { MemoryMap, type MapUpdate } from './smt';

export class StateReplay {
  readonly map = new MemoryMap();
  private readonly leaves = new Map<string, StateLeaf>();
  private pending = new Map<string, StateLeaf>();

  /** One entry of the log (any kind; only invoice and evidence entries change the map). */
  push(index: number, entry: Pick<LogEntry, 'kind' | 'subject' | 'at'>, leafHash: Hex): void {
    if (!isMappedKind(entry.kind)) return;
    const next = nextStateLeaf(this.leaves.get(entry.subject), entry, index, leafHash);
    this.leaves.set(entry.subject, next);
    this.pending.set(entry.subject, next);
  }

  /** The map root over every entry pushed so far. */
  root(): Hex {
    if (this.pending.size > 0) {
      const ups: MapUpdate[] = [...this.pending].map(([s, l]) => ({ key: mapKey(s), valueHash: leafValueHash(l) }));
      this.pending = new Map();
      this.map.update(ups);
    }
    return this.map.root;
  }

  leaf(subject: string): StateLeaf | undefined {
    return this.leaves.get(subject);
  }

  get subjects(): number {
    return this.leaves.size;
  }
}
