import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidConfigError, StorageCorruptError } from '../raft/errors.js';
import { EMPTY_STATE } from '../raft/types.js';
import type { Entry, HardState, Membership, PersistedState, Snapshot } from '../raft/types.js';
import type { Storage } from './storage.js';
import { StorageError, assertAppendable, entriesAfterSnapshot } from './storage-errors.js';

/*
 * On-disk layout of a FileStorage directory:
 *
 *   raft.log     LOG_MAGIC, then records; appended to only, until compaction replaces it whole
 *   hard-state   STATE_MAGIC, then exactly one record; replaced whole, atomically, by rename
 *   snapshot     SNAP_MAGIC, then exactly one record (the Snapshot); replaced whole by rename
 *   *.tmp        a replacement being written; discarded at open (it never got renamed)
 *
 * A record is a 12-byte header then a payload (integers little-endian):
 *
 *   u32 payload length | u32 CRC32 of payload | u32 CRC32 of the first 8 header bytes | payload
 *
 * The header carries its own checksum so that a damaged length is detected instead of trusted:
 * a trusted bad length could make a damaged middle record look like a torn tail, and replay
 * would then silently drop every record after it.
 *
 * The payload is UTF-8 JSON. In raft.log it is a batch `{ "entries": [...] }` (non-empty,
 * contiguous). A batch starting at index i replaces everything from i on, exactly like
 * `Storage.append`, so overwrites need no truncate record of their own. In hard-state it is the
 * HardState itself; in snapshot, the Snapshot.
 *
 * A snapshot replaces the log up to its index (§7). The snapshot file is written before the log
 * loses anything (the log is only rewritten later, by compaction), and replay ignores the entries
 * a snapshot covers, so a crash between the two loses nothing.
 */

const LOG_FILE = 'raft.log';
const STATE_FILE = 'hard-state';
const SNAP_FILE = 'snapshot';
const TMP_SUFFIX = '.tmp';
/** Names the format and its version: a different file, or a future format, is refused. */
const LOG_MAGIC = Buffer.from('RHLOG\0\0\x01', 'latin1');
const STATE_MAGIC = Buffer.from('RHHST\0\0\x01', 'latin1');
const SNAP_MAGIC = Buffer.from('RHSNP\0\0\x01', 'latin1');
const HEADER_BYTES = 12;
const MAX_PAYLOAD_BYTES = 0xffff_ffff;
/** Entries per record when compaction rewrites the log: keeps each record's JSON small. */
const COMPACTED_BATCH = 1024;
const DEFAULT_COMPACT_AFTER_WASTED_ENTRIES = 1024;

export type FileStorageOptions = {
  /**
   * Rewrite raft.log once it holds at least this many superseded entries and they are at least
   * as many as the live ones (so the rewrite cost is amortized over the writes that caused it).
   */
  readonly compactAfterWastedEntries?: number;
};

/**
 * Storage in a directory, for real runs. Appends and the hard state are buffered in memory and
 * written at `sync()`: the hard state first (atomically), then the log records, then fsync. So
 * whatever a crash leaves, the stored term is never older than the stored log's last term.
 *
 * Replay at `open` discards a torn final record (a write cut short by a kill or a power loss) and
 * truncates the file to the last whole record. Damage followed by a valid record cannot be a torn
 * write and throws StorageCorruptError. Damage confined to the final record is indistinguishable
 * from a torn write and is treated as one.
 */
