import { describe, it, expect, beforeAll, beforeEach, afterEach } from 'vitest';
import fc from 'fast-check';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as zlib from 'node:zlib';
import { FileStorage, crc32 } from '../../src/node/file-storage.js';
import { StorageError } from '../../src/node/storage-errors.js';
import { StorageCorruptError } from '../../src/raft/errors.js';
import { EMPTY_STATE } from '../../src/raft/types.js';
import type { Entry, HardState } from '../../src/raft/types.js';

const LOG = 'raft.log';
const STATE = 'hard-state';
const MAGIC_BYTES = 8;
const HEADER_BYTES = 12;

function cmd(index: number, term: number): Entry {
  return { index, term, type: 'command', command: { clientId: 'c1', seq: index, op: { op: 'credit', amount: index } } };
}

function range(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(cmd(i, term));
  return out;
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

const HS: HardState = { term: 3, votedFor: 'n2', commit: 2 };

/** Removed after each test. */
let root = '';
/** The storage directory: not created in advance, so every test also covers its creation. */
let dir = '';
const open: FileStorage[] = [];

/** Opens and remembers the storage, so that afterEach closes whatever a failing test left open. */
function openStorage(options?: Parameters<typeof FileStorage.open>[1]): FileStorage {
  const s = FileStorage.open(dir, options);
  open.push(s);
  return s;
}

function logPath(): string {
  return path.join(dir, LOG);
}

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'raft-harness-file-storage-'));
  dir = path.join(root, 'node-1');
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('FileStorage: round trips', () => {
  it('creates a missing directory and starts empty', () => {
    dir = path.join(root, 'nested', 'node-1');
    const s = openStorage();
    expect(s.load()).toEqual(EMPTY_STATE);
    expect(fs.existsSync(logPath())).toBe(true);
    s.close();
    expect(openStorage().load()).toEqual(EMPTY_STATE);
  });

  it('write, sync, close, reopen gives the same state', () => {
    const s = openStorage();
    s.setHardState(HS);
    s.append(range(1, 3, 1));
    s.append([{ index: 4, term: 2, type: 'noop' }]);
    s.sync();
    const before = s.load();
    expect(before).toEqual({ hardState: HS, snapshot: null, entries: [...range(1, 3, 1), { index: 4, term: 2, type: 'noop' }] });
    s.close();
    expect(openStorage().load()).toEqual(before);
  });

  it('load() shows only synced writes, and unsynced writes do not reach the disk', () => {
    const s = openStorage();
    s.setHardState(HS);
    s.append(range(1, 2, 1));
    s.sync();
    s.setHardState({ term: 4, votedFor: null, commit: 2 });
    s.append(range(3, 5, 4));
    expect(s.load()).toEqual({ hardState: HS, snapshot: null, entries: range(1, 2, 1) });
    s.close();
    expect(openStorage().load()).toEqual({ hardState: HS, snapshot: null, entries: range(1, 2, 1) });
  });

  it('overwrite from a middle index, then reopen', () => {
    const s = openStorage();
    s.append(range(1, 6, 1));
    s.sync();
    s.append(range(4, 5, 2));
    s.sync();
    s.append(range(2, 2, 3));
    s.append(range(3, 4, 3));
    s.sync();
    const expected = [...range(1, 1, 1), ...range(2, 4, 3)];
    expect(s.load().entries).toEqual(expected);
    s.close();
    expect(openStorage().load().entries).toEqual(expected);
  });

  it('load() returns deep copies', () => {
    const s = openStorage();
    s.setHardState(HS);
    s.append(range(1, 2, 1));
    s.sync();
    const loaded = s.load() as unknown as { hardState: { term: number }; entries: Entry[] };
    loaded.hardState.term = 42;
    loaded.entries.length = 0;
    expect(s.load()).toEqual({ hardState: HS, snapshot: null, entries: range(1, 2, 1) });
  });

  it('stores what JSON keeps, the same before and after a reopen', () => {
    const s = openStorage();
    const odd: Entry = {
      index: 1,
      term: 1,
      type: 'command',
      command: { clientId: 'c', seq: 1, op: { keep: [1, 'two', null], drop: undefined } },
    };
    s.append([odd]);
    s.sync();
    const before = s.load();
    s.close();
    expect(openStorage().load()).toStrictEqual(before);
  });

  it('matches a reference model over random writes, syncs and reopens', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), back: fc.nat({ max: 4 }), count: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('hard-state' as const), commit: fc.nat({ max: 10 }) }),
      fc.constant({ kind: 'sync' as const }),
      fc.constant({ kind: 'reopen' as const }),
    );
    let run = 0;
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
        const runDir = path.join(dir, `run-${run++}`);
        let s = FileStorage.open(runDir, { compactAfterWastedEntries: 3 });
        try {
          let written: Entry[] = [];
          let durable: Entry[] = [];
          let hardState: HardState = EMPTY_STATE.hardState;
          let durableHardState = hardState;
          let term = 0;
          for (const st of steps) {
            switch (st.kind) {
              case 'append': {
                term += 1;
                const first = Math.max(1, written.length + 1 - st.back);
                const batch = range(first, first + st.count - 1, term);
                s.append(batch);
                written = [...written.slice(0, first - 1), ...batch];
                break;
              }
              case 'hard-state':
                hardState = { term, votedFor: null, commit: st.commit };
                s.setHardState(hardState);
                break;
              case 'sync':
                s.sync();
                durable = written;
                durableHardState = hardState;
                break;
              case 'reopen':
                s.close();
                s = FileStorage.open(runDir, { compactAfterWastedEntries: 3 });
                written = durable;
                hardState = durableHardState;
                break;
            }
            expect(s.load()).toEqual({ hardState: durableHardState, snapshot: null, entries: durable });
          }
        } finally {
          s.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('FileStorage: torn tails', () => {
  /** Three synced records; returns the log's size after each. */
  function writeThree(): number[] {
    const s = openStorage();
    const sizes: number[] = [];
    for (const [from, to] of [
      [1, 2],
      [3, 4],
      [5, 7],
    ] as const) {
      s.append(range(from, to, 1));
      s.sync();
      sizes.push(fs.statSync(logPath()).size);
    }
    s.close();
    return sizes;
  }

  it('discards a partially written final record and truncates the file', () => {
    const [, second, third] = writeThree() as [number, number, number];
    for (const cut of [second + 1, second + 5, second + HEADER_BYTES, second + HEADER_BYTES + 3, third - 1]) {
      fs.truncateSync(logPath(), cut);
      const s = openStorage();
      expect(s.load().entries).toEqual(range(1, 4, 1));
      expect(fs.statSync(logPath()).size).toBe(second);
      // New records follow the last whole one, and survive a reopen.
      s.append(range(5, 7, 2));
      s.sync();
      s.close();
      expect(openStorage().load().entries).toEqual([...range(1, 4, 1), ...range(5, 7, 2)]);
      open.pop()!.close();
      fs.truncateSync(logPath(), second);
    }
  });

  it('discards garbage appended after the last record', () => {
    const sizes = writeThree();
    const last = sizes[sizes.length - 1]!;
    const tails = [
      Buffer.alloc(4096), // zeros: a file extended but never written, as after a power loss
      Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01]),
      Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff)),
    ];
    for (const tail of tails) {
      fs.appendFileSync(logPath(), tail);
      const s = openStorage();
      expect(s.load().entries).toEqual(range(1, 7, 1));
      expect(fs.statSync(logPath()).size).toBe(last);
      s.close();
    }
  });

  it('discards a leftover temporary file of an interrupted replacement', () => {
    writeThree();
    fs.writeFileSync(path.join(dir, `${LOG}.tmp`), 'half a log');
    fs.writeFileSync(path.join(dir, `${STATE}.tmp`), 'half a state');
    expect(openStorage().load().entries).toEqual(range(1, 7, 1));
    expect(fs.existsSync(path.join(dir, `${LOG}.tmp`))).toBe(false);
    expect(fs.existsSync(path.join(dir, `${STATE}.tmp`))).toBe(false);
  });
});

