import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MemoryStorage } from '../../src/node/memory-storage.js';
import { StorageError } from '../../src/node/storage-errors.js';
import { EMPTY_STATE } from '../../src/raft/types.js';
import type { Entry, HardState, PersistedState } from '../../src/raft/types.js';

function noop(index: number, term: number): Entry {
  return { index, term, type: 'noop' };
}

function cmd(index: number, term: number, seq: number): Entry {
  return { index, term, type: 'command', command: { clientId: 'c1', seq, op: { op: 'credit', amount: seq } } };
}

function range(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(cmd(i, term, i));
  return out;
}

const HS1: HardState = { term: 1, votedFor: 'a', commit: 0 };
const HS2: HardState = { term: 2, votedFor: null, commit: 3 };

function thrown(f: () => void): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('MemoryStorage: durability', () => {
  it('starts empty', () => {
    expect(new MemoryStorage().load()).toEqual(EMPTY_STATE);
  });

  it('load() shows only synced writes', () => {
    const s = new MemoryStorage();
    s.setHardState(HS1);
    s.append(range(1, 3, 1));
    expect(s.load()).toEqual(EMPTY_STATE);
    s.sync();
    expect(s.load()).toEqual({ hardState: HS1, snapshot: null, entries: range(1, 3, 1) });
  });

  it('crash() drops exactly the unsynced writes and reports how many', () => {
    const s = new MemoryStorage();
    s.setHardState(HS1);
    s.append(range(1, 3, 1));
    s.sync();
    s.setHardState(HS2);
    s.append(range(4, 5, 2));
    s.append(range(6, 6, 2));
    expect(s.unsyncedCount).toBe(3);
    expect(s.crash()).toBe(3);
    expect(s.unsyncedCount).toBe(0);
    expect(s.load()).toEqual({ hardState: HS1, snapshot: null, entries: range(1, 3, 1) });
    expect(s.durable()).toEqual(s.load());
    expect(s.crash()).toBe(0);
  });

  it('after a crash, appends are checked against the surviving log', () => {
    const s = new MemoryStorage();
    s.append(range(1, 2, 1));
    s.sync();
    s.append(range(3, 5, 1));
    s.crash();
    expect(thrown(() => s.append(range(6, 6, 1)))).toBeInstanceOf(StorageError);
    s.append(range(3, 3, 2));
    s.sync();
    expect(s.load().entries).toEqual([...range(1, 2, 1), ...range(3, 3, 2)]);
  });

  it('a new storage started from durable() holds what survived', () => {
    const s = new MemoryStorage();
    s.setHardState(HS2);
    s.append(range(1, 4, 1));
    s.sync();
    s.append(range(5, 5, 2));
    s.crash();
    const carried: PersistedState = structuredClone(s.durable());
    const restarted = new MemoryStorage({ initial: carried });
    expect(restarted.load()).toEqual({ hardState: HS2, snapshot: null, entries: range(1, 4, 1) });
    restarted.append(range(5, 6, 3));
    restarted.sync();
    expect(restarted.load().entries).toHaveLength(6);
    // The old disk is not shared with the new one.
    expect(s.load().entries).toHaveLength(4);
  });

  it('rejects an initial state whose log is not contiguous from 1', () => {
    const bad: PersistedState = { hardState: HS1, snapshot: null, entries: [noop(1, 1), noop(3, 1)] };
    expect(thrown(() => new MemoryStorage({ initial: bad }))).toBeInstanceOf(StorageError);
    const late: PersistedState = { hardState: HS1, snapshot: null, entries: [noop(2, 1)] };
    expect(thrown(() => new MemoryStorage({ initial: late }))).toBeInstanceOf(StorageError);
  });

  it('the last hard state written before a sync wins', () => {
    const s = new MemoryStorage();
    s.setHardState(HS1);
    s.setHardState(HS2);
    s.sync();
    expect(s.load().hardState).toEqual(HS2);
  });
});

describe('MemoryStorage: overwrite and truncate', () => {
  it('an append from a middle index replaces everything from there on', () => {
    const s = new MemoryStorage();
    s.append(range(1, 5, 1));
    s.sync();
    s.append([noop(3, 2)]);
    s.sync();
    expect(s.load().entries).toEqual([...range(1, 2, 1), noop(3, 2)]);
  });

  it('applies pending appends in order at sync', () => {
    const s = new MemoryStorage();
    s.append(range(1, 5, 1));
    s.append(range(2, 3, 2));
    s.append(range(4, 4, 3));
    s.append(range(4, 6, 4));
    s.sync();
    expect(s.load().entries).toEqual([...range(1, 1, 1), ...range(2, 3, 2), ...range(4, 6, 4)]);
  });

  it('an overwrite from index 1 replaces the whole log', () => {
    const s = new MemoryStorage();
    s.append(range(1, 3, 1));
    s.append([noop(1, 5)]);
    s.sync();
    expect(s.load().entries).toEqual([noop(1, 5)]);
  });

  it('matches a reference model over random append sequences', () => {
    const appendArb = fc.record({ back: fc.nat({ max: 5 }), count: fc.integer({ min: 1, max: 4 }) });
    const stepArb = fc.oneof(
      appendArb.map((a) => ({ kind: 'append' as const, ...a })),
      fc.constant({ kind: 'sync' as const }),
      fc.constant({ kind: 'crash' as const }),
    );
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
        const s = new MemoryStorage();
        let durable: Entry[] = [];
        let written: Entry[] = [];
        let term = 0;
        for (const step of steps) {
          switch (step.kind) {
            case 'append': {
              term += 1;
              const first = Math.max(1, written.length + 1 - step.back);
              const batch = range(first, first + step.count - 1, term);
              s.append(batch);
              written = [...written.slice(0, first - 1), ...batch];
              break;
            }
            case 'sync':
              s.sync();
              durable = written;
              break;
            case 'crash':
              s.crash();
              written = durable;
              break;
          }
          expect(s.load().entries).toEqual(durable);
        }
      }),
    );
  });
});

