import type { Entry } from './types.js';

/**
 * The in-memory log of one node: a compacted prefix (everything up to `snapshotIndex`, replaced
 * by a snapshot) followed by entries. Without a snapshot the prefix is the empty log (index 0,
 * term 0). Invariant: `entries[i].index === snapshotIndex + i + 1`.
 */
export class RaftLog {
  private entries: Entry[];
  /** Last index the snapshot replaces; entries at or below it are gone. */
  private compactedIndex: number;
  private compactedTerm: number;

  constructor(entries: readonly Entry[], snapshotIndex = 0, snapshotTerm = 0) {
    this.entries = [...entries];
    this.compactedIndex = snapshotIndex;
    this.compactedTerm = snapshotTerm;
    for (const [i, e] of this.entries.entries()) {
      if (e.index !== snapshotIndex + i + 1) {
        throw new RangeError(`raft-harness: log entry ${i} has index ${e.index}, expected ${snapshotIndex + i + 1}`);
      }
    }
  }

  get snapshotIndex(): number {
    return this.compactedIndex;
  }

  get snapshotTerm(): number {
    return this.compactedTerm;
  }

  get lastIndex(): number {
    return this.compactedIndex + this.entries.length;
  }

  get lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? this.compactedTerm;
  }

  /** Term at `index`: the snapshot's at its index, null below it (compacted) or past the end. */
  termAt(index: number): number | null {
    if (index === this.compactedIndex) return this.compactedTerm;
    if (index < this.compactedIndex) return null;
    return this.entries[index - this.compactedIndex - 1]?.term ?? null;
  }

  /** The entry at `index`, if it is still in the log. */
  at(index: number): Entry | undefined {
    return index > this.compactedIndex ? this.entries[index - this.compactedIndex - 1] : undefined;
  }

  /** Entries in [from, to); `from` must be above the snapshot. */
  slice(from: number, to: number): Entry[] {
    if (from <= this.compactedIndex) {
      throw new RangeError(`raft-harness: log slice from ${from} reaches into the snapshot (up to ${this.compactedIndex})`);
    }
    return this.entries.slice(from - this.compactedIndex - 1, to - this.compactedIndex - 1);
  }

  append(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.index !== this.lastIndex + 1) {
        throw new RangeError(`raft-harness: appending index ${e.index} after last index ${this.lastIndex}`);
      }
      this.entries.push(e);
    }
  }

  /** Deletes `index` and everything after it; `index` must be above the snapshot. */
  truncateFrom(index: number): void {
    if (index <= this.compactedIndex) {
      throw new RangeError(`raft-harness: truncating from ${index}, inside the snapshot (up to ${this.compactedIndex})`);
    }
    this.entries.length = Math.max(0, index - this.compactedIndex - 1);
  }

  /** Drops entries up to `index` (in the log), which a snapshot now replaces. */
  compact(index: number): void {
    const term = this.termAt(index);
    if (term === null || index < this.compactedIndex) {
      throw new RangeError(`raft-harness: compacting to ${index}, outside the log (${this.compactedIndex}..${this.lastIndex})`);
    }
    this.entries = this.entries.slice(index - this.compactedIndex);
    this.compactedIndex = index;
    this.compactedTerm = term;
  }

  /**
   * Installs a snapshot ending at (index, term), §7: if the log holds that entry, the entries after
   * it stay (they may be ahead of the snapshot); otherwise the whole log goes. Returns whether the
   * suffix was kept.
   */
  install(index: number, term: number): boolean {
    if (index >= this.compactedIndex && this.termAt(index) === term) {
      this.compact(index);
      return true;
    }
    this.entries = [];
    this.compactedIndex = index;
    this.compactedTerm = term;
    return false;
  }

  /** §5.4.1: is a log ending at (index, term) at least as up-to-date as this one? */
  isUpToDate(index: number, term: number): boolean {
    return term > this.lastTerm || (term === this.lastTerm && index >= this.lastIndex);
  }

  /** First index of the run of `term` that contains `at` (for conflict hints); stops at the snapshot. */
  firstIndexOfTerm(term: number | null, at: number): number {
    let i = at;
    while (i > this.compactedIndex + 1 && this.termAt(i - 1) === term) i -= 1;
    return i;
  }

  /** Last index at or below `upTo` whose term is `term`; 0 if none is left in the log. */
  lastIndexOfTerm(term: number, upTo: number): number {
    for (let i = Math.min(upTo, this.lastIndex); i >= this.compactedIndex && i > 0; i--) {
      const t = this.termAt(i)!;
      if (t === term) return i;
      if (t < term) return 0; // terms only grow along a log: no earlier match
    }
    return 0;
  }

  /** The latest configuration entry at or below `upTo` still in the log. */
  lastConfig(upTo = this.lastIndex): Entry | undefined {
    for (let i = Math.min(upTo, this.lastIndex); i > this.compactedIndex; i--) {
      const e = this.entries[i - this.compactedIndex - 1]!;
      if (e.type === 'config') return e;
    }
    return undefined;
  }
}
