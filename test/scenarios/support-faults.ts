/**
 * Helpers for the ports of the MIT 6.5840 Raft tester (backup, Figure 8, unreliable, churn):
 * MIT's connected[] set, its `cfg.one(cmd, n)`, a follower of the cluster's trace (applied index
 * and role per node), a wire tap, and the session-aware reading of a final log.
 *
 * Time scale. MIT's tester calls its 1 000 ms `RaftElectionTimeout` "an election should be over
 * by then": ten of its 100 ms heartbeats. Our default heartbeat is 50 ms, so the same constant is
 * 500 virtual ms here; MIT's sleeps written in terms of it are scaled by it.
 */
import { expect } from 'vitest';
import type { Cluster, NodeSnapshot } from '../../harness/cluster.js';
import type { BankClient, ClientOptions, ClientOperation } from '../../harness/client.js';
import type { InFlight } from '../../harness/network/router.js';
import type { BankResult } from '../../src/apps/bank/bank.js';
import { createRandom, deriveSeed } from '../../src/raft/random.js';
import type { Entry, NodeId, Role } from '../../src/raft/types.js';

/** MIT's RaftElectionTimeout (1 000 ms = 10 heartbeats of 100 ms) on our 50 ms heartbeat. */
export const RAFT_ELECTION_TIMEOUT = 500;
/** MIT's `cfg.one` gives a command 10 s to be committed on the required number of servers. */
export const AGREEMENT_TIMEOUT = 10_000;

/** The test's own seeded choices (which node, how long), independent of the cluster's stream. */
export type Dice = {
  /** An integer in [0, n). */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
};

export function dice(seed: number, label: string): Dice {
  const random = createRandom(deriveSeed(seed, `scenario:${label}`));
  const int = (n: number): number => Math.floor(random() * n);
  return {
    int,
    chance: (p) => random() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(items.length)]!;
    },
  };
}

/**
 * Follows `cluster.trace()` incrementally: each node's applied index (reset by a crash: a
 * restarted node re-applies from index 1) and role (follower again after a crash). Cheap enough
 * to run between every two events of a `runUntil`.
 */
export class TraceFollower {
  private readonly cluster: Cluster;
  private seen = 0;
  private readonly appliedBy = new Map<NodeId, number>();
  private readonly roleOf = new Map<NodeId, Role>();
  private readonly down = new Set<NodeId>();

  constructor(cluster: Cluster) {
    this.cluster = cluster;
    this.sync();
  }

  sync(): void {
    const trace = this.cluster.trace();
    for (; this.seen < trace.length; this.seen++) {
      const e = trace[this.seen]!;
      switch (e.type) {
        case 'apply':
          this.appliedBy.set(e.node, e['index'] as number);
          break;
        case 'role':
          this.roleOf.set(e.node, e['to'] as Role);
          break;
        case 'crash':
          this.appliedBy.set(e.node, 0);
          this.roleOf.set(e.node, 'follower');
          this.down.add(e.node);
          break;
        case 'restart':
          this.down.delete(e.node);
          break;
        default:
          break;
      }
    }
  }

  applied(id: NodeId): number {
    return this.appliedBy.get(id) ?? 0;
  }

  /** Running nodes that have applied `index` (MIT's nCommitted). */
  countApplied(index: number): number {
    let n = 0;
    for (const id of this.cluster.ids) if (!this.down.has(id) && this.applied(id) >= index) n += 1;
    return n;
  }

  /** Running nodes that believe they lead (MIT: those whose Start() says ok), in id order. */
  believedLeaders(): NodeId[] {
    return this.cluster.ids.filter((id) => !this.down.has(id) && this.roleOf.get(id) === 'leader');
  }
}

/** Sees every message put on the wire while a `runUntil` that calls `scan()` drives the cluster. */
export class WireTap {
  private readonly cluster: Cluster;
  private readonly onMessage: (m: InFlight) => void;
  private lastId = 0;

  constructor(cluster: Cluster, onMessage: (m: InFlight) => void) {
    this.cluster = cluster;
    this.onMessage = onMessage;
    this.scan();
  }

  /** Messages ids grow in send order; each message is on the wire for at least one check. */
  scan(): void {
    for (const m of this.cluster.inflight()) {
      if (m.id <= this.lastId) continue;
      this.lastId = m.id;
      this.onMessage(m);
    }
  }
}

/**
 * MIT's `connected[]`: connected servers talk to each other, a disconnected one to nobody.
 * `clients: 'cut'` also cuts the clients off from disconnected servers (MIT's `one` submits only
 * to connected servers); `clients: 'keep'` lets clients reach every server (the MIT tests that
 * call Start() on every server, connected or not).
 */
export class Connectivity {
  private readonly cluster: Cluster;
  private readonly clients: 'cut' | 'keep';
  private readonly off = new Set<NodeId>();

  constructor(cluster: Cluster, clients: 'cut' | 'keep') {
    this.cluster = cluster;
    this.clients = clients;
  }

  isConnected(id: NodeId): boolean {
    return !this.off.has(id);
  }

  connectedIds(): NodeId[] {
    return this.cluster.ids.filter((id) => !this.off.has(id));
  }

  disconnect(...ids: NodeId[]): void {
    for (const id of ids) this.off.add(id);
    this.apply();
  }

  connect(...ids: NodeId[]): void {
    for (const id of ids) this.off.delete(id);
    this.apply();
  }

