import type { MemoryStorage } from '../../src/node/memory-storage.js';
import { assertAppendable, StorageError } from '../../src/node/storage-errors.js';
import type { Storage } from '../../src/node/storage.js';
import type { Entry, HardState, PersistedState, Snapshot } from '../../src/raft/types.js';
import type { DiskWrite } from '../protocol.js';

/**
 * The simulated disk of a node in a worker. The disk itself lives on the main thread (so it
 * outlives a crash): writes are buffered here and, at `sync()`, posted there before `sync()`
 * returns. A crash terminates the worker; what the main thread holds is then exactly what was
 * synced, and a restart starts from it. Writes are not copied here: postMessage copies them.
 */
export class MirroredStorage implements Storage {
  private readonly initial: PersistedState;
  private readonly post: (writes: readonly DiskWrite[]) => void;
  /** Writes since the last sync, in order. */
  private pending: DiskWrite[] = [];
  /** Last index written (synced or not): what appends are checked against. */
  private lastIndex: number;
  private closed = false;

  constructor(initial: PersistedState, post: (writes: readonly DiskWrite[]) => void) {
    this.initial = initial;
    this.post = post;
    this.lastIndex = (initial.snapshot?.index ?? 0) + initial.entries.length;
  }

  /** What the node starts from: the disk as the main thread handed it over. */
  load(): PersistedState {
    return this.initial;
  }

  setHardState(hardState: HardState): void {
    this.assertOpen('setHardState');
    this.pending.push({ kind: 'hard-state', hardState });
  }

  append(entries: readonly Entry[]): void {
    this.assertOpen('append');
    assertAppendable(entries, this.lastIndex);
    this.pending.push({ kind: 'append', entries });
    this.lastIndex = entries[entries.length - 1]!.index;
  }

  saveSnapshot(snapshot: Snapshot): void {
    this.assertOpen('saveSnapshot');
    this.pending.push({ kind: 'snapshot', snapshot });
    // The core installs a snapshot only past its commit index and keeps a matching suffix; the
    // disk applies the same rule (§7). Appends that follow start right after what survives.
    this.lastIndex = Math.max(this.lastIndex, snapshot.index);
  }

  sync(): void {
    this.assertOpen('sync');
    if (this.pending.length === 0) return;
    const writes = this.pending;
    this.pending = [];
    this.post(writes);
  }

  close(): void {
    this.closed = true;
  }

  private assertOpen(operation: string): void {
    if (this.closed) throw new StorageError(`${operation} after close()`);
  }
}

/** Replays mirrored writes onto the main thread's disk, as one sync. */
export function applyDiskWrites(disk: MemoryStorage, writes: readonly DiskWrite[]): void {
  for (const w of writes) {
    if (w.kind === 'hard-state') disk.setHardState(w.hardState);
    else if (w.kind === 'snapshot') disk.saveSnapshot(w.snapshot);
    else disk.append(w.entries);
  }
  disk.sync();
}
