import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryStorage } from '../src/node/memory-storage.js';
import type { ServerStatus } from '../src/node/raft-server.js';
import { resolveRaftOptions, validateMembers, type RaftOptions } from '../src/raft/config.js';
import { InvalidConfigError, describe as describeValue } from '../src/raft/errors.js';
import { RAFT_MESSAGE_TYPES, type Membership, type NodeId, type PersistedState, type Role } from '../src/raft/types.js';
import { BankClient, type ClientOptions } from './client.js';
import type { AdminOp, AdminReply, AdminRequest } from '../src/node/client-protocol.js';
import {
  ClusterStoppedError,
  ClusterTimeoutError,
  LeadershipTransferError,
  MembershipChangeError,
  NodeCrashedError,
  NodeFailureError,
  UnknownNodeError,
} from './errors.js';
import type { NodeHost } from './hosts/host.js';
import { InlineNodeHost } from './hosts/inline-host.js';
import { WorkerNodeHost } from './hosts/worker-host.js';
import { applyDiskWrites } from './worker/mirrored-storage.js';
import { AppliedChecker } from './check/applied.js';
import { checkLinearizable, type CheckOptions, type CheckResult } from './check/linearizability.js';
import { models } from './check/models.js';
import { saveHtml, toHtml, toJson, toMermaid, toTable, type TraceData, type Verdict } from './trace/index.js';
import { SafetyMonitor, SafetyViolationError, type NodeView } from './check/safety.js';
import { matches, type MessageMatch } from './network/filter.js';
import { Router, type Counters, type InFlight, type NetworkConfig } from './network/router.js';
import type { NodeStopReport, NodeTraceEvent, PendingTimer, ProgramSpec, StepReport, WorkerPost } from './protocol.js';
import { nextEvent, type MainTimer, type ScheduledEvent } from './scheduler.js';
import { ArmedTrigger, validateTrigger, type Observation, type Trigger, type TriggerHit } from './triggers.js';

export type ClusterOptions = {
  /** A count (ids n1..nN) or the ids themselves. Default 3. */
  readonly nodes?: number | readonly string[];
  /**
   * `deterministic` (default): one global virtual clock here, moving only while the test awaits
   * the cluster. `realtime`: node clocks follow wall time and messages flow as sent.
   */
  readonly mode?: 'deterministic' | 'realtime';
  /** Drives every random choice: election timeouts, latency, drops. Default 1. */
  readonly seed?: number;
  readonly raft?: Partial<RaftOptions>;
  readonly network?: Partial<NetworkConfig>;
  /**
   * Where nodes run: `worker` (default), each in its own worker thread; or `inline`, all in this
   * thread on their own fake clocks, for fast deterministic sweeps (same trace for a seed).
   */
  readonly host?: 'worker' | 'inline';
  /** The node program; default the built-in Raft bank server. */
  readonly program?: ProgramSpec;
  /** Program options for a custom program (the Raft bank gets `{ raft }`). */
  readonly programOptions?: unknown;
  /** Real-time limit of one control call to a worker. Default 10 000 ms. */
  readonly controlTimeoutMs?: number;
  /** Real-time guard of any wait, whatever its virtual timeout. Default 60 000 ms. */
  readonly realTimeGuardMs?: number;
  /**
   * Record where each timer was created, for hang reports and `pendingTimers` (default true).
   * Sweeps turn it off: it costs a stack capture per timer.
   */
  readonly timerSites?: boolean;
  /** Where a safety violation saves the trace (default `.raft-harness/traces`); `false`: nowhere. */
  readonly traceDir?: string | false;
};

export type NodeStatus = 'running' | 'paused' | 'crashed' | 'stopped';

/** What `inspect` returns: the Raft server's own status, plus what the harness knows of the node. */
export type NodeSnapshot = ServerStatus & {
  readonly status: NodeStatus;
  /**
   * The node's own clock. It starts on the cluster's clock and stands still while the node is
   * paused, so after a pause it runs behind `cluster.now()` by the time spent paused.
   */
  readonly clock: number;
  /** Its timers, due times on its own clock. */
  readonly pendingTimers: readonly PendingTimer[];
};

/** What `stop()` found: each node's outcome, and every timer left pending (with its node). */
export type StopReport = {
  readonly nodes: readonly NodeStopReport[];
  readonly pendingTimers: ReadonlyArray<PendingTimer & { readonly node: string }>;
};

/** `cluster.trace`: call it for the entries; its methods export them. */
export type TraceView = (() => readonly TraceEntry[]) & {
  data(verdict?: Verdict): TraceData;
  json(verdict?: Verdict): string;
  table(verdict?: Verdict): string;
  mermaid(verdict?: Verdict): string;
  html(verdict?: Verdict): string;
  /** Writes the self-contained HTML viewer (creating directories); resolves with the path. */
  saveHtml(path: string, verdict?: Verdict): Promise<string>;
};

/** One line of the cluster's trace. */
export type TraceEntry = { readonly time: number; readonly node: string; readonly type: string; readonly [key: string]: unknown };

/** A client operation as recorded for linearizability checking. */
export type HistoryOperation = {
  readonly client: string;
  readonly input: unknown;
  readonly call: number;
  output?: unknown;
  return?: number;
};

type NodeRecord = {
  readonly id: NodeId;
  /** Added to the running cluster: it starts outside every configuration and learns its own. */
  readonly joining: boolean;
  status: NodeStatus;
  host: NodeHost | null;
  incarnation: number;
  /** The simulated disk, held on the main thread so it outlives the worker. */
  disk: MemoryStorage;
  /** Node clock = global time - offset; the offset grows by the time spent paused. */
  offset: number;
  /** While paused: the node's clock, frozen (fireTimers may move it on); null when not paused. */
  pausedNodeTime: number | null;
  asleepUntil: number;
  /** In node time. */
  nextTimer: number | null;
  clock: number;
  role: Role;
  term: number;
  commitIndex: number;
  applied: number;
  /** Last index of the log as synced to its disk. */
  lastIndex: number;
  /** How its stop went, for a node stopped before the cluster (removed): `stop()` reports it. */
  stopReport: NodeStopReport | null;
};

type Waiter = {
  readonly label: string;
  readonly deadline: number;
  readonly check: () => boolean | Promise<boolean>;
  /** `advance` succeeds when its time comes; every other wait fails. */
  readonly onDeadline: 'resolve' | 'reject';
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
};

const DEFAULT_TIMEOUT = 5_000;
/** Microtask hops the scheduler yields before each event, for the test's continuations to run. */
const QUIESCE_HOPS = 32;

/**
 * The controller a test holds: a Raft cluster with each node in its own worker thread on a fake
 * clock, and one global virtual clock here on the main thread that moves only while the test
 * awaits something on the cluster. Between events nothing runs, so every inspection sees a frozen,
 * consistent cluster; the same seed gives the same events in the same order.
 */
export class Cluster {
  /** The cluster's first members: every node's first configuration. */
  private readonly initialIds: readonly NodeId[];
  /** Every node the cluster runs, added ones included, removed ones not; in creation order. */
  private nodeIds: NodeId[];
  readonly seed: number;
  private readonly options: ClusterOptions;
  private readonly program: ProgramSpec;
  private readonly programOptions: unknown;
  private readonly nodes = new Map<NodeId, NodeRecord>();
  /** Tie-breaking order of nodes (fixed at creation: a node added later sorts after). */
  private readonly order: Map<string, number>;
  private readonly router: Router;
  /** Messages on the wire by id (insertion order is send order). */
  private readonly wire = new Map<number, InFlight>();
  private mainTimers: MainTimer[] = [];
  private nextMainTimer = 1;
  private virtualClock = 0;
  readonly mode: 'deterministic' | 'realtime';
  /** Realtime: the wall instant (performance.now) that is time 0. */
  private readonly wallStart = performance.now();
  /** Realtime: messages waiting on a real timer for their delivery time. */
  private readonly deliveryTimers = new Map<number, NodeJS.Timeout>();
  /** Realtime: wakes the waiting driver when something happened. */
  private poke: (() => void) | null = null;
  /** Real-time control work in progress (crash, restart); the scheduler waits for it. */
  private controlBusy = 0;
  private readonly controlIdle: Array<() => void> = [];
  /** Election safety and the applier check, on every event. */
  private readonly checker = new AppliedChecker();
  /** Figure 3's properties over every node's log, after every event (deterministic) or pause. */
  private readonly monitor = new SafetyMonitor();
  /** Hold rules, and the ids of the messages they hold. */
  private readonly holds: MessageMatch[] = [];
  private readonly held = new Set<number>();
  /** Realtime: client timers running on real time. */
  private readonly realTimers = new Map<number, NodeJS.Timeout>();
  /** Realtime: the first trigger hit reported by a worker. */
  private realtimeHit: TriggerHit | null = null;
  private readonly waiters = new Set<Waiter>();
  private driving = false;
  private stopped = false;
  private stopReport: StopReport | null = null;
  private failure: Error | null = null;
  /** Client addresses (bank clients, and the operator's `client:admin`) and their receivers. */
  private readonly clients = new Map<string, { receive(message: unknown): void }>();
  /** The membership change or transfer in progress (one at a time, as Raft allows). */
  private changing: string | null = null;
  private nextAdminRequest = 1;
  private readonly adminReplies = new Map<number, AdminReply>();
  private readonly traceLog: TraceEntry[] = [];
  private readonly historyLog: HistoryOperation[] = [];
  private clientCount = 0;
  /** Events run by the scheduler so far. */
  private events = 0;
  /** Triggers of pending pauseWhen calls; the first hit pauses the whole cluster. */
  private armed: Array<{ readonly trigger: ArmedTrigger; hit: TriggerHit | null }> = [];

