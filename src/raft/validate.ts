import { MalformedMessageError } from './errors.js';
import type { Entry, RaftMessage } from './types.js';
import { RAFT_MESSAGE_TYPES } from './types.js';

type Fields = Record<string, unknown>;

const MESSAGE_TYPES: ReadonlySet<string> = new Set(RAFT_MESSAGE_TYPES);

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function index(m: Fields, field: string, raw: unknown): number {
  const v = m[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new MalformedMessageError(`${field} must be an integer >= 0, got ${JSON.stringify(v) ?? String(v)}`, raw);
  }
  return v;
}

function nodeId(m: Fields, field: string, raw: unknown): void {
  const v = m[field];
  if (typeof v !== 'string' || v.length === 0) {
    throw new MalformedMessageError(`${field} must be a non-empty node id`, raw);
  }
}

function bool(m: Fields, field: string, raw: unknown): void {
  if (typeof m[field] !== 'boolean') throw new MalformedMessageError(`${field} must be a boolean`, raw);
}

function nodeIds(v: unknown, field: string, raw: unknown): void {
  if (!Array.isArray(v) || !v.every((id) => typeof id === 'string' && id.length > 0)) {
    throw new MalformedMessageError(`${field} must be a list of node ids`, raw);
  }
}

function membership(v: unknown, field: string, raw: unknown): void {
  if (!isRecord(v)) throw new MalformedMessageError(`${field} must be { voters, learners }`, raw);
  nodeIds(v.voters, `${field}.voters`, raw);
  nodeIds(v.learners, `${field}.learners`, raw);
}

function entry(e: unknown, raw: unknown, at: number): void {
  if (!isRecord(e)) throw new MalformedMessageError(`entries[${at}] must be an object`, raw);
  index(e, 'index', raw);
  index(e, 'term', raw);
  if (e.type === 'noop') return;
  if (e.type === 'config') {
    membership(e.membership, `entries[${at}].membership`, raw);
    return;
  }
  if (e.type !== 'command') throw new MalformedMessageError(`entries[${at}].type must be "noop", "command" or "config"`, raw);
  const c = e.command;
  if (!isRecord(c) || typeof c.clientId !== 'string' || typeof c.seq !== 'number' || !Number.isSafeInteger(c.seq)) {
    throw new MalformedMessageError(`entries[${at}].command must be { clientId: string, seq: integer, op }`, raw);
  }
}

/**
 * Checks that `raw` is structurally a Raft message and returns it typed. It checks shape only
 * (types, ranges, required fields); whether the message makes sense is the protocol's business.
 */
export function validateMessage(raw: unknown): RaftMessage {
  if (!isRecord(raw)) throw new MalformedMessageError('not an object', raw);
  const m = raw;
  if (typeof m.type !== 'string' || !MESSAGE_TYPES.has(m.type)) {
    throw new MalformedMessageError(`unknown type ${JSON.stringify(m.type) ?? 'undefined'}; allowed: ${RAFT_MESSAGE_TYPES.join(', ')}`, raw);
  }
  nodeId(m, 'from', raw);
  nodeId(m, 'to', raw);
  index(m, 'term', raw);
  switch (m.type) {
    case 'RequestVote':
    case 'PreVote':
      index(m, 'lastLogIndex', raw);
      index(m, 'lastLogTerm', raw);
      if (m.transfer !== undefined && m.transfer !== true) throw new MalformedMessageError('transfer must be true when present', raw);
      break;
    case 'InstallSnapshot': {
      index(m, 'index', raw);
      index(m, 'snapshotTerm', raw);
      membership(m.membership, 'membership', raw);
      const offset = index(m, 'offset', raw);
      const size = index(m, 'size', raw);
      bool(m, 'done', raw);
      if (typeof m.data !== 'string') throw new MalformedMessageError('data must be a string', raw);
      if (offset + m.data.length > size) throw new MalformedMessageError(`chunk at ${offset} of ${m.data.length} runs past size ${size}`, raw);
      break;
    }
    case 'InstallSnapshotReply':
      index(m, 'index', raw);
      index(m, 'offset', raw);
      bool(m, 'done', raw);
      break;
    case 'TimeoutNow':
      break;
    case 'RequestVoteReply':
    case 'PreVoteReply':
      bool(m, 'granted', raw);
      break;
    case 'AppendEntries': {
      const prev = index(m, 'prevLogIndex', raw);
      index(m, 'prevLogTerm', raw);
      index(m, 'leaderCommit', raw);
      index(m, 'readRound', raw);
      if (!Array.isArray(m.entries)) throw new MalformedMessageError('entries must be an array', raw);
      const entries = m.entries as unknown[];
      for (const [i, e] of entries.entries()) {
        entry(e, raw, i);
        if ((e as Entry).index !== prev + 1 + i) {
          throw new MalformedMessageError(`entries[${i}].index must be ${prev + 1 + i} (contiguous after prevLogIndex)`, raw);
        }
      }
      break;
    }
    case 'AppendEntriesReply':
      bool(m, 'success', raw);
      index(m, 'prevLogIndex', raw);
      index(m, 'matchIndex', raw);
      index(m, 'conflictIndex', raw);
      index(m, 'readRound', raw);
      if (m.conflictTerm !== null) index(m, 'conflictTerm', raw);
      break;
  }
  return raw as RaftMessage;
}
