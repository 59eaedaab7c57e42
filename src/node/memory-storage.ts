import { EMPTY_STATE } from '../raft/types.js';
import type { Entry, HardState, PersistedState, Snapshot } from '../raft/types.js';
import type { Storage } from './storage.js';
import { StorageError, assertAppendable, assertWholeLog, entriesAfterSnapshot } from './storage-errors.js';

/** One write that reached the simulated disk cache but not the platter. */
type PendingWrite =
  | { readonly kind: 'hard-state'; readonly hardState: HardState }
  | { readonly kind: 'append'; readonly entries: readonly Entry[] }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

export type MemoryStorageOptions = {
  /** What is on the disk at start, e.g. `durable()` of the storage of a node that crashed. */
  readonly initial?: PersistedState;
};

/**
 * A simulated disk with a volatile write cache: writes are buffered until `sync()`, and
 * `crash()` loses exactly the buffered ones. Everything crossing the boundary is copied, so
 * neither the node nor the harness can change "the disk" other than through writes.
 *
 * A restarted node gets a new MemoryStorage built from `durable()` of the old one, just as a
 * restarted process would reopen its files.
 */
export class MemoryStorage implements Storage {
  /** Last synced hard state. */
  private hardState: HardState;
  /** Synced snapshot, if any. */
  private snapshot: Snapshot | null;
  /** Synced log. Invariant: `entries[i].index === snapshotIndex + i + 1`. */
  private entries: Entry[];
  /** Written but not synced, oldest first; `sync()` applies them in order, `crash()` drops them. */
  private pending: PendingWrite[] = [];
  /** Last index of the log as written so far (synced + pending): what appends are checked against. */
  private writtenLastIndex: number;
  private closed = false;
  private syncs = 0;
  private writes = 0;

  constructor(options: MemoryStorageOptions = {}) {
    const initial = structuredClone(options.initial ?? EMPTY_STATE);
    assertWholeLog(initial.entries, 'initial state', initial.snapshot?.index ?? 0);
    this.hardState = initial.hardState;
    this.snapshot = initial.snapshot;
    this.entries = [...initial.entries];
    this.writtenLastIndex = this.lastIndex;
  }

  /** Last index of the synced snapshot; 0 without one. */
  get snapshotIndex(): number {
    return this.snapshot?.index ?? 0;
  }

  private get lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  /** Calls to `sync()`, i.e. what would be fsyncs. */
  get syncCount(): number {
    return this.syncs;
  }

  /** Accepted `setHardState` and `append` calls, lost ones included. */
  get writeCount(): number {
    return this.writes;
  }

  /** Writes that a crash now would lose. */
  get unsyncedCount(): number {
    return this.pending.length;
  }

  /** The synced state only; a deep copy. Still readable after `close()`. */
  load(): PersistedState {
    return this.durable();
  }

  /** What survives a crash, as plain data that can be posted to another thread or process. */
  durable(): PersistedState {
    return structuredClone({ hardState: this.hardState, snapshot: this.snapshot, entries: this.entries });
  }

  /**
   * The synced log after the snapshot itself, not a copy, for read-only observers that check it after every event
   * (a copy per event would cost O(log)). Entries are never mutated in place, so identity tells
   * an observer which entries changed.
   */
  peekEntries(): readonly Entry[] {
    return this.entries;
  }

  setHardState(hardState: HardState): void {
    this.assertOpen('setHardState');
    this.pending.push({ kind: 'hard-state', hardState: structuredClone(hardState) });
    this.writes += 1;
  }

  append(entries: readonly Entry[]): void {
    this.assertOpen('append');
    assertAppendable(entries, this.writtenLastIndex);
    // Copied now: the caller may reuse its objects, but the disk holds what was written.
    this.pending.push({ kind: 'append', entries: structuredClone(entries) });
    this.writtenLastIndex = entries[entries.length - 1]!.index;
    this.writes += 1;
  }

  saveSnapshot(snapshot: Snapshot): void {
    this.assertOpen('saveSnapshot');
    this.pending.push({ kind: 'snapshot', snapshot: structuredClone(snapshot) });
    // What the log will end at once this applies: the suffix survives only if it matches (§7).
    const at = this.writtenTermAt(snapshot.index);
    this.writtenLastIndex = at === snapshot.term ? Math.max(this.writtenLastIndex, snapshot.index) : snapshot.index;
    this.writes += 1;
  }

  sync(): void {
    this.assertOpen('sync');
    for (const w of this.pending) {
      switch (w.kind) {
        case 'hard-state':
          this.hardState = w.hardState;
          break;
        case 'append':
          // assertAppendable guaranteed the first index is at most our last index + 1.
          if (w.entries[0]!.index <= this.snapshotIndex) throw new StorageError(`append at ${w.entries[0]!.index}, inside the snapshot (up to ${this.snapshotIndex})`);
          this.entries.length = w.entries[0]!.index - this.snapshotIndex - 1;
          for (const e of w.entries) this.entries.push(e);
          break;
        case 'snapshot':
          this.entries = entriesAfterSnapshot(this.entries, this.snapshotIndex, w.snapshot.index, w.snapshot.term);
          this.snapshot = w.snapshot;
          break;
        default:
          assertNever(w);
      }
    }
    this.pending = [];
    this.syncs += 1;
  }

  /** Power loss: the unsynced writes vanish. Returns how many writes were lost. */
  crash(): number {
    const lost = this.pending.length;
    this.pending = [];
    this.writtenLastIndex = this.lastIndex;
    return lost;
  }

  /** Term of the entry at `index` as written so far (pending writes included); null if none. */
  private writtenTermAt(index: number): number | null {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const w = this.pending[i]!;
      if (w.kind === 'snapshot' && w.snapshot.index === index) return w.snapshot.term;
      if (w.kind === 'append') {
        const e = w.entries[index - w.entries[0]!.index];
        if (e !== undefined) return e.term;
      }
    }
    if (index === this.snapshotIndex) return this.snapshot?.term ?? 0;
    return this.entries[index - this.snapshotIndex - 1]?.term ?? null;
  }

  /** Further writes throw. Unsynced writes stay unsynced: closing is not syncing. */
  close(): void {
    this.closed = true;
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new StorageError(`${operation} after close()`);
  }
}

function assertNever(value: never): never {
  throw new StorageError(`unknown pending write ${JSON.stringify(value)}`);
}
