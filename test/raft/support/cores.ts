/**
 * Small helpers for driving `RaftCore`s by hand in tests: build a core, build a log, pick
 * messages out of a Ready, and a tiny deterministic in-memory network.
 */
import { resolveRaftConfig, type RaftOptions } from '../../../src/raft/config.js';
import { RaftCore } from '../../../src/raft/raft.js';
import { createRandom } from '../../../src/raft/random.js';
import type {
  AppendEntries,
  AppendEntriesReply,
  ClientCommand,
  Entry,
  NodeId,
  PersistedState,
  RaftMessage,
  RaftMessageType,
  ReadState,
  RequestVote,
} from '../../../src/raft/types.js';

/** Paper-like defaults: no pre-vote and no check-quorum unless a test asks for them. */
export const PAPER_OPTIONS: RaftOptions = {
  electionTimeout: [150, 300],
  heartbeatInterval: 50,
  preVote: false,
  checkQuorum: false,
  maxEntriesPerMessage: 64,
  maxInflight: 8,
  snapshotEvery: 0,
  snapshotLogBytes: 0,
  snapshotChunkSize: 65_536,
};

export type CoreSetup = {
  readonly options?: Partial<RaftOptions>;
  /** Persisted state to start from; the default is an empty log in term 0. */
  readonly state?: PersistedState;
  /** Seed of the core's random source; the default is its id. */
  readonly seed?: number | string;
  /** The clock at creation. */
  readonly now?: number;
  /** A server joining a running cluster (`members` are the others). */
  readonly joining?: boolean;
};

export function makeCore(id: NodeId, members: readonly NodeId[], setup: CoreSetup = {}): RaftCore {
  const config = resolveRaftConfig(id, members, { ...PAPER_OPTIONS, ...setup.options }, setup.joining ?? false);
  return new RaftCore(config, setup.state ?? state(), createRandom(setup.seed ?? id), setup.now ?? 0);
}

/** A network of cores n1..n<count>, each set up by `setup(id)`. */
export function cluster(count: number, setup: (id: NodeId) => CoreSetup = () => ({})): Network {
  const members = nodes(count);
  return new Network(members.map((id) => makeCore(id, members, setup(id))));
}

/** Everything observable about a core's state, to check that an input left it unchanged. */
export function snapshot(core: RaftCore) {
  return { status: core.status(), hardState: core.hardState(), entries: core.entries(), deadline: core.nextDeadline() };
}