describe('FileStorage: corruption', () => {
  function writeRecords(): void {
    const s = openStorage();
    s.setHardState(HS);
    for (let i = 1; i <= 9; i += 3) {
      s.append(range(i, i + 2, 1));
      s.sync();
    }
    s.close();
  }

  function flip(file: string, offset: number): void {
    const buf = fs.readFileSync(file);
    buf[offset] = buf[offset]! ^ 0x10;
    fs.writeFileSync(file, buf);
  }

  function expectCorrupt(file: string): StorageCorruptError {
    const e = thrown(() => openStorage());
    expect(e).toBeInstanceOf(StorageCorruptError);
    const err = e as StorageCorruptError;
    expect(err.name).toBe('StorageCorruptError');
    expect(err.path).toBe(file);
    return err;
  }

  it('a flipped byte in a middle record payload throws StorageCorruptError', () => {
    writeRecords();
    flip(logPath(), MAGIC_BYTES + HEADER_BYTES + 20);
    expect(expectCorrupt(logPath()).message).toContain(`byte ${MAGIC_BYTES}: payload checksum mismatch`);
  });

  it('a flipped byte in a middle record length throws rather than passing for a torn tail', () => {
    writeRecords();
    flip(logPath(), MAGIC_BYTES + 2); // makes the length run past the end of the file
    expect(expectCorrupt(logPath()).message).toContain('header checksum mismatch');
  });

  it('a well-framed record that is not a valid batch throws', () => {
    writeRecords();
    // A record whose checksums match but which starts past the end of the log.
    const payload = Buffer.from(JSON.stringify({ entries: [cmd(50, 1)] }));
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    header.writeUInt32LE(crc32(header.subarray(0, 8)), 8);
    fs.appendFileSync(logPath(), Buffer.concat([header, payload]));
    expect(expectCorrupt(logPath()).message).toContain('starts at index 50');
  });

  it('a log with a wrong magic throws', () => {
    writeRecords();
    flip(logPath(), 0);
    expect(expectCorrupt(logPath()).message).toContain('bad magic');
  });

  it('a damaged hard-state file throws (it is replaced by rename, so it cannot be torn)', () => {
    writeRecords();
    const statePath = path.join(dir, STATE);
    const size = fs.statSync(statePath).size;
    flip(statePath, size - 3);
    expectCorrupt(statePath);
  });

  it('a hard state without its log throws', () => {
    writeRecords();
    fs.rmSync(logPath());
    expectCorrupt(logPath());
  });
});

