import type { RaftConfig } from './config.js';
import { RaftInvariantError } from './errors.js';
import { RaftLog } from './log.js';
import { validateMessage } from './validate.js';
import { randomInt, type Random } from './random.js';
import type {
  AppendEntries,
  AppendEntriesReply,
  ChangeRefusal,
  ChangeResult,
  ClientCommand,
  CoreEvent,
  CoreStatus,
  Entry,
  HardState,
  InstallSnapshot,
  InstallSnapshotReply,
  Membership,
  MembershipChange,
  NodeId,
  PersistedState,
  PreVote,
  PreVoteReply,
  ProposeResult,
  RaftMessage,
  Ready,
  ReadIndexResult,
  ReadState,
  RequestVote,
  RequestVoteReply,
  Role,
  Snapshot,
  TimeoutNow,
} from './types.js';

/**
 * Replication progress of one follower, as the leader sees it (etcd's `Progress`).
 * Invariant: 0 <= match < next <= leader's last index + 1.
 */
type Progress = {
  /** Highest index known to be replicated on the follower. Never decreases within a term. */
  match: number;
  /** Next index to send. Optimistic in `replicate`, the index being probed in `probe`. */
  next: number;
  /**
   * `probe`: one AppendEntries at a time, waiting for its answer (after a rejection or a new
   * term). `replicate`: entries are streamed ahead of acks, up to `maxInflight` messages.
   * `snapshot`: the entries it needs were compacted; the snapshot goes one chunk at a time.
   */
  state: 'probe' | 'replicate' | 'snapshot';
  /** In `snapshot` state: which snapshot is being sent, and where its next chunk starts. */
  snapshotIndex: number;
  snapshotOffset: number;
  /** Last index carried by each unacknowledged AppendEntries in `replicate` state, ascending. */
  inflight: number[];
  /** Heard from since the last check-quorum round. */
  recentActive: boolean;
  /**
   * `match` and the leader's last index at the previous heartbeat. If the follower was already
   * behind then and `match` has not moved for a whole heartbeat interval since, a message was
   * lost: the leader falls back to probing. Waiting a full interval keeps entries that are merely
   * in flight from being sent twice.
   */
  matchAtHeartbeat: number;
  lastIndexAtHeartbeat: number;
  /** Highest commit index this follower has been told (bounded by what each message carried). */
  commitSent: number;
};

type PendingRead = { readonly ctx: string; readonly round: number; index: number | null };

/**
 * The Raft protocol as a deterministic state machine, in the style of etcd raft's `raft.go`.
 *
 * Inputs: `step(message, now)`, `tick(now)`, `propose(command, now)`, `readIndex(ctx, now)`.
 * `now` is the shell's clock in ms; the core keeps no timers and draws randomness only from the
 * injected `random`. Output accumulates until the shell takes it with `ready()`, and must be
 * handled in the order documented on `Ready`.
 */
export class RaftCore {
  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly random: Random;

  // Membership (dissertation §4.1): the latest configuration in the log, committed or not; else
  // the snapshot's; else the cluster's first one. The three fields below are derived from it.
  private membership: Membership;
  /** Index of the entry (or snapshot) `membership` comes from; 0 for the first configuration. */
  private membershipIndex = 0;
  /** Every member but this node, voters and learners: whom a leader replicates to. */
  private peers: readonly NodeId[] = [];
  /** A majority of the voters. */
  private quorum = 1;

  // Persistent state (Figure 2). Changes are flagged so the next Ready carries them.
  private term = 0;
  private votedFor: NodeId | null = null;
  private readonly log: RaftLog;
  /** The latest snapshot (taken here or received), which replaces the log up to its index. */
  private snapshot: Snapshot | null;

  // Volatile state.
  private role: Role = 'follower';
  private leaderId: NodeId | null = null;
  /** Monotonic; never above the last index. */
  private commitIndex = 0;
  /** Highest index already handed to the shell for applying. Invariant: <= commitIndex. */
  private handedOut = 0;
  private now: number;
  /** Last time this node heard from the leader of its term (for leases and pre-vote). */
  private lastLeaderContact = Number.NEGATIVE_INFINITY;

  /** Granted votes (or pre-votes) in the current campaign, this node's own included. */
  private votes = new Set<NodeId>();
  private refusals = new Set<NodeId>();

  private progress = new Map<NodeId, Progress>();

  // Deadlines on the shell's clock; the active ones depend on the role.
  private electionDeadline: number;
  private heartbeatDeadline = Number.POSITIVE_INFINITY;
  private checkQuorumDeadline = Number.POSITIVE_INFINITY;

  // ReadIndex (dissertation §6.4). A round starts with each batch of read requests; a follower's
  // ack of a message sent in round r confirms leadership for every read of round <= r.
  private readRound = 0;
  private readAcks = new Map<NodeId, number>();
  private pendingReads: PendingRead[] = [];

  // Leadership transfer (dissertation §3.10). While set, this leader accepts no proposals.
  private transferee: NodeId | null = null;
  private transferDeadline = Number.POSITIVE_INFINITY;
  private timeoutNowSent = false;

  /** A snapshot arriving in chunks from the leader: what has come so far. */
  private incoming: { index: number; term: number; parts: string[]; received: number } | null = null;

  // Output awaiting `ready()`.
  private hardStateDirty = false;
  /** Lowest log index written since the last Ready; Infinity when none. */
  private unstableFrom = Number.POSITIVE_INFINITY;
  private outbox: RaftMessage[] = [];
  /** A snapshot installed from the leader, for the shell to persist and restore. */
  private snapshotOut: Snapshot | null = null;
  private readsOut: ReadState[] = [];
  private droppedReadsOut: string[] = [];
  private eventsOut: CoreEvent[] = [];