  /** Global time in ms: virtual in deterministic mode, wall time since start in realtime mode. */
  private get clock(): number {
    return this.mode === 'realtime' ? Math.floor(performance.now() - this.wallStart) : this.virtualClock;
  }

  private set clock(value: number) {
    this.virtualClock = value;
  }

  private constructor(options: ClusterOptions, ids: readonly NodeId[], raft: RaftOptions) {
    this.options = options;
    this.mode = options.mode ?? 'deterministic';
    const data = (verdict?: Verdict): TraceData => ({
      trace: this.traceLog,
      history: this.history(),
      ids: this.ids,
      seed: this.seed,
      ...(verdict === undefined ? {} : { verdict }),
    });
    this.trace = Object.assign(() => this.traceLog as readonly TraceEntry[], {
      data,
      json: (verdict?: Verdict) => toJson(data(verdict)),
      table: (verdict?: Verdict) => toTable(data(verdict)),
      mermaid: (verdict?: Verdict) => toMermaid(data(verdict)),
      html: (verdict?: Verdict) => toHtml(data(verdict), { title: `raft-harness trace, seed ${this.seed}` }),
      saveHtml: async (path: string, verdict?: Verdict) => saveHtml(data(verdict), path, { title: `raft-harness trace, seed ${this.seed}` }),
    });
    this.initialIds = ids;
    this.nodeIds = [...ids];
    this.seed = options.seed ?? 1;
    this.order = new Map(ids.map((id, i) => [id, i]));
    this.router = new Router(this.seed, options.network ?? {});
    this.program = options.program ?? { kind: 'builtin', name: 'raft-bank' };
    this.programOptions = options.program === undefined ? { raft } : options.programOptions;
    for (const id of ids) this.nodes.set(id, this.blankRecord(id));
  }