describe('FileStorage: contract', () => {
  it('rejects bad appends with StorageError, writing nothing', () => {
    const s = openStorage();
    s.append(range(1, 3, 1));
    s.sync();
    const size = fs.statSync(logPath()).size;
    for (const bad of [[], range(5, 5, 1), [cmd(0, 1)], [cmd(4, 1), cmd(6, 1)]]) {
      expect(thrown(() => s.append(bad))).toBeInstanceOf(StorageError);
    }
    s.sync();
    expect(fs.statSync(logPath()).size).toBe(size);
    s.close();
    expect(openStorage().load().entries).toEqual(range(1, 3, 1));
  });

  it('rejects entries that are not plain data', () => {
    const s = openStorage();
    const bad: Entry = { index: 1, term: 1, type: 'command', command: { clientId: 'c', seq: 1, op: 10n } };
    expect(thrown(() => s.append([bad]))).toBeInstanceOf(StorageError);
  });

  it('refuses writes after close(), which may be called twice', () => {
    const s = openStorage();
    s.close();
    s.close();
    for (const write of [() => s.append(range(1, 1, 1)), () => s.setHardState(HS), () => s.sync()]) {
      const e = thrown(write);
      expect(e).toBeInstanceOf(StorageError);
      expect((e as Error).message).toContain('after close()');
    }
  });

  it('counts writes and syncs', () => {
    const s = openStorage();
    s.setHardState(HS);
    s.append(range(1, 1, 1));
    s.sync();
    s.sync();
    expect(s.writeCount).toBe(2);
    expect(s.syncCount).toBe(2);
  });

  it('compacts a log full of overwritten entries, keeping the live ones', () => {
    const s = openStorage({ compactAfterWastedEntries: 10 });
    s.append(range(1, 5, 1));
    s.sync();
    const sizes = [fs.statSync(logPath()).size];
    for (let term = 2; term <= 12; term++) {
      s.append(range(2, 5, term));
      s.sync();
      sizes.push(fs.statSync(logPath()).size);
    }
    // Without compaction the file would only grow.
    expect(sizes.some((size, i) => i > 0 && size < sizes[i - 1]!)).toBe(true);
    expect(Math.max(...sizes)).toBeLessThan(sizes[0]! * 5);
    const expected = [...range(1, 1, 1), ...range(2, 5, 12)];
    expect(s.load().entries).toEqual(expected);
    // Appending after compaction goes to the new file.
    s.append(range(6, 6, 12));
    s.sync();
    s.close();
    expect(openStorage().load().entries).toEqual([...expected, ...range(6, 6, 12)]);
  });
});