  constructor(config: RaftConfig, persisted: PersistedState, random: Random, now: number) {
    this.id = config.id;
    this.config = config;
    this.random = random;
    this.now = now;
    this.term = persisted.hardState.term;
    this.votedFor = persisted.hardState.votedFor;
    this.snapshot = persisted.snapshot;
    this.log = new RaftLog(persisted.entries, persisted.snapshot?.index ?? 0, persisted.snapshot?.term ?? 0);
    // The persisted commit is a lower bound that was true when written; cap it defensively. The
    // snapshot holds only applied, hence committed, entries.
    this.commitIndex = Math.max(Math.min(persisted.hardState.commit, this.log.lastIndex), this.log.snapshotIndex);
    this.handedOut = this.log.snapshotIndex;
    this.membership = { voters: [], learners: [] };
    this.setMembership(this.membershipAt(this.log.lastIndex), false);
    this.electionDeadline = now + this.randomElectionTimeout();
  }

  // ---------------------------------------------------------------- inputs

  /** Fires every deadline at or before `now`. */
  tick(now: number): void {
    this.setNow(now);
    if (this.role === 'leader') {
      if (this.transferee !== null && this.now >= this.transferDeadline) {
        // The target did not take over within an election timeout: lead on (§3.10).
        this.eventsOut.push({ type: 'transfer', to: this.transferee, phase: 'aborted' });
        this.endTransfer();
      }
      if (this.now >= this.checkQuorumDeadline) {
        this.checkQuorumDeadline = this.now + this.config.electionTimeout[0];
        if (this.config.checkQuorum && !this.quorumActive()) {
          this.becomeFollower(this.term, null);
          return;
        }
      }
      if (this.now >= this.heartbeatDeadline) {
        this.heartbeatDeadline = this.now + this.config.heartbeatInterval;
        this.broadcastHeartbeat(true);
      }
    } else if (this.now >= this.electionDeadline) {
      // Only voters campaign: a learner, a joining or a removed server waits to be told.
      if (this.isVoter(this.id)) this.campaign();
      else this.resetElectionTimer();
    }
  }

  /**
   * Handles one message. Throws MalformedMessageError (before touching any state) when `message`
   * is not structurally a Raft message; every stale or refused message is a normal outcome.
   */
  step(message: unknown, now: number): void {
    const m = validateMessage(message);
    this.setNow(now);
    if (m.to !== this.id || m.from === this.id || !this.knows(m.from)) return;

    if (m.term > this.term) {
      if (m.type === 'PreVote') {
        // A pre-vote carries a term the sender has not entered; it changes nothing here.
      } else if (m.type === 'PreVoteReply' && m.granted) {
        // Granted pre-votes echo our own future term.
      } else if (m.type === 'RequestVote' && this.inLease() && m.transfer !== true) {
        // §6 of the dissertation: while a leader is known to be alive, a vote request is from a
        // disruptive (partitioned or removed) server. Ignore it without adopting its term. A
        // transfer's vote request is the leader's own wish, and overrides the lease (§3.10).
        return;
      } else {
        const fromLeader = m.type === 'AppendEntries' || m.type === 'InstallSnapshot' || m.type === 'TimeoutNow';
        this.becomeFollower(m.term, fromLeader ? m.from : null);
      }
    } else if (m.term < this.term) {
      this.stepStale(m);
      return;
    }

    switch (m.type) {
      case 'RequestVote':
        this.handleRequestVote(m);
        return;
      case 'PreVote':
        this.handlePreVote(m);
        return;
      case 'RequestVoteReply':
        if (this.role === 'candidate') this.handleVoteReply(m.from, m.granted);
        return;
      case 'PreVoteReply':
        this.handlePreVoteReply(m);
        return;
      case 'AppendEntries':
        this.handleAppendEntries(m);
        return;
      case 'AppendEntriesReply':
        if (this.role === 'leader') this.handleAppendEntriesReply(m);
        return;
      case 'InstallSnapshot':
        this.handleInstallSnapshot(m);
        return;
      case 'InstallSnapshotReply':
        if (this.role === 'leader') this.handleInstallSnapshotReply(m);
        return;
      case 'TimeoutNow':
        // §3.10: the leader hands over. A learner or removed server cannot take it.
        if (this.role === 'follower' && this.isVoter(this.id)) this.becomeCandidate(true);
        return;
      default:
        return assertNever(m);
    }
  }

