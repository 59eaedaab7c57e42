import { resolveRaftConfig, type RaftConfig, type RaftOptions } from '../raft/config.js';
import { MalformedMessageError } from '../raft/errors.js';
import { RaftCore } from '../raft/raft.js';
import type { Random } from '../raft/random.js';
import type { CoreEvent, Entry, HardState, Membership, NodeId, Ready, Role, Snapshot } from '../raft/types.js';
import {
  adminRequestProblem,
  clientRequestProblem,
  isAdminRequest,
  isClientRequest,
  type AdminReply,
  type AdminRequest,
  type ClientError,
  type ClientReply,
  type ClientRequest,
} from './client-protocol.js';
import { SessionTable } from './sessions.js';
import type { StateMachine } from './state-machine.js';
import type { Storage } from './storage.js';
import type { Transport } from './transport.js';

/** What a node reports about itself, beyond the core's own events. */
export type NodeEvent =
  | CoreEvent
  /** Every committed entry, in log order; `duplicate` marks a retried command the session absorbed. */
  | { readonly type: 'apply'; readonly index: number; readonly term: number; readonly entry: Entry['type']; readonly duplicate: boolean }
  | { readonly type: 'malformed-message'; readonly error: string };

export type RaftServerOptions = {
  readonly id: NodeId;
  readonly members: readonly NodeId[];
  /** A server added to a running cluster (not one of `members`): it waits for the leader. */
  readonly joining?: boolean;
  readonly raft?: Partial<RaftOptions>;
  readonly transport: Transport;
  readonly storage: Storage;
  readonly stateMachine: StateMachine;
  readonly random: Random;
  /** Monotonic ms. Defaults to `performance.now`, which a fake clock controls. */
  readonly now?: () => number;
  readonly emit?: (event: NodeEvent) => void;
};

export type ServerStatus = {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly leaderId: NodeId | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly log: readonly Entry[];
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  /** The configuration this node follows (the latest in its log, committed or not). */
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly app: unknown;
};

/** What a snapshot's `data` holds: the application state and the client sessions. */
type SnapshotData = { readonly app: unknown; readonly sessions: ReturnType<SessionTable['snapshot']> };

type Waiting = { readonly request: ClientRequest };

/**
 * One Raft node: the pure core plus a clock, a transport, storage and the state machine.
 *
 * Each input (a message, a timer, a client request) is handled to quiescence synchronously:
 * step the core, then for each Ready persist and sync, send, apply, answer. The only timer is one
 * plain `setTimeout` armed for the core's next deadline, so a fake clock drives the node fully.
 */
export class RaftServer {
  readonly id: NodeId;
  readonly config: RaftConfig;
  private readonly options: RaftServerOptions;
  private readonly now: () => number;
  private readonly core: RaftCore;
  private readonly sessions = new SessionTable();
  private lastApplied = 0;
  /** Hard state as last written: a commit-only change needs no sync (commit is a lower bound). */
  private written: HardState;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerDeadline = Number.POSITIVE_INFINITY;
  private stopped = false;

  /** Writes proposed here, by log index, waiting to be applied to answer their client. */
  private readonly pendingWrites = new Map<number, Waiting>();
  /** `clientId#seq` → index in pendingWrites, so a retry finds its entry at once. */
  private readonly pendingIndex = new Map<string, number>();
  /** Reads by ReadIndex context, waiting for leadership confirmation. */
  private readonly pendingReads = new Map<string, Waiting>();
  /** Confirmed reads waiting for the state machine to reach their index, ascending by index. */
  private readonly readyReads: Array<{ readonly index: number } & Waiting> = [];
  /** Membership changes proposed here, by log index, answered when they apply. */
  private readonly pendingChanges = new Map<number, AdminRequest>();
  /** The transfer in progress here, answered when this node steps down or gives up. */
  private pendingTransfer: AdminRequest | null = null;
  /** Approximate JSON size of the log since the snapshot, for the `snapshotLogBytes` policy. */
  private logBytes = 0;

  constructor(options: RaftServerOptions) {
    this.options = options;
    this.id = options.id;
    this.config = resolveRaftConfig(options.id, options.members, options.raft ?? {}, options.joining ?? false);
    this.now = options.now ?? (() => performance.now());
    const persisted = options.storage.load();
    this.written = persisted.hardState;
    if (persisted.snapshot !== null) this.restore(persisted.snapshot);
    this.core = new RaftCore(this.config, persisted, options.random, this.now());
    options.transport.listen((message) => this.receive(message));
    // Re-apply what was committed before a restart: the state machine is rebuilt from the log.
    this.drain();
  }