describe('crc32', () => {
  it('gives the standard check value and agrees with zlib where zlib has it', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    const zlibCrc: unknown = (zlib as { crc32?: unknown }).crc32;
    if (typeof zlibCrc === 'function') {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
          expect(crc32(bytes)).toBe((zlibCrc as (d: Uint8Array) => number)(bytes));
        }),
      );
    }
  });
});

// ---- A real kill: a child process writes and syncs until SIGKILLed mid-run ----

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST_MODULE = path.join(ROOT, 'dist', 'src', 'node', 'file-storage.js');
const SOURCES = ['src/node/file-storage.ts', 'src/node/storage-errors.ts', 'src/raft/errors.ts'].map((p) =>
  path.join(ROOT, p),
);
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Each loop writes a batch large enough that a kill often lands inside a write. */
const CHILD_SCRIPT = `
import { writeSync } from 'node:fs';
const { FileStorage } = await import(process.env.RH_MODULE);
const storage = FileStorage.open(process.env.RH_DIR);
const BATCH = 16;
const padding = 'x'.repeat(200);
let last = storage.load().entries.length;
let term = storage.load().hardState.term;
// Runs until killed; if the parent goes away, the write to the closed pipe throws and ends it.
for (;;) {
  term += 1;
  const entries = [];
  for (let i = last + 1; i <= last + BATCH; i++) {
    entries.push({ index: i, term, type: 'command', command: { clientId: 'kill', seq: i, op: padding } });
  }
  storage.setHardState({ term, votedFor: 'n1', commit: last });
  storage.append(entries);
  storage.sync();
  last += BATCH;
  writeSync(1, 'synced ' + last + ' ' + term + '\\n');
}
`;

type Child = ChildProcessByStdio<null, Readable, Readable>;

describe('FileStorage: killed mid-write', () => {
  let child: Child | null = null;

  beforeAll(() => {
    const built = fs.existsSync(DIST_MODULE) ? fs.statSync(DIST_MODULE).mtimeMs : -1;
    if (SOURCES.some((s) => fs.statSync(s).mtimeMs > built)) {
      // Type errors elsewhere in the tree still emit; what matters is the file below.
      const result = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.build.json'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
      if (result.error !== undefined) throw result.error;
    }
    expect(fs.existsSync(DIST_MODULE)).toBe(true);
  }, 150_000);

  afterEach(() => {
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = null;
  });

  /** Runs the child until it has reported `syncs` more syncs, kills it, returns the last report. */
  function runAndKill(syncs: number): Promise<{ index: number; term: number; signal: NodeJS.Signals | null }> {
    const proc = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT], {
      env: { ...process.env, RH_MODULE: pathToFileURL(DIST_MODULE).href, RH_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    return new Promise((resolve, reject) => {
      let seen = 0;
      let index = 0;
      let term = 0;
      let pending = '';
      let stderr = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`child reported ${seen} syncs before the time limit; stderr: ${stderr}`));
      }, 30_000);
      proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const match = /^synced (\d+) (\d+)$/.exec(line);
          if (match === null) continue;
          seen += 1;
          index = Math.max(index, Number(match[1]));
          term = Math.max(term, Number(match[2]));
          if (seen === syncs) proc.kill('SIGKILL');
        }
      });
      proc.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      // 'close' comes after stdout has ended, so every line the child printed has been counted.
      proc.on('close', (_code, signal) => {
        clearTimeout(timer);
        if (signal === null) reject(new Error(`child exited on its own; stderr: ${stderr}`));
        else resolve({ index, term, signal });
      });
    });
  }

  it('keeps every entry whose sync was reported, as a valid contiguous log', async () => {
    let floor = 0;
    for (let round = 0; round < 3; round++) {
      const reported = await runAndKill(5);
      expect(reported.signal).toBe('SIGKILL');
      expect(reported.index).toBeGreaterThan(floor);

      const s = openStorage();
      const { hardState, entries } = s.load();
      expect(entries.length).toBeGreaterThanOrEqual(reported.index);
      for (const [i, e] of entries.entries()) {
        expect(e.index).toBe(i + 1);
        expect(e.type === 'command' && e.command.seq).toBe(i + 1);
      }
      expect(hardState.term).toBeGreaterThanOrEqual(reported.term);
      // The hard state is written before the log, so it is never behind the log's last term.
      expect(hardState.term).toBeGreaterThanOrEqual(entries[entries.length - 1]?.term ?? 0);
      expect(hardState.commit).toBeLessThanOrEqual(entries.length);
      s.close();
      open.pop();
      floor = entries.length;
    }
  }, 120_000);
});