  /** Appends a client command if this node leads; the shell learns the outcome when it applies. */
  propose(command: ClientCommand, now: number): ProposeResult {
    this.setNow(now);
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', leaderHint: this.leaderId };
    // During a transfer new entries would only delay the target's catching up (§3.10).
    if (this.transferee !== null) return { ok: false, reason: 'not-leader', leaderHint: this.transferee };
    const entry: Entry = { index: this.log.lastIndex + 1, term: this.term, type: 'command', command };
    this.appendAsLeader([entry]);
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * Starts a linearizable read. Once a quorum confirms this node still leads, `ready().reads`
   * carries `{ ctx, index }`: the read may be served when the state machine has applied `index`.
   */
  readIndex(ctx: string, now: number): ReadIndexResult {
    this.setNow(now);
    if (this.role !== 'leader') return { ok: false, reason: 'not-leader', leaderHint: this.leaderId };
    this.readRound += 1;
    // The commit index is only known to be current once an entry of this term committed (§6.4).
    const index = this.committedInTerm() ? this.commitIndex : null;
    this.pendingReads.push({ ctx, round: this.readRound, index });
    this.releaseReads(); // a quorum of one confirms at once
    if (this.peers.length > 0) this.broadcastHeartbeat(false);
    return { ok: true };
  }

  /**
   * Proposes a single-server membership change (dissertation §4.1). Refused, changing nothing,
   * unless this node leads, has committed an entry of its term, and no earlier change is still
   * uncommitted; the change takes effect here as soon as it is appended.
   */
  proposeMembership(change: MembershipChange, now: number): ChangeResult {
    this.setNow(now);
    const refuse = (reason: ChangeRefusal): ChangeResult => this.refusal(reason);
    if (this.role !== 'leader') return refuse('not-leader');
    if (this.transferee !== null) return refuse('transferring');
    // One change at a time, and only once this leader's term has a committed entry: the fix to
    // single-server changes from the dissertation's errata (a leader that has not committed in
    // its term may hold an out-of-date configuration).
    if (this.membershipIndex > this.commitIndex || !this.committedInTerm()) return refuse('change-pending');
    const { voters, learners } = this.membership;
    const member = voters.includes(change.id) || learners.includes(change.id);
    let next: Membership;
    switch (change.type) {
      case 'add-learner':
        if (member) return refuse('already-member');
        next = { voters, learners: [...learners, change.id] };
        break;
      case 'promote':
        if (voters.includes(change.id)) return refuse('already-member');
        if (!learners.includes(change.id)) return refuse('not-learner');
        next = { voters: [...voters, change.id], learners: learners.filter((l) => l !== change.id) };
        break;
      case 'remove':
        if (!member) return refuse('not-member');
        if (voters.length === 1 && voters[0] === change.id) return refuse('last-voter');
        next = { voters: voters.filter((v) => v !== change.id), learners: learners.filter((l) => l !== change.id) };
        break;
      default:
        return assertNever(change);
    }
    const entry: Entry = { index: this.log.lastIndex + 1, term: this.term, type: 'config', membership: next };
    this.appendAsLeader([entry]);
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * Hands leadership to `to` (dissertation §3.10): stop accepting proposals, bring `to` up to date,
   * then tell it to campaign at once (TimeoutNow). Abandoned after an election timeout.
   */
  transferLeadership(to: NodeId, now: number): ChangeResult {
    this.setNow(now);
    const refuse = (reason: ChangeRefusal): ChangeResult => this.refusal(reason);
    if (this.role !== 'leader') return refuse('not-leader');
    if (this.transferee !== null) return refuse('transferring');
    if (to === this.id || !this.isVoter(to)) return refuse('not-voter');
    this.transferee = to;
    this.transferDeadline = this.now + this.config.electionTimeout[0];
    this.timeoutNowSent = false;
    this.eventsOut.push({ type: 'transfer', to, phase: 'started' });
    const p = this.progress.get(to)!;
    if (p.match === this.log.lastIndex) {
      this.sendTimeoutNow(to);
    } else if (p.state !== 'snapshot') {
      // Catch it up now rather than at the pace of the stream: probe from what it acknowledged.
      p.state = 'probe';
      p.next = p.match + 1;
      p.inflight = [];
      this.sendAppend(to, true);
    }
    return { ok: true, index: this.log.lastIndex, term: this.term };
  }

  /**
   * The shell persisted `snapshot` of its state machine (taken at an applied index, built with
   * `snapshotAt`): the log up to its index can go.
   */
  compact(snapshot: Snapshot): void {
    if (snapshot.index > this.handedOut || snapshot.index <= this.log.snapshotIndex) {
      throw new RaftInvariantError(
        this.id,
        `snapshot at ${snapshot.index} outside the applied, uncompacted log (${this.log.snapshotIndex + 1}..${this.handedOut})`,
      );
    }
    if (this.log.termAt(snapshot.index) !== snapshot.term) {
      throw new RaftInvariantError(this.id, `snapshot at ${snapshot.index} has term ${snapshot.term}, the log ${this.log.termAt(snapshot.index)}`);
    }
    this.snapshot = snapshot;
    this.log.compact(snapshot.index);
    this.eventsOut.push({ type: 'snapshot', index: snapshot.index, term: snapshot.term, source: 'taken' });
  }

  private refusal(reason: ChangeRefusal): ChangeResult {
    return { ok: false, reason, leaderHint: this.role === 'leader' ? this.id : this.leaderId };
  }

  /** What a snapshot at `index` (applied, still in the log) must record besides the data. */
  snapshotAt(index: number): Omit<Snapshot, 'data'> {
    const term = this.log.termAt(index);
    if (term === null || index > this.handedOut) {
      throw new RaftInvariantError(this.id, `no applied entry at ${index} to snapshot (applied ${this.handedOut}, log from ${this.log.snapshotIndex})`);
    }
    return { index, term, membership: this.membershipAt(index) };
  }

  // ---------------------------------------------------------------- output

  hasReady(): boolean {
    return (
      this.hardStateDirty ||
      this.unstableFrom !== Number.POSITIVE_INFINITY ||
      this.outbox.length > 0 ||
      this.snapshotOut !== null ||
      this.handedOut < this.commitIndex ||
      this.readsOut.length > 0 ||
      this.droppedReadsOut.length > 0 ||
      this.eventsOut.length > 0
    );
  }

  /** Takes all pending output. The shell must handle it completely before the next input. */
  ready(): Ready {
    const ready: Ready = {
      hardState: this.hardStateDirty ? this.hardState() : null,
      snapshot: this.snapshotOut,
      entries: this.unstableFrom <= this.log.lastIndex ? this.log.slice(this.unstableFrom, this.log.lastIndex + 1) : [],
      messages: this.outbox,
      committed: this.handedOut < this.commitIndex ? this.log.slice(this.handedOut + 1, this.commitIndex + 1) : [],
      reads: this.readsOut,
      droppedReads: this.droppedReadsOut,
      events: this.eventsOut,
    };
    this.hardStateDirty = false;
    this.unstableFrom = Number.POSITIVE_INFINITY;
    this.outbox = [];
    this.snapshotOut = null;
    this.handedOut = this.commitIndex;
    this.readsOut = [];
    this.droppedReadsOut = [];
    this.eventsOut = [];
    return ready;
  }

  /** The earliest time at which `tick` has something to do. */
  nextDeadline(): number {
    if (this.role !== 'leader') return this.electionDeadline;
    return Math.min(this.heartbeatDeadline, this.checkQuorumDeadline, this.transferee === null ? Infinity : this.transferDeadline);
  }

  status(): CoreStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      votedFor: this.votedFor,
      leaderId: this.leaderId,
      commitIndex: this.commitIndex,
      lastIndex: this.log.lastIndex,
      lastTerm: this.log.lastTerm,
      snapshotIndex: this.log.snapshotIndex,
      snapshotTerm: this.log.snapshotTerm,
      voters: this.membership.voters,
      learners: this.membership.learners,
      transferee: this.transferee,
    };
  }

