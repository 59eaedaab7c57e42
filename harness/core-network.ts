import { resolveRaftConfig, type RaftOptions } from '../src/raft/config.js';
import { RaftCore } from '../src/raft/raft.js';
import { createRandom, deriveSeed, type Random } from '../src/raft/random.js';
import type { ClientCommand, Entry, HardState, NodeId, PersistedState, RaftMessage, Role } from '../src/raft/types.js';
import { SafetyMonitor, type NodeView } from './check/safety.js';

/**
 * A cluster of pure Raft cores in one thread on one virtual clock: no workers, no real timers.
 * Used by the property tests, the core benchmark and the quick core simulation. Every random
 * choice (timeouts, latency, drops, duplicates) comes from the seed, so a run replays exactly.
 */
export type CoreNetworkOptions = {
  readonly nodes: readonly NodeId[];
  readonly seed: number;
  readonly raft?: Partial<RaftOptions>;
  /** Delivery delay in virtual ms, drawn uniformly from [min, max]. */
  readonly latency?: readonly [number, number];
  readonly drop?: number;
  readonly duplicate?: number;
  /** Check every safety property after every event (costs time on long logs). */
  readonly checkSafety?: boolean;
};

type InFlight = { readonly due: number; readonly seq: number; readonly message: RaftMessage };

type Member = {
  readonly id: NodeId;
  core: RaftCore | null;
  incarnation: number;
  /** Stable storage: written before the messages of each Ready go out. Survives crashes. */
  hardState: HardState;
  log: Entry[];
  /** Applied entries of the current incarnation, in order. */
  applied: Entry[];
};

export class CoreNetwork {
  readonly ids: readonly NodeId[];
  private readonly options: CoreNetworkOptions;
  private readonly members = new Map<NodeId, Member>();
  private readonly random: Random;
  private readonly monitor: SafetyMonitor | null;
  private inflight: InFlight[] = [];
  private seq = 0;
  private clock = 0;
  /** Directed links that lose everything: `${from}>${to}`. */
  private readonly cut = new Set<string>();
  /** Counters: messages by type, and entries carried by AppendEntries. */
  readonly sent = new Map<string, number>();
  entriesSent = 0;
  events = 0;

  constructor(options: CoreNetworkOptions) {
    this.options = options;
    this.ids = [...options.nodes];
    this.random = createRandom(deriveSeed(options.seed, 'network'));
    this.monitor = options.checkSafety === false ? null : new SafetyMonitor();
    for (const id of this.ids) {
      this.members.set(id, { id, core: null, incarnation: 0, hardState: { term: 0, votedFor: null, commit: 0 }, log: [], applied: [] });
      this.boot(id);
    }
  }

  get now(): number {
    return this.clock;
  }

  core(id: NodeId): RaftCore | null {
    return this.member(id).core;
  }

  applied(id: NodeId): readonly Entry[] {
    return this.member(id).applied;
  }

  persisted(id: NodeId): PersistedState {
    const m = this.member(id);
    return { hardState: m.hardState, snapshot: null, entries: m.log };
  }

  leader(): NodeId | undefined {
    let best: { id: NodeId; term: number } | undefined;
    for (const m of this.members.values()) {
      const s = m.core?.status();
      if (s?.role === 'leader' && (best === undefined || s.term > best.term)) best = { id: m.id, term: s.term };
    }
    return best?.id;
  }

  role(id: NodeId): Role | 'crashed' {
    return this.member(id).core?.status().role ?? 'crashed';
  }

  /** Proposes at `id` (or the current leader); false if it does not lead or is down. */
  propose(command: ClientCommand, at = this.leader()): boolean {
    const core = at === undefined ? null : this.member(at).core;
    if (!core) return false;
    const ok = core.propose(command, this.clock).ok;
    this.flush(at!);
    return ok;
  }

  crash(id: NodeId): void {
    const m = this.member(id);
    m.core = null;
    m.applied = [];
    this.inflight = this.inflight.filter((f) => f.message.to !== id);
  }

  restart(id: NodeId): void {
    if (this.member(id).core === null) this.boot(id);
  }

  /** Cuts every link between the groups (nodes in no group keep their links). */
  partition(...groups: ReadonlyArray<readonly NodeId[]>): void {
    for (const [i, a] of groups.entries()) {
      for (const [j, b] of groups.entries()) {
        if (i === j) continue;
        for (const x of a) for (const y of b) this.cut.add(`${x}>${y}`);
      }
    }
  }

