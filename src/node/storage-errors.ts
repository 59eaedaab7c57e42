import { RaftHarnessError } from '../raft/errors.js';
import type { Entry } from '../raft/types.js';

/**
 * A storage call broke the Storage contract (an append that would leave a gap, a write after
 * `close()`, a write after an earlier I/O failure). Nothing of the refused call was written.
 */
export class StorageError extends RaftHarnessError {
  constructor(what: string, options?: ErrorOptions) {
    super(`storage: ${what}`, options);
    this.name = 'StorageError';
  }
}

/**
 * Throws a StorageError unless `entries` may be appended to a log whose last index (durable or
 * not) is `lastIndex`: non-empty, contiguous, starting in [1, lastIndex + 1], with integer terms.
 * Checked before anything is buffered, so a refused append leaves the storage as it was.
 */
export function assertAppendable(entries: readonly Entry[], lastIndex: number): void {
  const first = entries[0];
  if (first === undefined) throw new StorageError(`append of no entries (last index ${lastIndex})`);
  if (!Number.isSafeInteger(first.index) || first.index < 1) {
    throw new StorageError(`append starts at index ${first.index}; indexes start at 1`);
  }
  if (first.index > lastIndex + 1) {
    throw new StorageError(`append starts at index ${first.index}, leaving a gap after last index ${lastIndex}`);
  }
  for (const [i, e] of entries.entries()) {
    if (e.index !== first.index + i) {
      throw new StorageError(
        `append is not contiguous: entry ${i} has index ${e.index}, expected ${first.index + i}`,
      );
    }
    if (!Number.isSafeInteger(e.term) || e.term < 0) {
      throw new StorageError(`append entry ${e.index} has term ${e.term}; terms are integers >= 0`);
    }
  }
}

/** Throws a StorageError unless `entries` is a whole log: contiguous from just after `base` (the snapshot's index). */
export function assertWholeLog(entries: readonly Entry[], source: string, base = 0): void {
  for (const [i, e] of entries.entries()) {
    if (e.index !== base + i + 1) {
      throw new StorageError(`${source}: entry ${i} has index ${e.index}, expected ${base + i + 1}`);
    }
  }
}

/**
 * The stored log after a snapshot at (index, term) is written, §7: entries it covers go, and the
 * rest too unless the log holds the snapshot's last entry. `entries` start just after `base`.
 */
export function entriesAfterSnapshot(entries: readonly Entry[], base: number, index: number, term: number): Entry[] {
  const at = entries[index - base - 1];
  const keep = index === base ? true : at !== undefined && at.term === term;
  return keep ? entries.slice(Math.max(0, index - base)) : [];
}
