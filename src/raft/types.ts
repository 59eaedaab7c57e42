/** Plain-data types of the Raft core. Everything here survives structuredClone and JSON. */

export type NodeId = string;

export const ROLES = ['follower', 'precandidate', 'candidate', 'leader'] as const;
export type Role = (typeof ROLES)[number];

/**
 * A client command as it travels in the log. `clientId` + `seq` form the session key: the
 * state machine applies a given (clientId, seq) at most once, whatever the retries.
 */
export type ClientCommand = {
  readonly clientId: string;
  readonly seq: number;
  /** Application operation, opaque to Raft (for the bank: `{ op: 'credit', amount }`). */
  readonly op: unknown;
};

/** The no-op a new leader appends so that it can commit entries of earlier terms (§5.4.2). */
export type NoopEntry = { readonly index: number; readonly term: number; readonly type: 'noop' };
export type CommandEntry = {
  readonly index: number;
  readonly term: number;
  readonly type: 'command';
  readonly command: ClientCommand;
};
/**
 * Who takes part (Raft dissertation §4.1). Voters elect and form quorums; learners only receive
 * the log (a new server catches up as a learner before it may vote). A node follows the latest
 * configuration in its log, committed or not.
 */
export type Membership = { readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] };
/** A membership change: one server at a time, so any two successive majorities overlap. */
export type ConfigEntry = {
  readonly index: number;
  readonly term: number;
  readonly type: 'config';
  readonly membership: Membership;
};
export type Entry = NoopEntry | CommandEntry | ConfigEntry;

/**
 * The state machine as of `index` (log compaction, §7): it replaces entries 1..index. `data` is
 * the shell's serialized application state and sessions, opaque to the core; `membership` is the
 * configuration as of `index`, since the entries that said so are gone.
 */
export type Snapshot = {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
  readonly data: string;
};

/** What must be on stable storage before the node answers anyone (Figure 2, "Persistent state"). */
export type HardState = {
  readonly term: number;
  readonly votedFor: NodeId | null;
  /**
   * Persisted lazily: a lower bound of the true commit index. A restarted node starts with this
   * commit index and rebuilds its state machine by re-applying entries 1..commit.
   */
  readonly commit: number;
};

export type PersistedState = {
  readonly hardState: HardState;
  /** The latest snapshot, if the log was ever compacted. */
  readonly snapshot: Snapshot | null;
  /** Contiguous, starting just after the snapshot (at index 1 without one). */
  readonly entries: readonly Entry[];
};

export const EMPTY_STATE: PersistedState = {
  hardState: { term: 0, votedFor: null, commit: 0 },
  snapshot: null,
  entries: [],
};

// ---- Messages (the paper's names). `term` is the sender's term except where noted. ----

export type RequestVote = {
  readonly type: 'RequestVote';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Sent on TimeoutNow (leadership transfer): voters grant it even inside a leader's lease. */
  readonly transfer?: true;
};
export type RequestVoteReply = {
  readonly type: 'RequestVoteReply';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly granted: boolean;
};
/** Pre-vote (§9.6 of the dissertation): `term` is the term the sender would campaign in. */
export type PreVote = {
  readonly type: 'PreVote';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
};
/** `term` is the proposed term when granted, the voter's own term when refused. */
export type PreVoteReply = {
  readonly type: 'PreVoteReply';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly granted: boolean;
};
export type AppendEntries = {
  readonly type: 'AppendEntries';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly leaderCommit: number;
  /** ReadIndex round the leader was in when it sent this; echoed in the reply. */
  readonly readRound: number;
};
export type AppendEntriesReply = {
  readonly type: 'AppendEntriesReply';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly success: boolean;
  /** Echo of the request's prevLogIndex, so the leader can tell stale replies apart. */
  readonly prevLogIndex: number;
  /** On success: the last index known to match the leader's log. */
  readonly matchIndex: number;
  /**
   * On failure, fast backup: the follower's term at prevLogIndex (null if its log is shorter)
   * and the first index it holds of that term (or its last index + 1).
   */
  readonly conflictTerm: number | null;
  readonly conflictIndex: number;
  readonly readRound: number;
};

/**
 * One chunk of the leader's snapshot (§7). Chunks go one at a time, each after the previous one
 * was acknowledged; `offset` is where `data` starts in the whole serialized snapshot of `size`.
 */