describe('MemoryStorage: bad appends', () => {
  // [case, entries, text the message must contain]; the last written index is 4 (3 synced + 1 pending).
  const cases: readonly [string, readonly Entry[], string][] = [
    ['empty', [], 'last index 4'],
    ['index 0', [noop(0, 1)], 'index 0'],
    ['gap after the last index', [noop(6, 1)], 'index 6, leaving a gap after last index 4'],
    ['not contiguous', [noop(3, 1), noop(5, 1)], 'index 5, expected 4'],
    ['descending', [noop(3, 1), noop(2, 1)], 'index 2, expected 4'],
    ['fractional index', [noop(1.5, 1)], 'index 1.5'],
    ['negative term', [noop(2, -1)], 'entry 2 has term -1'],
  ];

  it.each(cases)('rejects %s with a StorageError naming the indexes, state unchanged', (_, entries, named) => {
    const s = new MemoryStorage();
    s.setHardState(HS1);
    s.append(range(1, 3, 1));
    s.sync();
    s.append(range(4, 4, 1)); // pending: last written index is 4
    const writes = s.writeCount;
    const e = thrown(() => s.append(entries));
    expect(e).toBeInstanceOf(StorageError);
    expect((e as Error).name).toBe('StorageError');
    expect((e as Error).message).toMatch(/^raft-harness: storage: /);
    expect((e as Error).message).toContain(named);
    expect(s.writeCount).toBe(writes);
    expect(s.unsyncedCount).toBe(1);
    s.sync();
    expect(s.load()).toEqual({ hardState: HS1, snapshot: null, entries: range(1, 4, 1) });
  });

  it('accepts an append right after a pending one', () => {
    const s = new MemoryStorage();
    s.append(range(1, 2, 1));
    s.append(range(3, 4, 1));
    s.sync();
    expect(s.load().entries).toEqual(range(1, 4, 1));
  });
});

describe('MemoryStorage: copies and lifecycle', () => {
  it('load() returns deep copies', () => {
    const s = new MemoryStorage();
    s.setHardState(HS1);
    s.append(range(1, 2, 1));
    s.sync();
    const loaded = s.load() as unknown as { hardState: { term: number }; entries: Entry[] };
    loaded.hardState.term = 99;
    loaded.entries.pop();
    const op = (loaded.entries[0] as { command: { op: { amount: number } } }).command.op;
    op.amount = 1000;
    expect(s.load()).toEqual({ hardState: HS1, snapshot: null, entries: range(1, 2, 1) });
  });

  it('a caller mutating what it appended does not change the disk', () => {
    const s = new MemoryStorage();
    const batch = range(1, 2, 1);
    const hs = { ...HS1 };
    s.setHardState(hs);
    s.append(batch);
    batch.pop();
    hs.term = 50;
    (batch[0] as { term: number }).term = 7;
    s.sync();
    expect(s.load()).toEqual({ hardState: HS1, snapshot: null, entries: range(1, 2, 1) });
  });

  it('does not share the initial state it was given', () => {
    const initial = { hardState: { ...HS1 }, snapshot: null, entries: range(1, 2, 1) };
    const s = new MemoryStorage({ initial });
    initial.entries.pop();
    initial.hardState.term = 9;
    expect(s.load()).toEqual({ hardState: HS1, snapshot: null, entries: range(1, 2, 1) });
  });

  it('counts writes and syncs', () => {
    const s = new MemoryStorage();
    s.setHardState(HS1);
    s.append(range(1, 1, 1));
    s.sync();
    s.append(range(2, 2, 1));
    s.crash();
    s.sync();
    expect(s.writeCount).toBe(3);
    expect(s.syncCount).toBe(2);
  });

  it('refuses writes after close() but still reads', () => {
    const s = new MemoryStorage();
    s.append(range(1, 1, 1));
    s.sync();
    s.close();
    for (const write of [() => s.append(range(2, 2, 1)), () => s.setHardState(HS1), () => s.sync()]) {
      const e = thrown(write);
      expect(e).toBeInstanceOf(StorageError);
      expect((e as Error).message).toContain('after close()');
    }
    expect(s.load().entries).toEqual(range(1, 1, 1));
  });
});
