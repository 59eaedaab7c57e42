import { InvalidConfigError } from './errors.js';
import type { NodeId } from './types.js';

/** Protocol settings shared by every node of a cluster. Times are in milliseconds. */
export type RaftOptions = {
  /** Election timeouts are drawn uniformly from [min, max) on every reset. */
  readonly electionTimeout: readonly [min: number, max: number];
  /** Leader heartbeat period; must be below electionTimeout min. */
  readonly heartbeatInterval: number;
  /**
   * Campaign only after a pre-vote round shows a quorum would vote (dissertation §9.6). A node
   * that heard from its leader within electionTimeout min refuses pre-votes.
   */
  readonly preVote: boolean;
  /**
   * A leader checks every electionTimeout min that a quorum was heard from since the last check,
   * and steps down if not (so within 2× min of losing it). Also enables the leader lease: vote
   * requests are ignored while the leader is known to be alive.
   */
  readonly checkQuorum: boolean;
  /** Batching: most entries carried by one AppendEntries. */
  readonly maxEntriesPerMessage: number;
  /** Pipelining: most AppendEntries in flight to one follower before waiting for acks. */
  readonly maxInflight: number;
  /**
   * Log compaction policy (§7): snapshot once this many entries were applied since the last
   * snapshot; 0 never does.
   */
  readonly snapshotEvery: number;
  /** Also snapshot once the log holds more than this many bytes (JSON); 0 never does. */
  readonly snapshotLogBytes: number;
  /** InstallSnapshot chunk size in characters of the serialized snapshot. */
  readonly snapshotChunkSize: number;
};

export const DEFAULT_RAFT_OPTIONS: RaftOptions = {
  electionTimeout: [150, 300],
  heartbeatInterval: 50,
  preVote: true,
  checkQuorum: true,
  maxEntriesPerMessage: 64,
  maxInflight: 8,
  snapshotEvery: 0,
  snapshotLogBytes: 0,
  snapshotChunkSize: 65_536,
};

export type RaftConfig = RaftOptions & {
  readonly id: NodeId;
  /**
   * The cluster's first configuration: its voters, this node included, unless `joining`. Once the
   * log holds a configuration entry (or a snapshot), that one rules.
   */
  readonly members: readonly NodeId[];
  /**
   * A server added to a running cluster: it starts with no configuration, never campaigns, and
   * learns its membership from the leader's log (dissertation §4.1).
   */
  readonly joining: boolean;
};

function checkInteger(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidConfigError(field, value, `an integer >= ${min}`);
  }
  return value;
}

function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidConfigError(field, value, 'true or false');
  return value;
}

/** Validates the node list of a cluster: non-empty, distinct, non-empty string ids. */
export function validateMembers(members: unknown, field = 'members'): readonly NodeId[] {
  if (!Array.isArray(members) || members.length === 0) {
    throw new InvalidConfigError(field, members, 'a non-empty list of node ids');
  }
  const seen = new Set<string>();
  for (const [i, id] of members.entries()) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidConfigError(`${field}[${i}]`, id, 'a non-empty string');
    }
    if (seen.has(id)) throw new InvalidConfigError(`${field}[${i}]`, id, 'ids that are all different');
    seen.add(id);
  }
  return members as NodeId[];
}

/**
 * Fills defaults and checks every field, throwing InvalidConfigError for the first bad one.
 * Accepts `unknown` leaves on purpose: configuration arrives from users, files and the CLI.
 */
export function resolveRaftOptions(options: Partial<Record<keyof RaftOptions, unknown>> = {}): RaftOptions {
  const merged = { ...DEFAULT_RAFT_OPTIONS, ...stripUndefined(options) };
  const et = merged.electionTimeout;
  if (!Array.isArray(et) || et.length !== 2) {
    throw new InvalidConfigError('electionTimeout', et, 'a pair [min, max] of integers, 1 <= min < max');
  }
  const min = checkInteger('electionTimeout[0]', et[0], 1);
  const max = checkInteger('electionTimeout[1]', et[1], 1);
  if (min >= max) {
    throw new InvalidConfigError('electionTimeout', et, `min < max (got min ${min} >= max ${max})`);
  }
  const heartbeatInterval = checkInteger('heartbeatInterval', merged.heartbeatInterval, 1);
  if (heartbeatInterval >= min) {
    throw new InvalidConfigError(
      'heartbeatInterval',
      heartbeatInterval,
      `an integer >= 1 and below electionTimeout min (${min})`,
    );
  }
  return {
    electionTimeout: [min, max],
    heartbeatInterval,
    preVote: checkBoolean('preVote', merged.preVote),
    checkQuorum: checkBoolean('checkQuorum', merged.checkQuorum),
    maxEntriesPerMessage: checkInteger('maxEntriesPerMessage', merged.maxEntriesPerMessage, 1),
    maxInflight: checkInteger('maxInflight', merged.maxInflight, 1),
    snapshotEvery: checkInteger('snapshotEvery', merged.snapshotEvery, 0),
    snapshotLogBytes: checkInteger('snapshotLogBytes', merged.snapshotLogBytes, 0),
    snapshotChunkSize: checkInteger('snapshotChunkSize', merged.snapshotChunkSize, 1),
  };
}

/**
 * Full node configuration: options plus identity. `id` must be one of `members`, unless the node
 * is `joining` a running cluster, when it must not be.
 */
export function resolveRaftConfig(
  id: unknown,
  members: unknown,
  options: Partial<Record<keyof RaftOptions, unknown>> = {},
  joining = false,
): RaftConfig {
  const list = validateMembers(members);
  if (joining) {
    if (typeof id !== 'string' || id.length === 0 || list.includes(id)) {
      throw new InvalidConfigError('id', id, `a new node id, not one of the members (${list.join(', ')})`);
    }
  } else if (typeof id !== 'string' || !list.includes(id)) {
    throw new InvalidConfigError('id', id, `one of the members (${list.join(', ')})`);
  }
  return { ...resolveRaftOptions(options), id, members: list, joining };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