export class FileStorage implements Storage {
  private readonly dir: string;
  private readonly logPath: string;
  private readonly statePath: string;
  private readonly compactAfterWastedEntries: number;
  /** Open descriptor of raft.log; null once closed. */
  private logFd: number | null;
  /** Length of raft.log. Invariant: the bytes before it are the magic and whole, valid records. */
  private logSize: number;
  /** Entries in raft.log across all records, superseded ones included: what compaction reclaims. */
  private entriesInFile: number;
  /** Durable hard state: what the hard-state file holds. */
  private hardState: HardState;
  /** Durable snapshot: what the snapshot file holds. */
  private snapshot: Snapshot | null;
  /** Durable log after the snapshot, as replay would read it back. Invariant: `entries[i].index === snapshotIndex + i + 1`. */
  private entries: Entry[];
  /** Set since the last sync; only the latest counts, since the file is replaced whole. */
  private pendingHardState: HardState | null = null;
  /** Appended since the last sync, oldest first: the encoded record and its entries as read back. */
  private pendingAppends: { readonly record: Buffer; readonly entries: readonly Entry[] }[] = [];
  /** Snapshots and appends since the last sync, in the order they were written. */
  private pendingOrder: Array<{ readonly kind: 'append'; readonly entries: readonly Entry[] } | { readonly kind: 'snapshot'; readonly snapshot: Snapshot }> = [];
  /** Latest snapshot written since the last sync (only the latest reaches the file). */
  private pendingSnapshot: Snapshot | null = null;
  /** Last index of the log as written so far (durable + pending): what appends are checked against. */
  private writtenLastIndex: number;
  /**
   * The first I/O error of a write or sync. After a failed write or fsync the kernel's cache can
   * no longer be trusted to match the disk, so every later write is refused.
   */
  private failure: unknown = null;
  private syncs = 0;
  private writes = 0;

  private constructor(
    dir: string,
    compactAfterWastedEntries: number,
    logFd: number,
    logSize: number,
    hardState: HardState,
    snapshot: Snapshot | null,
    log: ReplayedLog,
  ) {
    this.dir = dir;
    this.logPath = path.join(dir, LOG_FILE);
    this.statePath = path.join(dir, STATE_FILE);
    this.compactAfterWastedEntries = compactAfterWastedEntries;
    this.logFd = logFd;
    this.logSize = logSize;
    this.hardState = hardState;
    this.snapshot = snapshot;
    this.entries = log.entries;
    this.entriesInFile = log.entriesInFile;
    this.writtenLastIndex = this.snapshotIndex + log.entries.length;
  }

  private get snapshotIndex(): number {
    return this.snapshot?.index ?? 0;
  }

