import type { Entry } from './types.js';

/**
 * The in-memory log of one node. Index 0 is the empty prefix (term 0); entries are contiguous
 * from index 1. Invariant: `entries[i].index === i + 1`.
 */
export class RaftLog {
  private entries: Entry[];

  constructor(entries: readonly Entry[]) {
    this.entries = [...entries];
    for (const [i, e] of this.entries.entries()) {
      if (e.index !== i + 1) throw new RangeError(`raft-harness: log entry ${i} has index ${e.index}, expected ${i + 1}`);
    }
  }

  get lastIndex(): number {
    return this.entries.length;
  }

  get lastTerm(): number {
    return this.entries[this.entries.length - 1]?.term ?? 0;
  }

  /** Term at `index`; 0 at index 0; null past the end. */
  termAt(index: number): number | null {
    if (index === 0) return 0;
    return this.entries[index - 1]?.term ?? null;
  }

  /** Entries in [from, to). */
  slice(from: number, to: number): Entry[] {
    return this.entries.slice(from - 1, to - 1);
  }

  append(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (e.index !== this.entries.length + 1) {
        throw new RangeError(`raft-harness: appending index ${e.index} after last index ${this.entries.length}`);
      }
      this.entries.push(e);
    }
  }

  /** Deletes `index` and everything after it. */
  truncateFrom(index: number): void {
    this.entries.length = Math.max(0, index - 1);
  }

  /** §5.4.1: is a log ending at (index, term) at least as up-to-date as this one? */
  isUpToDate(index: number, term: number): boolean {
    return term > this.lastTerm || (term === this.lastTerm && index >= this.lastIndex);
  }

  /** First index of the run of `term` that contains `at` (for conflict hints). */
  firstIndexOfTerm(term: number | null, at: number): number {
    let i = at;
    while (i > 1 && this.termAt(i - 1) === term) i -= 1;
    return i;
  }

  /** Last index at or below `upTo` whose term is `term`; 0 if none. */
  lastIndexOfTerm(term: number, upTo: number): number {
    for (let i = Math.min(upTo, this.lastIndex); i > 0; i--) {
      const t = this.termAt(i)!;
      if (t === term) return i;
      if (t < term) return 0; // terms only grow along a log: no earlier match
    }
    return 0;
  }
}