/** `nodes(3)` = ['n1', 'n2', 'n3']. */
export function nodes(count: number): NodeId[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** A persisted state; by default term 0, no vote, nothing committed. */
export function state(log: readonly Entry[] = [], hard: { term?: number; votedFor?: NodeId | null; commit?: number } = {}): PersistedState {
  return { hardState: { term: hard.term ?? 0, votedFor: hard.votedFor ?? null, commit: hard.commit ?? 0 }, snapshot: null, entries: log };
}

/** What a crashed core had on stable storage (the test shells persist every Ready at once). */
export function persisted(core: RaftCore): PersistedState {
  return { hardState: core.hardState(), snapshot: core.currentSnapshot(), entries: core.entries() };
}

/**
 * A log holding one command entry per term given, at indexes 1..n. Each command names its index
 * and term, so two entries compare equal exactly when they are the same Raft entry.
 */
export function ents(...terms: number[]): Entry[] {
  return terms.map((term, i) => entry(i + 1, term));
}

export function entry(index: number, term: number, type: 'command' | 'noop' = 'command'): Entry {
  return type === 'noop' ? { index, term, type } : { index, term, type, command: { clientId: 'log', seq: index, op: `t${term}` } };
}

export function cmd(seq: number): ClientCommand {
  return { clientId: 'client', seq, op: { op: 'credit', amount: seq } };
}

/** The terms of a core's log, index 1 first. */
export function terms(core: RaftCore): number[] {
  return core.entries().map((e) => e.term);
}

export type MessageOf<T extends RaftMessageType> = Extract<RaftMessage, { type: T }>;

export function ofType<T extends RaftMessageType>(messages: readonly RaftMessage[], type: T): MessageOf<T>[] {
  return messages.filter((m): m is MessageOf<T> => m.type === type);
}

/** Drains the core's Ready and returns its messages of `type` (everything else is discarded). */
export function sent<T extends RaftMessageType>(core: RaftCore, type: T): MessageOf<T>[] {
  return ofType(core.ready().messages, type);
}

/** Fires the core's next deadline (election timeout for followers and candidates). */
export function timeout(core: RaftCore): number {
  const at = core.nextDeadline();
  core.tick(at);
  return at;
}

// ---- Hand-written messages, with defaults for the fields a test does not care about ----

export function appendEntries(fields: Partial<AppendEntries> & Pick<AppendEntries, 'from' | 'to' | 'term'>): AppendEntries {
  return { type: 'AppendEntries', prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, readRound: 0, ...fields };
}

export function appendReply(
  fields: Partial<AppendEntriesReply> & Pick<AppendEntriesReply, 'from' | 'to' | 'term'>,
): AppendEntriesReply {
  return {
    type: 'AppendEntriesReply',
    success: true,
    prevLogIndex: 0,
    matchIndex: 0,
    conflictTerm: null,
    conflictIndex: 0,
    readRound: 0,
    ...fields,
  };
}

export function requestVote(fields: Partial<RequestVote> & Pick<RequestVote, 'from' | 'to' | 'term'>): RequestVote {
  return { type: 'RequestVote', lastLogIndex: 0, lastLogTerm: 0, ...fields };
}

// ---- Network ----

type Match = (m: RaftMessage) => boolean;
const everything: Match = () => true;

/**
 * A deterministic FIFO network among cores, with one shared clock. Nothing moves unless the test
 * says so: `round` delivers once each queued message the test selects, `settle` repeats rounds
 * until no selected message is left. Messages to or from a `down` node are lost.
 */
export class Network {
  now: number;
  private readonly cores = new Map<NodeId, RaftCore>();
  private queue: RaftMessage[] = [];
  private readonly down = new Set<NodeId>();
  /** Every entry each node's Ready handed out as committed, in order (reset on restart). */
  private readonly applied = new Map<NodeId, Entry[]>();
  /** Index each node's state machine restarted from (a snapshot); `applied` follows it. */
  private readonly appliedBase = new Map<NodeId, number>();
  private readonly readsOut = new Map<NodeId, { reads: ReadState[]; dropped: string[] }>();

  constructor(cores: readonly RaftCore[], now = 0) {
    this.now = now;
    for (const c of cores) this.replace(c);
  }

  core(id: NodeId): RaftCore {
    const c = this.cores.get(id);
    if (!c) throw new Error(`no core ${id}`);
    return c;
  }

  /** Entries handed out as committed by `id` (checked to be 1, 2, 3, ... with no repeats), after its last snapshot. */
  committed(id: NodeId): Entry[] {
    return this.applied.get(id) ?? [];
  }

  /** Index of the snapshot `id` last restored from (0 if none): `committed(id)` follows it. */
  appliedFrom(id: NodeId): number {
    return this.appliedBase.get(id) ?? 0;
  }

  /** The shell's side of log compaction: snapshot `id` at `index` (applied) and compact. */
  compact(id: NodeId, index: number, data = `state@${index}`): void {
    this.collect();
    const c = this.core(id);
    c.compact({ ...c.snapshotAt(index), data });
  }

  /** ReadIndex answers and dropped reads each node's Ready handed out. */
  reads(id: NodeId): { reads: ReadState[]; dropped: string[] } {
    return this.readsOut.get(id) ?? { reads: [], dropped: [] };
  }

  /** Puts a (restarted) core in place of the one with its id; its log is applied afresh. */
  replace(core: RaftCore): void {
    this.cores.set(core.id, core);
    this.applied.set(core.id, []);
    this.appliedBase.set(core.id, core.currentSnapshot()?.index ?? 0);
    this.readsOut.set(core.id, { reads: [], dropped: [] });
    this.down.delete(core.id);
  }

  /** Cuts `ids` off: what is queued to or from them is lost, and so is what they send later. */
  crash(...ids: NodeId[]): void {
    this.collect();
    for (const id of ids) this.down.add(id);
    this.queue = this.queue.filter((m) => this.isUp(m));
  }

  heal(...ids: NodeId[]): void {
    for (const id of ids) this.down.delete(id);
  }

  /** Takes every core's pending output: queues its messages, records its committed entries. */
  collect(): void {
    for (const c of this.cores.values()) {
      const ready = c.ready();
      if (ready.snapshot !== null) {
        this.appliedBase.set(c.id, ready.snapshot.index);
        this.applied.set(c.id, []);
      }
      const log = this.applied.get(c.id)!;
      const base = this.appliedBase.get(c.id) ?? 0;
      for (const e of ready.committed) {
        if (e.index !== base + log.length + 1) throw new Error(`${c.id} handed out entry ${e.index} after ${base + log.length}`);
        log.push(e);
      }
      const out = this.readsOut.get(c.id)!;
      out.reads.push(...ready.reads);
      out.dropped.push(...ready.droppedReads);
      for (const m of ready.messages) if (this.isUp(m)) this.queue.push(m);
    }
  }

  /** Queued messages (a copy), after collecting. */
  pending(match: Match = everything): RaftMessage[] {
    this.collect();
    return this.queue.filter(match);
  }

  drop(match: Match): void {
    this.collect();
    this.queue = this.queue.filter((m) => !match(m));
  }

  /** Delivers each currently queued message that `match` selects, once; returns them. */
  round(match: Match = everything): RaftMessage[] {
    this.collect();
    const selected = this.queue.filter(match);
    this.queue = this.queue.filter((m) => !match(m));
    for (const m of selected) {
      this.core(m.to).step(m, this.now);
      this.collect();
    }
    return selected;
  }

  /** Rounds until no selected message is queued; returns everything delivered. */
  settle(match: Match = everything, maxRounds = 1_000): RaftMessage[] {
    const delivered: RaftMessage[] = [];
    for (let i = 0; i < maxRounds; i++) {
      const batch = this.round(match);
      if (batch.length === 0) return delivered;
      delivered.push(...batch);
    }
    throw new Error(`network did not settle in ${maxRounds} rounds`);
  }

  /** Moves the shared clock to `id`'s next deadline (if later) and fires it. */
  timeout(id: NodeId): void {
    this.collect();
    const c = this.core(id);
    this.now = Math.max(this.now, c.nextDeadline());
    c.tick(this.now);
    this.collect();
  }

  /**
   * Lets time pass up to `until`: fires every core's deadlines in time order (cut-off cores keep
   * running, they just cannot talk) and delivers everything at once after each.
   */
  runUntil(until: number): void {
    for (;;) {
      this.settle();
      const next = Math.min(...[...this.cores.values()].map((c) => c.nextDeadline()));
      if (next > until) break;
      this.now = Math.max(this.now, next);
      for (const c of this.cores.values()) c.tick(this.now);
    }
    this.now = Math.max(this.now, until);
  }

  /** Makes `id` time out and runs the network until quiet; returns with `id` leading. */
  elect(id: NodeId, match: Match = everything): void {
    this.timeout(id);
    this.settle(match);
    const s = this.core(id).status();
    if (s.role !== 'leader') throw new Error(`${id} did not win: ${JSON.stringify(s)}`);
  }

  private isUp(m: RaftMessage): boolean {
    return !this.down.has(m.from) && !this.down.has(m.to);
  }
}

/** Selects the messages of the given types. */
export function isType(...types: RaftMessageType[]): Match {
  return (m) => types.includes(m.type);
}

/** Selects the messages whose both ends are among `ids`. */
export function among(...ids: NodeId[]): Match {
  return (m) => ids.includes(m.from) && ids.includes(m.to);
}

export const votes: Match = isType('RequestVote', 'RequestVoteReply', 'PreVote', 'PreVoteReply');