export type InstallSnapshot = {
  readonly type: 'InstallSnapshot';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  /** Last index and term the snapshot replaces. */
  readonly index: number;
  readonly snapshotTerm: number;
  readonly membership: Membership;
  readonly offset: number;
  readonly data: string;
  readonly size: number;
  readonly done: boolean;
};
export type InstallSnapshotReply = {
  readonly type: 'InstallSnapshotReply';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly index: number;
  /** How much of the snapshot the follower holds: where the next chunk must start. */
  readonly offset: number;
  /** The follower installed the snapshot (or already had everything it covers). */
  readonly done: boolean;
};
/** Leadership transfer (dissertation §3.10): campaign now, without waiting or pre-voting. */
export type TimeoutNow = {
  readonly type: 'TimeoutNow';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
};

export type RaftMessage =
  | RequestVote
  | RequestVoteReply
  | PreVote
  | PreVoteReply
  | AppendEntries
  | AppendEntriesReply
  | InstallSnapshot
  | InstallSnapshotReply
  | TimeoutNow;

export type RaftMessageType = RaftMessage['type'];

export const RAFT_MESSAGE_TYPES = [
  'RequestVote',
  'RequestVoteReply',
  'PreVote',
  'PreVoteReply',
  'AppendEntries',
  'AppendEntriesReply',
  'InstallSnapshot',
  'InstallSnapshotReply',
  'TimeoutNow',
] as const satisfies readonly RaftMessageType[];

// ---- What the core hands to its shell ----

/** A ReadIndex answer: once the state machine has applied `index`, the read may be served. */
export type ReadState = { readonly ctx: string; readonly index: number };

/** Structured observations for traces and triggers; plain data, deterministic. */
export type CoreEvent =
  | { readonly type: 'role'; readonly from: Role; readonly to: Role; readonly term: number }
  | { readonly type: 'term'; readonly from: number; readonly to: number }
  | { readonly type: 'vote'; readonly term: number; readonly for: NodeId }
  | { readonly type: 'commit'; readonly from: number; readonly to: number; readonly term: number }
  | { readonly type: 'truncate'; readonly from: number; readonly term: number }
  /** The configuration this node now follows (from its log or a snapshot), committed or not. */
  | { readonly type: 'membership'; readonly index: number; readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] }
  /** The log was compacted up to `index`: by this node (`taken`) or from the leader (`installed`). */
  | { readonly type: 'snapshot'; readonly index: number; readonly term: number; readonly source: 'taken' | 'installed' }
  | { readonly type: 'transfer'; readonly to: NodeId; readonly phase: 'started' | 'timeout-now' | 'aborted' };

/**
 * One batch of work for the shell, in the order it must be done: persist `hardState` and
 * `entries` and sync; only then send `messages` (they promise what was persisted); then apply
 * `committed` and serve `reads`.
 */
export type Ready = {
  readonly hardState: HardState | null;
  /**
   * A snapshot received from the leader: persist it first (entries it covers are dropped from the
   * stored log, and the rest too unless the stored entry at its index has its term, §7), then
   * restore the state machine from it.
   */
  readonly snapshot: Snapshot | null;
  /** Entries to write, overwriting the stored log from `entries[0].index` on. */
  readonly entries: readonly Entry[];
  readonly messages: readonly RaftMessage[];
  readonly committed: readonly Entry[];
  readonly reads: readonly ReadState[];
  /** Reads that can no longer be served here (the node lost leadership): answer "not leader". */
  readonly droppedReads: readonly string[];
  readonly events: readonly CoreEvent[];
};

export type MembershipChange =
  | { readonly type: 'add-learner'; readonly id: NodeId }
  | { readonly type: 'promote'; readonly id: NodeId }
  | { readonly type: 'remove'; readonly id: NodeId };

/** Why a leader refused a membership change or a transfer; nothing changed. */
export const CHANGE_REFUSALS = [
  'not-leader',
  'change-pending',
  'already-member',
  'not-member',
  'not-learner',
  'last-voter',
  'not-voter',
  'transferring',
] as const;
export type ChangeRefusal = (typeof CHANGE_REFUSALS)[number];

export type ChangeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: ChangeRefusal; readonly leaderHint: NodeId | null };

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null };

export type ReadIndexResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null };

/** The core's state, for inspection. */
export type CoreStatus = {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly leaderId: NodeId | null;
  readonly commitIndex: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Leadership transfer in progress (leader only): its target. */
  readonly transferee: NodeId | null;
};