  /** Is the configuration this node follows committed (so a new change may follow it)? */
  membershipCommitted(): boolean {
    return this.membershipIndex <= this.commitIndex;
  }

  /** The latest snapshot, if the log was ever compacted. */
  currentSnapshot(): Snapshot | null {
    return this.snapshot;
  }

  hardState(): HardState {
    return { term: this.term, votedFor: this.votedFor, commit: this.commitIndex };
  }

  /** Entries in [from, to) still in the log (above the snapshot), for inspection. */
  entries(from = 1, to = this.log.lastIndex + 1): Entry[] {
    return this.log.slice(Math.max(this.log.snapshotIndex + 1, from), Math.min(to, this.log.lastIndex + 1));
  }

  /** The leader's view of a follower's replication, for inspection and tests. */
  progressOf(peer: NodeId): { match: number; next: number; state: Progress['state'] } | undefined {
    const p = this.progress.get(peer);
    return p && { match: p.match, next: p.next, state: p.state };
  }

  // ---------------------------------------------------------------- roles

  private becomeFollower(term: number, leaderId: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    this.setTerm(term);
    this.setRole('follower');
    this.leaderId = leaderId;
    if (leaderId !== null) this.lastLeaderContact = this.now;
    this.resetElectionTimer();
    if (wasLeader) {
      this.endTransfer();
      this.progress.clear();
      this.heartbeatDeadline = Number.POSITIVE_INFINITY;
      this.checkQuorumDeadline = Number.POSITIVE_INFINITY;
      for (const read of this.pendingReads) this.droppedReadsOut.push(read.ctx);
      this.pendingReads = [];
      this.readAcks.clear();
    }
  }

  /** Election timeout: pre-vote first when enabled, so a partitioned node cannot inflate terms. */
  private campaign(): void {
    if (this.config.preVote) this.becomePreCandidate();
    else this.becomeCandidate();
  }

  private becomePreCandidate(): void {
    this.setRole('precandidate');
    this.leaderId = null;
    this.startTally();
    this.resetElectionTimer();
    if (this.votes.size >= this.quorum) {
      this.becomeCandidate();
      return;
    }
    for (const peer of this.membership.voters) {
      if (peer === this.id) continue;
      this.send<PreVote>({
        type: 'PreVote',
        from: this.id,
        to: peer,
        term: this.term + 1,
        lastLogIndex: this.log.lastIndex,
        lastLogTerm: this.log.lastTerm,
      });
    }
  }

  /** §5.2: increment the term, vote for self, ask everyone else. */
  private becomeCandidate(transfer = false): void {
    this.setTerm(this.term + 1);
    this.setVote(this.id);
    this.setRole('candidate');
    this.leaderId = null;
    this.startTally();
    this.resetElectionTimer();
    if (this.votes.size >= this.quorum) {
      this.becomeLeader();
      return;
    }
    for (const peer of this.membership.voters) {
      if (peer === this.id) continue;
      this.send<RequestVote>({
        type: 'RequestVote',
        from: this.id,
        to: peer,
        term: this.term,
        lastLogIndex: this.log.lastIndex,
        lastLogTerm: this.log.lastTerm,
        ...(transfer ? { transfer: true as const } : {}),
      });
    }
  }

  private becomeLeader(): void {
    this.setRole('leader');
    this.leaderId = this.id;
    this.electionDeadline = Number.POSITIVE_INFINITY;
    this.heartbeatDeadline = this.now + this.config.heartbeatInterval;
    this.checkQuorumDeadline = this.now + this.config.electionTimeout[0];
    this.progress.clear();
    for (const peer of this.peers) this.progress.set(peer, this.freshProgress());
    this.readAcks.clear();
    this.pendingReads = [];
    // §5.4.2 / §8: a no-op of the new term lets earlier-term entries commit by counting it.
    this.appendAsLeader([{ index: this.log.lastIndex + 1, term: this.term, type: 'noop' }]);
  }

  private startTally(): void {
    this.votes = new Set(this.isVoter(this.id) ? [this.id] : []);
    this.refusals = new Set();
  }

  // ---------------------------------------------------------------- elections