  /** Validates the options, starts every node's worker, and returns with the cluster at time 0. */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const ids = resolveIds(options.nodes ?? 3);
    if (options.mode !== undefined && options.mode !== 'deterministic' && options.mode !== 'realtime') {
      throw new InvalidConfigError('mode', options.mode, "'deterministic' or 'realtime'");
    }
    if (options.host !== undefined && options.host !== 'worker' && options.host !== 'inline') {
      throw new InvalidConfigError('host', options.host, "'worker' or 'inline'");
    }
    if (options.host === 'inline' && options.mode === 'realtime') {
      throw new InvalidConfigError('host', 'inline', "'worker' in realtime mode (the inline host runs deterministic mode only)");
    }
    if (options.seed !== undefined && (!Number.isSafeInteger(options.seed) || options.seed < 0)) {
      throw new InvalidConfigError('seed', options.seed, 'an integer >= 0');
    }
    const raft = resolveRaftOptions(options.raft ?? {});
    const cluster = new Cluster(options, ids, raft);
    try {
      await Promise.all(ids.map((id) => cluster.boot(id)));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  // ---------------------------------------------------------------- looking

  /** The cluster's nodes, in creation order (`addNode` appends, `removeNode` takes out). */
  get ids(): readonly NodeId[] {
    return this.nodeIds;
  }

  /** Global virtual time, ms. */
  now(): number {
    return this.clock;
  }

  /** The node leading in the highest term among running nodes, if any. */
  async leader(): Promise<NodeId | undefined> {
    this.assertLive('leader');
    return this.currentLeader();
  }

  async inspect(id: NodeId): Promise<NodeSnapshot> {
    this.assertLive('inspect');
    const n = this.node(id);
    if (n.host === null || n.status === 'crashed' || n.status === 'stopped') {
      const disk = n.disk.durable();
      return {
        id,
        status: n.status,
        role: 'follower',
        term: disk.hardState.term,
        votedFor: disk.hardState.votedFor,
        leaderId: null,
        commitIndex: disk.hardState.commit,
        lastApplied: 0,
        log: disk.entries,
        snapshotIndex: disk.snapshot?.index ?? 0,
        snapshotTerm: disk.snapshot?.term ?? 0,
        ...this.membershipOnDisk(disk),
        app: null,
        clock: n.clock,
        pendingTimers: [],
      };
    }
    const [raw, timers, clock] = await Promise.all([
      n.host.call('inspect'),
      n.host.call('pendingTimers'),
      this.mode === 'realtime' ? n.host.call('clock') : Promise.resolve(n.clock),
    ]);
    const s = (raw ?? {}) as Partial<NodeSnapshot>;
    return {
      id,
      status: n.status,
      role: s.role ?? n.role,
      term: s.term ?? n.term,
      votedFor: s.votedFor ?? null,
      leaderId: s.leaderId ?? null,
      commitIndex: s.commitIndex ?? n.commitIndex,
      lastApplied: s.lastApplied ?? 0,
      log: s.log ?? [],
      snapshotIndex: s.snapshotIndex ?? 0,
      snapshotTerm: s.snapshotTerm ?? 0,
      voters: s.voters ?? this.ids,
      learners: s.learners ?? [],
      app: s.app ?? raw,
      clock,
      pendingTimers: timers,
    };
  }

  /** The configuration a stopped node's disk holds: its last config entry, else its snapshot's, else the first. */
  private membershipOnDisk(disk: PersistedState): Membership {
    for (let i = disk.entries.length - 1; i >= 0; i--) {
      const e = disk.entries[i]!;
      if (e.type === 'config') return e.membership;
    }
    return disk.snapshot?.membership ?? { voters: this.initialIds, learners: [] };
  }

  /**
   * What the main thread knows of every live node, without asking it: role, term and commit index
   * from its events, its log as synced to its disk. For checkers and matchers.
   */
  views(): NodeView[] {
    const out: NodeView[] = [];
    for (const n of this.nodes.values()) {
      if (n.host === null || n.status === 'crashed' || n.status === 'stopped') continue;
      out.push({
        id: n.id,
        incarnation: n.incarnation,
        role: n.role,
        term: n.term,
        commitIndex: n.commitIndex,
        snapshotIndex: n.disk.snapshotIndex,
        log: n.disk.peekEntries(),
      });
    }
    return out;
  }

  async inspectAll(): Promise<NodeSnapshot[]> {
    return Promise.all(this.ids.map((id) => this.inspect(id)));
  }

  /** The program's own inspect() of a node, for programs other than the Raft bank. */
  async inspectRaw(id: NodeId): Promise<unknown> {
    this.assertLive('inspectRaw');
    const n = this.node(id);
    if (n.host === null || n.status === 'crashed') return null;
    return n.host.call('inspect');
  }

  /** Messages on the wire, in send order; `held` ones wait for release(), deliver() or drop(). */
  inflight(): Array<InFlight & { readonly held: boolean }> {
    return [...this.wire.values()].map((f) => ({ ...f, held: this.held.has(f.id) }));
  }

  /** Messages and bytes sent, per node and per type (every send counts, delivered or not). */
  counters(): Counters {
    return this.router.counters();
  }

  /**
   * The trace: `trace()` is every entry so far; `trace.json()`, `trace.table()`,
   * `trace.mermaid()`, `trace.html()` export it, `await trace.saveHtml(path)` writes the viewer.
   * Exports carry the client history, and the linearizability verdict when given.
   */
  readonly trace: TraceView;

  /** SHA-256 of the trace as JSON: equal hashes mean byte-identical runs. */
  traceHash(): string {
    return createHash('sha256').update(JSON.stringify(this.traceLog)).digest('hex');
  }

  history(): readonly HistoryOperation[] {
    return this.historyLog.map((op) => ({ ...op }));
  }

  /**
   * Checks the client history against the bank model: was every operation's answer consistent
   * with some order of the operations that respects real (virtual) time? Timed-out operations
   * may or may not have taken effect. A search past its budget answers 'unknown', never 'ok'.
   */
  async checkLinearizability(options: CheckOptions = {}): Promise<CheckResult> {
    return checkLinearizable(this.history(), models.bank(), options);
  }

  // ---------------------------------------------------------------- moving time

  /** Lets `ms` of virtual time pass. */
  async advance(ms: number): Promise<void> {
    this.assertLive('advance');
    checkDuration('advance', ms);
    return this.wait(`advance(${ms})`, () => false, ms, 'resolve');
  }

  /** Runs exactly one event; false if nothing is scheduled. */
  async step(): Promise<boolean> {
    this.assertLive('step');
    if (this.mode === 'realtime') throw new InvalidConfigError('step', 'in realtime mode', "mode 'deterministic': in realtime there is no next event to take");
    if (this.driving) throw new InvalidConfigError('step', 'while another wait drives the cluster', 'step() only when no other wait is in progress');
    const event = this.next();
    if (event === null) return false;
    this.driving = true;
    try {
      await this.run(event);
    } finally {
      this.releaseDriver();
    }
    if (this.failure) throw this.failure;
    return true;
  }

  /** Runs until `condition` holds (checked between events), failing after `timeout` virtual ms. */
  async runUntil(condition: (cluster: Cluster) => boolean | Promise<boolean>, options: { timeout?: number } = {}): Promise<void> {
    this.assertLive('runUntil');
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    checkDuration('timeout', timeout);
    return this.wait('runUntil(condition)', () => condition(this), timeout, 'reject');
  }

  /** Runs until some node leads (in the highest term seen), and returns its id. */
  async waitForLeader(options: { timeout?: number } = {}): Promise<NodeId> {
    this.assertLive('waitForLeader');
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    checkDuration('timeout', timeout);
    await this.wait('a leader', () => this.currentLeader() !== undefined, timeout, 'reject');
    return this.currentLeader()!;
  }

  /**
   * Runs until `trigger` is hit, and returns with the whole cluster paused exactly there: a
   * received message not yet processed, a sent message not yet delivered, a role, term or index
   * change just made. Says which node tripped it and why.
   */
  async pauseWhen(trigger: Trigger, options: { timeout?: number } = {}): Promise<TriggerHit> {
    this.assertLive('pauseWhen');
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    checkDuration('timeout', timeout);
    const raftTypes = this.program.kind === 'builtin' && this.program.name === 'raft-bank' ? [...RAFT_MESSAGE_TYPES, 'ClientRequest', 'ClientReply'] : null;
    validateTrigger(trigger, this.ids, raftTypes);
    if (this.mode === 'realtime') return this.pauseWhenRealtime(trigger, timeout);
    const armed = { trigger: new ArmedTrigger(trigger), hit: null as TriggerHit | null };
    this.armed.push(armed);
    // Levels already reached count at once (a term, commit, applied or log index); role changes
    // and messages count only from now on.
    for (const n of this.nodes.values()) {
      if (n.status === 'crashed' || n.status === 'stopped') continue;
      const levels: Observation[] = [
        { kind: 'event', node: n.id, event: { type: 'term', to: n.term } },
        { kind: 'event', node: n.id, event: { type: 'commit', to: n.commitIndex } },
        { kind: 'event', node: n.id, event: { type: 'apply', index: n.applied } },
        { kind: 'logIndex', node: n.id, index: n.lastIndex },
      ];
      for (const o of levels) if (this.tripped(o)) break;
    }
    try {
      await this.wait('a trigger', () => armed.hit !== null, timeout, 'reject');
    } finally {
      this.armed = this.armed.filter((a) => a !== armed);
    }
    return armed.hit!;
  }

  /**
   * Realtime: nodes move on their own, so the trigger is evaluated inside each worker at the exact
   * point; the node that hits it freezes itself at once, and the rest are paused right after.
   */
  private async pauseWhenRealtime(trigger: Trigger, timeout: number): Promise<TriggerHit> {
    if (hasPredicate(trigger)) {
      throw new InvalidConfigError('trigger.where', 'a function', 'no `where` in realtime mode: triggers run inside the workers, and functions cannot cross to them');
    }
    this.realtimeHit = null;
    const live = [...this.nodes.values()].filter((n) => n.host?.alive);
    await Promise.all(live.map((n) => n.host!.call('arm', trigger)));
    try {
      await this.wait('a trigger', () => this.realtimeHit !== null, timeout, 'reject');
      await this.pause();
    } finally {
      await Promise.all(live.filter((n) => n.host?.alive).map((n) => n.host!.call('disarm')));
    }
    const hit = this.realtimeHit!;
    this.record(hit.node, 'trigger', { reason: hit.reason });
    return hit;
  }

  // ---------------------------------------------------------------- pausing

  /** Freezes nodes (all by default): their clocks stop, their timers keep their due times, and messages to them wait. */
  async pause(which?: NodeId | readonly NodeId[]): Promise<void> {
    this.assertLive('pause');
    const nodes = this.select(which).filter((n) => n.status === 'running' || (this.mode === 'realtime' && n.status === 'paused'));
    if (this.mode === 'realtime') {
      // A node that tripped a trigger froze itself already; pausing it again is harmless.
      await Promise.all(nodes.map(async (n) => (n.clock = await n.host!.call('pause'))));
    }
    for (const n of nodes) {
      if (n.status === 'paused') continue;
      n.status = 'paused';
      n.pausedNodeTime = this.clock - n.offset;
      this.record(n.id, 'pause', {});
    }
    if (this.mode === 'realtime') this.checkNow(); // realtime: checked whenever the cluster stands still
  }

  /** Continues paused nodes from the instant they were paused: nothing became overdue meanwhile. */
  async resume(which?: NodeId | readonly NodeId[]): Promise<void> {
    this.assertLive('resume');
    const nodes = this.select(which).filter((n) => n.status === 'paused');
    if (this.mode === 'realtime') await Promise.all(nodes.map((n) => n.host!.call('resume', 0)));
    for (const n of nodes) {
      n.offset = this.clock - n.pausedNodeTime!;
      n.pausedNodeTime = null;
      n.status = 'running';
      this.record(n.id, 'resume', {});
    }
  }

  /**
   * A fault: the node sleeps for `ms` of virtual time while its clock keeps running, as in a
   * long GC pause or SIGSTOP; on waking, its overdue timers fire at once and held messages arrive.
   */
  async stall(id: NodeId, ms: number): Promise<void> {
    this.assertLive('stall');
    checkDuration('stall', ms);
    const n = this.node(id);
    n.asleepUntil = Math.max(n.asleepUntil, this.clock + ms);
    this.record(id, 'stall', { until: n.asleepUntil });
    if (this.mode === 'realtime' && n.host?.alive && n.status === 'running') {
      // Frozen now; on waking its clock jumps by the time slept, so overdue timers fire at once.
      const host = n.host;
      await host.call('pause');
      const wake = setTimeout(() => {
        if (host.alive && n.status === 'running') void host.call('resume', ms).catch(() => {});
      }, ms);
      wake.unref();
    }
  }

  // ---------------------------------------------------------------- the network

  /** Cuts every link between the groups; nodes in no group keep their links. */
  partition(...groups: ReadonlyArray<readonly NodeId[]>): void {
    this.assertLive('partition');
    for (const g of groups) for (const id of g) this.node(id);
    for (const [i, a] of groups.entries()) {
      for (const [j, b] of groups.entries()) {
        if (i !== j) for (const x of a) for (const y of b) this.router.cut(x, y);
      }
    }
    this.record('*', 'partition', { groups: groups.map((g) => [...g]) });
  }

  /** Restores every link. */
  heal(): void {
    this.assertLive('heal');
    this.router.heal();
    this.record('*', 'heal', {});
  }

  /** Cuts a node off from every other node and client, clients created later included. */
  isolate(id: NodeId): void {
    this.assertLive('isolate');
    this.node(id);
    this.router.isolate(id);
    this.record(id, 'isolate', {});
  }

  /** Reconnects a node: ends its isolation and every cut to or from it. */
  connect(id: NodeId): void {
    this.assertLive('connect');
    this.node(id);
    this.router.reconnect(id);
    this.record(id, 'connect', {});
  }

  /**
   * Merges into the current settings: globally, or for one direction of one link
   * (`{ from, to }`). Latency, drop, duplicate and reorder rates, all drawn from the seed.
   */
  configureNetwork(config: Partial<NetworkConfig>, link?: { readonly from: string; readonly to: string }): void {
    this.assertLive('configureNetwork');
    if (link !== undefined) {
      this.endpoint(link.from);
      this.endpoint(link.to);
    }
    this.router.configure(config, link);
  }

  /** Cuts only the direction from → to: `from` can no longer reach `to`, the reverse still works. */
  partitionOneWay(from: NodeId | readonly NodeId[], to: NodeId | readonly NodeId[]): void {
    this.assertLive('partitionOneWay');
    const sources = typeof from === 'string' ? [from] : from;
    const targets = typeof to === 'string' ? [to] : to;
    for (const x of sources) this.node(x);
    for (const y of targets) this.node(y);
    for (const x of sources) for (const y of targets) if (x !== y) this.router.cut(x, y);
    this.record('*', 'partition', { oneWay: true, from: [...sources], to: [...targets] });
  }

  // ---------------------------------------------------------------- message control

  /** Keeps matching messages (in flight now, and sent from now on) on the wire until released. */
  hold(filter: MessageMatch = {}): void {
    this.assertLive('hold');
    this.checkFilter(filter);
    this.holds.push(filter);
    for (const f of this.wire.values()) if (matches(filter, f)) this.held.add(f.id);
  }

  /**
   * Lets held messages go: those matching `filter`, or, with no filter, every held message and
   * every hold rule. Released messages are delivered at their due time, or at once if it passed.
   */
  release(filter?: MessageMatch): void {
    this.assertLive('release');
    if (filter === undefined) this.holds.length = 0;
    else this.checkFilter(filter);
    for (const id of [...this.held]) {
      const f = this.wire.get(id);
      if (f === undefined || (filter !== undefined && !matches(filter, f))) continue;
      this.held.delete(id);
      if (this.mode === 'realtime' && !this.deliveryTimers.has(id)) this.scheduleDelivery(f);
    }
  }

  /** Delivers one message now, held or not, whatever its due time. */
  async deliver(id: number): Promise<void> {
    this.assertLive('deliver');
    const f = this.wire.get(id);
    if (f === undefined) throw new InvalidConfigError('deliver', id, `the id of a message in flight (${[...this.wire.keys()].slice(0, 20).join(', ') || 'none'})`);
    this.held.delete(id);
    if (this.mode === 'realtime') {
      clearTimeout(this.deliveryTimers.get(id));
      this.deliveryTimers.delete(id);
      this.handOver(f);
      return;
    }
    if (this.driving) throw new InvalidConfigError('deliver', id, 'deliver() only when no other wait is in progress');
    this.driving = true;
    try {
      await this.run({ kind: 'message', at: this.clock, flight: f });
    } finally {
      this.releaseDriver();
    }
    if (this.failure) throw this.failure;
  }

  /** Removes one message from the wire: it is lost. */
  drop(id: number): void {
    this.assertLive('drop');
    const f = this.wire.get(id);
    if (f === undefined) throw new InvalidConfigError('drop', id, 'the id of a message in flight');
    this.wire.delete(id);
    this.held.delete(id);
    clearTimeout(this.deliveryTimers.get(id));
    this.deliveryTimers.delete(id);
    this.record(f.from, 'drop', { to: f.to, message: f.type, id });
  }

  // ---------------------------------------------------------------- crashes

  /** Terminates the node's worker for real: what it had not synced is lost, messages to it too. */
  async crash(id: NodeId): Promise<void> {
    this.assertLive('crash');
    const n = this.node(id);
    if (n.status === 'crashed') return;
    const host = n.host;
    n.host = null;
    n.status = 'crashed';
    n.nextTimer = null;
    const lost = [...this.wire.values()].filter((f) => f.to === id);
    for (const f of lost) this.wire.delete(f.id);
    this.record(id, 'crash', lost.length > 0 ? { lost: lost.map((f) => f.id) } : {});
    await this.exclusive(() => host?.terminate() ?? Promise.resolve());
  }

  /** Starts a new worker for a crashed node from exactly what its disk had synced. */
  async restart(id: NodeId): Promise<void> {
    this.assertLive('restart');
    const n = this.node(id);
    if (n.status !== 'crashed') throw new InvalidConfigError('restart', id, `a crashed node (${id} is ${n.status})`);
    await this.exclusive(() => this.boot(id));
    this.record(id, 'restart', { incarnation: n.incarnation });
  }

  // ---------------------------------------------------------------- membership

  /**
   * Adds a node to the running cluster (dissertation §4.1): starts it outside every configuration,
   * adds it as a learner, waits until it has caught up with the leader's commit index, then makes
   * it a voter (unless `voter: false`). Resolves with its id once the promotion committed.
   */
  async addNode(options: { readonly id?: NodeId; readonly voter?: boolean; readonly timeout?: number } = {}): Promise<NodeId> {
    this.assertLive('addNode');
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    checkDuration('timeout', timeout);
    let k = this.nodes.size + 1;
    while (this.nodes.has(`n${k}`)) k++;
    const id = options.id ?? `n${k}`;
    if (typeof id !== 'string' || id.length === 0 || id.startsWith('client:')) {
      throw new InvalidConfigError('id', id, 'a non-empty node id not starting with "client:"');
    }
    if (this.nodes.has(id)) {
      throw new MembershipChangeError('addNode', id, 'already-member', `the cluster already has (or had) a node ${id}; nodes: ${this.ids.join(', ')}`);
    }
    this.beginChange('addNode', id);
    try {
      this.nodes.set(id, { ...this.blankRecord(id), joining: true });
      this.nodeIds.push(id);
      this.order.set(id, this.order.size);
      this.record(id, 'add-node', {});
      await this.exclusive(() => this.boot(id));
      const deadline = this.clock + timeout;
      await this.admin({ type: 'add-learner', id }, deadline, 'addNode');
      // Catch up first, so that the new voter does not stall commits (§4.2.1).
      const leader = this.currentLeader();
      const target = leader === undefined ? 0 : this.node(leader).commitIndex;
      await this.wait(`addNode(${id}): catching up to ${target}`, () => this.node(id).commitIndex >= target, Math.max(1, deadline - this.clock), 'reject');
      if (options.voter !== false) await this.admin({ type: 'promote', id }, deadline, 'addNode');
      return id;
    } finally {
      this.changing = null;
    }
  }

  /**
   * Removes a node from the cluster's configuration, and (unless `stop: false`) stops it once the
   * removal committed. Removing the leader is allowed: it steps down after the change commits.
   */
  async removeNode(id: NodeId, options: { readonly stop?: boolean; readonly timeout?: number } = {}): Promise<void> {
    this.assertLive('removeNode');
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    checkDuration('timeout', timeout);
    if (!this.nodeIds.includes(id)) {
      throw new MembershipChangeError('removeNode', id, 'not-member', `no node ${JSON.stringify(id)} in the cluster; nodes: ${this.ids.join(', ')}`);
    }
    this.beginChange('removeNode', id);
    try {
      await this.admin({ type: 'remove', id }, this.clock + timeout, 'removeNode');
      if (options.stop !== false) {
        const n = this.node(id);
        const host = n.host;
        n.host = null;
        n.status = 'stopped';
        n.nextTimer = null;
        for (const f of [...this.wire.values()]) if (f.to === id) this.wire.delete(f.id);
        this.nodeIds = this.nodeIds.filter((x) => x !== id);
        this.record(id, 'remove-node', {});
        await this.exclusive(async () => {
          if (host !== null) n.stopReport = await host.stop();
        });
      }
    } finally {
      this.changing = null;
    }
  }

  /**
   * Hands leadership to `to` (dissertation §3.10) and resolves once `to` leads. Fails with
   * LeadershipTransferError when `to` is not a voter, or does not take over within an election
   * timeout (the old leader then leads on).
   */
  async transferLeadership(to: NodeId, options: { readonly timeout?: number } = {}): Promise<void> {
    this.assertLive('transferLeadership');
    const timeout = options.timeout ?? DEFAULT_TIMEOUT;
    checkDuration('timeout', timeout);
    this.node(to);
    this.beginChange('transferLeadership', to);
    try {
      const deadline = this.clock + timeout;
      const from = this.currentLeader() ?? null;
      if (from === to) return;
      await this.admin({ type: 'transfer', id: to }, deadline, 'transferLeadership');
      await this.wait(`transferLeadership(${to})`, () => this.currentLeader() === to, Math.max(1, deadline - this.clock), 'reject');
    } finally {
      this.changing = null;
    }
  }

  private beginChange(call: string, id: NodeId): void {
    if (this.changing !== null) {
      throw new MembershipChangeError(call, id, 'change-pending', `${this.changing} is still in progress; Raft changes one server at a time`);
    }
    this.changing = `${call}(${id})`;
  }

  /**
   * Sends an operator request to the leader, following leader hints and retrying what a leader
   * cannot do yet (no leader, a change still committing), until `deadline`. Refusals that retrying
   * cannot fix throw at once, naming the reason.
   */
  private async admin(op: AdminOp, deadline: number, call: string): Promise<AdminReply & { ok: true }> {
    if (!this.clients.has('client:admin')) {
      this.clients.set('client:admin', {
        receive: (message) => {
          const reply = message as AdminReply;
          this.adminReplies.set(reply.requestId, reply);
        },
      });
    }
    let target = this.currentLeader() ?? this.ids[0]!;
    /** Every attempt's request id: the answer to an earlier attempt answers the operation too. */
    const sent: number[] = [];
    let resend = true;
    for (;;) {
      const left = deadline - this.clock;
      if (left <= 0) break;
      if (resend) {
        const requestId = this.nextAdminRequest++;
        sent.push(requestId);
        const request: AdminRequest = { type: 'AdminRequest', from: 'client:admin', to: target, requestId, op };
        this.transmit('client:admin', request);
      }
      resend = true;
      // A transfer is answered only when it ends (up to an election timeout): wait for that.
      const retryAt = this.clock + Math.min(op.type === 'transfer' ? 1_000 : 100, left);
      const answered = (): number | undefined => sent.find((id) => this.adminReplies.has(id));
      await this.wait(`${call}: ${op.type} ${op.id} at ${target}`, () => answered() !== undefined || this.clock >= retryAt, Math.min(retryAt - this.clock + 1, left), 'resolve');
      const id = answered();
      const reply = id === undefined ? undefined : this.adminReplies.get(id);
      if (id !== undefined) this.adminReplies.delete(id);
      if (reply === undefined) {
        target = this.currentLeader() ?? this.ids[(this.ids.indexOf(target) + 1) % this.ids.length]!;
        continue;
      }
      if (reply.ok) return reply;
      if (op.type === 'transfer' && reply.error === 'transferring') {
        resend = false; // our own earlier attempt is under way there: its answer will come
        continue;
      }
      if (reply.error === 'not-leader' || reply.error === 'change-pending') {
        const hint = reply.leaderHint;
        target = hint !== null && hint !== target && this.nodes.has(hint) ? hint : (this.currentLeader() ?? target);
        if (hint === null || hint === reply.from) await this.wait(`${call}: retry`, () => false, Math.max(1, Math.min(20, deadline - this.clock)), 'resolve');
        continue;
      }
      if (op.type === 'transfer') {
        throw new LeadershipTransferError(reply.from, op.id, reply.error, reply.error === 'transfer-timeout'
          ? `${op.id} did not take over within an election timeout; ${reply.from} leads on`
          : `${reply.from} refused: ${op.id} is not a voter of the cluster`);
      }
      throw new MembershipChangeError(call, op.id, reply.error, `the leader ${reply.from} refused ${op.type} ${op.id}`);
    }
    throw new ClusterTimeoutError(`${call}: ${op.type} ${op.id}`, 'no leader accepted and committed it in time', await this.hangReport());
  }

  private blankRecord(id: NodeId): NodeRecord {
    return {
      id,
      joining: false,
      status: 'stopped',
      host: null,
      incarnation: 0,
      disk: new MemoryStorage(),
      offset: 0,
      pausedNodeTime: null,
      asleepUntil: 0,
      nextTimer: null,
      clock: 0,
      role: 'follower',
      term: 0,
      commitIndex: 0,
      applied: 0,
      lastIndex: 0,
      stopReport: null,
    };
  }

  // ---------------------------------------------------------------- clients

  /** A bank client with its own session. `{ node }` pins it to one node (no retries elsewhere). */
  client(options: ClientOptions = {}): BankClient {
    this.assertLive('client');
    if (options.node !== undefined) this.node(options.node);
    const id = `client${++this.clientCount}`;
    const cluster = this;
    const client = new BankClient(id, options, {
      get ids() {
        return cluster.ids;
      },
      now: () => this.clock,
      send: (message) => this.sendFromClient(id, message),
      setTimer: (at, label, fire) => this.setMainTimer(at, label, fire),
      clearTimer: (timerId) => this.clearMainTimer(timerId),
      wait: (label, done, timeout) => this.wait(label, done, timeout, 'reject'),
      realtime: this.mode === 'realtime',
      record: (op) => this.historyLog.push(op),
      trace: (type, fields) => this.record(`client:${id}`, type, fields),
      assertLive: (call) => this.assertLive(call),
      hangReport: () => this.hangReport(),
    });
    this.clients.set(`client:${id}`, client);
    return client;
  }

  // ---------------------------------------------------------------- stopping

  /** Ends every worker and every wait. Safe to call twice. */
  /**
   * Ends every node and every wait, and reports how each node's stop went and which timers it left
   * pending (a test can assert there are none). Safe to call twice: the second call returns the
   * same report.
   */
  async stop(): Promise<StopReport> {
    if (this.stopReport !== null) return this.stopReport;
    if (this.stopped) return { nodes: [], pendingTimers: [] };
    this.stopped = true;
    const error = new ClusterStoppedError('wait: the cluster was stopped');
    for (const w of this.waiters) w.reject(error);
    this.waiters.clear();
    this.mainTimers = [];
    for (const t of this.deliveryTimers.values()) clearTimeout(t);
    this.deliveryTimers.clear();
    for (const t of this.realTimers.values()) clearTimeout(t);
    this.realTimers.clear();
    const nodes = await Promise.all(
      [...this.nodes.values()].map(async (n): Promise<NodeStopReport> => {
        if (n.stopReport !== null) return n.stopReport; // removed earlier, and stopped then
        const host = n.host;
        n.host = null;
        const crashed = n.status === 'crashed';
        if (!crashed) n.status = 'stopped';
        if (host === null || crashed) {
          await host?.terminate();
          return { id: n.id, outcome: 'crashed', error: null, pendingTimers: [] };
        }
        return host.stop();
      }),
    );
    this.stopReport = {
      nodes,
      pendingTimers: nodes.flatMap((r) => r.pendingTimers.map((t) => ({ ...t, node: r.id }))),
    };
    return this.stopReport;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** A node's pending timers: due time on its clock, kind, and where its code created each. */
  async pendingTimers(id: NodeId): Promise<PendingTimer[]> {
    this.assertLive('pendingTimers');
    const n = this.node(id);
    if (n.host === null || !n.host.alive) return [];
    return n.host.call('pendingTimers');
  }

  /**
   * Controlled time for one node (the mock-clock technique): pauses it, fires exactly its next
   * `count` timers on its own clock — the rest of the cluster and the global clock stay where they
   * are — and reports what is still waiting. What it sends goes on the wire as usual. Deterministic
   * mode.
   */
  async fireTimers(id: NodeId, count = 1): Promise<{ fired: number; clock: number; pendingTimers: PendingTimer[] }> {
    this.assertLive('fireTimers');
    if (this.mode !== 'deterministic') throw new InvalidConfigError('fireTimers', 'realtime', "mode 'deterministic'");
    if (!Number.isSafeInteger(count) || count < 1) throw new InvalidConfigError('count', count, 'an integer >= 1');
    if (this.driving) throw new InvalidConfigError('fireTimers', id, 'fireTimers() only when no other wait is in progress');
    const n = this.node(id);
    if (n.host === null || n.status === 'crashed' || n.status === 'stopped') throw new NodeCrashedError(id, 'fireTimers', `it is ${n.status}`);
    await this.pause(id);
    let fired = 0;
    this.driving = true;
    try {
      while (fired < count && n.nextTimer !== null && this.failure === null) {
        const due = n.nextTimer;
        this.record(id, 'timer', { fired: 'by fireTimers' });
        const report = await n.host.step({ type: 'next-timer' });
        n.pausedNodeTime = Math.max(n.pausedNodeTime ?? due, due);
        await this.absorb(n, report);
        fired += 1;
      }
    } finally {
      this.releaseDriver();
    }
    if (this.failure) throw this.failure;
    return { fired, clock: n.clock, pendingTimers: await n.host.call('pendingTimers') };
  }

  /** Counters: scheduler events run, messages in flight, trace length. */
  stats(): { events: number; inflight: number; trace: number } {
    return { events: this.events, inflight: this.wire.size, trace: this.traceLog.length };
  }

  /** Live workers and outstanding control calls, for leak checks. */
  resources(): { workers: number; outstandingCalls: number } {
    let workers = 0;
    let outstandingCalls = 0;
    for (const n of this.nodes.values()) {
      if (n.host?.alive) workers += 1;
      outstandingCalls += n.host?.outstanding.size ?? 0;
    }
    return { workers, outstandingCalls };
  }

  // ================================================================ internals

  private async boot(id: NodeId): Promise<void> {
    const n = this.node(id);
    n.incarnation += 1;
    n.offset = 0; // a node starts on the global clock; time spent paused later opens a gap
    n.pausedNodeTime = null;
    n.asleepUntil = 0;
    const durable = n.disk.durable();
    n.disk = new MemoryStorage({ initial: durable });
    n.role = 'follower';
    n.term = durable.hardState.term;
    n.commitIndex = durable.hardState.commit;
    n.applied = durable.snapshot?.index ?? 0;
    n.lastIndex = (durable.snapshot?.index ?? 0) + durable.entries.length;
    this.checker.restarted(id, durable.snapshot?.index ?? 0);
    const init = {
        mode: this.mode,
        id,
        members: this.initialIds,
        seed: this.seed,
        incarnation: n.incarnation,
        program: this.program,
        options: n.joining ? joiningOptions(this.programOptions) : this.programOptions,
        disk: durable,
        now: this.clock,
        timerSites: this.options.timerSites ?? true,
    };
    const controlTimeoutMs = this.options.controlTimeoutMs ?? 10_000;
    n.host =
      this.options.host === 'inline'
        ? new InlineNodeHost(init, controlTimeoutMs)
        : new WorkerNodeHost(init, { controlTimeoutMs, onPost: (post) => this.realtimePost(n, post) });
    n.status = 'running';
    this.record(id, 'start', { incarnation: n.incarnation });
    if (this.mode === 'realtime') {
      // The node starts at once; it reports as it goes.
      n.host.post({ kind: 'step', step: { type: 'start' } });
      return;
    }
    const report = await n.host.step({ type: 'start' });
    await this.absorb(n, report);
    if (this.failure) throw this.failure;
  }

  /** Takes in what a node did during one step: its sends, its synced writes, its events. */
  private async absorb(n: NodeRecord, report: StepReport): Promise<void> {
    const host = n.host;
    if (host === null) return;
    const observations: Observation[] = [];
    for (const writes of report.disk) this.handlePost(n, { kind: 'disk', writes }, observations);
    for (const message of report.sends) this.handlePost(n, { kind: 'send', message }, observations);
    n.nextTimer = report.nextTimer;
    n.clock = report.clock;
    for (const e of report.events) {
      this.observe(n, e);
      if (this.armed.length > 0) observations.push({ kind: 'event', node: n.id, event: e.event });
    }
    this.checkNow();
    // The step is complete; a trigger it tripped pauses the cluster before anything else runs.
    for (const o of observations) if (this.tripped(o)) break;
    if (report.failure && !this.failure) {
      this.failure = new NodeFailureError(n.id, this.clock, report.failure);
    }
  }

  /** One data-plane post from a node: a synced write, or a message to route. */
  private handlePost(n: NodeRecord, post: WorkerPost, observations: Observation[]): void {
    switch (post.kind) {
      case 'disk': {
        applyDiskWrites(n.disk, post.writes);
        const last = post.writes.findLast((w) => w.kind === 'append');
        if (last?.kind === 'append' && last.entries.length > 0) {
          n.lastIndex = last.entries[last.entries.length - 1]!.index;
          if (this.armed.length > 0) observations.push({ kind: 'logIndex', node: n.id, index: n.lastIndex });
        }
        return;
      }
      case 'send': {
        this.transmit(n.id, post.message);
        if (this.armed.length > 0) observations.push({ kind: 'sent', node: n.id, message: post.message });
        return;
      }
      case 'events':
        n.nextTimer = post.nextTimer;
        n.clock = post.clock;
        for (const e of post.events) this.observe(n, e);
        return;
      case 'failure':
        this.failure ??= new NodeFailureError(n.id, this.clock, post.failure);
        return;
      case 'trigger':
        this.realtimeHit ??= post.hit;
        return;
      case 'report':
        return; // deterministic step reports are taken by WorkerNodeHost.step()
      default:
        return assertNever(post);
    }
  }

  /** Realtime: what a node does arrives as it happens. */
  private realtimePost(n: NodeRecord, post: WorkerPost): void {
    if (n.host === null) return;
    this.handlePost(n, post, []);
    this.poke?.();
  }

  /** Puts a routed message on the wire, held if a hold rule matches it. */
  private put(f: InFlight): void {
    this.wire.set(f.id, f);
    if (this.holds.some((h) => matches(h, f))) this.held.add(f.id);
    if (this.mode === 'realtime') this.scheduleDelivery(f);
  }

  /** Realtime: a message travels for its latency in wall time, then goes to its receiver. */
  private scheduleDelivery(f: InFlight): void {
    const timer = setTimeout(() => {
      this.deliveryTimers.delete(f.id);
      if (!this.held.has(f.id)) this.handOver(f);
    }, Math.max(0, f.due - this.clock));
    timer.unref();
    this.deliveryTimers.set(f.id, timer);
  }

  /** Realtime: takes a message off the wire and gives it to its receiver now. */
  private handOver(f: InFlight): void {
    this.wire.delete(f.id);
    this.record(f.to, 'deliver', { from: f.from, message: f.type, id: f.id });
    const client = this.clients.get(f.to);
    if (client) {
      client.receive(f.message);
      this.poke?.();
      return;
    }
    const n = this.nodes.get(f.to);
    if (n?.host && n.status !== 'crashed' && n.status !== 'stopped') n.host.post({ kind: 'deliver', message: f.message });
  }

  private checkFilter(filter: MessageMatch): void {
    if (filter.from !== undefined) this.endpoint(filter.from);
    if (filter.to !== undefined) this.endpoint(filter.to);
  }

  /** A node id, or a client's address. */
  private endpoint(id: string): void {
    if (!this.clients.has(id)) this.node(id);
  }

  private observe(n: NodeRecord, e: NodeTraceEvent): void {
    const ev = e.event;
    this.record(n.id, ev.type, ev);
    try {
      if (ev.type === 'role' && typeof ev['to'] === 'string') {
        n.role = ev['to'] as Role;
        if (n.role === 'leader') this.checker.leader(n.id, Number(ev['term']), this.clock);
      }
      if (ev.type === 'term' && typeof ev['to'] === 'number') n.term = ev['to'];
      if (ev.type === 'commit' && typeof ev['to'] === 'number') n.commitIndex = ev['to'];
      if (ev.type === 'apply' && typeof ev['index'] === 'number') {
        n.applied = ev['index'];
        this.checker.apply(n.id, ev['index'], Number(ev['term']), this.clock);
      }
      if (ev.type === 'snapshot' && ev['source'] === 'installed' && typeof ev['index'] === 'number') {
        // The state machine starts over from the leader's snapshot: applying resumes after it.
        n.applied = ev['index'];
        this.checker.restarted(n.id, ev['index']);
      }
    } catch (error) {
      // A broken safety property fails every wait, with the event that broke it in the trace.
      this.violated(error as Error);
    }
  }

  /**
   * Records the run's first failure. A safety violation also saves the trace (JSON and the HTML
   * viewer) and names the files in its message, so the run can be looked at and replayed.
   */
  private violated(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    const dir = this.options.traceDir ?? join('.raft-harness', 'traces');
    if (!(error instanceof SafetyViolationError) || dir === false) return;
    try {
      const base = join(dir, `safety-seed${this.seed}-${error.property}-at${error.time}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${base}.json`, this.trace.json({ result: 'violation', detail: error.message }));
      writeFileSync(`${base}.html`, this.trace.html({ result: 'violation', detail: error.message }));
      error.tracePath = `${base}.html`;
      error.message += `\n  trace saved: ${base}.html (viewer), ${base}.json`;
    } catch (writeError) {
      error.message += `\n  (the trace could not be saved: ${(writeError as Error).message})`;
    }
  }

  /**
   * Runs the safety monitor over every live node now; a violation fails every wait (and is
   * thrown by checkSafety()).
   */
  private checkNow(): void {
    if (this.failure !== null) return;
    try {
      for (const n of this.nodes.values()) {
        if (n.host !== null && n.applied > n.commitIndex) {
          throw new SafetyViolationError('applied-within-commit', [n.id], this.clock, `${n.id} applied ${n.applied} beyond its commit index ${n.commitIndex}`);
        }
      }
      this.monitor.observe(this.views(), this.clock);
    } catch (error) {
      this.violated(error as Error);
    }
  }

  /** Checks every safety property now; throws the first violation seen in this run, if any. */
  async checkSafety(): Promise<void> {
    this.assertLive('checkSafety');
    this.checkNow();
    if (this.failure instanceof SafetyViolationError) throw this.failure;
  }

  /** Feeds armed triggers; on the first hit, pauses every node right here. True if hit. */
  private tripped(o: Observation): boolean {
    let hit = false;
    for (const a of this.armed) {
      if (a.hit !== null) continue;
      a.hit = a.trigger.observe(o, this.clock);
      if (a.hit !== null) {
        hit = true;
        this.record(a.hit.node, 'trigger', { reason: a.hit.reason });
      }
    }
    if (hit) {
      for (const n of this.nodes.values()) {
        if (n.status !== 'running') continue;
        n.status = 'paused';
        n.pausedNodeTime = this.clock - n.offset;
        this.record(n.id, 'pause', {});
      }
    }
    return hit;
  }

  private record(node: string, type: string, fields: Record<string, unknown>): void {
    this.traceLog.push({ ...fields, time: this.clock, node, type });
  }

  private currentLeader(): NodeId | undefined {
    let best: NodeRecord | undefined;
    for (const n of this.nodes.values()) {
      if (n.status === 'crashed' || n.status === 'stopped' || n.role !== 'leader') continue;
      if (best === undefined || n.term > best.term) best = n;
    }
    return best?.id;
  }

  private next(): ScheduledEvent | null {
    const schedulable = [...this.nodes.values()].map((n) => ({
      id: n.id,
      runnable: n.status === 'running',
      nextTimer: n.nextTimer === null ? null : n.nextTimer + n.offset,
      asleepUntil: n.asleepUntil,
    }));
    const deliverable = this.held.size === 0 ? this.wire.values() : [...this.wire.values()].filter((f) => !this.held.has(f.id));
    return nextEvent(schedulable, this.mainTimers, deliverable, this.order);
  }

  private async run(event: ScheduledEvent): Promise<void> {
    this.clock = Math.max(this.clock, event.at);
    this.events += 1;
    switch (event.kind) {
      case 'timer': {
        const n = this.node(event.node);
        this.record(n.id, 'timer', {});
        const report = await n.host!.step({ type: 'timers', until: this.clock - n.offset });
        await this.absorb(n, report);
        return;
      }
      case 'main':
        this.mainTimers = this.mainTimers.filter((t) => t.id !== event.timer.id);
        event.timer.fire();
        return;
      case 'message': {
        const f = event.flight;
        if (this.armed.length > 0 && this.nodes.has(f.to) && this.tripped({ kind: 'receiving', node: f.to, message: f.message })) {
          return; // paused before the receiver saw it: the message stays in flight
        }
        this.wire.delete(f.id);
        this.held.delete(f.id);
        const client = this.clients.get(f.to);
        if (client) {
          this.record(f.to, 'deliver', { from: f.from, message: f.type, id: f.id });
          client.receive(f.message);
          return;
        }
        const n = this.nodes.get(f.to);
        if (n === undefined || n.host === null || n.status !== 'running') return;
        this.record(n.id, 'deliver', { from: f.from, message: f.type, id: f.id });
        const report = await n.host.step({ type: 'deliver', at: this.clock - n.offset, message: f.message });
        await this.absorb(n, report);
        return;
      }
      default:
        return assertNever(event);
    }
  }

  /**
   * Ends a stretch of driving. A wait registered meanwhile saw the cluster driven and started no
   * driver of its own (it may even have come in the last moment of a driver's shutdown): start
   * one for it now, or it would never be driven.
   */
  private releaseDriver(): void {
    this.driving = false;
    if (this.waiters.size > 0 && !this.stopped) void (this.mode === 'realtime' ? this.driveRealtime() : this.drive());
  }

  /**
   * Registers a wait and makes sure one driver runs the scheduler while any wait is pending.
   * Several concurrent waits share that driver.
   */
  private wait(label: string, check: Waiter['check'], timeout: number, onDeadline: Waiter['onDeadline']): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiters.add({ label, deadline: this.clock + timeout, check, onDeadline, resolve, reject });
      if (!this.driving) void (this.mode === 'realtime' ? this.driveRealtime() : this.drive());
    });
  }

  /**
   * Realtime: nodes run by themselves; the driver only watches. It re-checks the waits whenever a
   * node reports something (or a client gets a reply) and at each deadline.
   */
  private async driveRealtime(): Promise<void> {
    this.driving = true;
    try {
      while (this.waiters.size > 0 && !this.stopped) {
        if (!(await this.settleWaiters())) break;
        const stuck = [...this.nodes.values()].every((n) => n.status !== 'running') && this.deliveryTimers.size === 0 && this.realTimers.size === 0;
        if (stuck && [...this.waiters].some((w) => w.onDeadline === 'reject')) {
          await this.expire(this.waiters, 'nothing can happen: every node is paused or crashed and nothing is in flight');
          continue;
        }
        const now = this.clock;
        let nextDeadline = Number.POSITIVE_INFINITY;
        const due: Waiter[] = [];
        for (const w of this.waiters) {
          if (w.deadline <= now) due.push(w);
          else nextDeadline = Math.min(nextDeadline, w.deadline);
        }
        await this.expire(due, 'its time ran out (realtime)');
        if (this.waiters.size === 0) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(1, Math.min(nextDeadline - now, 50)));
          this.poke = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.poke = null;
      }
    } catch (error) {
      for (const w of this.waiters) w.reject(error as Error);
      this.waiters.clear();
    } finally {
      this.releaseDriver();
    }
  }

  /**
   * Resolves every wait whose condition holds and fails all of them if a node failed. False when
   * no wait is left to drive for.
   */
  private async settleWaiters(): Promise<boolean> {
    for (const w of [...this.waiters]) {
      let done: boolean;
      try {
        // Most checks are synchronous: awaiting each would cost a microtask hop per wait.
        const result = w.check();
        done = typeof result === 'boolean' ? result : await result;
      } catch (error) {
        this.waiters.delete(w);
        w.reject(error as Error);
        continue;
      }
      if (done) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
    if (this.failure) {
      for (const w of this.waiters) w.reject(this.failure);
      this.waiters.clear();
    }
    return this.waiters.size > 0 && !this.stopped;
  }

  /**
   * Runs `work` (a crash's termination, a restart's boot: real-time work) with the scheduler held:
   * no event runs meanwhile, so virtual time cannot move by however long the work takes.
   */
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    this.controlBusy += 1;
    try {
      return await work();
    } finally {
      this.controlBusy -= 1;
      if (this.controlBusy === 0) for (const wake of this.controlIdle.splice(0)) wake();
    }
  }

  /**
   * Before each event: let every flow of the test that can run do so (its promise continuations),
   * and wait out real-time control work. A test's next action then happens at the same virtual
   * time on every host and every run: determinism does not hang on how long a worker takes.
   */
  private async quiesce(): Promise<void> {
    for (;;) {
      while (this.controlBusy > 0) await new Promise<void>((resolve) => this.controlIdle.push(resolve));
      for (let i = 0; i < QUIESCE_HOPS; i++) await null;
      if (this.controlBusy === 0) return;
    }
  }

  private async drive(): Promise<void> {
    this.driving = true;
    const started = Date.now();
    const guard = this.options.realTimeGuardMs ?? 60_000;
    try {
      while (this.waiters.size > 0 && !this.stopped) {
        await this.quiesce();
        if (!(await this.settleWaiters())) break;
        const event = this.next();
        const deadline = Math.min(...[...this.waiters].map((w) => w.deadline));
        if (event === null || event.at > deadline) {
          if (event === null && [...this.waiters].some((w) => w.onDeadline === 'reject')) {
            await this.expire(this.waiters, 'nothing is scheduled: every node is paused, crashed or idle, so it can never happen');
            continue;
          }
          this.clock = Math.max(this.clock, deadline);
          await this.expire(
            [...this.waiters].filter((w) => w.deadline <= this.clock),
            `${deadline} virtual ms reached`,
          );
          continue;
        }
        await this.run(event);
        if (Date.now() - started > guard) {
          await this.expire(this.waiters, `the real-time guard of ${guard} ms ran out (virtual time at ${this.clock} ms)`);
        }
      }
    } catch (error) {
      for (const w of this.waiters) w.reject(error as Error);
      this.waiters.clear();
    } finally {
      this.releaseDriver();
    }
  }

  private async expire(waiters: Iterable<Waiter>, why: string): Promise<void> {
    const list = [...waiters];
    if (list.length === 0) return;
    const failing = list.filter((w) => w.onDeadline === 'reject');
    const report = failing.length > 0 ? await this.hangReport() : '';
    for (const w of list) {
      this.waiters.delete(w);
      if (w.onDeadline === 'resolve') w.resolve();
      else w.reject(new ClusterTimeoutError(w.label, why, report));
    }
  }

  /**
   * The hang report: per node its status, role, term, commit index, clock, pending timers (due
   * time on the global clock, and where they were created) and outstanding control calls; then
   * the messages on the wire (held ones marked) and the last events.
   */
  async hangReport(): Promise<string> {
    // Asking the workers takes real time: hold the scheduler, so the report is of one instant
    // and virtual time does not move by however long the workers take to answer.
    return this.exclusive(() => this.buildHangReport());
  }

  private async buildHangReport(): Promise<string> {
    const lines = [`at virtual time ${this.clock} ms (seed ${this.seed}):`];
    for (const n of this.nodes.values()) {
      let timers: string;
      if (n.host?.alive) {
        try {
          const pending = await n.host.call('pendingTimers');
          timers = pending.length === 0 ? ' none' : pending.map((t) => `\n      ${t.kind}@${t.at + n.offset}${t.site === null ? '' : ` created at ${t.site}`}`).join('');
        } catch (error) {
          timers = ` unknown (${(error as Error).message})`;
        }
      } else {
        timers = ' none (not running)';
      }
      const calls = n.host ? [...n.host.outstanding].join(', ') || 'none' : 'none';
      const sleep = n.asleepUntil > this.clock ? `, stalled until ${n.asleepUntil}` : '';
      lines.push(
        `  ${n.id}: ${n.status}${sleep}, ${n.role}, term ${n.term}, commit ${n.commitIndex}, clock ${n.clock + n.offset}; control calls: ${calls}; timers:${timers}`,
      );
    }
    const wire = [...this.wire.values()];
    lines.push(
      `  on the wire: ${wire.length === 0 ? 'nothing' : ''}` +
        wire.slice(0, 20).map((f) => `\n    #${f.id} ${f.type} ${f.from}→${f.to} due ${f.due}${this.held.has(f.id) ? ' (held)' : ''}`).join('') +
        (wire.length > 20 ? `\n    … and ${wire.length - 20} more` : ''),
    );
    const last = this.traceLog.slice(-8);
    lines.push(`  last events:${last.map((e) => `\n    ${e.time} ${e.node} ${e.type}${describeFields(e)}`).join('') || ' none'}`);
    return lines.join('\n');
  }

  private sendFromClient(clientId: string, message: InFlight['message']): void {
    this.transmit(`client:${clientId}`, message);
  }

  /**
   * Puts a sent message on the wire: none, one or two copies (each with its id, which the trace
   * records so a delivery pairs with its send), or the reason it was lost at once.
   */
  private transmit(from: string, message: InFlight['message']): void {
    const routed = this.router.route(from, message, this.clock);
    const type = message['type'];
    const lostTo = routed.length === 0 ? (this.router.isCut(from, message.to) ? 'cut' : 'dropped') : null;
    if (this.nodes.get(message.to)?.status === 'crashed') {
      this.record(from, 'send', { to: message.to, message: type, ids: [], lost: 'receiver crashed' });
      return;
    }
    for (const f of routed) this.put(f);
    this.record(from, 'send', { to: message.to, message: type, ids: routed.map((f) => f.id), ...(lostTo ? { lost: lostTo } : {}) });
    if (routed.length === 2) this.record(from, 'duplicate', { to: message.to, message: type, ids: routed.map((f) => f.id) });
  }

  /** A client's timer: on the scheduler's virtual time, or a real timer in realtime mode. */
  private setMainTimer(at: number, label: string, fire: () => void): number {
    const timer: MainTimer = { id: this.nextMainTimer++, at, label, fire };
    if (this.mode === 'realtime') {
      const real = setTimeout(() => {
        this.realTimers.delete(timer.id);
        fire();
        this.poke?.();
      }, Math.max(0, at - this.clock));
      real.unref();
      this.realTimers.set(timer.id, real);
    } else {
      this.mainTimers.push(timer);
    }
    return timer.id;
  }

  private clearMainTimer(id: number): void {
    const real = this.realTimers.get(id);
    if (real !== undefined) {
      clearTimeout(real);
      this.realTimers.delete(id);
    }
    this.mainTimers = this.mainTimers.filter((t) => t.id !== id);
  }

  private node(id: unknown): NodeRecord {
    const n = typeof id === 'string' ? this.nodes.get(id) : undefined;
    if (!n) throw new UnknownNodeError(id, this.ids);
    return n;
  }

  private select(which: NodeId | readonly NodeId[] | undefined): NodeRecord[] {
    if (which === undefined) return [...this.nodes.values()];
    const list = typeof which === 'string' ? [which] : which;
    return list.map((id) => this.node(id));
  }

  private assertLive(call: string): void {
    if (this.stopped) throw new ClusterStoppedError(call);
  }
}

