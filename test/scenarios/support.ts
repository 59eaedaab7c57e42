/**
 * Helpers for the MIT 6.5840 Raft tester scenarios (parts 3A, 3B, 3C), ported to the harness.
 *
 * The MIT tester's `config` keeps track of which servers are connected and checks leaders, terms
 * and committed entries by looking at every server. Here the same checks look at the cluster's
 * node snapshots (`inspect`), and every limit is in virtual ms: the MIT tester's wall-clock
 * limits (a leader within 5 s, agreement within 10 s) become virtual ones, so the checks are
 * exact and the runs replay for a seed.
 */
import type { Cluster, NodeSnapshot } from '../../harness/cluster.js';
import type { BankClient } from '../../harness/client.js';
import type { Counters, InFlight } from '../../harness/network/router.js';
import { createRandom, type Random } from '../../src/raft/random.js';
import type { CommandEntry, Entry, NodeId } from '../../src/raft/types.js';

/** MIT: "a leader must be elected within five seconds" (after the network allows it). */
export const ELECTION_LIMIT = 5_000;
/** MIT `cfg.one`: a command must be agreed on within 10 seconds. */
export const AGREEMENT_LIMIT = 10_000;
/** The Raft defaults these scenarios run with (src/raft/config.ts). */
export const ELECTION_TIMEOUT: readonly [min: number, max: number] = [150, 300];
export const HEARTBEAT_INTERVAL = 50;
/** The default network's latency is [1, 10] ms. */
export const MAX_LATENCY = 10;
/**
 * Long enough for every connected follower to hear the leader: one heartbeat interval plus the
 * largest latency. (MIT sleeps 50 ms "to avoid racing with followers learning of the election";
 * here a follower that rejoins just after a heartbeat went out waits up to 60 ms.)
 */
export const SETTLE = HEARTBEAT_INTERVAL + MAX_LATENCY;
/**
 * MIT's `RaftElectionTimeout` (1 s) is the tester's "a while, longer than any election takes":
 * it sleeps 2 × that before checking that nothing happened. Here that while is 2 s virtual, more
 * than six maximal election timeouts.
 */
export const QUIET_PERIOD = 2_000;

/** The Raft request messages: what the MIT tester counts as RPCs (a reply is part of its RPC). */
export const RPC_TYPES = ['PreVote', 'RequestVote', 'AppendEntries'] as const;

// ------------------------------------------------------------------ looking at nodes

/** Snapshots of the given nodes (default: all) that are up: running or paused, not crashed. */
export async function liveSnapshots(cluster: Cluster, among: readonly NodeId[] = cluster.ids): Promise<NodeSnapshot[]> {
  const snaps = await Promise.all(among.map((id) => cluster.inspect(id)));
  return snaps.filter((s) => s.status === 'running' || s.status === 'paused');
}

/**
 * The node leading in the highest term among `among`, if any. Throws if two of them lead in the
 * same term (the cluster's own election-safety check would already have failed the run).
 */
export async function leaderAmong(cluster: Cluster, among: readonly NodeId[] = cluster.ids): Promise<NodeId | undefined> {
  const byTerm = new Map<number, NodeId[]>();
  for (const s of await liveSnapshots(cluster, among)) {
    if (s.role !== 'leader') continue;
    byTerm.set(s.term, [...(byTerm.get(s.term) ?? []), s.id]);
  }
  for (const [term, leaders] of byTerm) {
    if (leaders.length > 1) throw new Error(`term ${term} has ${leaders.length} leaders: ${leaders.join(', ')}`);
  }
  const terms = [...byTerm.keys()].sort((a, b) => b - a);
  return terms.length === 0 ? undefined : byTerm.get(terms[0]!)![0];
}

/**
 * MIT `checkOneLeader`: waits (at most 5 s virtual) until one of `among` leads in the highest
 * term any of them leads in, and returns it. Fails with ClusterTimeoutError if none does.
 */
export async function checkOneLeader(
  cluster: Cluster,
  among: readonly NodeId[] = cluster.ids,
  timeout: number = ELECTION_LIMIT,
): Promise<NodeId> {
  let found: NodeId | undefined;
  await cluster.runUntil(
    async () => {
      found = await leaderAmong(cluster, among);
      return found !== undefined;
    },
    { timeout },
  );
  return found!;
}

/** MIT `checkNoLeader`: none of `among` believes it leads, now. */
export async function checkNoLeader(cluster: Cluster, among: readonly NodeId[] = cluster.ids): Promise<void> {
  const leaders = (await liveSnapshots(cluster, among)).filter((s) => s.role === 'leader');
  if (leaders.length > 0) {
    throw new Error(`expected no leader among ${among.join(', ')}, but ${leaders.map((s) => `${s.id} (term ${s.term})`).join(', ')} leads`);
  }
}

