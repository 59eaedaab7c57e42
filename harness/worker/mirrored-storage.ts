import { MemoryStorage } from '../../src/node/memory-storage.js';
import type { Storage } from '../../src/node/storage.js';
import type { Entry, HardState, PersistedState } from '../../src/raft/types.js';
import type { DiskWrite } from '../protocol.js';

/**
 * The simulated disk of a node in a worker: a MemoryStorage whose synced writes are also posted
 * to the main thread before `sync()` returns. A crash terminates the worker; what the main thread
 * holds is then exactly what was synced, and a restart starts from it.
 */
export class MirroredStorage implements Storage {
  private readonly inner: MemoryStorage;
  private readonly post: (writes: readonly DiskWrite[]) => void;
  /** Writes since the last sync, in order. */
  private pending: DiskWrite[] = [];

  constructor(initial: PersistedState, post: (writes: readonly DiskWrite[]) => void) {
    this.inner = new MemoryStorage({ initial });
    this.post = post;
  }

  load(): PersistedState {
    return this.inner.load();
  }

  setHardState(hardState: HardState): void {
    this.inner.setHardState(hardState);
    this.pending.push({ kind: 'hard-state', hardState });
  }

  append(entries: readonly Entry[]): void {
    this.inner.append(entries);
    this.pending.push({ kind: 'append', entries });
  }

  sync(): void {
    this.inner.sync();
    if (this.pending.length === 0) return;
    const writes = this.pending;
    this.pending = [];
    this.post(writes);
  }

  close(): void {
    this.inner.close();
  }
}

/** Replays mirrored writes onto a main-thread disk. */
export function applyDiskWrites(disk: MemoryStorage, writes: readonly DiskWrite[]): void {
  for (const w of writes) {
    if (w.kind === 'hard-state') disk.setHardState(w.hardState);
    else disk.append(w.entries);
  }
  disk.sync();
}
