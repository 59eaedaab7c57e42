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
export type Entry = NoopEntry | CommandEntry;

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
  /** Contiguous, starting at index 1. */
  readonly entries: readonly Entry[];
};

export const EMPTY_STATE: PersistedState = {
  hardState: { term: 0, votedFor: null, commit: 0 },
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

export type RaftMessage =
  | RequestVote
  | RequestVoteReply
  | PreVote
  | PreVoteReply
  | AppendEntries
  | AppendEntriesReply;

export type RaftMessageType = RaftMessage['type'];

export const RAFT_MESSAGE_TYPES = [
  'RequestVote',
  'RequestVoteReply',
  'PreVote',
  'PreVoteReply',
  'AppendEntries',
  'AppendEntriesReply',
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
  | { readonly type: 'truncate'; readonly from: number; readonly term: number };

/**
 * One batch of work for the shell, in the order it must be done: persist `hardState` and
 * `entries` and sync; only then send `messages` (they promise what was persisted); then apply
 * `committed` and serve `reads`.
 */
export type Ready = {
  readonly hardState: HardState | null;
  /** Entries to write, overwriting the stored log from `entries[0].index` on. */
  readonly entries: readonly Entry[];
  readonly messages: readonly RaftMessage[];
  readonly committed: readonly Entry[];
  readonly reads: readonly ReadState[];
  /** Reads that can no longer be served here (the node lost leadership): answer "not leader". */
  readonly droppedReads: readonly string[];
  readonly events: readonly CoreEvent[];
};

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
};