  /** Handles one message from the wire. Malformed input is reported and dropped. */
  receive(message: unknown): void {
    if (this.stopped) return;
    const client = isClientRequest(message);
    if (client || isAdminRequest(message)) {
      const problem = client ? clientRequestProblem(message) : adminRequestProblem(message as Record<string, unknown>);
      if (problem !== null) this.report(new MalformedMessageError(problem, message));
      else if (client) this.handleClient(message as unknown as ClientRequest);
      else this.handleAdmin(message as unknown as AdminRequest);
      this.drain();
      return;
    }
    try {
      this.core.step(message, this.now());
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      this.report(error);
      return;
    }
    this.drain();
  }

  status(): ServerStatus {
    const s = this.core.status();
    return {
      id: s.id,
      role: s.role,
      term: s.term,
      votedFor: s.votedFor,
      leaderId: s.leaderId,
      commitIndex: s.commitIndex,
      lastApplied: this.lastApplied,
      log: this.core.entries(),
      snapshotIndex: s.snapshotIndex,
      snapshotTerm: s.snapshotTerm,
      voters: s.voters,
      learners: s.learners,
      app: this.options.stateMachine.inspect(),
    };
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.options.transport.close();
    this.options.storage.close();
  }

  // ------------------------------------------------------------------ clients

  private handleClient(request: ClientRequest): void {
    const { stateMachine } = this.options;
    const now = this.now();
    if (stateMachine.isReadOnly(request.op)) {
      const ctx = `${request.from}#${request.requestId}`;
      const r = this.core.readIndex(ctx, now);
      if (r.ok) this.pendingReads.set(ctx, { request });
      else this.replyError(request, 'not-leader', r.leaderHint);
      return;
    }
    const done = this.sessions.lookup(request.clientId, request.seq);
    if (done !== undefined) {
      if (done.kind === 'duplicate') this.replyOk(request, done.result);
      else this.replyError(request, 'stale-request', this.core.status().leaderId);
      return;
    }
    const key = `${request.clientId}#${request.seq}`;
    const index = this.pendingIndex.get(key);
    if (index !== undefined) {
      // A retry of a write already in the log here: answer the newest attempt when it applies.
      this.pendingWrites.set(index, { request });
      return;
    }
    const r = this.core.propose({ clientId: request.clientId, seq: request.seq, op: request.op }, now);
    if (r.ok) {
      this.pendingWrites.set(r.index, { request });
      this.pendingIndex.set(key, r.index);
    }
    else this.replyError(request, 'not-leader', r.leaderHint);
  }

  private replyOk(request: ClientRequest, result: unknown): void {
    this.sendReply(request, { ok: true, result });
  }

  private replyError(request: ClientRequest, error: ClientError, leaderHint: NodeId | null): void {
    this.sendReply(request, { ok: false, error, leaderHint });
  }

  private sendReply(
    request: ClientRequest,
    outcome: { ok: true; result: unknown } | { ok: false; error: ClientError; leaderHint: NodeId | null },
  ): void {
    const reply: ClientReply = {
      type: 'ClientReply',
      from: this.id,
      to: request.from,
      clientId: request.clientId,
      seq: request.seq,
      requestId: request.requestId,
      ...outcome,
    };
    this.options.transport.send(reply);
  }

  // ------------------------------------------------------------------ operators

  private handleAdmin(request: AdminRequest): void {
    const op = request.op;
    const now = this.now();
    const status = this.core.status();
    if (op.type === 'transfer') {
      if (status.role === 'leader' && op.id === this.id) {
        this.replyAdmin(request, { ok: true, membership: { voters: status.voters, learners: status.learners } });
        return;
      }
      const r = this.core.transferLeadership(op.id, now);
      if (!r.ok) this.replyAdmin(request, { ok: false, error: r.reason, leaderHint: r.leaderHint });
      else this.pendingTransfer = request;
      return;
    }
    if (status.role === 'leader' && alreadyDone(op, status) && this.core.membershipCommitted()) {
      // A retry of a change that already committed: answer it, change nothing.
      this.replyAdmin(request, { ok: true, membership: { voters: status.voters, learners: status.learners } });
      return;
    }
    const r = this.core.proposeMembership(op, now);
    if (!r.ok) this.replyAdmin(request, { ok: false, error: r.reason, leaderHint: r.leaderHint });
    else this.pendingChanges.set(r.index, request);
  }

