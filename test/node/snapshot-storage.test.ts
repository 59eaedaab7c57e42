/**
 * Snapshots on both storages (§7): a snapshot replaces the log up to its index; written before
 * the log loses anything, so a crash in between loses nothing; reopening gives the same state.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStorage } from '../../src/node/file-storage.js';
import { MemoryStorage } from '../../src/node/memory-storage.js';
import { StorageError } from '../../src/node/storage-errors.js';
import { StorageCorruptError } from '../../src/raft/errors.js';
import type { Entry, HardState, Snapshot } from '../../src/raft/types.js';

const HS: HardState = { term: 2, votedFor: 'n1', commit: 6 };
const MEMBERS = { voters: ['n1', 'n2', 'n3'], learners: [] };

function cmd(index: number, term: number): Entry {
  return { index, term, type: 'command', command: { clientId: 'c1', seq: index, op: { op: 'credit', amount: index } } };
}
function range(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => cmd(from + i, term));
}
function snap(index: number, term: number, data = `balance@${index}`): Snapshot {
  return { index, term, membership: MEMBERS, data };
}

describe('MemoryStorage snapshots', () => {
  it('§7: a snapshot drops the entries it covers and keeps the ones after it when its last entry matches', () => {
    const s = new MemoryStorage();
    s.append(range(1, 8, 2));
    s.setHardState(HS);
    s.sync();
    s.saveSnapshot(snap(5, 2));
    s.sync();
    expect(s.load()).toEqual({ hardState: HS, snapshot: snap(5, 2), entries: range(6, 8, 2) });
    expect(s.snapshotIndex).toBe(5);
    s.append([cmd(9, 2)]);
    s.sync();
    expect(s.load().entries.map((e) => e.index)).toEqual([6, 7, 8, 9]);
  });

  it('§7: a snapshot whose last entry conflicts with the log replaces the whole log', () => {
    const s = new MemoryStorage();
    s.append(range(1, 8, 2));
    s.sync();
    s.saveSnapshot(snap(5, 3));
    s.append([cmd(6, 3)]);
    s.sync();
    expect(s.load()).toMatchObject({ snapshot: snap(5, 3), entries: [cmd(6, 3)] });
  });

  it('a crash before the sync loses the snapshot, and nothing else', () => {
    const s = new MemoryStorage();
    s.append(range(1, 8, 2));
    s.sync();
    s.saveSnapshot(snap(5, 2));
    expect(s.crash()).toBe(1);
    expect(s.load()).toMatchObject({ snapshot: null, entries: range(1, 8, 2) });
  });

  it('a storage started from durable() holds the snapshot and the log after it', () => {
    const s = new MemoryStorage();
    s.append(range(1, 8, 2));
    s.saveSnapshot(snap(4, 2));
    s.sync();
    const restarted = new MemoryStorage({ initial: s.durable() });
    expect(restarted.load()).toEqual(s.load());
    expect(() => {
      restarted.append([cmd(3, 2)]);
      restarted.sync();
    }).toThrow(StorageError);
  });
});

describe('FileStorage snapshots', () => {
  let dir = '';
  const opened: FileStorage[] = [];
  const openStorage = (options?: Parameters<typeof FileStorage.open>[1]): FileStorage => {
    const s = FileStorage.open(dir, options);
    opened.push(s);
    return s;
  };
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-snap-'));
  });
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a snapshot and the log after it survive close and reopen', () => {
    const s = openStorage();
    s.setHardState(HS);
    s.append(range(1, 8, 2));
    s.sync();
    s.saveSnapshot(snap(5, 2));
    s.append([cmd(9, 2)]);
    s.sync();
    const before = s.load();
    expect(before).toEqual({ hardState: HS, snapshot: snap(5, 2), entries: range(6, 9, 2) });
    s.close();
    expect(openStorage().load()).toEqual(before);
  });

  it('a crash between writing the snapshot and rewriting the log loses nothing: replay skips what the snapshot covers', () => {
    const s = openStorage({ compactAfterWastedEntries: 1_000_000 }); // the log is never rewritten here
    s.append(range(1, 8, 2));
    s.sync();
    s.saveSnapshot(snap(6, 2));
    s.sync();
    s.close(); // the log file still holds entries 1..8
    expect(fs.statSync(path.join(dir, 'raft.log')).size).toBeGreaterThan(100);
    expect(openStorage().load()).toMatchObject({ snapshot: snap(6, 2), entries: range(7, 8, 2) });
  });

  it('compaction rewrites the log without what the snapshot covers; it reopens the same', () => {
    const s = openStorage({ compactAfterWastedEntries: 4 });
    s.append(range(1, 20, 2));
    s.sync();
    const full = fs.statSync(path.join(dir, 'raft.log')).size;
    s.saveSnapshot(snap(18, 2));
    s.sync();
    expect(fs.statSync(path.join(dir, 'raft.log')).size).toBeLessThan(full / 4);
    s.append([cmd(21, 2)]);
    s.sync();
    const before = s.load();
    s.close();
    expect(openStorage().load()).toEqual(before);
    expect(before.entries.map((e) => e.index)).toEqual([19, 20, 21]);
  });

  it('configuration entries and a snapshot\'s membership survive a reopen', () => {
    const s = openStorage();
    const config: Entry = { index: 3, term: 2, type: 'config', membership: { voters: ['n1', 'n2', 'n3'], learners: ['n4'] } };
    s.append([...range(1, 2, 2), config, cmd(4, 2)]);
    s.saveSnapshot({ index: 2, term: 2, membership: { voters: ['n1', 'n2', 'n3'], learners: [] }, data: '{"app":{"balance":3}}' });
    s.sync();
    const before = s.load();
    s.close();
    const after = openStorage().load();
    expect(after).toEqual(before);
    expect(after.entries[0]).toEqual(config);
  });

  it('a snapshot installed past the end of the log, then the entries after it, reopen the same (the log file has a gap the snapshot covers)', () => {
    const s = openStorage(); // the log file is not rewritten: 12 entries are far below the threshold
    s.append(range(1, 12, 1));
    s.sync();
    s.saveSnapshot(snap(24, 2)); // from the leader: it replaces the whole log
    s.append([cmd(25, 2)]);
    s.sync();
    const before = s.load();
    expect(before).toMatchObject({ snapshot: snap(24, 2), entries: [cmd(25, 2)] });
    s.close();
    expect(openStorage().load()).toEqual(before);
  });

  it('a damaged snapshot file is corruption, not a fresh start', () => {
    const s = openStorage();
    s.append(range(1, 4, 2));
    s.saveSnapshot(snap(3, 2));
    s.sync();
    s.close();
    const file = path.join(dir, 'snapshot');
    const bytes = fs.readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0xff, bytes.length - 3);
    fs.writeFileSync(file, bytes);
    expect(() => FileStorage.open(dir)).toThrow(StorageCorruptError);
  });

  it('a log that starts after the snapshot ends (entries missing in between) is corruption', () => {
    const s = openStorage({ compactAfterWastedEntries: 1 });
    s.append(range(1, 10, 2));
    s.saveSnapshot(snap(8, 2));
    s.sync(); // the log is rewritten to start at 9
    s.close();
    fs.rmSync(path.join(dir, 'snapshot'));
    expect(() => FileStorage.open(dir)).toThrow(/starts after index 8, but the snapshot ends at 0/);
  });
});