  /**
   * Opens (creating if missing) the storage in `dir` and replays it. Throws StorageCorruptError
   * if what is there cannot be what this class wrote.
   */
  static open(dir: string, options: FileStorageOptions = {}): FileStorage {
    const threshold = options.compactAfterWastedEntries ?? DEFAULT_COMPACT_AFTER_WASTED_ENTRIES;
    if (!Number.isSafeInteger(threshold) || threshold < 0) {
      throw new InvalidConfigError('compactAfterWastedEntries', threshold, 'an integer >= 0');
    }
    fs.mkdirSync(dir, { recursive: true });
    const logPath = path.join(dir, LOG_FILE);
    const statePath = path.join(dir, STATE_FILE);
    for (const name of [LOG_FILE, STATE_FILE, SNAP_FILE]) fs.rmSync(path.join(dir, name + TMP_SUFFIX), { force: true });

    const hardState = readHardState(statePath);
    const snapshot = readSnapshot(path.join(dir, SNAP_FILE));
    let log = replayLog(logPath, snapshot?.index ?? 0);
    if (log === null) {
      // Without its log, a stored term and vote would describe a node that lost acknowledged
      // entries: refuse rather than restart it as if it were new.
      if (fs.existsSync(statePath)) throw new StorageCorruptError(logPath, `missing, but ${statePath} exists`);
      writeLogFile(dir, logPath, []);
      log = { base: 0, entries: [], entriesInFile: 0, validBytes: LOG_MAGIC.length, totalBytes: LOG_MAGIC.length };
    }

    const fd = fs.openSync(logPath, 'r+');
    try {
      if (log.validBytes < log.totalBytes) {
        // Drop the torn tail now, so that new records follow whole ones.
        fs.ftruncateSync(fd, log.validBytes);
        fs.fsyncSync(fd);
      }
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    // The log may still hold entries the snapshot covers (a crash came before compaction).
    const base = snapshot?.index ?? 0;
    if (log.base > base) {
      fs.closeSync(fd);
      throw new StorageCorruptError(logPath, `starts after index ${log.base}, but the snapshot ends at ${base}: entries are missing`);
    }
    const live = snapshot === null ? log.entries : entriesAfterSnapshot(log.entries, log.base, snapshot.index, snapshot.term);
    const storage = new FileStorage(dir, threshold, fd, log.validBytes, hardState, snapshot, { ...log, base, entries: live });
    try {
      storage.maybeCompact();
    } catch (e) {
      storage.close();
      throw e;
    }
    return storage;
  }

  /** Calls to `sync()`. */
  get syncCount(): number {
    return this.syncs;
  }

  /** Accepted `setHardState` and `append` calls. */
  get writeCount(): number {
    return this.writes;
  }

  /** What is durable (the last sync's state); a deep copy. Still readable after `close()`. */
  load(): PersistedState {
    return structuredClone({ hardState: this.hardState, snapshot: this.snapshot, entries: this.entries });
  }

  setHardState(hardState: HardState): void {
    this.assertWritable('setHardState');
    const problem = hardStateProblem(hardState);
    if (problem !== null) throw new StorageError(`setHardState: ${problem}`);
    this.pendingHardState = { term: hardState.term, votedFor: hardState.votedFor, commit: hardState.commit };
    this.writes += 1;
  }

  append(entries: readonly Entry[]): void {
    this.assertWritable('append');
    assertAppendable(entries, this.writtenLastIndex);
    let text: string;
    try {
      text = JSON.stringify({ entries });
    } catch (e) {
      throw new StorageError(`append of entries ${entries[0]!.index}.. that are not plain data`, { cause: e });
    }
    // Kept as replay will read them, so `load()` is the same before and after a reopen.
    const readBack = parseBatch(text);
    if (typeof readBack === 'string') {
      throw new StorageError(`append of entries ${entries[0]!.index}.. that do not survive JSON: ${readBack}`);
    }
    if (entries[0]!.index <= this.snapshotIndex) {
      throw new StorageError(`append at ${entries[0]!.index}, inside the snapshot (up to ${this.snapshotIndex})`);
    }
    this.pendingAppends.push({ record: frame(text), entries: readBack });
    this.pendingOrder.push({ kind: 'append', entries: readBack });
    this.writtenLastIndex = entries[entries.length - 1]!.index;
    this.writes += 1;
  }

  saveSnapshot(snapshot: Snapshot): void {
    this.assertWritable('saveSnapshot');
    const readBack = parseSnapshot(JSON.stringify(snapshot));
    if (typeof readBack === 'string') throw new StorageError(`saveSnapshot at ${snapshot.index}: ${readBack}`);
    this.pendingSnapshot = readBack;
    this.pendingOrder.push({ kind: 'snapshot', snapshot: readBack });
    this.writtenLastIndex = Math.max(this.writtenLastIndex, snapshot.index);
    this.writes += 1;
  }

  sync(): void {
    const fd = this.assertWritable('sync');
    const hardState = this.pendingHardState;
    const appends = this.pendingAppends;
    const snapshot = this.pendingSnapshot;
    try {
      // Hard state first: see the class comment. Then the snapshot, before the log loses anything.
      if (hardState !== null && !sameHardState(hardState, this.hardState)) {
        writeStateFile(this.dir, this.statePath, hardState);
      }
      if (snapshot !== null) writeRecordFile(this.dir, path.join(this.dir, SNAP_FILE), SNAP_MAGIC, JSON.stringify(snapshot));
      if (appends.length > 0) {
        const bytes = Buffer.concat(appends.map((a) => a.record));
        writeAll(fd, bytes, this.logSize);
        fs.fsyncSync(fd);
        this.logSize += bytes.length;
      }
    } catch (e) {
      this.failure = e;
      throw new StorageError(`sync of ${this.dir} failed; later writes will be refused`, { cause: e });
    }
    if (hardState !== null) this.hardState = hardState;
    for (const w of this.pendingOrder) {
      if (w.kind === 'snapshot') {
        this.entries = entriesAfterSnapshot(this.entries, this.snapshotIndex, w.snapshot.index, w.snapshot.term);
        this.snapshot = w.snapshot;
        continue;
      }
      this.entries.length = w.entries[0]!.index - this.snapshotIndex - 1;
      for (const e of w.entries) this.entries.push(e);
      this.entriesInFile += w.entries.length;
    }
    this.pendingHardState = null;
    this.pendingAppends = [];
    this.pendingOrder = [];
    this.pendingSnapshot = null;
    this.syncs += 1;
    this.maybeCompact();
  }

  /** Closes the log file. Writes not yet synced were never written and are dropped. */
  close(): void {
    if (this.logFd === null) return;
    const fd = this.logFd;
    this.logFd = null;
    this.pendingHardState = null;
    this.pendingAppends = [];
    this.pendingOrder = [];
    this.pendingSnapshot = null;
    fs.closeSync(fd);
  }

  /** Rewrites raft.log with only the live entries, if enough of it is superseded. */
  private maybeCompact(): void {
    const wasted = this.entriesInFile - this.entries.length;
    if (wasted === 0 || wasted < this.compactAfterWastedEntries || wasted < this.entries.length) return;
    if (this.logFd === null || this.pendingAppends.length > 0) return;
    try {
      const size = writeLogFile(this.dir, this.logPath, this.entries);
      // The old descriptor points at the replaced file now.
      fs.closeSync(this.logFd);
      this.logFd = null;
      this.logFd = fs.openSync(this.logPath, 'r+');
      this.logSize = size;
      this.entriesInFile = this.entries.length;
    } catch (e) {
      this.failure = e;
      throw new StorageError(`compaction of ${this.logPath} failed; later writes will be refused`, { cause: e });
    }
  }

  private assertWritable(operation: string): number {
    if (this.logFd === null) throw new StorageError(`${operation} after close() of ${this.dir}`);
    if (this.failure !== null) {
      throw new StorageError(`${operation} refused: an earlier write to ${this.dir} failed`, { cause: this.failure });
    }
    return this.logFd;
  }
}

// ---- CRC32 (IEEE 802.3, the one zlib and PNG use), table-driven ----

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Own implementation: `zlib.crc32` only exists from Node 20.15 on, and we support all of 20. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- Records ----

function frame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new StorageError(`record of ${payload.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.writeUInt32LE(crc32(out.subarray(0, 8)), 8);
  payload.copy(out, HEADER_BYTES);
  return out;
}

type Unframed =
  | { readonly ok: true; readonly text: string; readonly next: number }
  | { readonly ok: false; readonly problem: string };

/** Reads the record at `offset`; `ok: false` when its bytes are not a whole, intact record. */
function unframe(buf: Buffer, offset: number): Unframed {
  const left = buf.length - offset;
  if (left < HEADER_BYTES) return { ok: false, problem: `only ${left} bytes left, too few for a record header` };
  const length = buf.readUInt32LE(offset);
  const payloadCrc = buf.readUInt32LE(offset + 4);
  const headerCrc = buf.readUInt32LE(offset + 8);
  if (crc32(buf.subarray(offset, offset + 8)) !== headerCrc) return { ok: false, problem: 'header checksum mismatch' };
  const start = offset + HEADER_BYTES;
  const end = start + length;
  if (end > buf.length) {
    return { ok: false, problem: `payload of ${length} bytes runs past the end of the file (${buf.length - start} present)` };
  }
  const payload = buf.subarray(start, end);
  if (crc32(payload) !== payloadCrc) return { ok: false, problem: 'payload checksum mismatch' };
  return { ok: true, text: payload.toString('utf8'), next: end };
}

/** Offset of the first intact record starting in [from, end), or null. */
function findIntactRecord(buf: Buffer, from: number): number | null {
  for (let p = from; p + HEADER_BYTES <= buf.length; p++) {
    if (unframe(buf, p).ok) return p;
  }
  return null;
}

type ReplayedLog = {
  /** Index before the first entry: 0, or where a log rewritten after a snapshot starts. */
  readonly base: number;
  /** Invariant: `entries[i].index === base + i + 1`. */
  readonly entries: Entry[];
  readonly entriesInFile: number;
  /** Bytes up to the end of the last intact record; the rest is a torn tail. */
  readonly validBytes: number;
  readonly totalBytes: number;
};

/**
 * Null if there is no log yet (or only the start of its magic: creation was cut short). Records
 * follow each other contiguously, except that one may start anywhere up to just after the
 * snapshot's index: a snapshot installed from the leader replaced everything before it, and the
 * log (rewritten only later, by compaction) went on after it.
 */
function replayLog(logPath: string, snapshotIndex: number): ReplayedLog | null {
  if (!fs.existsSync(logPath)) return null;
  const buf = fs.readFileSync(logPath);
  if (buf.length < LOG_MAGIC.length && buf.equals(LOG_MAGIC.subarray(0, buf.length))) return null;
  if (!buf.subarray(0, LOG_MAGIC.length).equals(LOG_MAGIC)) {
    throw new StorageCorruptError(logPath, 'not a raft-harness log, or a different format version (bad magic)');
  }
  const entries: Entry[] = [];
  let base = 0;
  let entriesInFile = 0;
  let offset = LOG_MAGIC.length;
  while (offset < buf.length) {
    const record = unframe(buf, offset);
    if (!record.ok) {
      const later = findIntactRecord(buf, offset + 1);
      if (later !== null) {
        throw new StorageCorruptError(
          logPath,
          `record at byte ${offset}: ${record.problem}, yet an intact record follows at byte ${later}`,
        );
      }
      break;
    }
    // The checksum matched, so these are the bytes that were written: a bad batch is a bug or a
    // foreign writer, never a torn write.
    const batch = parseBatch(record.text);
    if (typeof batch === 'string') throw new StorageCorruptError(logPath, `record at byte ${offset}: ${batch}`);
    const first = batch[0]!.index;
    // A log rewritten after a snapshot starts past index 1: its first record sets the base; so
    // does a record that continues the log after an installed snapshot.
    if (entriesInFile === 0 || (first > base + entries.length + 1 && first <= snapshotIndex + 1)) {
      base = first - 1;
      entries.length = 0;
    }
    if (first > base + entries.length + 1 || first <= base) {
      throw new StorageCorruptError(
        logPath,
        `record at byte ${offset} starts at index ${first}, outside ${base + 1}..${base + entries.length + 1}`,
      );
    }
    entries.length = first - base - 1;
    for (const e of batch) entries.push(e);
    entriesInFile += batch.length;
    offset = record.next;
  }
  return { base, entries, entriesInFile, validBytes: offset, totalBytes: buf.length };
}

function readHardState(statePath: string): HardState {
  if (!fs.existsSync(statePath)) return EMPTY_STATE.hardState;
  // Replaced only by rename, so it is never torn: any damage is corruption.
  const buf = fs.readFileSync(statePath);
  if (!buf.subarray(0, STATE_MAGIC.length).equals(STATE_MAGIC)) {
    throw new StorageCorruptError(statePath, 'not a raft-harness hard state, or a different format version (bad magic)');
  }
  const record = unframe(buf, STATE_MAGIC.length);
  if (!record.ok) throw new StorageCorruptError(statePath, record.problem);
  if (record.next !== buf.length) throw new StorageCorruptError(statePath, `${buf.length - record.next} bytes after the record`);
  const value = parseJson(record.text);
  const problem = hardStateProblem(value);
  if (problem !== null) throw new StorageCorruptError(statePath, problem);
  const hs = value as HardState;
  return { term: hs.term, votedFor: hs.votedFor, commit: hs.commit };
}

// ---- Files ----

/** Writes a complete log holding `entries` under a temporary name, then renames it into place. */
function writeLogFile(dir: string, logPath: string, entries: readonly Entry[]): number {
  const tmp = logPath + TMP_SUFFIX;
  const fd = fs.openSync(tmp, 'w');
  let size = 0;
  try {
    writeAll(fd, LOG_MAGIC, 0);
    size = LOG_MAGIC.length;
    for (let i = 0; i < entries.length; i += COMPACTED_BATCH) {
      const record = frame(JSON.stringify({ entries: entries.slice(i, i + COMPACTED_BATCH) }));
      writeAll(fd, record, size);
      size += record.length;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, logPath);
  fsyncDirectory(dir);
  return size;
}

function writeStateFile(dir: string, statePath: string, hardState: HardState): void {
  writeRecordFile(dir, statePath, STATE_MAGIC, JSON.stringify(hardState));
}

function readSnapshot(snapPath: string): Snapshot | null {
  if (!fs.existsSync(snapPath)) return null;
  // Replaced only by rename, so it is never torn: any damage is corruption.
  const buf = fs.readFileSync(snapPath);
  if (!buf.subarray(0, SNAP_MAGIC.length).equals(SNAP_MAGIC)) {
    throw new StorageCorruptError(snapPath, 'not a raft-harness snapshot, or a different format version (bad magic)');
  }
  const record = unframe(buf, SNAP_MAGIC.length);
  if (!record.ok) throw new StorageCorruptError(snapPath, record.problem);
  const snapshot = parseSnapshot(record.text);
  if (typeof snapshot === 'string') throw new StorageCorruptError(snapPath, snapshot);
  return snapshot;
}

function parseSnapshot(text: string): Snapshot | string {
  const v = parseJson(text);
  if (!isRecord(v) || !isNatural(v['index']) || !isNatural(v['term']) || typeof v['data'] !== 'string') {
    return 'not a snapshot { index, term, membership, data }';
  }
  const m = v['membership'];
  const ids = (x: unknown): x is string[] => Array.isArray(x) && x.every((id) => typeof id === 'string');
  if (!isRecord(m) || !ids(m['voters']) || !ids(m['learners'])) return 'snapshot membership is not { voters, learners }';
  const membership: Membership = { voters: m['voters'], learners: m['learners'] };
  return { index: v['index'], term: v['term'], membership, data: v['data'] };
}

/** Writes MAGIC + one record under a temporary name, fsyncs, and renames it into place. */
function writeRecordFile(dir: string, filePath: string, magic: Buffer, text: string): void {
  const tmp = filePath + TMP_SUFFIX;
  const bytes = Buffer.concat([magic, frame(text)]);
  const fd = fs.openSync(tmp, 'w');
  try {
    writeAll(fd, bytes, 0);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, filePath);
  fsyncDirectory(dir);
}

/** `writeSync` may write less than asked; loop until all of `bytes` is at `position`. */
function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}

/** Makes a rename durable. Windows cannot open or fsync a directory, and needs neither. */
function fsyncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// ---- Validation of what is read back ----

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNatural(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function hardStateProblem(value: unknown): string | null {
  if (!isRecord(value)) return 'hard state is not an object';
  const { term, votedFor, commit } = value;
  if (!isNatural(term)) return `term ${String(term)} is not an integer >= 0`;
  if (votedFor !== null && typeof votedFor !== 'string') return `votedFor ${String(votedFor)} is neither null nor a node id`;
  if (!isNatural(commit)) return `commit ${String(commit)} is not an integer >= 0`;
  return null;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.votedFor === b.votedFor && a.commit === b.commit;
}

/** A batch record's entries (non-empty, contiguous), or what is wrong with it. */
function parseBatch(text: string): Entry[] | string {
  const value = parseJson(text);
  if (!isRecord(value) || !Array.isArray(value['entries'])) return 'not an entry batch';
  const raw: unknown[] = value['entries'];
  if (raw.length === 0) return 'empty entry batch';
  const entries: Entry[] = [];
  for (const [i, item] of raw.entries()) {
    const entry = parseEntry(item);
    if (entry === null) return `batch entry ${i} is not an entry`;
    const first = entries[0]?.index ?? entry.index;
    if (entry.index !== first + i) return `batch entry ${i} has index ${entry.index}, expected ${first + i}`;
    entries.push(entry);
  }
  if (entries[0]!.index < 1) return `batch starts at index ${entries[0]!.index}`;
  return entries;
}

function parseEntry(value: unknown): Entry | null {
  if (!isRecord(value)) return null;
  const { index, term, type } = value;
  if (!isNatural(index) || !isNatural(term)) return null;
  if (type === 'noop') return { index, term, type };
  if (type === 'config') {
    const m = value['membership'];
    const ids = (x: unknown): x is string[] => Array.isArray(x) && x.every((id) => typeof id === 'string');
    if (!isRecord(m) || !ids(m['voters']) || !ids(m['learners'])) return null;
    return { index, term, type, membership: { voters: m['voters'], learners: m['learners'] } };
  }
  if (type !== 'command') return null;
  const command = value['command'];
  if (!isRecord(command)) return null;
  const { clientId, seq, op } = command;
  if (typeof clientId !== 'string' || typeof seq !== 'number') return null;
  return { index, term, type, command: { clientId, seq, op } };
}
