import { EMPTY_STATE } from '../raft/types.js';
import type { Entry, HardState, PersistedState } from '../raft/types.js';
import type { Storage } from './storage.js';
import { StorageError, assertAppendable, assertWholeLog } from './storage-errors.js';

/** One write that reached the simulated disk cache but not the platter. */
type PendingWrite =
  | { readonly kind: 'hard-state'; readonly hardState: HardState }
  | { readonly kind: 'append'; readonly entries: readonly Entry[] };

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
  /** Synced log. Invariant: `entries[i].index === i + 1`. */
  private readonly entries: Entry[];
  /** Written but not synced, oldest first; `sync()` applies them in order, `crash()` drops them. */
  private pending: PendingWrite[] = [];
  /** Last index of the log as written so far (synced + pending): what appends are checked against. */
  private writtenLastIndex: number;
  private closed = false;
  private syncs = 0;
  private writes = 0;

  constructor(options: MemoryStorageOptions = {}) {
    const initial = structuredClone(options.initial ?? EMPTY_STATE);
    assertWholeLog(initial.entries, 'initial state');
    this.hardState = initial.hardState;
    this.entries = [...initial.entries];
    this.writtenLastIndex = this.entries.length;
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
    return structuredClone({ hardState: this.hardState, entries: this.entries });
  }

  /**
   * The synced log itself, not a copy, for read-only observers that check it after every event
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

  sync(): void {
    this.assertOpen('sync');
    for (const w of this.pending) {
      switch (w.kind) {
        case 'hard-state':
          this.hardState = w.hardState;
          break;
        case 'append':
          // assertAppendable guaranteed the first index is at most our last index + 1.
          this.entries.length = w.entries[0]!.index - 1;
          for (const e of w.entries) this.entries.push(e);
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
    this.writtenLastIndex = this.entries.length;
    return lost;
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