  /** Cuts only from → to. */
  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Runs events until virtual time `until` (inclusive). */
  runUntil(until: number): void {
    for (;;) {
      const next = this.nextEventTime();
      if (next > until) break;
      this.stepOne();
    }
    this.clock = Math.max(this.clock, until);
  }

  /** Runs events until `done()` holds or `timeout` virtual ms pass; returns whether it held. */
  runUntilTrue(done: () => boolean, timeout: number): boolean {
    const end = this.clock + timeout;
    while (!done()) {
      if (this.nextEventTime() > end) {
        this.clock = end;
        return done();
      }
      this.stepOne();
    }
    return true;
  }

  /** The earliest pending event: a core's deadline or a message due. */
  nextEventTime(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const m of this.members.values()) if (m.core) t = Math.min(t, m.core.nextDeadline());
    for (const f of this.inflight) t = Math.min(t, f.due);
    return t;
  }

  /** One event: timers before messages at the same instant, then by node id, then by send order. */
  stepOne(): void {
    const t = this.nextEventTime();
    if (t === Number.POSITIVE_INFINITY) return;
    this.clock = Math.max(this.clock, t);
    this.events += 1;
    for (const id of this.ids) {
      const core = this.member(id).core;
      if (core && core.nextDeadline() <= this.clock) {
        core.tick(this.clock);
        this.flush(id);
        this.check();
        return;
      }
    }
    let best = -1;
    for (let i = 0; i < this.inflight.length; i++) {
      const f = this.inflight[i]!;
      if (f.due > this.clock) continue;
      const b = best < 0 ? undefined : this.inflight[best]!;
      if (b === undefined || f.message.to < b.message.to || (f.message.to === b.message.to && f.seq < b.seq)) best = i;
    }
    const [f] = this.inflight.splice(best, 1);
    const core = this.member(f!.message.to).core;
    if (core) {
      core.step(f!.message, this.clock);
      this.flush(f!.message.to);
    }
    this.check();
  }

  /** Views for checkers and tests. */
  views(): NodeView[] {
    const out: NodeView[] = [];
    for (const m of this.members.values()) {
      if (!m.core) continue;
      const s = m.core.status();
      out.push({ id: m.id, incarnation: m.incarnation, role: s.role, term: s.term, commitIndex: s.commitIndex, log: m.core.entries() });
    }
    return out;
  }

  private check(): void {
    this.monitor?.observe(this.views(), this.clock);
  }

  private boot(id: NodeId): void {
    const m = this.member(id);
    m.incarnation += 1;
    const config = resolveRaftConfig(id, this.ids, this.options.raft ?? {});
    const random = createRandom(deriveSeed(this.options.seed, `${id}#${m.incarnation}`));
    m.core = new RaftCore(config, { hardState: m.hardState, snapshot: null, entries: m.log }, random, this.clock);
    m.applied = [];
    this.flush(id);
  }

  /** Handles a node's Ready: persist, then send, then apply. */
  private flush(id: NodeId): void {
    const m = this.member(id);
    const core = m.core;
    if (!core) return;
    while (core.hasReady()) {
      const r = core.ready();
      if (r.hardState) m.hardState = r.hardState;
      if (r.entries.length > 0) {
        m.log.length = r.entries[0]!.index - 1;
        m.log.push(...r.entries);
      }
      for (const msg of r.messages) this.transmit(msg);
      m.applied.push(...r.committed);
    }
  }

  private transmit(message: RaftMessage): void {
    this.sent.set(message.type, (this.sent.get(message.type) ?? 0) + 1);
    if (message.type === 'AppendEntries') this.entriesSent += message.entries.length;
    if (this.cut.has(`${message.from}>${message.to}`)) return;
    const { drop = 0, duplicate = 0, latency = [1, 1] } = this.options;
    if (drop > 0 && this.random() < drop) return;
    const copies = duplicate > 0 && this.random() < duplicate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const delay = latency[0] + Math.floor(this.random() * (latency[1] - latency[0] + 1));
      this.inflight.push({ due: this.clock + delay, seq: this.seq++, message });
    }
  }

  private member(id: NodeId): Member {
    const m = this.members.get(id);
    if (!m) throw new RangeError(`raft-harness: unknown node ${JSON.stringify(id)}; nodes: ${this.ids.join(', ')}`);
    return m;
  }
}