  private replyAdmin(
    request: AdminRequest,
    outcome: { ok: true; membership: Membership } | { ok: false; error: Extract<AdminReply, { ok: false }>['error']; leaderHint: NodeId | null },
  ): void {
    const reply: AdminReply = { type: 'AdminReply', from: this.id, to: request.from, requestId: request.requestId, ...outcome };
    this.options.transport.send(reply);
  }

  // ------------------------------------------------------------------ snapshots

  /** Replaces the application state and the sessions with a snapshot's. */
  private restore(snapshot: Snapshot): void {
    const data = JSON.parse(snapshot.data) as SnapshotData;
    this.options.stateMachine.restore(data.app);
    this.sessions.restore(data.sessions);
    this.lastApplied = snapshot.index;
    this.logBytes = 0;
  }

  /** Snapshots the state machine when the policy says so, and lets the core drop the log. */
  private maybeSnapshot(): void {
    const { snapshotEvery, snapshotLogBytes } = this.config;
    const since = this.lastApplied - this.core.status().snapshotIndex;
    const due = (snapshotEvery > 0 && since >= snapshotEvery) || (snapshotLogBytes > 0 && this.logBytes > snapshotLogBytes && since > 0);
    if (!due) return;
    const data: SnapshotData = { app: this.options.stateMachine.snapshot(), sessions: this.sessions.snapshot() };
    const snapshot: Snapshot = { ...this.core.snapshotAt(this.lastApplied), data: JSON.stringify(data) };
    // Durable before the log loses anything: a crash in between keeps both, and loses nothing.
    this.options.storage.saveSnapshot(snapshot);
    this.options.storage.sync();
    this.core.compact(snapshot);
    this.logBytes = 0;
    for (const e of this.core.entries()) this.logBytes += entryBytes(e);
  }

  // ------------------------------------------------------------------ the Ready loop

  private drain(): void {
    while (this.core.hasReady()) this.handleReady(this.core.ready());
    this.armTimer();
  }

  private handleReady(ready: Ready): void {
    const { storage, transport, emit } = this.options;
    // 1. Persist, and sync when anything the messages promise was written (Figure 2).
    let mustSync = false;
    if (ready.snapshot !== null) {
      // Installed from the leader: on disk before the reply promises it (and before any entry
      // that follows it), then the state machine starts over from it.
      storage.saveSnapshot(ready.snapshot);
      mustSync = true;
    }
    if (ready.hardState !== null) {
      storage.setHardState(ready.hardState);
      mustSync ||= ready.hardState.term !== this.written.term || ready.hardState.votedFor !== this.written.votedFor;
      this.written = ready.hardState;
    }
    if (ready.entries.length > 0) {
      storage.append(ready.entries);
      mustSync = true;
      if (this.config.snapshotLogBytes > 0) for (const e of ready.entries) this.logBytes += entryBytes(e);
    }
    if (mustSync) storage.sync();
    if (ready.snapshot !== null) this.restore(ready.snapshot);
    // 2. Only now may the node speak.
    for (const m of ready.messages) transport.send(m);
    if (emit) for (const e of ready.events) emit(e);
    // 3. Apply, answer writes, then reads that were waiting for these entries.
    for (const entry of ready.committed) this.apply(entry);
    if (ready.committed.length > 0) this.maybeSnapshot();
    for (const ctx of ready.droppedReads) {
      const w = this.pendingReads.get(ctx);
      this.pendingReads.delete(ctx);
      if (w) this.replyError(w.request, 'not-leader', this.core.status().leaderId);
    }
    for (const read of ready.reads) {
      const w = this.pendingReads.get(read.ctx);
      this.pendingReads.delete(read.ctx);
      if (w) this.readyReads.push({ index: read.index, request: w.request });
    }
    this.readyReads.sort((a, b) => a.index - b.index);
    this.serveReads();
    if (this.pendingTransfer !== null) {
      const request = this.pendingTransfer;
      if (ready.events.some((e) => e.type === 'role' && e.from === 'leader')) {
        this.pendingTransfer = null;
        const s = this.core.status();
        this.replyAdmin(request, { ok: true, membership: { voters: s.voters, learners: s.learners } });
      } else if (ready.events.some((e) => e.type === 'transfer' && e.phase === 'aborted')) {
        this.pendingTransfer = null;
        this.replyAdmin(request, { ok: false, error: 'transfer-timeout', leaderHint: this.id });
      }
    }
    if (ready.events.some((e) => e.type === 'role' && e.from === 'leader')) this.abandonWrites();
  }