/** MIT `checkTerms`: every one of `among` that is up is in the same term, now; returns it. */
export async function checkTerms(cluster: Cluster, among: readonly NodeId[] = cluster.ids): Promise<number> {
  const snaps = await liveSnapshots(cluster, among);
  const terms = new Set(snaps.map((s) => s.term));
  if (terms.size !== 1) throw new Error(`servers disagree on term: ${snaps.map((s) => `${s.id} ${s.term}`).join(', ')}`);
  return snaps[0]!.term;
}

/** The entry a snapshot holds at `index`, if any (no snapshots are taken: log[i - 1] is index i). */
export function entryAt(s: NodeSnapshot, index: number): Entry | undefined {
  const e = s.log[index - 1];
  if (e !== undefined && e.index !== index) throw new Error(`${s.id}: log[${index - 1}] holds index ${e.index}`);
  return e;
}

function sameEntry(a: Entry, b: Entry): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * MIT `nCommitted`: how many nodes that are up hold `index` within their commit index, and the
 * entry they hold. Throws if two of them committed different entries there.
 */
export async function nCommitted(cluster: Cluster, index: number): Promise<{ count: number; entry: Entry | undefined }> {
  let count = 0;
  let entry: Entry | undefined;
  let holder = '';
  for (const s of await liveSnapshots(cluster)) {
    if (s.commitIndex < index) continue;
    const e = entryAt(s, index);
    if (e === undefined) throw new Error(`${s.id} has commit index ${s.commitIndex} but no entry at ${index}`);
    if (entry !== undefined && !sameEntry(entry, e)) {
      throw new Error(`committed values do not match at index ${index}: ${holder} has ${JSON.stringify(entry)}, ${s.id} has ${JSON.stringify(e)}`);
    }
    entry = e;
    holder = s.id;
    count += 1;
  }
  return { count, entry };
}

/** Waits (virtual time) until at least `servers` nodes committed `index`. */
export async function waitCommitted(cluster: Cluster, index: number, servers: number, timeout: number = AGREEMENT_LIMIT): Promise<Entry> {
  let entry: Entry | undefined;
  await cluster.runUntil(
    async () => {
      const n = await nCommitted(cluster, index);
      entry = n.entry;
      return n.count >= servers;
    },
    { timeout },
  );
  return entry!;
}

export function isCredit(e: Entry | undefined, clientId: string, amount: number): e is CommandEntry {
  if (e?.type !== 'command' || e.command.clientId !== clientId) return false;
  const op = e.command.op as { op?: unknown; amount?: unknown };
  return op.op === 'credit' && op.amount === amount;
}

/** The lowest committed index holding `clientId`'s credit of `amount`, on any node that is up. */
export function committedIndexOf(snaps: readonly NodeSnapshot[], clientId: string, amount: number): number | undefined {
  let best: number | undefined;
  for (const s of snaps) {
    for (let i = 1; i <= s.commitIndex; i++) {
      if (isCredit(entryAt(s, i), clientId, amount) && (best === undefined || i < best)) best = i;
    }
  }
  return best;
}

/**
 * MIT `cfg.one`: submits `credit(amount)` through `client` and waits until the entry carrying it
 * is committed on at least `servers` nodes, all within 10 s virtual. Returns its index (the first
 * index holding it: a retried command can be appended twice, and its first copy is the one that
 * takes effect) and the balance the client was told. `amount` must be distinct among this
 * client's credits, so that it identifies the command.
 */
export async function one(
  cluster: Cluster,
  client: BankClient,
  amount: number,
  servers: number,
  timeout: number = AGREEMENT_LIMIT,
): Promise<{ index: number; balance: number }> {
  const deadline = cluster.now() + timeout;
  const result = await client.credit(amount, { timeout });
  if (!result.ok) throw new Error(`credit(${amount}) was refused: ${result.error}`);
  let index: number | undefined;
  await cluster.runUntil(
    async () => {
      index ??= committedIndexOf(await liveSnapshots(cluster), client.id, amount);
      if (index === undefined) return false;
      const n = await nCommitted(cluster, index);
      if (!isCredit(n.entry, client.id, amount)) throw new Error(`index ${index} holds ${JSON.stringify(n.entry)}, not credit(${amount})`);
      return n.count >= servers;
    },
    { timeout: Math.max(0, deadline - cluster.now()) },
  );
  return { index: index!, balance: result.balance };
}

// ------------------------------------------------------------------ checking state

/**
 * The balance the bank must show after applying `log[1..commit]`, with the sessions' rule: a
 * client's command applies only if its seq is above the highest seq applied for that client.
 */
export function expectedBalance(log: readonly Entry[], commit: number): number {
  const applied = new Map<string, number>();
  let balance = 0;
  for (const e of log.slice(0, commit)) {
    if (e.type !== 'command') continue;
    const { clientId, seq } = e.command;
    if (seq <= (applied.get(clientId) ?? 0)) continue;
    applied.set(clientId, seq);
    const op = e.command.op as { op: string; amount: number };
    if (op.op === 'credit') balance += op.amount;
    else if (op.op === 'debit' && op.amount <= balance) balance -= op.amount;
  }
  return balance;
}