  /** A client created under the current cuts (isolate() cuts only the clients that exist). */
  client(options: ClientOptions = {}): BankClient {
    const c = this.cluster.client(options);
    this.apply();
    return c;
  }

  private apply(): void {
    this.cluster.heal();
    if (this.off.size === 0) return;
    if (this.clients === 'cut') {
      for (const id of this.off) this.cluster.isolate(id);
    } else {
      this.cluster.partition(this.connectedIds(), ...[...this.off].map((id) => [id]));
    }
  }
}

/** The (first, hence applied) log index of the credit of `amount` among what nodes applied. */
export function appliedIndexOf(snapshots: readonly NodeSnapshot[], amount: number): number | undefined {
  let found: number | undefined;
  for (const s of snapshots) {
    for (const e of s.log.slice(0, s.lastApplied)) {
      if (creditAmount(e) === amount) {
        found = found === undefined ? e.index : Math.min(found, e.index);
        break;
      }
    }
  }
  return found;
}

export function creditAmount(e: Entry): number | undefined {
  if (e.type !== 'command') return undefined;
  const op = e.command.op as { op?: unknown; amount?: unknown };
  return op.op === 'credit' && typeof op.amount === 'number' ? op.amount : undefined;
}

export type Agreement = { readonly index: number; readonly result: BankResult };

/**
 * MIT's `cfg.one(cmd, expectedServers, retry=true)`: submit `credit(amount)` through `client`
 * (which finds the leader and retries, applied once thanks to its session), and require it
 * applied on at least `expected` running servers within 10 virtual seconds of the call.
 * `observe` runs between every two events (taps, followers).
 */
export async function one(
  cluster: Cluster,
  watch: TraceFollower,
  client: BankClient,
  amount: number,
  expected: number,
  observe: () => void = () => {},
): Promise<Agreement> {
  const deadline = cluster.now() + AGREEMENT_TIMEOUT;
  const op = client.credit(amount, { timeout: AGREEMENT_TIMEOUT });
  await cluster.runUntil(
    () => {
      observe();
      return op.settled;
    },
    { timeout: AGREEMENT_TIMEOUT + 1 },
  );
  const result = await outcome(op);
  if (result === null || !result.ok) {
    throw new Error(`one(${amount}, ${expected}): the client got ${JSON.stringify(result)} at ${cluster.now()} ms`);
  }
  const index = appliedIndexOf(await cluster.inspectAll(), amount);
  expect(index, `credit(${amount}) answered ok but applied nowhere`).toBeDefined();
  await cluster.runUntil(
    () => {
      observe();
      watch.sync();
      return watch.countApplied(index!) >= expected;
    },
    { timeout: Math.max(0, deadline - cluster.now()) },
  );
  return { index: index!, result };
}

/**
 * Whether `client`'s credit of `amount` returned ok, read from `cluster.history()`: registers no
 * wait, so it is safe from code that runs while the cluster is being driven (see churn.test.ts).
 */
export function answeredOk(cluster: Cluster, client: BankClient, amount: number): boolean {
  const h = cluster.history().findLast((op) => op.client === client.id && (op.input as { amount?: unknown }).amount === amount);
  return (h?.output as BankResult | undefined)?.ok === true;
}

/**
 * The result of a settled operation, or null if it failed (timed out). It registers a wait (which
 * settles at once), so call it only from the test's main line, never from a concurrent loop.
 */
export async function outcome(op: ClientOperation): Promise<BankResult | null> {
  if (!op.settled) throw new Error('outcome() of an operation still in progress');
  return op.then(
    (r) => r,
    () => null,
  );
}

/**
 * Replays the bank's sessions over a committed log: which credits took effect (a retried command
 * appended twice is applied once; an entry of a client's older seq is stale). Returns the
 * effective credit count per amount and the resulting balance.
 */
export function effectiveCredits(log: readonly Entry[]): { readonly times: Map<number, number>; readonly balance: number } {
  const last = new Map<string, number>();
  const times = new Map<number, number>();
  let balance = 0;
  for (const e of log) {
    if (e.type !== 'command') continue;
    const prev = last.get(e.command.clientId) ?? 0;
    if (e.command.seq <= prev) continue;
    last.set(e.command.clientId, e.command.seq);
    const amount = creditAmount(e);
    if (amount === undefined) continue;
    times.set(amount, (times.get(amount) ?? 0) + 1);
    balance += amount;
  }
  return { times, balance };
}

/**
 * At the end of a test: every node is running, has applied through `index`, and holds the same
 * log there; the balance every node reports is the one the log's effective credits give.
 * Returns that common prefix of the log.
 */
export async function expectAllAgreeThrough(cluster: Cluster, index: number): Promise<readonly Entry[]> {
  const snaps = await cluster.inspectAll();
  const reference = snaps[0]!.log.slice(0, index);
  expect(reference).toHaveLength(index);
  for (const s of snaps) {
    expect(s.status, s.id).toBe('running');
    expect(s.lastApplied, s.id).toBeGreaterThanOrEqual(index);
    expect(s.log.slice(0, index), `log of ${s.id} through ${index}`).toEqual(reference);
  }
  const applied = snaps.map((s) => effectiveCredits(s.log.slice(0, s.lastApplied)).balance);
  for (const [i, s] of snaps.entries()) expect(s.app, s.id).toEqual({ balance: applied[i] });
  return reference;
}
