import type { Entry, HardState, PersistedState, Snapshot } from '../raft/types.js';

/**
 * Stable storage for one node. Calls are synchronous on purpose: a node handles one input to
 * quiescence, and the harness relies on that to see a frozen state between events.
 *
 * Writes may be buffered until `sync()`; only synced writes survive a crash. The runtime calls
 * `sync()` before it sends any message that depends on what it wrote (Figure 2: "respond after
 * persisting").
 */
export interface Storage {
  /** What survived: the last synced hard state and log. */
  load(): PersistedState;
  setHardState(hardState: HardState): void;
  /**
   * Writes `entries` (contiguous, non-empty) so that the log ends with them: any stored entry at
   * or after `entries[0].index` is replaced. `entries[0].index` is at most last index + 1.
   */
  append(entries: readonly Entry[]): void;
  /**
   * Writes a snapshot that replaces the log up to `snapshot.index` (§7): stored entries at or below
   * it are dropped, and the ones after it too unless the stored entry at its index has its term.
   * Written in that order, so a crash between the two loses nothing: loading ignores entries the
   * snapshot covers.
   */
  saveSnapshot(snapshot: Snapshot): void;
  sync(): void;
  close(): void;
}