  private apply(entry: Entry): void {
    this.lastApplied = entry.index;
    const waiting = this.pendingWrites.get(entry.index);
    this.pendingWrites.delete(entry.index);
    if (waiting) this.pendingIndex.delete(`${waiting.request.clientId}#${waiting.request.seq}`);
    const change = this.pendingChanges.get(entry.index);
    this.pendingChanges.delete(entry.index);
    if (change) {
      if (entry.type === 'config' && entry.term === this.core.status().term) this.replyAdmin(change, { ok: true, membership: entry.membership });
      else this.replyAdmin(change, { ok: false, error: 'not-leader', leaderHint: this.core.status().leaderId });
    }
    if (entry.type !== 'command') {
      this.options.emit?.({ type: 'apply', index: entry.index, term: entry.term, entry: entry.type, duplicate: false });
      if (waiting) this.replyError(waiting.request, 'not-leader', this.core.status().leaderId);
      return;
    }
    const outcome = this.sessions.apply(entry.command, this.options.stateMachine);
    this.options.emit?.({ type: 'apply', index: entry.index, term: entry.term, entry: 'command', duplicate: outcome.kind !== 'applied' });
    if (!waiting) return;
    const c = entry.command;
    if (c.clientId !== waiting.request.clientId || c.seq !== waiting.request.seq) {
      // Another leader's entry took this index: ours was lost. The client retries, same seq.
      this.replyError(waiting.request, 'not-leader', this.core.status().leaderId);
    } else if (outcome.kind === 'stale') {
      this.replyError(waiting.request, 'stale-request', this.core.status().leaderId);
    } else {
      this.replyOk(waiting.request, outcome.result);
    }
  }

  private serveReads(): void {
    while (this.readyReads.length > 0 && this.readyReads[0]!.index <= this.lastApplied) {
      const read = this.readyReads.shift()!;
      this.replyOk(read.request, this.options.stateMachine.query(read.request.op));
    }
  }

  /**
   * This node stopped leading: its pending writes may still commit under the next leader, or be
   * overwritten. Tell the clients now so they retry there; sessions make the retry safe.
   */
  private abandonWrites(): void {
    const hint = this.core.status().leaderId;
    for (const w of this.pendingWrites.values()) this.replyError(w.request, 'not-leader', hint);
    this.pendingWrites.clear();
    this.pendingIndex.clear();
    for (const r of this.readyReads) this.replyError(r.request, 'not-leader', hint);
    this.readyReads.length = 0;
    for (const c of this.pendingChanges.values()) this.replyAdmin(c, { ok: false, error: 'not-leader', leaderHint: hint });
    this.pendingChanges.clear();
  }

  private report(error: MalformedMessageError): void {
    this.options.emit?.({ type: 'malformed-message', error: error.message });
  }

  private armTimer(): void {
    if (this.stopped) return;
    const deadline = this.core.nextDeadline();
    if (deadline === this.timerDeadline && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    this.timer = undefined;
    if (deadline === Number.POSITIVE_INFINITY) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerDeadline = Number.POSITIVE_INFINITY;
      if (this.stopped) return;
      this.core.tick(this.now());
      this.drain();
    }, Math.max(0, deadline - this.now()));
  }
}

/** Is the membership already what `op` asks for? (Then a retry of it is answered at once.) */
function alreadyDone(op: { readonly type: 'add-learner' | 'promote' | 'remove'; readonly id: NodeId }, m: Membership): boolean {
  const voter = m.voters.includes(op.id);
  const member = voter || m.learners.includes(op.id);
  if (op.type === 'add-learner') return member;
  if (op.type === 'promote') return voter;
  return !member;
}

/** Roughly what an entry costs in the log, for the size-based snapshot policy. */
function entryBytes(e: Entry): number {
  return e.type === 'command' ? 64 + JSON.stringify(e.command.op).length + e.command.clientId.length : 32;
}