  private handlePreVote(m: PreVote): void {
    // Grant only what a real vote would grant, and only if no leader is known to be alive: a
    // node that still hears its leader must not help another node start an election (§9.6).
    const granted =
      m.term > this.term && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm) && !this.heardFromLeaderRecently();
    this.send<PreVoteReply>({
      type: 'PreVoteReply',
      from: this.id,
      to: m.from,
      term: granted ? m.term : this.term,
      granted,
    });
  }

  private handleRequestVote(m: RequestVote): void {
    // §5.2 one vote per term (first come, first served); §5.4.1 only for an up-to-date log.
    const canVote = this.votedFor === null || this.votedFor === m.from;
    const granted = canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
    if (granted) {
      this.setVote(m.from);
      this.resetElectionTimer();
    }
    this.send<RequestVoteReply>({ type: 'RequestVoteReply', from: this.id, to: m.from, term: this.term, granted });
  }

  private handlePreVoteReply(m: PreVoteReply): void {
    if (this.role !== 'precandidate') return;
    if (!m.granted && m.term > this.term) {
      // Refused by a node of a later term: adopt it rather than campaign in the past.
      this.becomeFollower(m.term, null);
      return;
    }
    if (m.granted && m.term !== this.term + 1) return; // answer to an earlier pre-vote round
    this.handleVoteReply(m.from, m.granted);
  }

  private handleVoteReply(from: NodeId, granted: boolean): void {
    if (!this.isVoter(from)) return; // only voters' answers count towards a quorum
    if (granted) this.votes.add(from);
    else this.refusals.add(from);
    if (this.votes.size >= this.quorum) {
      if (this.role === 'precandidate') this.becomeCandidate();
      else this.becomeLeader();
    } else if (this.refusals.size >= this.quorum) {
      // Lost this round; wait for the next timeout as a follower.
      this.becomeFollower(this.term, null);
    }
  }

  // ---------------------------------------------------------------- replication (follower)

  /** A message only the leader of this term sends: follow it. */
  private heardFromLeader(from: NodeId): void {
    if (this.role === 'leader') {
      throw new RaftInvariantError(this.id, `two leaders in term ${this.term}: ${this.id} and ${from}`);
    }
    if (this.role !== 'follower') this.becomeFollower(this.term, from); // §5.2 candidate yields
    this.leaderId = from;
    this.lastLeaderContact = this.now;
    this.resetElectionTimer();
  }

  private handleAppendEntries(message: AppendEntries): void {
    this.heardFromLeader(message.from);
    let m = message;
    if (m.prevLogIndex < this.log.snapshotIndex) {
      // Entries up to the snapshot are committed, so they match the leader's: skip them.
      const skip = this.log.snapshotIndex - m.prevLogIndex;
      m = { ...m, prevLogIndex: this.log.snapshotIndex, prevLogTerm: this.log.snapshotTerm, entries: m.entries.slice(skip) };
    }

    const reply = (fields: Pick<AppendEntriesReply, 'success' | 'matchIndex' | 'conflictTerm' | 'conflictIndex'>): void =>
      this.send<AppendEntriesReply>({
        type: 'AppendEntriesReply',
        from: this.id,
        to: m.from,
        term: this.term,
        prevLogIndex: m.prevLogIndex,
        readRound: m.readRound,
        ...fields,
      });

    // §5.3 consistency check, with the conflict hint of fast backup.
    if (m.prevLogIndex > this.log.lastIndex) {
      reply({ success: false, matchIndex: 0, conflictTerm: null, conflictIndex: this.log.lastIndex + 1 });
      return;
    }
    const localPrevTerm = this.log.termAt(m.prevLogIndex);
    if (localPrevTerm !== m.prevLogTerm) {
      reply({
        success: false,
        matchIndex: 0,
        conflictTerm: localPrevTerm,
        conflictIndex: this.log.firstIndexOfTerm(localPrevTerm, m.prevLogIndex),
      });
      return;
    }

    // §5.3: delete a conflicting entry and all that follow it; append what is new. Entries that
    // already match are kept, so a stale, shorter AppendEntries never truncates anything.
    let i = 0;
    for (; i < m.entries.length; i++) {
      const e = m.entries[i]!;
      if (e.index > this.log.lastIndex) break;
      if (this.log.termAt(e.index) !== e.term) {
        if (e.index <= this.commitIndex) {
          throw new RaftInvariantError(
            this.id,
            `leader ${m.from} (term ${m.term}) would overwrite committed entry ${e.index} (commit ${this.commitIndex})`,
          );
        }
        this.log.truncateFrom(e.index);
        this.eventsOut.push({ type: 'truncate', from: e.index, term: this.term });
        // A configuration entry may have gone with the suffix: fall back to the one before.
        if (e.index <= this.membershipIndex) this.setMembership(this.membershipAt(this.log.lastIndex), true);
        break;
      }
    }
    if (i < m.entries.length) {
      const fresh = m.entries.slice(i);
      this.log.append(fresh);
      this.unstableFrom = Math.min(this.unstableFrom, fresh[0]!.index);
      this.adoptAppendedConfig(fresh);
    }

    const matchIndex = Math.max(m.prevLogIndex + m.entries.length, this.log.snapshotIndex);
    // Figure 2: commitIndex = min(leaderCommit, index of last new entry).
    this.advanceCommit(Math.min(m.leaderCommit, matchIndex));
    reply({ success: true, matchIndex, conflictTerm: null, conflictIndex: 0 });
  }

  // ---------------------------------------------------------------- replication (leader)

  private appendAsLeader(entries: Entry[]): void {
    this.log.append(entries);
    this.unstableFrom = Math.min(this.unstableFrom, entries[0]!.index);
    this.adoptAppendedConfig(entries);
    for (const peer of this.peers) this.sendAppend(peer, false);
    this.maybeCommit(); // a quorum of one (or of voters already up to date) commits at once
  }

  /**
   * Sends what `peer` is missing. In `probe` state a message goes only when asked (`force`:
   * heartbeat or a fresh rejection); in `replicate` state entries stream until the inflight
   * window is full.
   */
  private sendAppend(peer: NodeId, force: boolean): void {
    const p = this.progress.get(peer);
    if (!p) return;
    if (p.state === 'snapshot') {
      if (force) this.sendSnapshotChunk(peer, p);
      return;
    }
    if (p.next <= this.log.snapshotIndex) {
      // What the follower needs next was compacted: it gets the snapshot instead (§7).
      p.state = 'snapshot';
      p.inflight = [];
      p.snapshotIndex = this.log.snapshotIndex;
      p.snapshotOffset = 0;
      this.sendSnapshotChunk(peer, p);
      return;
    }
    if (p.state === 'probe') {
      if (force || p.inflight.length === 0) {
        const last = this.sendEntries(peer, p.next);
        p.inflight = [last];
      }
      return;
    }
    while (p.next <= this.log.lastIndex && p.inflight.length < this.config.maxInflight) {
      const last = this.sendEntries(peer, p.next);
      p.inflight.push(last);
      p.next = last + 1;
    }
  }

  /** Sends one AppendEntries starting at `next`; returns the last index it carries. */
  private sendEntries(peer: NodeId, next: number): number {
    const end = Math.min(this.log.lastIndex + 1, next + this.config.maxEntriesPerMessage);
    const entries = next < end ? this.log.slice(next, end) : [];
    this.sendAppendEntries(peer, next - 1, entries);
    return next - 1 + entries.length;
  }

  private sendAppendEntries(peer: NodeId, prevLogIndex: number, entries: Entry[]): void {
    const p = this.progress.get(peer)!;
    // Figure 2: the follower commits up to min(leaderCommit, last new entry).
    p.commitSent = Math.max(p.commitSent, Math.min(this.commitIndex, prevLogIndex + entries.length));
    this.send<AppendEntries>({
      type: 'AppendEntries',
      from: this.id,
      to: peer,
      term: this.term,
      prevLogIndex,
      prevLogTerm: this.log.termAt(prevLogIndex) ?? 0,
      entries,
      leaderCommit: this.commitIndex,
      readRound: this.readRound,
    });
  }

  /**
   * Tells an idle follower a commit index it has not yet been able to learn. Without it a
   * follower whose last ack came after the commit would wait a heartbeat to apply.
   */
  private maybeSendCommit(peer: NodeId, p: Progress): void {
    if (p.state === 'snapshot' || p.match < this.log.snapshotIndex) return; // no term to anchor at
    if (p.inflight.length === 0 && Math.min(this.commitIndex, p.match) > p.commitSent) {
      this.sendAppendEntries(peer, p.match, []);
    }
  }

  /**
   * `periodic`: the heartbeat timer fired, a heartbeat interval after the last one, so a stalled
   * stream can be told apart from one merely in flight. ReadIndex rounds broadcast too, at any
   * moment, and must not take part in that measurement.
   */
  private broadcastHeartbeat(periodic: boolean): void {
    for (const peer of this.peers) {
      const p = this.progress.get(peer)!;
      if (periodic) {
        if (p.state === 'replicate' && p.match < p.lastIndexAtHeartbeat && p.match === p.matchAtHeartbeat) {
          p.state = 'probe';
          p.next = p.match + 1;
          p.inflight = [];
        }
        p.matchAtHeartbeat = p.match;
        p.lastIndexAtHeartbeat = this.log.lastIndex;
      }
      if (p.state === 'probe' || p.state === 'snapshot') {
        // A snapshot in progress resends its current chunk, in case it or its ack was lost.
        this.sendAppend(peer, true);
      } else if (p.match < this.log.snapshotIndex) {
        // Its match has no term here any more: anchor at what was sent. A follower that lacks it
        // refuses, and the refusal leads it to the snapshot.
        this.sendAppendEntries(peer, p.next - 1, []);
      } else {
        // An empty AppendEntries anchored at `match`: it always passes the consistency check and
        // carries the commit index only as far as the follower is known to match (Figure 2).
        this.sendAppendEntries(peer, p.match, []);
      }
    }
  }

  private handleAppendEntriesReply(m: AppendEntriesReply): void {
    const p = this.progress.get(m.from);
    if (!p) return;
    p.recentActive = true;
    this.ackRead(m.from, m.readRound);
    if (p.state === 'snapshot') return; // it is being sent the snapshot; that reply will move it

    if (m.success) {
      if (m.matchIndex > p.match) {
        p.match = m.matchIndex;
        if (p.next <= p.match) p.next = p.match + 1;
        if (p.state === 'probe') {
          p.state = 'replicate';
          p.inflight = [];
        } else {
          p.inflight = p.inflight.filter((last) => last > p.match);
        }
        this.maybeCommit();
        if (this.role !== 'leader') return; // it committed its own removal and stepped down
      } else if (p.state === 'probe' && m.prevLogIndex === p.next - 1) {
        // The probe succeeded but brought nothing new (an empty heartbeat probe): unblock it.
        p.inflight = [];
      }
      this.maybeTimeoutNow(m.from, p);
      this.sendAppend(m.from, false);
      this.maybeSendCommit(m.from, p);
      return;
    }

    // A rejection. At or below `match` it answers a message older than what we now know (the
    // follower acknowledged `match` after syncing it, so it cannot have lost it).
    if (m.prevLogIndex <= p.match) return;
    if (p.state === 'probe' && m.prevLogIndex !== p.next - 1) return;

    let next: number;
    if (m.conflictTerm === null) {
      next = m.conflictIndex;
    } else {
      // Fast backup: if we hold the conflicting term, resume just after our last entry of it;
      // otherwise skip the follower's whole term.
      const lastOfTerm = this.log.lastIndexOfTerm(m.conflictTerm, m.prevLogIndex);
      next = lastOfTerm > 0 ? lastOfTerm + 1 : m.conflictIndex;
    }
    p.next = Math.max(p.match + 1, Math.min(next, m.prevLogIndex));
    p.state = 'probe';
    p.inflight = [];
    this.sendAppend(m.from, true);
  }

  /**
   * §5.3/§5.4.2: commit the highest index on a quorum of voters, but only by counting
   * current-term entries. A leader that is not a voter (it is removing itself) does not count.
   */
  private maybeCommit(): void {
    const matches: number[] = [];
    for (const v of this.membership.voters) matches.push(v === this.id ? this.log.lastIndex : (this.progress.get(v)?.match ?? 0));
    matches.sort((a, b) => b - a);
    const candidate = matches[this.quorum - 1] ?? 0;
    if (candidate > this.commitIndex && this.log.termAt(candidate) === this.term) {
      this.advanceCommit(candidate);
      for (const [peer, p] of this.progress) this.maybeSendCommit(peer, p);
      if (this.pendingReads.some((r) => r.index === null)) {
        for (const r of this.pendingReads) if (r.index === null) r.index = this.commitIndex;
        this.releaseReads();
      }
      if (!this.isVoter(this.id) && this.membershipIndex <= this.commitIndex) {
        // §4.2.2: a leader removed from the configuration steps down once the removal commits.
        this.becomeFollower(this.term, null);
      }
    }
  }

  private quorumActive(): boolean {
    let active = this.isVoter(this.id) ? 1 : 0;
    for (const [peer, p] of this.progress) {
      if (p.recentActive && this.isVoter(peer)) active += 1;
      p.recentActive = false;
    }
    return active >= this.quorum;
  }

  // ---------------------------------------------------------------- snapshots (§7)

  private sendSnapshotChunk(peer: NodeId, p: Progress): void {
    const snap = this.snapshot;
    if (snap === null) throw new RaftInvariantError(this.id, `entries for ${peer} were compacted, but there is no snapshot`);
    if (p.snapshotIndex !== snap.index) {
      // Compacted again since this transfer began: send the newer snapshot from its start.
      p.snapshotIndex = snap.index;
      p.snapshotOffset = 0;
    }
    const data = snap.data.slice(p.snapshotOffset, p.snapshotOffset + this.config.snapshotChunkSize);
    this.send<InstallSnapshot>({
      type: 'InstallSnapshot',
      from: this.id,
      to: peer,
      term: this.term,
      index: snap.index,
      snapshotTerm: snap.term,
      membership: snap.membership,
      offset: p.snapshotOffset,
      data,
      size: snap.data.length,
      done: p.snapshotOffset + data.length >= snap.data.length,
    });
  }

  private handleInstallSnapshot(m: InstallSnapshot): void {
    this.heardFromLeader(m.from);
    const reply = (offset: number, done: boolean): void =>
      this.send<InstallSnapshotReply>({ type: 'InstallSnapshotReply', from: this.id, to: m.from, term: this.term, index: m.index, offset, done });
    if (m.index <= this.commitIndex) {
      // Everything it covers is committed here already (a retransmission, or we caught up).
      this.incoming = null;
      reply(m.size, true);
      return;
    }
    if (m.offset === 0) this.incoming = { index: m.index, term: m.snapshotTerm, parts: [], received: 0 };
    const inc = this.incoming;
    if (inc === null || inc.index !== m.index || inc.term !== m.snapshotTerm || inc.received !== m.offset) {
      // Out of order (a lost or duplicated chunk): say where to resume.
      reply(inc !== null && inc.index === m.index ? inc.received : 0, false);
      return;
    }
    inc.parts.push(m.data);
    inc.received += m.data.length;
    if (!m.done) {
      reply(inc.received, false);
      return;
    }
    this.incoming = null;
    if (inc.received !== m.size) {
      reply(0, false); // the pieces do not add up: start over
      return;
    }
    const snapshot: Snapshot = { index: m.index, term: m.snapshotTerm, membership: m.membership, data: inc.parts.join('') };
    this.snapshot = snapshot;
    this.snapshotOut = snapshot;
    this.log.install(m.index, m.snapshotTerm);
    this.unstableFrom = Math.max(this.unstableFrom, m.index + 1);
    this.eventsOut.push({ type: 'snapshot', index: m.index, term: m.snapshotTerm, source: 'installed' });
    this.advanceCommit(m.index);
    // The state machine restarts from the snapshot: nothing at or below it is handed out again.
    this.handedOut = Math.max(this.handedOut, m.index);
    this.setMembership(this.membershipAt(this.log.lastIndex), true);
    reply(m.size, true);
  }

  private handleInstallSnapshotReply(m: InstallSnapshotReply): void {
    const p = this.progress.get(m.from);
    if (!p) return;
    p.recentActive = true;
    if (m.done) {
      if (m.index > p.match) p.match = m.index;
      if (p.state === 'snapshot') {
        p.state = 'probe';
        p.inflight = [];
        p.next = p.match + 1;
      }
      this.maybeCommit();
      if (this.role !== 'leader') return;
      this.maybeTimeoutNow(m.from, p);
      this.sendAppend(m.from, true);
      return;
    }
    if (p.state !== 'snapshot' || m.index !== p.snapshotIndex) return; // about an older transfer
    p.snapshotOffset = m.offset;
    this.sendSnapshotChunk(m.from, p);
  }

  // ---------------------------------------------------------------- membership (dissertation §4)

  /** Is `id` a voter of the configuration this node follows? */
  private isVoter(id: NodeId): boolean {
    return this.membership.voters.includes(id);
  }

  /**
   * Messages are taken from members only, so strangers and removed servers cannot disturb the
   * cluster. A node with no voters in its configuration (joining) takes them from anyone: it
   * learns who is who from the leader.
   */
  private knows(id: NodeId): boolean {
    const { voters, learners } = this.membership;
    return voters.length === 0 || voters.includes(id) || learners.includes(id);
  }

  /** The configuration in force at `index`: its last config entry, else the snapshot's, else the first. */
  private membershipAt(index: number): Membership & { readonly index: number } {
    const e = this.log.lastConfig(index);
    if (e !== undefined && e.type === 'config') return { ...e.membership, index: e.index };
    if (this.snapshot !== null && this.snapshot.index <= index) return { ...this.snapshot.membership, index: this.snapshot.index };
    return { voters: this.config.joining ? [] : this.config.members, learners: [], index: 0 };
  }

  private adoptAppendedConfig(entries: readonly Entry[]): void {
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.type === 'config') {
        this.setMembership({ ...e.membership, index: e.index }, true);
        return;
      }
    }
  }

  private setMembership(m: Membership & { readonly index: number }, announce: boolean): void {
    this.membership = { voters: m.voters, learners: m.learners };
    this.membershipIndex = m.index;
    this.peers = [...m.voters, ...m.learners].filter((id) => id !== this.id);
    this.quorum = Math.floor(m.voters.length / 2) + 1;
    if (announce) this.eventsOut.push({ type: 'membership', index: m.index, voters: m.voters, learners: m.learners });
    if (this.role === 'leader') {
      for (const peer of this.peers) if (!this.progress.has(peer)) this.progress.set(peer, this.freshProgress());
      for (const peer of [...this.progress.keys()]) if (!this.peers.includes(peer)) this.progress.delete(peer);
      if (this.transferee !== null && !this.isVoter(this.transferee)) this.endTransfer();
    }
  }

  private freshProgress(): Progress {
    return {
      match: 0,
      next: this.log.lastIndex + 1,
      state: 'probe',
      snapshotIndex: 0,
      snapshotOffset: 0,
      inflight: [],
      recentActive: false,
      matchAtHeartbeat: 0,
      lastIndexAtHeartbeat: 0,
      commitSent: 0,
    };
  }

  // ---------------------------------------------------------------- leadership transfer (§3.10)

  private maybeTimeoutNow(peer: NodeId, p: Progress): void {
    if (this.transferee === peer && !this.timeoutNowSent && p.match === this.log.lastIndex) this.sendTimeoutNow(peer);
  }

  private sendTimeoutNow(to: NodeId): void {
    this.timeoutNowSent = true;
    this.eventsOut.push({ type: 'transfer', to, phase: 'timeout-now' });
    this.send<TimeoutNow>({ type: 'TimeoutNow', from: this.id, to, term: this.term });
  }

  private endTransfer(): void {
    this.transferee = null;
    this.transferDeadline = Number.POSITIVE_INFINITY;
    this.timeoutNowSent = false;
  }

  // ---------------------------------------------------------------- reads

  private ackRead(from: NodeId, round: number): void {
    if (round > (this.readAcks.get(from) ?? 0)) {
      this.readAcks.set(from, round);
      this.releaseReads();
    }
  }

  /** Releases every pending read whose round a quorum has confirmed and whose index is known. */
  private releaseReads(): void {
    if (this.pendingReads.length === 0) return;
    const acked: number[] = [];
    for (const v of this.membership.voters) acked.push(v === this.id ? this.readRound : (this.readAcks.get(v) ?? 0));
    acked.sort((a, b) => b - a);
    const confirmed = acked[this.quorum - 1] ?? 0;
    const still: PendingRead[] = [];
    for (const r of this.pendingReads) {
      if (r.round <= confirmed && r.index !== null) this.readsOut.push({ ctx: r.ctx, index: r.index });
      else still.push(r);
    }
    this.pendingReads = still;
  }

  private committedInTerm(): boolean {
    return this.log.termAt(this.commitIndex) === this.term;
  }

  // ---------------------------------------------------------------- stale messages

  /** A message from an earlier term: answer what lets the sender catch up, ignore the rest. */
  private stepStale(m: RaftMessage): void {
    switch (m.type) {
      case 'AppendEntries':
        // The sender believes it leads: our term in the refusal makes it step down (§5.1).
        this.send<AppendEntriesReply>({
          type: 'AppendEntriesReply',
          from: this.id,
          to: m.from,
          term: this.term,
          success: false,
          prevLogIndex: m.prevLogIndex,
          matchIndex: 0,
          conflictTerm: null,
          conflictIndex: 0,
          readRound: m.readRound,
        });
        return;
      case 'RequestVote':
        this.send<RequestVoteReply>({ type: 'RequestVoteReply', from: this.id, to: m.from, term: this.term, granted: false });
        return;
      case 'PreVote':
        this.send<PreVoteReply>({ type: 'PreVoteReply', from: this.id, to: m.from, term: this.term, granted: false });
        return;
      case 'InstallSnapshot':
        this.send<InstallSnapshotReply>({ type: 'InstallSnapshotReply', from: this.id, to: m.from, term: this.term, index: m.index, offset: 0, done: false });
        return;
      case 'RequestVoteReply':
      case 'PreVoteReply':
      case 'AppendEntriesReply':
      case 'InstallSnapshotReply':
      case 'TimeoutNow':
        return;
      default:
        return assertNever(m);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** This node leads, or heard from the leader of its term within electionTimeout min. */
  private heardFromLeaderRecently(): boolean {
    if (this.role === 'leader') return true;
    return this.leaderId !== null && this.now - this.lastLeaderContact < this.config.electionTimeout[0];
  }

  /**
   * Leader lease (dissertation §4.2.3), only with check-quorum: that is what guarantees a leader
   * that lost its quorum steps down, so that ignoring vote requests cannot block elections.
   */
  private inLease(): boolean {
    return this.config.checkQuorum && this.heardFromLeaderRecently();
  }

  private advanceCommit(index: number): void {
    if (index <= this.commitIndex) return;
    if (index > this.log.lastIndex) {
      throw new RaftInvariantError(this.id, `commit index ${index} beyond last index ${this.log.lastIndex}`);
    }
    this.eventsOut.push({ type: 'commit', from: this.commitIndex, to: index, term: this.term });
    this.commitIndex = index;
    this.hardStateDirty = true;
  }

  private setTerm(term: number): void {
    if (term === this.term) return;
    if (term < this.term) throw new RaftInvariantError(this.id, `term going back from ${this.term} to ${term}`);
    this.eventsOut.push({ type: 'term', from: this.term, to: term });
    this.term = term;
    this.votedFor = null;
    this.hardStateDirty = true;
  }

  private setVote(id: NodeId): void {
    this.votedFor = id;
    this.hardStateDirty = true;
    this.eventsOut.push({ type: 'vote', term: this.term, for: id });
  }

  private setRole(role: Role): void {
    if (role === this.role) return;
    this.eventsOut.push({ type: 'role', from: this.role, to: role, term: this.term });
    this.role = role;
  }

  private setNow(now: number): void {
    if (!(now >= this.now)) throw new RaftInvariantError(this.id, `clock going back from ${this.now} to ${now}`);
    this.now = now;
  }

  private resetElectionTimer(): void {
    this.electionDeadline = this.now + this.randomElectionTimeout();
  }

  private randomElectionTimeout(): number {
    const [min, max] = this.config.electionTimeout;
    return randomInt(this.random, min, max);
  }

  private send<M extends RaftMessage>(message: M): void {
    this.outbox.push(message);
  }
}

function assertNever(value: never): never {
  throw new Error(`raft-harness: unreachable: ${JSON.stringify(value)}`);
}