function resolveIds(nodes: number | readonly string[]): readonly NodeId[] {
  if (typeof nodes === 'number') {
    if (!Number.isSafeInteger(nodes) || nodes < 1) throw new InvalidConfigError('nodes', nodes, 'an integer >= 1, or a list of node ids');
    return Array.from({ length: nodes }, (_, i) => `n${i + 1}`);
  }
  const ids = validateMembers(nodes, 'nodes');
  for (const id of ids) {
    if (id.startsWith('client:')) throw new InvalidConfigError('nodes', id, 'ids that do not start with "client:"');
  }
  return ids;
}

function describeFields(e: TraceEntry): string {
  const { time: _time, node: _node, type: _type, ...rest } = e;
  const text = JSON.stringify(rest);
  return text === '{}' ? '' : ` ${text.length > 120 ? `${text.slice(0, 117)}...` : text}`;
}

function hasPredicate(t: Trigger): boolean {
  if (t.kind === 'all' || t.kind === 'any') return t.triggers.some(hasPredicate);
  return (t.kind === 'messageSent' || t.kind === 'messageReceived') && t.where !== undefined;
}

function checkDuration(field: string, ms: unknown): void {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
    throw new InvalidConfigError(field, ms, `an integer number of virtual ms >= 0 (got ${describeValue(ms)})`);
  }
}

function assertNever(value: never): never {
  throw new Error(`raft-harness: unreachable ${JSON.stringify(value)}`);
}

/**
 * A node added to a running cluster is told so in its program options (`joining: true`, which the
 * built-in Raft bank reads). Options that are not an object are passed on as they are.
 */
function joiningOptions(options: unknown): unknown {
  if (options === undefined) return { joining: true };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options;
  return { ...options, joining: true };
}