/**
 * Every node that is up applied exactly its committed prefix (balance and lastApplied), and any
 * two agree on the entries both committed.
 */
export function checkAppliedAndAgreed(snaps: readonly NodeSnapshot[]): void {
  for (const s of snaps) {
    if (s.lastApplied !== s.commitIndex) throw new Error(`${s.id} applied ${s.lastApplied} of ${s.commitIndex} committed`);
    const want = expectedBalance(s.log, s.commitIndex);
    const got = (s.app as { balance?: unknown } | null)?.balance;
    if (got !== want) throw new Error(`${s.id} shows balance ${String(got)}, but its committed log makes ${want}`);
  }
  for (const a of snaps) {
    for (const b of snaps) {
      const upTo = Math.min(a.commitIndex, b.commitIndex);
      for (let i = 1; i <= upTo; i++) {
        if (!sameEntry(entryAt(a, i)!, entryAt(b, i)!)) throw new Error(`${a.id} and ${b.id} committed different entries at ${i}`);
      }
    }
  }
}

/** Requests (not replies, not client traffic) sent so far: the MIT tester's RPC count. */
export function rpcCount(counters: Counters): number {
  return RPC_TYPES.reduce((sum, t) => sum + (counters.byType[t]?.messages ?? 0), 0);
}

/**
 * Runs the cluster one event at a time until `done` holds, handing every message put on the
 * wire meanwhile to `seen` (a message waits at least 1 ms of latency, so it is on the wire after
 * the step that sent it). Fails after `timeout` virtual ms.
 */
export async function stepObserving(
  cluster: Cluster,
  done: () => boolean | Promise<boolean>,
  seen: (message: InFlight) => void,
  timeout: number,
): Promise<void> {
  const deadline = cluster.now() + timeout;
  let last = Math.max(0, ...cluster.inflight().map((m) => m.id));
  while (!(await done())) {
    if (cluster.now() > deadline) throw new Error(`stepObserving: not done within ${timeout} virtual ms`);
    if (!(await cluster.step())) throw new Error('stepObserving: nothing is scheduled');
    for (const m of cluster.inflight()) {
      if (m.id <= last) continue;
      seen(m);
      last = m.id;
    }
  }
}

/** A seeded random source for the scenario's own choices (which nodes to disconnect). */
export function scenarioRandom(seed: number, label: string): Random {
  return createRandom(`${label}#${seed}`);
}

export function randomIndex(random: Random, n: number): number {
  return Math.floor(random() * n);
}

// ------------------------------------------------------------------ MIT's connect / disconnect

/**
 * MIT's `config` connectivity: `disconnect(i)` cuts every link between node i and the other
 * nodes, both ways; `connect(i)` restores its links to the connected nodes only (two
 * disconnected nodes stay cut off from each other). Clients keep their links, as the MIT tester
 * keeps calling `Start` on a disconnected server: to keep a client away from a disconnected node,
 * pin it (`client({ node })`).
 */
export class Tester {
  readonly cluster: Cluster;
  private readonly cut = new Set<NodeId>();

  constructor(cluster: Cluster) {
    this.cluster = cluster;
  }

  get ids(): readonly NodeId[] {
    return this.cluster.ids;
  }

  /** The nodes not disconnected (crashed ones included: the checks skip nodes that are down). */
  connected(): NodeId[] {
    return this.cluster.ids.filter((id) => !this.cut.has(id));
  }

  isConnected(id: NodeId): boolean {
    return !this.cut.has(id);
  }

  disconnect(...ids: NodeId[]): void {
    for (const id of ids) {
      this.cut.add(id);
      this.cluster.partition([id], this.cluster.ids.filter((x) => x !== id));
    }
  }

  connect(...ids: NodeId[]): void {
    for (const id of ids) {
      this.cut.delete(id);
      this.cluster.connect(id); // every link of id, to disconnected nodes too...
    }
    for (const d of this.cut) this.cluster.partition([d], this.cluster.ids.filter((x) => x !== d)); // ...so cut those again
  }

  /** The node `k` places after `id` in the id list (MIT's `(leader + k) % servers`). */
  after(id: NodeId, k: number): NodeId {
    const ids = this.cluster.ids;
    return ids[(ids.indexOf(id) + k) % ids.length]!;
  }

  checkOneLeader(timeout: number = ELECTION_LIMIT): Promise<NodeId> {
    return checkOneLeader(this.cluster, this.connected(), timeout);
  }

  checkNoLeader(): Promise<void> {
    return checkNoLeader(this.cluster, this.connected());
  }

  checkTerms(): Promise<number> {
    return checkTerms(this.cluster, this.connected());
  }

  nCommitted(index: number): Promise<{ count: number; entry: Entry | undefined }> {
    return nCommitted(this.cluster, index);
  }

  one(client: BankClient, amount: number, servers: number): Promise<{ index: number; balance: number }> {
    return one(this.cluster, client, amount, servers);
  }
}
